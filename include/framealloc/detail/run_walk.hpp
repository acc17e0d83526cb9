// Walking free runs in address order. A walk feeds a sink with the free units
// it meets, as whole 64-unit words (a free mask) or as known-free stretches;
// the sink either looks for the first place a Constraint fits (FitSink) or
// reports every maximal free run (RunSink). Gaps between fed units end a run
// by themselves: a sink only joins units that touch.
//
// WordMerger sits between a walk and its sink: two bitmap spans may share a
// 64-unit word at their edges, and the sink must see that word once, with
// the free units of both.
#pragma once

#include <cstdint>

#include "framealloc/detail/bit_runs.hpp"
#include "framealloc/detail/range_engine.hpp"

namespace framealloc::detail {

inline constexpr std::uint64_t kNoUnit = ~0ULL;

/// The first start inside the free run [s, e] that meets `c`, or kNoUnit.
[[nodiscard]] constexpr std::uint64_t fit_in_run(std::uint64_t s, std::uint64_t e,
                                                 const Constraint& c) {
    const std::uint64_t lo = s > c.min ? s : c.min;
    const std::uint64_t hi = e < c.max ? e : c.max;
    if (lo > hi || lo > ~0ULL - (c.align - 1)) {
        return kNoUnit;
    }
    std::uint64_t start = (lo + c.align - 1) & ~(c.align - 1);
    if (c.boundary != 0 && start / c.boundary != (start + c.count - 1) / c.boundary) {
        start = (start / c.boundary + 1) * c.boundary;  // a multiple of boundary is aligned too
    }
    if (start > hi || hi - start < c.count - 1) {
        return kNoUnit;
    }
    return start;
}

/// Finds the first run meeting a Constraint. Feeding stops mattering once
/// `found` is set.
class FitSink {
  public:
    constexpr explicit FitSink(const Constraint& c) : c_(c) {}

    [[nodiscard]] constexpr bool done() const { return found_ != kNoUnit; }
    [[nodiscard]] constexpr std::uint64_t found() const { return found_; }
    [[nodiscard]] constexpr std::uint64_t count() const { return c_.count; }
    /// Whether a walk that met no fit in an area may conclude that no free
    /// run inside it reaches count() (only true without alignment or boundary).
    [[nodiscard]] constexpr bool teaches_bounds() const {
        return c_.align == 1 && c_.boundary == 0;
    }

    /// Units [pos, pos + len) are free.
    constexpr void run(std::uint64_t pos, std::uint64_t len) {
        if (len == 0) {
            return;
        }
        if (run_len_ == 0 || run_start_ + run_len_ != pos) {
            run_start_ = pos;
            run_len_ = 0;
        }
        run_len_ += len;
        if (run_len_ >= c_.count) {
            found_ = fit_in_run(run_start_, run_start_ + run_len_ - 1, c_);
        }
    }

    /// The 64 units from `base`; bit i of `free` set = unit base + i is free.
    constexpr void word(std::uint64_t base, std::uint64_t free) {
        if (free == kAllOnes) {
            run(base, 64);
            return;
        }
        if (free == 0) {
            run_len_ = 0;
            return;
        }
        run(base, low_run(free));
        if (done()) {
            return;
        }
        if (c_.count <= 64) {
            const std::uint64_t starts = run_starts(free, static_cast<unsigned>(c_.count)) &
                                         aligned_starts(base, c_.align) &
                                         boundary_starts(base, c_.count, c_.boundary);
            if (starts != 0) {
                found_ = base + static_cast<unsigned>(__builtin_ctzll(starts));
                return;
            }
        }
        const unsigned high = high_run(free);
        run_len_ = 0;
        run(base + 64 - high, high);
    }

  private:
    const Constraint& c_;
    std::uint64_t run_start_ = 0;
    std::uint64_t run_len_ = 0;
    std::uint64_t found_ = kNoUnit;
};

/// Reports every maximal free run, in address order, to `f(start, length)`
/// (f returns false to stop). Call finish() after the walk.
template <typename F>
class RunSink {
  public:
    constexpr explicit RunSink(F& f) : f_(f) {}

    [[nodiscard]] constexpr bool done() const { return stopped_; }
    [[nodiscard]] static constexpr std::uint64_t count() { return 1; }
    [[nodiscard]] static constexpr bool teaches_bounds() { return false; }

    constexpr void run(std::uint64_t pos, std::uint64_t len) {
        if (len == 0 || stopped_) {
            return;
        }
        if (run_len_ != 0 && run_start_ + run_len_ == pos) {
            run_len_ += len;
            return;
        }
        finish();
        run_start_ = pos;
        run_len_ = len;
    }
    constexpr void word(std::uint64_t base, std::uint64_t free) {
        unsigned pos = 0;
        while (pos < 64 && !stopped_) {
            const std::uint64_t rest = free >> pos;
            if (rest == 0) {
                return;
            }
            pos += static_cast<unsigned>(__builtin_ctzll(rest));
            const unsigned len = low_run(free >> pos) > 64 - pos ? 64 - pos : low_run(free >> pos);
            run(base + pos, len);
            pos += len;
        }
    }
    constexpr void finish() {
        if (run_len_ != 0 && !stopped_) {
            stopped_ = !f_(run_start_, run_len_);
        }
        run_len_ = 0;
    }

  private:
    F& f_;
    std::uint64_t run_start_ = 0;
    std::uint64_t run_len_ = 0;
    bool stopped_ = false;
};

/// Holds back the last word fed so a second span sharing it can add its
/// free units before the sink sees it.
template <typename Sink>
class WordMerger {
  public:
    constexpr explicit WordMerger(Sink& sink) : sink_(sink) {}

    [[nodiscard]] constexpr bool done() const { return sink_.done(); }
    [[nodiscard]] constexpr Sink& sink() { return sink_; }

    constexpr void word(std::uint64_t base, std::uint64_t free) {
        if (pending_ && base == pending_base_) {
            pending_free_ |= free;
            return;
        }
        flush();
        pending_ = true;
        pending_base_ = base;
        pending_free_ = free;
    }
    constexpr void run(std::uint64_t pos, std::uint64_t len) {
        flush();
        sink_.run(pos, len);
    }
    constexpr void flush() {
        if (pending_) {
            pending_ = false;
            if (!sink_.done()) {
                sink_.word(pending_base_, pending_free_);
            }
        }
    }

  private:
    Sink& sink_;
    bool pending_ = false;
    std::uint64_t pending_base_ = 0;
    std::uint64_t pending_free_ = 0;
};

}  // namespace framealloc::detail
