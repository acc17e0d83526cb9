// The differential driver (see differential.hpp). One Episode owns one
// allocator and one model; every operation computes the model's verdict
// first, calls framealloc, and compares. Handles live in `held_` as a
// variant over every state and page size the driver uses.
#include "differential.hpp"

#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "framealloc/framealloc.hpp"
#include "framealloc/hosted.hpp"
#include "model.hpp"

namespace framealloc::reliability {
namespace {

// ------------------------------------------------------------------ helpers

struct Mismatch : std::runtime_error {
    using std::runtime_error::runtime_error;
};

std::atomic<std::uint64_t> g_panics{0};
const char* g_last_panic = "";
void record_panic(const char* message) {
    g_last_panic = message;
    g_panics.fetch_add(1);
}

std::string hex(std::uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
    return buf;
}
std::string frames_text(std::uint64_t first, std::uint64_t last) {
    return "frames [" + hex(first) + ", " + hex(last) + "]";
}
std::string error_text(Error e) {
    return std::string("error ") + kind_name(e.kind) + " (\"" + (e.message ? e.message : "") +
           "\")";
}

using A4 = AllocatedFrames<Page4K>;
using M4 = MappedFrames<Page4K>;
using U4 = UnmappedFrames<Page4K>;
using A2 = AllocatedFrames<Page2M>;
using M2 = MappedFrames<Page2M>;
using U2 = UnmappedFrames<Page2M>;
using Handle = std::variant<A4, M4, U4, FreeFrames, A2, M2, U2>;
const char* const kHandleNames[] = {"Allocated4K", "Mapped4K", "Unmapped4K", "Free4K",
                                    "Allocated2M", "Mapped2M", "Unmapped2M"};

template <typename H>
std::uint64_t first4k(const H& h) {
    return h.start().number() * H::Size::kFrames4K;
}
template <typename H>
std::uint64_t last4k(const H& h) {
    return (h.end().number() + 1) * H::Size::kFrames4K - 1;
}
std::uint64_t first4k(const Handle& h) {
    return std::visit([](const auto& x) { return first4k(x); }, h);
}
std::uint64_t last4k(const Handle& h) {
    return std::visit([](const auto& x) { return last4k(x); }, h);
}
bool empty(const Handle& h) {
    return std::visit([](const auto& x) { return x.is_empty(); }, h);
}
Pool pool_of(const Handle& h) {
    return std::visit([](const auto& x) { return x.pool(); }, h);
}

HeapHooks failing_hooks() {
    HeapHooks h;
    h.allocate = [](void*, std::size_t, std::size_t) -> void* { return nullptr; };
    h.deallocate = [](void*, void*, std::size_t, std::size_t) {};
    return h;
}

struct PageTableEntry {
    std::uint64_t first;  // 4K frames
    std::uint64_t last;
    bool huge;
    Pool pool;
};

// ------------------------------------------------------------------ episode

template <std::size_t Cap>
class Episode {
  public:
    using Alloc = BasicFrameAllocator<SpinLock, Cap>;

    Episode(Source& src, const DiffOptions& opt, DiffResult& res)
        : src_(src), opt_(opt), res_(res), fa_(std::make_unique<Alloc>()) {
        std::uint64_t size = 512 * src_.range(1, 16);
        switch (src_.below(3)) {
            case 0:
                base_ = 0;
                break;
            case 1:
                base_ = 0x100000 + 512 * src_.below(64);
                break;
            default:
                base_ = RefModel::kTopFrame + 1 - size;
                break;
        }
        m_.reset(base_, size);
        heap_episode_ = src_.chance(60);
    }

    ~Episode() {
        // On a mismatch the allocator may be inconsistent: let nothing call
        // back into it (handles are forgotten by leaking their storage).
        if (!clean_) {
            auto* leak = new std::vector<Handle>(std::move(held_));
            (void)leak;
            auto* leak2 = new std::vector<DeferredAllocAction>(std::move(actions_));
            (void)leak2;
            (void)fa_.release();
        }
    }

    void run(std::uint64_t length) {
        for (std::uint64_t i = 0; i < length && !done(); ++i) {
            step();
            ++res_.ops;
            after_op();
        }
        teardown();
        clean_ = true;
    }

  private:
    bool done() const {
        return src_.exhausted() || (opt_.max_ops != 0 && res_.ops >= opt_.max_ops);
    }

    // ---- reporting

    template <typename... Args>
    void describe(const char* fmt, Args... args) {
        std::snprintf(desc_, sizeof desc_, fmt, args...);
    }
    [[noreturn]] void mismatch(const std::string& what, const std::string& framealloc,
                               const std::string& model) {
        std::string msg = "op #" + std::to_string(res_.ops) + " (" + desc_ + "): " + what +
                          "\n  framealloc: " + framealloc + "\n  model:      " + model +
                          "\n  episode: universe " + frames_text(m_.base(), m_.end() - 1) +
                          ", capacity " + std::to_string(Cap) +
                          (heap_ ? ", heap mode" : ", early mode") + ", " +
                          std::to_string(held_.size()) + " handles held";
        // The allocator's own view, for the reader (the first lines only).
        int lines = 0;
        fa_->dump([&](const char* line) {
            if (++lines <= 40) {
                msg += std::string("\n  | ") + line;
            }
        });
        throw Mismatch(msg);
    }
    void expect_eq(std::uint64_t fa, std::uint64_t model, const char* what) {
        if (fa != model) {
            mismatch(what, std::to_string(fa), std::to_string(model));
        }
    }

    // Compares a refusal with the model's verdict; true when the refusal is
    // the early-mode bookkeeping limit on a request the model would grant.
    bool judge_failure(const Expect& e, Error err) {
        if (e.ok) {
            if (err.kind == ErrorKind::kCapacityExhausted && !heap_) {
                ++res_.capacity_refusals;
                return true;
            }
            mismatch("framealloc refused a request the model grants", error_text(err), e.str());
        }
        if (err.kind != e.kind) {
            mismatch("wrong error kind", error_text(err), e.str());
        }
        ++res_.refusals;
        return false;
    }
    void judge_success(const Expect& e, const std::string& got) {
        if (!e.ok) {
            mismatch("framealloc granted a request the model refuses", got, e.str());
        }
        ++res_.allocations;
    }

    // ---- checks

    void after_op() {
        if (g_panics.load() != 0) {
            mismatch("framealloc panicked", g_last_panic, "no panic");
        }
        if (opt_.check_every <= 1 || res_.ops % opt_.check_every == 0) {
            full_check();
        }
    }

    std::uint64_t live_handles(Pool pool) const {
        std::uint64_t n = 0;
        for (const Handle& h : held_) {
            n += (!empty(h) && std::visit([](const auto& x) { return x.pool(); }, h) == pool) ? 1
                                                                                              : 0;
        }
        return n;
    }

