// The allocator's debugging surface, apart from its working code: the
// invariant checker (engine invariants plus the per-CPU caches) and the
// human-readable state dump.
#pragma once

#include "framealloc/allocator.hpp"

namespace framealloc {

template <BasicLockable Lock, std::size_t EarlyCapacity, bool kEternal>
Status BasicFrameAllocator<Lock, EarlyCapacity, kEternal>::check() const FRAMEALLOC_NO_TSA {
    const bool caches = heap_mode();
    if (caches) {
        lock_all_caches();
    }
    Status result;
    {
        LockGuard<Lock> guard(lock_);
        result = engine_.check();
        std::uint64_t cached_entries = 0;
        const auto bad = [&](const char* why) {
            if (result) {
                result = make_error(ErrorKind::kInvariantViolation, why);
            }
        };
        // Visits every cached run as [first, last].
        const auto for_each_cached = [&](auto&& f) {
            for (unsigned cpu = 0; caches && cpu < kMaxCpus; ++cpu) {
                const detail::CpuCache& c = heap_.caches[cpu];
                for (std::uint32_t i = 0; i < c.small_count.load(std::memory_order_relaxed); ++i) {
                    f(c.small[i], c.small[i]);
                }
                for (std::uint32_t i = 0; i < c.huge_count.load(std::memory_order_relaxed); ++i) {
                    f(c.huge[i], c.huge[i] + kHuge - 1);
                }
            }
        };
        for_each_cached([&](std::uint64_t s, std::uint64_t e) FRAMEALLOC_NO_TSA {
            ++cached_entries;
            if (!engine_.regions(Pool::kGeneral).covers(s, e)) {
                bad("check: a cached frame is outside the general regions");
            }
            if (engine_.chunks(Pool::kGeneral).overlaps(s, e)) {
                bad("check: a cached frame is also free in the shared pool");
            }
            std::uint64_t hits = 0;
            for_each_cached(
                [&](std::uint64_t s2, std::uint64_t e2) { hits += (s2 <= e && s <= e2) ? 1 : 0; });
            if (hits != 1) {
                bad("check: a frame is cached twice");
            }
        });
        if (cached_entries > engine_.nodes().reserved()) {
            bad("check: cached frames hold more nodes than are reserved");
        }
    }
    if (caches) {
        unlock_all_caches();
    }
    return result;
}

template <BasicLockable Lock, std::size_t EarlyCapacity, bool kEternal>
template <typename Sink>
void BasicFrameAllocator<Lock, EarlyCapacity, kEternal>::dump(Sink&& out) const {
    const FrameStats st = stats();
    char line[160];
    // Appends NUL-terminated pieces into `line` and emits it.
    const auto emit = [&](std::initializer_list<const char*> parts) {
        std::size_t n = 0;
        for (const char* p : parts) {
            while (*p != '\0' && n + 1 < sizeof(line)) {
                line[n++] = *p++;
            }
        }
        line[n] = '\0';
        out(static_cast<const char*>(line));
    };
    using detail::to_dec;
    using detail::to_hex;
    emit({"framealloc: ", st.heap_mode ? "heap" : "early", " mode, nodes used ",
          to_dec(st.nodes_used).text, " reserved ", to_dec(st.nodes_reserved).text, " of ",
          to_dec(st.nodes_capacity).text});
    for (const Pool p : {Pool::kGeneral, Pool::kReserved}) {
        const PoolStats& ps = p == Pool::kGeneral ? st.general : st.reserved;
        const char* name = p == Pool::kGeneral ? "general" : "reserved";
        emit({"pool ", name, ": total ", to_dec(ps.total_frames).text, " free ",
              to_dec(ps.free_frames).text, " allocated ", to_dec(ps.allocated_frames).text,
              " chunks ", to_dec(ps.free_chunks).text, " largest ",
              to_dec(ps.largest_free_chunk).text});
        // Free chunks by order (4 KiB << k), "k:count" for each non-empty
        // order, continued on further lines when long.
        char hist[sizeof(line)];
        std::size_t hn = 0;
        const auto put = [&](const char* s) {
            while (*s != '\0' && hn + 1 < sizeof(hist)) {
                hist[hn++] = *s++;
            }
        };
        const auto flush = [&] {
            hist[hn] = '\0';
            emit({static_cast<const char*>(hist)});
            hn = 0;
        };
        put("  free chunks by order (4 KiB << k):");
        bool any = false;
        for (std::size_t k = 0; k < kFreeChunkOrders; ++k) {
            if (ps.free_chunks_by_order[k] != 0) {
                if (hn > sizeof(hist) - 40) {
                    flush();
                    put("   ");
                }
                put(" ");
                put(to_dec(k).text);
                put(":");
                put(to_dec(ps.free_chunks_by_order[k]).text);
                any = true;
            }
        }
        if (!any) {
            put(" none");
        }
        flush();
        LockGuard<Lock> guard(lock_);
        engine_.regions(p).for_each([&](const detail::Node& n) {
            emit({"  region ", to_hex(n.start << Page4K::kShift).text, "-",
                  to_hex(((n.end + 1) << Page4K::kShift) - 1).text, " (", to_dec(n.size()).text,
                  " frames)"});
            return true;
        });
        engine_.chunks(p).for_each([&](const detail::Node& n) {
            emit({"  free   ", to_hex(n.start << Page4K::kShift).text, "-",
                  to_hex(((n.end + 1) << Page4K::kShift) - 1).text, " (", to_dec(n.size()).text,
                  " frames)"});
            return true;
        });
    }
    emit({"per-CPU caches: ", to_dec(st.cached_frames).text, " frames; fragmentation ",
          to_dec(st.fragmentation_permille()).text, "/1000"});
}

}  // namespace framealloc