    void full_check() {
        ++res_.full_checks;
        if (Status st = fa_->check(); !st) {
            mismatch("check() failed", error_text(st.error()), "every invariant holds");
        }
        const FrameStats s = fa_->stats();
        expect_eq(s.general.total_frames, m_.total(Pool::kGeneral), "general total frames");
        expect_eq(s.general.free_frames, m_.free(Pool::kGeneral), "general free frames");
        expect_eq(s.reserved.total_frames, m_.total(Pool::kReserved), "reserved total frames");
        expect_eq(s.reserved.free_frames, m_.free(Pool::kReserved), "reserved free frames");
        expect_eq(s.general.allocated_frames, m_.total(Pool::kGeneral) - m_.free(Pool::kGeneral),
                  "general allocated frames");
        if (!m_.initialized()) {
            return;
        }
        if (++model_checks_ % 16 == 0) {
            if (std::string why = m_.self_check(); !why.empty()) {
                mismatch("reference model is inconsistent (driver bug)", "", why);
            }
        }
        if (s.cached_frames == 0) {
            // Nothing parked in per-CPU caches: the shared pool is the model exactly.
            const auto gr = m_.free_runs(Pool::kGeneral);
            const auto rr = m_.free_runs(Pool::kReserved);
            expect_eq(s.general.free_chunks, gr.size(), "general free chunks");
            expect_eq(s.reserved.free_chunks, rr.size(), "reserved free chunks");
            std::uint64_t largest = 0;
            for (const Run& r : gr) {
                largest = std::max(largest, r.last - r.first + 1);
            }
            expect_eq(s.general.largest_free_chunk, largest, "largest general chunk");
            // The exact chunk list, through the public inspection interface
            // (with empty caches it drains nothing, so it changes nothing).
            std::size_t k = 0;
            std::string bad;
            auto seen = fa_->inspect_then_allocate_free_frames([&](FrameRange<> c) {
                if (bad.empty() && (k >= gr.size() || c.start().number() != gr[k].first ||
                                    c.end().number() != gr[k].last)) {
                    bad = frames_text(c.start().number(), c.end().number()) +
                          " where the model has " +
                          (k < gr.size() ? frames_text(gr[k].first, gr[k].last)
                                         : std::string("none"));
                }
                ++k;
                return FramesIteratorRequest::Next();
            });
            if (!bad.empty() || !seen) {
                mismatch("free chunk list differs", bad, "the model's free runs");
            }
            // General free state lives in the bitmap: nodes hold the regions
            // and the reserved pool's chunks only.
            const std::uint64_t nodes = rr.size() + m_.region_runs(Pool::kGeneral).size() +
                                        m_.region_runs(Pool::kReserved).size();
            expect_eq(s.nodes_used, nodes, "bookkeeping nodes in use (regions + reserved chunks)");
            expect_eq(s.nodes_reserved, live_handles(Pool::kReserved),
                      "nodes reserved (one per live reserved-pool handle)");
        } else if (s.nodes_reserved < live_handles(Pool::kReserved)) {
            mismatch("fewer reserved nodes than live reserved-pool handles",
                     std::to_string(s.nodes_reserved),
                     std::to_string(live_handles(Pool::kReserved)));
        }
    }

    // ---- random choices

    std::uint64_t pick_count() {
        const std::uint64_t r = src_.below(100);
        if (r < 55) {
            return src_.range(1, 4);
        }
        if (r < 80) {
            return src_.range(5, 64);
        }
        if (r < 93) {
            return src_.range(65, m_.size() / 2 + 65);
        }
        if (r < 97) {
            return src_.range(m_.size() / 2, m_.size() + 16);
        }
        static constexpr std::uint64_t kSpecial[] = {0, RefModel::kTopFrame + 1,
                                                     RefModel::kTopFrame + 2, 1ULL << 60, ~0ULL};
        return kSpecial[src_.below(5)];
    }

    // A frame of the universe, biased towards interesting places.
    std::uint64_t pick_frame() {
        const std::uint64_t r = src_.below(100);
        if (r < 35 || held_.empty()) {
            const std::uint64_t start = m_.base() + src_.below(m_.size());
            if (r < 20) {
                const auto want = static_cast<Owner>(src_.below(3));
                for (std::uint64_t i = 0; i < m_.size(); ++i) {
                    const std::uint64_t f = m_.base() + (start - m_.base() + i) % m_.size();
                    if (m_.owner(f) == want) {
                        return f;
                    }
                }
            }
            return start;
        }
        if (r < 60) {  // next to or inside a held handle
            const Handle& h = held_[src_.below(held_.size())];
            if (!empty(h)) {
                const std::uint64_t f = src_.chance(50) ? first4k(h) : last4k(h) + 1;
                if (f < m_.end()) {
                    return f;
                }
            }
        }
        if (r < 80) {  // start of a free run of either pool
            const auto runs = m_.free_runs(src_.chance(60) ? Pool::kGeneral : Pool::kReserved);
            if (!runs.empty()) {
                const Run& run = runs[src_.below(runs.size())];
                return src_.chance(70) ? run.first : src_.range(run.first, run.last);
            }
        }
        return src_.chance(50) ? m_.base() : m_.end() - 1;
    }
    // A count for an at-address request at `first`, kept inside the universe
    // unless the universe ends at the top of physical memory (then passing
    // it is an overflow error, which the model predicts).
    std::uint64_t count_at(std::uint64_t first) {
        std::uint64_t n = pick_count();
        const std::uint64_t room = m_.end() - first;
        const bool at_top = m_.end() == RefModel::kTopFrame + 1;
        if (n > room && !(at_top && src_.chance(30))) {
            n = n == 0 ? 0 : src_.range(1, room);
        }
        return n;
    }
    PhysicalAddress address_of(std::uint64_t frame) {
        const std::uint64_t offset = src_.chance(25) ? src_.below(4096) : 0;
        return PhysicalAddress::create(frame * 4096 + offset).value();
    }
    void random_window(AllocRequest& r) {
        const std::uint64_t kind = src_.below(100);
        if (kind < 55) {
            return;
        }
        if (kind < 65) {  // "below a limit", like DMA32
            r = r.below((m_.base() + src_.below(m_.size() + 1)) * 4096 + src_.below(4096));
            return;
        }
        const std::uint64_t lo =
            (m_.base() + src_.below(m_.size())) * 4096 + (src_.chance(30) ? src_.below(4096) : 0);
        std::uint64_t hi = lo + src_.below(m_.size() * 4096 / 2 + 8192);
        if (kind > 95) {
            hi = lo - (lo > 0 ? src_.below(lo < 8192 ? lo + 1 : 8192) : 0);  // empty or one frame
        }
        if (hi > PhysicalAddress::kMax) {
            hi = PhysicalAddress::kMax;
        }
        r = r.within(PhysicalAddress::create(lo).value(), PhysicalAddress::create(hi).value());
    }
    std::uint64_t pick_pow2_or_not(unsigned max_shift) {
        if (src_.chance(3)) {
            static constexpr std::uint64_t kBad[] = {0, 3, 6, 1000, (1ULL << 63) + 1};
            return kBad[src_.below(5)];
        }
        return 1ULL << src_.below(max_shift + 1);
    }

    // ---- handle bookkeeping

    void hold(Handle h) {
        if (!empty(h)) {
            held_.push_back(std::move(h));
        }
    }
    Handle take_held(std::size_t i) {
        Handle h = std::move(held_[i]);
        held_[i] = std::move(held_.back());
        held_.pop_back();
        return h;
    }
    // Lets a handle go: back to the pool (Mapped is unmapped first).
    void drop(Handle h) {
        if (empty(h)) {
            return;
        }
        const std::uint64_t first = first4k(h);
        const std::uint64_t last = last4k(h);
        std::visit(
            [](auto& x) {
                using H = std::decay_t<decltype(x)>;
                if constexpr (H::kState == MemoryState::kMapped) {
                    auto unmapped = std::move(x).into_unmapped();
                    (void)unmapped;
                } else {
                    H gone = std::move(x);
                    (void)gone;
                }
            },
            h);
        m_.give_back(first, last);
    }

    // ---- allocation results

    template <PageSize P>
    void accept(const AllocRequest& req, const Expect& e, Result<AllocatedFrames<P>>& got) {
        if (!got) {
            judge_failure(e, got.error());
            return;
        }
        AllocatedFrames<P>& h = got.value();
        const std::uint64_t first = first4k(h);
        const std::uint64_t last = last4k(h);
        judge_success(e, frames_text(first, last));
        if (h.owner() != fa_.get()) {
            mismatch("handle does not name its allocator", "", "");
        }
        if (req.at) {
            const std::uint64_t want = req.at->value() / 4096;
            if (first != want || last != want + req.num_frames - 1 || h.pool() != e.pool) {
                mismatch("at-address allocation returned other frames or pool",
                         frames_text(first, last) +
                             (h.pool() == Pool::kGeneral ? " general" : " reserved"),
                         frames_text(want, want + req.num_frames - 1) + " " + e.str());
            }
            const bool new_region = m_.no_region(first, last);
            if (!m_.in_universe(first, last)) {
                throw std::logic_error("driver bug: allocation outside the universe");
            }
            m_.take(first, last, new_region);
        } else {
            std::string why;
            if (h.pool() != Pool::kGeneral || !m_.legal_anywhere(req, first, last, &why)) {
                mismatch("anywhere allocation returned illegal frames: " + why,
                         frames_text(first, last), "free general frames meeting the request");
            }
            m_.take(first, last, false);
        }
        hold(Handle(std::move(h)));
    }

    AllocRequest at_request(std::uint64_t first, std::uint64_t n) {
        AllocRequest r = AllocRequest::frames(n);
        r.at = address_of(first);
        return r;
    }

    // ---- operations

    void op_init() {
        const bool small = src_.chance(30);
        const std::uint64_t nf = src_.below(small ? 3 : 11);
        const std::uint64_t nr = src_.below(small ? 2 : 7);
        std::vector<PhysicalMemoryRegion> free_regions;
        std::vector<PhysicalMemoryRegion> reserved_regions;
        const auto make = [&](MemoryRegionType type) {
            if (src_.chance(5)) {
                return PhysicalMemoryRegion(FrameRange<>::empty(), type);
            }
            const std::uint64_t first = m_.base() + src_.below(m_.size());
            const std::uint64_t room = m_.end() - first;
            const std::uint64_t len =
                src_.chance(20) ? src_.range(1, room < 8 ? room : 8) : src_.range(1, room);
            const std::uint64_t last = first + len - 1;
            if (src_.chance(30)) {  // from unaligned bytes, clipped inward/outward by type
                std::uint64_t sb = first * 4096 + src_.below(4096);
                std::uint64_t eb = last * 4096 + src_.below(4096);
                if (eb < sb) {
                    std::swap(sb, eb);
                }
                auto r = PhysicalMemoryRegion::from_bytes(sb, eb - sb + 1, type);
                return r.value();
            }
            return PhysicalMemoryRegion(FrameRange<>(Frame<>::from_number(first).value(),
                                                     Frame<>::from_number(last).value()),
                                        type);
        };
        for (std::uint64_t i = 0; i < nf; ++i) {
            free_regions.push_back(
                src_.chance(30) && !free_regions.empty()
                    ? free_regions[src_.below(free_regions.size())]
                    : make(src_.chance(4) ? MemoryRegionType::kUnknown : MemoryRegionType::kFree));
        }
        for (std::uint64_t i = 0; i < nr; ++i) {
            reserved_regions.push_back(
                make(src_.chance(4) ? MemoryRegionType::kUnknown : MemoryRegionType::kReserved));
        }
        if (src_.chance(3)) {  // a mistyped region: the whole init is refused
            (src_.chance(50) ? free_regions : reserved_regions)
                .push_back(
                    make(src_.chance(50) ? MemoryRegionType::kReserved : MemoryRegionType::kFree));
        }
        // Unsorted: shuffle.
        for (auto* list : {&free_regions, &reserved_regions}) {
            for (std::size_t i = list->size(); i > 1; --i) {
                std::swap((*list)[i - 1], (*list)[src_.below(i)]);
            }
        }
        describe("init(%zu free, %zu reserved)", free_regions.size(), reserved_regions.size());
        const Expect e = m_.expect_init(free_regions, reserved_regions);
        // Metadata for the init regions, plus room for regions added later
        // anywhere in the universe.
        const PhysicalMemoryRegion universe(
            FrameRange<>(Frame<>::from_number(m_.base()).value(),
                         Frame<>::from_number(m_.end() - 1).value()),
            MemoryRegionType::kFree);
        const std::size_t meta_bytes =
            Alloc::metadata_bytes(free_regions, reserved_regions) +
            2 * Alloc::metadata_bytes(Span<const PhysicalMemoryRegion>(&universe, 1), {});
        metadata_.reset(new std::byte[meta_bytes]);
        auto got = fa_->init(Span<const PhysicalMemoryRegion>(free_regions),
                             Span<const PhysicalMemoryRegion>(reserved_regions),
                             Span<std::byte>(metadata_.get(), meta_bytes));
        if (!got) {
            if (e.ok && got.kind() == ErrorKind::kCapacityExhausted) {
                // Legitimate only when the regions could need more nodes than exist.
                std::uint64_t nfr = 0;
                std::uint64_t nrr = 0;
                for (const auto& r : free_regions) {
                    nfr += (!r.frames.is_empty() && r.type == MemoryRegionType::kFree) ? 1 : 0;
                }
                for (const auto& r : reserved_regions) {
                    nrr += (!r.frames.is_empty() && r.type == MemoryRegionType::kReserved) ? 1 : 0;
                }
                const std::uint64_t general_bound = nfr * (nrr + 1);
                const std::uint64_t bound = nrr + general_bound + nrr + general_bound;
                if (bound <= Cap) {
                    mismatch("init ran out of bookkeeping with room to spare",
                             error_text(got.error()),
                             "success (needs at most " + std::to_string(bound) + " nodes)");
                }
                ++res_.capacity_refusals;
            } else {
                judge_failure(e, got.error());
            }
            if (fa_->is_initialized()) {
                mismatch("a failed init left the allocator initialised", "initialised", "not");
            }
            return;
        }
        judge_success(e, "initialised");
        m_.init(free_regions, reserved_regions);
        into_unmapped_ = got.value();
        full_check();
    }

    void op_allocate_frames() {
        const std::uint64_t n = pick_count();
        describe("allocate_frames(%" PRIu64 ")", n);
        const AllocRequest req = AllocRequest::frames(n);
        const Expect e = m_.expect_allocate(req);
        auto got = fa_->allocate_frames(n);
        accept(req, e, got);
    }

    void op_allocate_at() {
        const std::uint64_t first = pick_frame();
        const std::uint64_t n = count_at(first);
        AllocRequest req = at_request(first, n);
        describe("allocate_frames_at(%s, %" PRIu64 ")", hex(req.at->value()).c_str(), n);
        const Expect e = m_.expect_allocate(req);
        auto got = fa_->allocate_frames_at(*req.at, n);
        accept(req, e, got);
    }

    void op_by_bytes() {
        std::uint64_t bytes = src_.chance(5) ? (src_.chance(50) ? 0 : ~0ULL - src_.below(5000))
                                             : src_.range(1, 4096 * 70);
        describe("allocate_frames_by_bytes(%" PRIu64 ")", bytes);
        if (bytes > ~0ULL - 4095) {
            auto got = fa_->allocate_frames_by_bytes(bytes);
            if (got || got.kind() != ErrorKind::kOverflow) {
                mismatch("byte size past 2^64", got ? "success" : error_text(got.error()),
                         "kOverflow");
            }
            return;
        }
        const std::uint64_t n = bytes == 0 ? 0 : (bytes + 4095) / 4096;
        const AllocRequest req = AllocRequest::frames(n);
        const Expect e = m_.expect_allocate(req);
        auto got = fa_->allocate_frames_by_bytes(bytes);
        accept(req, e, got);
    }

    void op_by_bytes_at(bool deferred) {
        const std::uint64_t first = pick_frame();
        const std::uint64_t room = m_.end() - first;
        PhysicalAddress addr = address_of(first);
        const std::uint64_t offset = addr.value() % 4096;
        std::uint64_t bytes =
            src_.chance(4) ? 0 : src_.range(1, 4096 * (room < 70 ? room : 70) - offset);
        if (src_.chance(2)) {
            bytes = ~0ULL - src_.below(4096);
        }
        describe("allocate_frames_by_bytes%s_at(%s, %" PRIu64 ")", deferred ? "_deferred" : "",
                 hex(addr.value()).c_str(), bytes);
        const U128 need = static_cast<U128>(bytes) + offset + 4095;
        if (bytes != 0 && need > ~0ULL) {
            Error err{};
            bool ok = false;
            if (deferred) {
                auto got = fa_->allocate_frames_by_bytes_deferred(addr, bytes);
                ok = got.has_value();
                if (!ok)
                    err = got.error();
            } else {
                auto got = fa_->allocate_frames_by_bytes_at(addr, bytes);
                ok = got.has_value();
                if (!ok)
                    err = got.error();
            }
            if (ok || err.kind != ErrorKind::kOverflow) {
                mismatch("byte size past 2^64", ok ? "success" : error_text(err), "kOverflow");
            }
            return;
        }
        const std::uint64_t n = bytes == 0 ? 0 : static_cast<std::uint64_t>(need / 4096);
        AllocRequest req = AllocRequest::frames(n);
        req.at = addr;
        const Expect e = m_.expect_allocate(req);
        if (deferred) {
            auto got = fa_->allocate_frames_by_bytes_deferred(addr, bytes);
            accept_deferred(req, e, got);
        } else {
            auto got = fa_->allocate_frames_by_bytes_at(addr, bytes);
            accept(req, e, got);
        }
    }

    void accept_deferred(const AllocRequest& req, const Expect& e,
                         Result<DeferredAllocation>& got) {
        if (!got) {
            judge_failure(e, got.error());
            return;
        }
        Result<AllocatedFrames<>> frames(std::move(got.value().frames));
        if (src_.chance(50)) {
            actions_.push_back(std::move(got.value().action));
        }
        accept(req, e, frames);
    }

    void op_deferred() {
        const bool at = src_.chance(50);
        std::uint64_t n = 0;
        AllocRequest req;
        if (at) {
            const std::uint64_t first = pick_frame();
            n = count_at(first);
            req = at_request(first, n);
            describe("allocate_frames_deferred(%s, %" PRIu64 ")", hex(req.at->value()).c_str(), n);
        } else {
            n = pick_count();
            req = AllocRequest::frames(n);
            describe("allocate_frames_deferred(none, %" PRIu64 ")", n);
        }
        const Expect e = m_.expect_allocate(req);
        auto got = fa_->allocate_frames_deferred(req.at, n);
        accept_deferred(req, e, got);
    }

    void op_by_bytes_deferred_anywhere() {
        const std::uint64_t bytes = src_.chance(5) ? 0 : src_.range(1, 4096 * 40);
        describe("allocate_frames_by_bytes_deferred(none, %" PRIu64 ")", bytes);
        const AllocRequest req = AllocRequest::frames(bytes == 0 ? 0 : (bytes + 4095) / 4096);
        const Expect e = m_.expect_allocate(req);
        auto got = fa_->allocate_frames_by_bytes_deferred({}, bytes);
        accept_deferred(req, e, got);
    }

    void op_request() {
        AllocRequest req = AllocRequest::frames(src_.chance(70) ? src_.range(1, 24) : pick_count());
        if (src_.chance(45)) {
            req.align_frames = pick_pow2_or_not(src_.chance(90) ? 9 : 45);
        }
        if (src_.chance(25)) {
            req.boundary_frames = pick_pow2_or_not(13);
        }
        random_window(req);
        if (src_.chance(25)) {
            const std::uint64_t first = pick_frame();
            req.at = address_of(first);
            if (req.num_frames > m_.end() - first && m_.end() != RefModel::kTopFrame + 1) {
                req.num_frames = src_.range(1, m_.end() - first);
            }
            if (src_.chance(30)) {
                req.pool = src_.chance(50) ? Pool::kGeneral : Pool::kReserved;
            }
        }
        describe("allocate{n=%" PRIu64 " align=%" PRIu64 " boundary=%" PRIu64
                 " window=[%s,%s] at=%s pool=%d}",
                 req.num_frames, req.align_frames, req.boundary_frames,
                 hex(req.min_address.value()).c_str(), hex(req.max_address.value()).c_str(),
                 req.at ? hex(req.at->value()).c_str() : "none",
                 req.pool ? static_cast<int>(*req.pool) : -1);
        const Expect e = m_.expect_allocate(req);
        auto got = fa_->allocate(req);
        accept(req, e, got);
    }

    void op_huge() {
        std::uint64_t count = src_.chance(85) ? 1 : src_.range(2, 4);
        if (src_.chance(2)) {
            count = 0;
        } else if (src_.chance(1)) {
            count = ~0ULL / 512 + 1;
        }
        AllocRequest constraints;
        random_window(constraints);
        if (src_.chance(5)) {
            constraints.boundary_frames = 1ULL << src_.range(8, 14);
        }
        describe("allocate_huge<Page2M>(%" PRIu64 ", window=[%s,%s] boundary=%" PRIu64 ")", count,
                 hex(constraints.min_address.value()).c_str(),
                 hex(constraints.max_address.value()).c_str(), constraints.boundary_frames);
        auto got = fa_->template allocate_huge<Page2M>(count, constraints);
        Expect e;
        if (count == 0) {
            e = Expect::failure(ErrorKind::kZeroFrames);
        } else if (count > ~0ULL / 512) {
            e = Expect::failure(ErrorKind::kOverflow);
        } else {
            constraints.num_frames = count * 512;
            constraints.align_frames = 512;
            e = m_.expect_allocate(constraints);
        }
        accept(constraints, e, got);
    }

    void op_drop() {
        if (held_.empty()) {
            return;
        }
        const std::size_t i = src_.below(held_.size());
        describe("drop %s %s", kHandleNames[held_[i].index()],
                 frames_text(first4k(held_[i]), last4k(held_[i])).c_str());
        drop(take_held(i));
    }

    template <typename H>
    static std::string handle_text(const H& h) {
        return h.is_empty() ? std::string("empty") : frames_text(first4k(h), last4k(h));
    }

    void op_split_at() {
        if (held_.empty()) {
            return;
        }
        const std::size_t i = src_.below(held_.size());
        std::visit(
            [&](auto& h) {
                using H = std::decay_t<decltype(h)>;
                using P = typename H::Size;
                const std::uint64_t s = h.start().number();
                const std::uint64_t e = h.end().number();
                const std::uint64_t lo = s >= 2 ? s - 2 : 0;
                std::uint64_t at = src_.range(lo, e + 2);
                if (at > Frame<P>::kMaxNumber) {
                    at = Frame<P>::kMaxNumber;
                }
                describe("split_at(%s %s, unit %s)", kHandleNames[held_[i].index()],
                         handle_text(h).c_str(), hex(at).c_str());
                const bool in = !h.is_empty() && at >= s && at <= e + 1;
                // Only reserved-pool handles hold bookkeeping nodes.
                const bool needs_node = in && at != s && at != e + 1 && h.pool() == Pool::kReserved;
                auto got = h.split_at(Frame<P>::from_number(at).value());
                if (!got) {
                    if (!in) {
                        if (got.kind() != ErrorKind::kOutOfRange) {
                            mismatch("split_at outside the range", error_text(got.error()),
                                     "kOutOfRange");
                        }
                    } else if (!(needs_node && !heap_ &&
                                 got.kind() == ErrorKind::kCapacityExhausted)) {
                        mismatch("split_at refused", error_text(got.error()), "success");
                    }
                    if (h.is_empty() != (s > e) ||
                        (!h.is_empty() && (h.start().number() != s || h.end().number() != e))) {
                        mismatch("a failed split_at changed the handle", handle_text(h),
                                 "unchanged");
                    }
                    return;
                }
                if (!in) {
                    mismatch("split_at outside the range succeeded", "success", "kOutOfRange");
                }
                auto& parts = got.value();
                const bool first_ok = at == s ? parts.first.is_empty()
                                              : (parts.first.start().number() == s &&
                                                 parts.first.end().number() == at - 1);
                const bool second_ok = at == e + 1 ? parts.second.is_empty()
                                                   : (parts.second.start().number() == at &&
                                                      parts.second.end().number() == e);
                if (!first_ok || !second_ok || !h.is_empty()) {
                    mismatch("split_at returned the wrong parts",
                             handle_text(parts.first) + " + " + handle_text(parts.second),
                             "split at the unit");
                }
                Handle a(std::move(parts.first));
                Handle b(std::move(parts.second));
                held_[i] = std::move(a);
                if (empty(held_[i])) {
                    held_[i] = std::move(b);
                } else {
                    hold(std::move(b));
                }
            },
            held_[i]);
        if (empty(held_[i])) {
            take_held(i);
        }
    }

    void op_split_range() {
        if (held_.empty()) {
            return;
        }
        const std::size_t i = src_.below(held_.size());
        std::visit(
            [&](auto& h) {
                using H = std::decay_t<decltype(h)>;
                using P = typename H::Size;
                const std::uint64_t s = h.start().number();
                const std::uint64_t e = h.end().number();
                std::uint64_t a = src_.range(s >= 1 ? s - 1 : 0, e + 1);
                std::uint64_t b = src_.range(a >= 1 ? a - 1 : 0, e + 1);
                a = a > Frame<P>::kMaxNumber ? Frame<P>::kMaxNumber : a;
                b = b > Frame<P>::kMaxNumber ? Frame<P>::kMaxNumber : b;
                const FrameRange<P> middle(Frame<P>::from_number(a).value(),
                                           Frame<P>::from_number(b).value());
                describe("split_range(%s %s, units [%s, %s])", kHandleNames[held_[i].index()],
                         handle_text(h).c_str(), hex(a).c_str(), hex(b).c_str());
                const bool in = !h.is_empty() && a <= b && a >= s && b <= e;
                const bool needs_node = in && (a > s || b < e) && h.pool() == Pool::kReserved;
                auto got = h.split_range(middle);
                if (!got) {
                    if (!in) {
                        if (got.kind() != ErrorKind::kOutOfRange) {
                            mismatch("split_range outside the range", error_text(got.error()),
                                     "kOutOfRange");
                        }
                    } else if (!(needs_node && !heap_ &&
                                 got.kind() == ErrorKind::kCapacityExhausted)) {
                        mismatch("split_range refused", error_text(got.error()), "success");
                    }
                    if (!h.is_empty() && (h.start().number() != s || h.end().number() != e)) {
                        mismatch("a failed split_range changed the handle", handle_text(h),
                                 "unchanged");
                    }
                    return;
                }
                if (!in) {
                    mismatch("split_range outside the range succeeded", "success", "kOutOfRange");
                }
                auto& parts = got.value();
                const bool ok_before = a == s ? parts.before.is_empty()
                                              : parts.before.start().number() == s &&
                                                    parts.before.end().number() == a - 1;
                const bool ok_mid =
                    parts.range.start().number() == a && parts.range.end().number() == b;
                const bool ok_after = b == e ? parts.after.is_empty()
                                             : parts.after.start().number() == b + 1 &&
                                                   parts.after.end().number() == e;
                if (!ok_before || !ok_mid || !ok_after || !h.is_empty()) {
                    mismatch("split_range returned the wrong parts",
                             handle_text(parts.before) + " + " + handle_text(parts.range) + " + " +
                                 handle_text(parts.after),
                             "before / middle / after");
                }
                held_[i] = Handle(std::move(parts.range));
                hold(Handle(std::move(parts.before)));
                hold(Handle(std::move(parts.after)));
            },
            held_[i]);
    }

    void op_merge() {
        if (held_.size() < 2) {
            return;
        }
        const std::size_t i = src_.below(held_.size());
        std::size_t j = src_.below(held_.size());
        if (src_.chance(60)) {  // look for a physically adjacent partner
            const std::size_t start = src_.below(held_.size());
            for (std::size_t k = 0; k < held_.size(); ++k) {
                const std::size_t c = (start + k) % held_.size();
                if (c != i && held_[c].index() == held_[i].index() &&
                    (last4k(held_[c]) + 1 == first4k(held_[i]) ||
                     last4k(held_[i]) + 1 == first4k(held_[c]))) {
                    j = c;
                    break;
                }
            }
        }
        if (i == j || held_[i].index() != held_[j].index()) {
            return;
        }
        std::visit(
            [&](auto& a) {
                using H = std::decay_t<decltype(a)>;
                H& b = std::get<H>(held_[j]);
                describe("merge(%s %s, %s)", kHandleNames[held_[i].index()], handle_text(a).c_str(),
                         handle_text(b).c_str());
                const std::uint64_t as = a.start().number();
                const std::uint64_t ae = a.end().number();
                const std::uint64_t bs = b.start().number();
                const std::uint64_t be = b.end().number();
                const bool adjacent = ae + 1 == bs || be + 1 == as;
                const bool expect_ok = a.pool() == b.pool() && adjacent;
                Status st = a.merge(b);
                if (st.ok() != expect_ok) {
                    mismatch("merge", st.ok() ? "success" : error_text(st.error()),
                             expect_ok ? "success" : "kNotAdjacent");
                }
                if (!st.ok()) {
                    if (st.kind() != ErrorKind::kNotAdjacent) {
                        mismatch("merge error kind", error_text(st.error()), "kNotAdjacent");
                    }
                    if (a.start().number() != as || a.end().number() != ae ||
                        b.start().number() != bs || b.end().number() != be) {
                        mismatch("a failed merge changed a handle",
                                 handle_text(a) + " / " + handle_text(b), "unchanged");
                    }
                    return;
                }
                const std::uint64_t lo = as < bs ? as : bs;
                const std::uint64_t hi = ae > be ? ae : be;
                if (!b.is_empty() || a.start().number() != lo || a.end().number() != hi) {
                    mismatch("merge produced the wrong range",
                             handle_text(a) + " / " + handle_text(b),
                             "[" + hex(lo) + ", " + hex(hi) + "] / empty");
                }
            },
            held_[i]);
        if (empty(held_[j])) {
            take_held(j);
        }
    }

    void op_transition() {
        if (held_.empty()) {
            return;
        }
        const std::size_t i = src_.below(held_.size());
        describe("transition of %s %s", kHandleNames[held_[i].index()],
                 frames_text(first4k(held_[i]), last4k(held_[i])).c_str());
        Handle& h = held_[i];
        const std::uint64_t f = first4k(h);
        const std::uint64_t l = last4k(h);
        Handle next = std::visit(
            [&](auto& x) -> Handle {
                using H = std::decay_t<decltype(x)>;
                constexpr MemoryState S = H::kState;
                if constexpr (S == MemoryState::kAllocated &&
                              std::is_same_v<typename H::Size, Page4K>) {
                    const auto r = src_.below(3);
                    if (r == 0) {
                        return std::move(x).into_mapped();
                    }
                    if (r == 1) {
                        return std::move(x).into_free();
                    }
                    const bool aligned = f % 512 == 0 && (l + 1) % 512 == 0;
                    auto got = x.template into_page_size<Page2M>();
                    if (got.has_value() != aligned) {
                        mismatch("into_page_size<Page2M>",
                                 got ? "success" : error_text(got.error()),
                                 aligned ? "success" : "kMisaligned");
                    }
                    if (!got) {
                        if (got.kind() != ErrorKind::kMisaligned || first4k(x) != f ||
                            last4k(x) != l) {
                            mismatch("failed into_page_size", error_text(got.error()),
                                     "kMisaligned, unchanged");
                        }
                        return std::move(x);
                    }
                    return std::move(got.value());
                } else if constexpr (S == MemoryState::kAllocated) {
                    if (src_.chance(50)) {
                        return std::move(x).into_mapped();
                    }
                    auto got = x.template into_page_size<Page4K>();
                    if (!got) {
                        mismatch("into_page_size<Page4K>", error_text(got.error()), "success");
                    }
                    return std::move(got.value());
                } else if constexpr (S == MemoryState::kMapped) {
                    if (src_.chance(30)) {  // hand the frames to page tables for good
                        const Pool pool = x.pool();
                        const auto range = std::move(x).into_page_table();
                        page_tables_.push_back(
                            PageTableEntry{range.start().number() * H::Size::kFrames4K,
                                           (range.end().number() + 1) * H::Size::kFrames4K - 1,
                                           !std::is_same_v<typename H::Size, Page4K>, pool});
                        return H();
                    }
                    return std::move(x).into_unmapped();
                } else {
                    return std::move(x).into_allocated();
                }
            },
            h);
        if (!empty(next) && (first4k(next) != f || last4k(next) != l)) {
            mismatch("a transition changed the frames", frames_text(first4k(next), last4k(next)),
                     frames_text(f, l));
        }
        held_[i] = std::move(next);
        if (empty(held_[i])) {
            take_held(i);
        }
    }

    void op_adopt() {
        if (!m_.initialized()) {
            return;
        }
        if (!page_tables_.empty() && src_.chance(70)) {
            const std::size_t i = src_.below(page_tables_.size());
            const PageTableEntry pt = page_tables_[i];
            describe("IntoUnmappedFrames(%s, %s)", frames_text(pt.first, pt.last).c_str(),
                     pt.huge ? "2M" : "4K");
            const Expect e = m_.expect_adopt(pt.first, pt.last);
            if (!e.ok || e.pool != pt.pool) {
                throw std::logic_error("driver bug: page-table frames not allocated in the model");
            }
            Handle got_handle;
            Error err{};
            bool ok = false;
            if (pt.huge) {
                auto got = into_unmapped_(
                    FrameRange<Page2M>(Frame<Page2M>::from_number(pt.first / 512).value(),
                                       Frame<Page2M>::from_number(pt.last / 512).value()));
                ok = got.has_value();
                if (ok)
                    got_handle = std::move(got.value());
                else
                    err = got.error();
            } else {
                auto got = into_unmapped_(FrameRange<>(Frame<>::from_number(pt.first).value(),
                                                       Frame<>::from_number(pt.last).value()));
                ok = got.has_value();
                if (ok)
                    got_handle = std::move(got.value());
                else
                    err = got.error();
            }
            if (!ok) {
                judge_failure(e, err);
                return;
            }
            if (pool_of(got_handle) != pt.pool || first4k(got_handle) != pt.first ||
                last4k(got_handle) != pt.last) {
                mismatch("IntoUnmappedFrames returned other frames or pool",
                         frames_text(first4k(got_handle), last4k(got_handle)),
                         frames_text(pt.first, pt.last));
            }
            page_tables_[i] = page_tables_.back();
            page_tables_.pop_back();
            hold(std::move(got_handle));
            return;
        }
        // A range the page tables do not own: must be refused (free frames,
        // mixed pools, or no region). Ranges fully allocated are skipped: a
        // live handle may own them, and adopting them would duplicate it.
        const std::uint64_t first = pick_frame();
        const std::uint64_t last =
            first + src_.below(std::min<std::uint64_t>(m_.end() - first, 64));
        const Expect e = m_.expect_adopt(first, last);
        if (e.ok) {
            return;
        }
        describe("IntoUnmappedFrames(%s) of frames no page table owns",
                 frames_text(first, last).c_str());
        auto got = into_unmapped_(
            FrameRange<>(Frame<>::from_number(first).value(), Frame<>::from_number(last).value()));
        if (got) {
            mismatch("IntoUnmappedFrames adopted frames it must refuse", "success", e.str());
        }
        judge_failure(e, got.error());
    }

    void op_add_region() {
        std::uint64_t first = m_.base() + src_.below(m_.size());
        std::uint64_t last = first + src_.below(std::min<std::uint64_t>(m_.end() - first, 600));
        if (src_.chance(60)) {  // aim at a hole with no region
            for (std::uint64_t k = 0; k < m_.size(); ++k) {
                const std::uint64_t f = m_.base() + (first - m_.base() + k) % m_.size();
                if (m_.owner(f) == Owner::kNone) {
                    first = f;
                    last = f;
                    while (last + 1 < m_.end() && m_.owner(last + 1) == Owner::kNone &&
                           src_.chance(97)) {
                        ++last;
                    }
                    break;
                }
            }
        }
        MemoryRegionType type =
            src_.chance(50) ? MemoryRegionType::kFree : MemoryRegionType::kReserved;
        if (src_.chance(4)) {
            type = MemoryRegionType::kUnknown;
        }
        FrameRange<> range(Frame<>::from_number(first).value(), Frame<>::from_number(last).value());
        if (src_.chance(4)) {
            range = FrameRange<>::empty();
        }
        const PhysicalMemoryRegion region(range, type);
        describe("add_region(%s, %s)",
                 range.is_empty() ? "empty" : frames_text(first, last).c_str(), to_string(type));
        const Expect e = m_.expect_add_region(region);
        Status st = fa_->add_region(region);
        if (!st) {
            judge_failure(e, st.error());
            return;
        }
        judge_success(e, "added");
        m_.add_region(first, last, e.pool);
    }

    void op_take_offline() {
        std::uint64_t first = m_.base() + src_.below(m_.size());
        std::uint64_t last = first + src_.below(std::min<std::uint64_t>(m_.end() - first, 300));
        if (src_.chance(60)) {
            const auto runs = m_.free_runs(src_.chance(70) ? Pool::kGeneral : Pool::kReserved);
            if (!runs.empty()) {
                const Run& r = runs[src_.below(runs.size())];
                first = src_.range(r.first, r.last);
                last = src_.range(first, r.last);
            }
        }
        FrameRange<> range(Frame<>::from_number(first).value(), Frame<>::from_number(last).value());
        if (src_.chance(3)) {
            range = FrameRange<>::empty();
        }
        describe("take_offline(%s)", range.is_empty() ? "empty" : frames_text(first, last).c_str());
        const Expect e = range.is_empty() ? Expect::failure(ErrorKind::kZeroFrames)
                                          : m_.expect_take_offline(first, last);
        Status st = fa_->take_offline(range);
        if (!st) {
            judge_failure(e, st.error());
            return;
        }
        judge_success(e, "offline");
        m_.remove_region(first, last);
    }

    void op_move_to_heap() {
        const auto r = src_.below(100);
        HeapHooks hooks = hosted_heap_hooks();
        Expect e = Expect::success(Pool::kGeneral);
        if (r < 10) {
            hooks = HeapHooks{};
            describe("move_to_heap(null hooks)");
            e = Expect::failure(ErrorKind::kInvalidArgument);
        } else if (!m_.initialized()) {
            describe("move_to_heap before init");
            e = Expect::failure(ErrorKind::kNotInitialized);
        } else if (!heap_ && !heap_episode_) {
            describe("move_to_heap(null hooks), early-mode episode");
            hooks = HeapHooks{};
            e = Expect::failure(ErrorKind::kInvalidArgument);
        } else if (heap_) {
            describe("move_to_heap again");
            e = Expect::failure(ErrorKind::kAlreadyInitialized);
        } else if (r < 25) {
            hooks = failing_hooks();
            describe("move_to_heap(hooks that fail)");
            e = Expect::failure(ErrorKind::kHeapUnavailable);
        } else {
            describe("move_to_heap");
        }
        Status st = fa_->move_to_heap(hooks);
        if (!st) {
            if (e.ok) {
                mismatch("move_to_heap refused", error_text(st.error()), "success");
            }
            judge_failure(e, st.error());
        } else {
            judge_success(e, "moved");
            heap_ = true;
            ++res_.heap_episodes;
        }
        if (fa_->heap_mode() != heap_) {
            mismatch("heap_mode()", fa_->heap_mode() ? "true" : "false", heap_ ? "true" : "false");
        }
    }

    void op_cpu() {
        const auto r = src_.below(10);
        if (r < 6) {
            static constexpr unsigned kSlots[] = {
                0, 1, 2, 3, FRAMEALLOC_MAX_CPUS - 1, FRAMEALLOC_MAX_CPUS, 1000};
            const unsigned cpu = kSlots[src_.below(7)];
            describe("set_current_cpu(%u)", cpu);
            set_current_cpu(cpu);
        } else if (r < 9) {
            const unsigned cpu = static_cast<unsigned>(src_.below(5));
            describe("drain_cpu_cache(%u)", cpu);
            fa_->drain_cpu_cache(cpu);
        } else {
            describe("drain_cpu_caches()");
            fa_->drain_cpu_caches();
        }
    }

    void op_inspect() {
        describe("inspect_then_allocate_free_frames");
        const auto expected = m_.initialized() ? m_.free_runs(Pool::kGeneral) : std::vector<Run>{};
        // Decide before the call (the callback must not touch the source's
        // state in a way that depends on framealloc's answers).
        const std::uint64_t stop_at = expected.empty() ? 0 : src_.below(expected.size() + 2);
        const auto action = src_.below(100);  // <15 Stop, <25 bad AllocateAt, else AllocateAt
        const std::uint64_t pick_a = src_.below(1ULL << 32);
        const std::uint64_t pick_b = src_.below(1ULL << 32);
        std::size_t seen = 0;
        bool order_ok = true;
        std::string bad_chunk;
        Frame<> req_frame;
        std::uint64_t req_count = 0;
        bool allocate_requested = false;
        auto got = fa_->inspect_then_allocate_free_frames([&](FrameRange<> chunk) {
            if (seen >= expected.size() || chunk.start().number() != expected[seen].first ||
                chunk.end().number() != expected[seen].last) {
                if (order_ok) {
                    bad_chunk = chunk.is_empty()
                                    ? "empty"
                                    : frames_text(chunk.start().number(), chunk.end().number());
                }
                order_ok = false;
            }
            ++seen;
            if (seen - 1 < stop_at) {
                return FramesIteratorRequest::Next();
            }
            if (action < 15) {
                return FramesIteratorRequest::Stop();
            }
            const std::uint64_t s = chunk.start().number();
            const std::uint64_t size = chunk.size_in_frames();
            allocate_requested = true;
            if (action < 25) {  // zero frames, or running past the chunk
                req_frame = chunk.start();
                req_count = pick_a % 2 == 0 ? 0 : size + 1 + pick_b % 3;
            } else {
                const std::uint64_t off = pick_a % size;
                req_frame = Frame<>::from_number(s + off).value();
                req_count = 1 + pick_b % (size - off);
            }
            return FramesIteratorRequest::AllocateAt(req_frame, req_count);
        });
        if (!order_ok) {
            mismatch("inspect showed a chunk the model does not have", bad_chunk,
                     seen - 1 < expected.size()
                         ? frames_text(expected[seen - 1].first, expected[seen - 1].last)
                         : "no more chunks");
        }
        if (!m_.initialized()) {
            if (got || got.kind() != ErrorKind::kNotInitialized) {
                mismatch("inspect before init", got ? "success" : error_text(got.error()),
                         "kNotInitialized");
            }
            return;
        }
        if (!allocate_requested &&
            seen != std::min<std::uint64_t>(expected.size(),
                                            action < 15 ? stop_at + 1 : expected.size())) {
            if (!(action >= 15 && seen == expected.size())) {
                mismatch("inspect visited the wrong number of chunks", std::to_string(seen),
                         std::to_string(expected.size()));
            }
        }
        if (!allocate_requested) {
            if (!got || got.value().has_value()) {
                mismatch("inspect without AllocateAt", got ? "frames" : error_text(got.error()),
                         "no frames");
            }
            return;
        }
        Expect e = Expect::success(Pool::kGeneral);
        const std::uint64_t f = req_frame.number();
        if (req_count == 0) {
            e = Expect::failure(ErrorKind::kZeroFrames);
        } else if (f + req_count - 1 > expected[seen - 1].last) {
            e = Expect::failure(ErrorKind::kOutOfRange);
        }
        if (!got) {
            judge_failure(e, got.error());
            return;
        }
        if (!got.value().has_value()) {
            mismatch("AllocateAt gave no frames", "none", e.str());
        }
        AllocatedFrames<>& h = got.value().value();
        judge_success(e, handle_text(h));
        if (first4k(h) != f || last4k(h) != f + req_count - 1 || h.pool() != Pool::kGeneral) {
            mismatch("AllocateAt returned other frames", handle_text(h),
                     frames_text(f, f + req_count - 1));
        }
        m_.take(f, f + req_count - 1, false);
        hold(Handle(std::move(h)));
    }

    void op_actions() {
        if (actions_.empty()) {
            return;
        }
        const std::size_t i = src_.below(actions_.size());
        describe("run DeferredAllocAction (%zu pending)", actions_.size());
        if (src_.chance(50)) {
            actions_[i].run();
            if (actions_[i].pending()) {
                mismatch("DeferredAllocAction still pending after run()", "pending", "done");
            }
        }
        actions_[i] = std::move(actions_.back());
        actions_.pop_back();
    }

    void op_init_again() {
        describe("init again");
        PhysicalMemoryRegion r(FrameRange<>(Frame<>::from_number(m_.base()).value(),
                                            Frame<>::from_number(m_.base()).value()),
                               MemoryRegionType::kFree);
        auto got =
            fa_->init(Span<const PhysicalMemoryRegion>(&r, 1), Span<const PhysicalMemoryRegion>());
        if (got || got.kind() != ErrorKind::kAlreadyInitialized) {
            mismatch("second init", got ? "success" : error_text(got.error()),
                     "kAlreadyInitialized");
        }
    }

    void step() {
        if (!m_.initialized() && src_.chance(60)) {
            op_init();
            return;
        }
        const bool crowded = held_.size() > 1500;
        const std::uint64_t r = src_.below(crowded ? 200 : 135);
        if (r >= 135 || r < 20) {
            op_drop();
        } else if (r < 32) {
            op_allocate_frames();
        } else if (r < 42) {
            op_allocate_at();
        } else if (r < 46) {
            op_by_bytes();
        } else if (r < 50) {
            op_by_bytes_at(src_.chance(40));
        } else if (r < 54) {
            op_deferred();
        } else if (r < 56) {
            op_by_bytes_deferred_anywhere();
        } else if (r < 70) {
            op_request();
        } else if (r < 75) {
            op_huge();
        } else if (r < 83) {
            op_split_at();
        } else if (r < 89) {
            op_split_range();
        } else if (r < 97) {
            op_merge();
        } else if (r < 106) {
            op_transition();
        } else if (r < 110) {
            op_adopt();
        } else if (r < 113) {
            op_add_region();
        } else if (r < 116) {
            op_take_offline();
        } else if (r < 118) {
            op_move_to_heap();
        } else if (r < 124) {
            op_cpu();
        } else if (r < 128) {
            op_inspect();
        } else if (r < 133) {
            op_actions();
        } else if (m_.initialized()) {
            op_init_again();
        } else {
            op_inspect();
        }
    }

    void teardown() {
        describe("teardown");
        actions_.clear();
        while (!held_.empty()) {
            drop(take_held(src_.below(held_.size())));
        }
        for (const PageTableEntry& pt : page_tables_) {
            describe("teardown: adopt %s", frames_text(pt.first, pt.last).c_str());
            for (int attempt = 0;; ++attempt) {
                Error err{};
                bool ok = false;
                if (pt.huge) {
                    auto got = into_unmapped_(
                        FrameRange<Page2M>(Frame<Page2M>::from_number(pt.first / 512).value(),
                                           Frame<Page2M>::from_number(pt.last / 512).value()));
                    ok = got.has_value();
                    if (!ok)
                        err = got.error();
                } else {
                    auto got = into_unmapped_(FrameRange<>(Frame<>::from_number(pt.first).value(),
                                                           Frame<>::from_number(pt.last).value()));
                    ok = got.has_value();
                    if (!ok)
                        err = got.error();
                }
                if (ok) {
                    break;
                }
                // Frames handed to page tables gave up their bookkeeping node;
                // in early mode at full capacity they come back only once the
                // allocator can grow, so move it to the heap and retry.
                if (attempt == 0 && !heap_ && err.kind == ErrorKind::kCapacityExhausted) {
                    ++res_.capacity_refusals;
                    if (Status st = fa_->move_to_heap(hosted_heap_hooks()); !st) {
                        mismatch("teardown: move_to_heap", error_text(st.error()), "success");
                    }
                    heap_ = true;
                    continue;
                }
                mismatch("teardown: page-table frames not adoptable", error_text(err), "success");
            }
            m_.give_back(pt.first, pt.last);
        }
        page_tables_.clear();
        describe("teardown: every frame back");
        full_check();
        fa_->drain_cpu_caches();
        full_check();
        const FrameStats s = fa_->stats();
        expect_eq(s.general.free_frames, s.general.total_frames,
                  "teardown: general frames all free");
        expect_eq(s.reserved.free_frames, s.reserved.total_frames,
                  "teardown: reserved frames all free");
        expect_eq(m_.free(Pool::kGeneral), m_.total(Pool::kGeneral),
                  "teardown: model general all free");
        expect_eq(s.nodes_reserved, 0, "teardown: no node reserved");
        set_current_cpu(0);
    }

    std::unique_ptr<std::byte[]> metadata_;  // declared before fa_: outlives it
    Source& src_;
    const DiffOptions& opt_;
    DiffResult& res_;
    std::unique_ptr<Alloc> fa_;
    RefModel m_;
    std::uint64_t base_ = 0;
    std::vector<Handle> held_;
    std::vector<PageTableEntry> page_tables_;
    std::vector<DeferredAllocAction> actions_;
    IntoUnmappedFrames into_unmapped_;
    bool heap_ = false;
    bool heap_episode_ = false;  // whether this episode may move to the heap
    bool clean_ = false;
    std::uint64_t model_checks_ = 0;
    char desc_[320] = "start";
};

}  // namespace

DiffResult run_differential(Source& source, const DiffOptions& options) {
    DiffResult res;
    const PanicHandler previous = set_panic_handler(record_panic);
    g_panics.store(0);
    try {
        while (!source.exhausted() && (options.max_ops == 0 || res.ops < options.max_ops)) {
            const std::uint64_t length = source.range(20, 4000);
            ++res.episodes;
            if (source.below(100) < options.small_capacity_percent) {
                Episode<12> episode(source, options, res);
                episode.run(length);
            } else {
                Episode<FRAMEALLOC_EARLY_CAPACITY> episode(source, options, res);
                episode.run(length);
            }
        }
    } catch (const Mismatch& m) {
        res.ok = false;
        res.failure = m.what();
    }
    set_panic_handler(previous);
    return res;
}

}  // namespace framealloc::reliability
