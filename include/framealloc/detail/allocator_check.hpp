// The allocator's debugging surface, apart from its working code: the
// snapshot every observer takes (all cache locks, then the pool's lock), the
// statistics, the invariant checker (engine invariants plus the per-CPU
// caches) and the human-readable state dump.
#pragma once

#include "framealloc/allocator.hpp"

namespace framealloc {

template <BasicLockable Lock, std::size_t EarlyCapacity, bool kEternal>
template <typename F>
auto BasicFrameAllocator<Lock, EarlyCapacity, kEternal>::with_all_locked(F&& f) const
    FRAMEALLOC_NO_TSA {
    for (;;) {
        const bool caches = heap_mode();
        if (caches) {
            lock_all_caches();
        }
        lock_.lock();
        // move_to_heap() may have turned the caches on since we looked.
        if (!caches && heap_mode_.load(std::memory_order_relaxed)) {
            lock_.unlock();
            continue;
        }
        auto result = [&] {
            const typename Engine::template TreesGuard<Lock> trees(engine_);
            return f(caches);
        }();
        lock_.unlock();
        if (caches) {
            unlock_all_caches();
        }
        return result;
    }
}

template <BasicLockable Lock, std::size_t EarlyCapacity, bool kEternal>
FrameStats BasicFrameAllocator<Lock, EarlyCapacity, kEternal>::stats_locked(bool caches) const
    FRAMEALLOC_REQUIRES(lock_) {
    FrameStats st;
    const auto g = engine_.stats(Pool::kGeneral);
    const auto r = engine_.stats(Pool::kReserved);
    st.general = PoolStats{g.total, g.free, 0, g.chunks, g.largest, {}};
    st.reserved = PoolStats{r.total, r.free, r.total - r.free, r.chunks, r.largest, {}};
    // The size-class histogram: one pass over each pool's free runs.
    for (const Pool p : {Pool::kGeneral, Pool::kReserved}) {
        PoolStats& ps = p == Pool::kGeneral ? st.general : st.reserved;
        engine_.for_each_free_run(p, [&](std::uint64_t first, std::uint64_t last) {
            ps.count_free_chunk(last - first + 1);
            return true;
        });
    }
    st.nodes_capacity = engine_.nodes().capacity();
    st.nodes_used = engine_.nodes().used();
    st.nodes_reserved = engine_.nodes().reserved();
    st.metadata_bytes = engine_.bitmap().metadata_bytes();
    st.heap_mode = caches;
    for (unsigned cpu = 0; caches && cpu < kMaxCpus; ++cpu) {
        st.cached_frames += heap_.caches[cpu].cached_frames();
    }
    st.general.free_frames += st.cached_frames;
    st.general.allocated_frames = st.general.total_frames - st.general.free_frames;
    return st;
}

template <BasicLockable Lock, std::size_t EarlyCapacity, bool kEternal>
Status BasicFrameAllocator<Lock, EarlyCapacity, kEternal>::check() const FRAMEALLOC_NO_TSA {
    return with_all_locked([&](const bool caches) FRAMEALLOC_NO_TSA {
        Status result = engine_.check();
        std::uint64_t cached_entries = 0;
        const auto bad = [&](const char* why) {
            if (result) {
                result = make_error(ErrorKind::kInvariantViolation, why);
            }
        };
        // Visits every cached run as [first, last].
        const auto for_each_cached = [&](auto&& f) {
            for (unsigned cpu = 0; caches && cpu < kMaxCpus; ++cpu) {
                const Cache& c = heap_.caches[cpu];
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
            if (engine_.any_free(Pool::kGeneral, s, e)) {
                bad("check: a cached frame is also free in the shared pool");
            }
            std::uint64_t hits = 0;
            for_each_cached(
                [&](std::uint64_t s2, std::uint64_t e2) { hits += (s2 <= e && s <= e2) ? 1 : 0; });
            if (hits != 1) {
                bad("check: a frame is cached twice");
            }
        });
        (void)cached_entries;  // cached general frames hold no bookkeeping node
        return result;
    });
}

template <BasicLockable Lock, std::size_t EarlyCapacity, bool kEternal>
template <typename Sink>
void BasicFrameAllocator<Lock, EarlyCapacity, kEternal>::dump(Sink&& out) const {
    // One snapshot for every line: the counts and the chunk lists agree.
    (void)with_all_locked([&](const bool caches) FRAMEALLOC_NO_TSA {
        const FrameStats st = stats_locked(caches);
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
            engine_.regions(p).for_each([&](const detail::Node& n) {
                emit({"  region ", to_hex(n.start << Page4K::kShift).text, "-",
                      to_hex(((n.end + 1) << Page4K::kShift) - 1).text, " (", to_dec(n.size()).text,
                      " frames)"});
                return true;
            });
            engine_.for_each_free_run(p, [&](std::uint64_t s, std::uint64_t e) {
                emit({"  free   ", to_hex(s << Page4K::kShift).text, "-",
                      to_hex(((e + 1) << Page4K::kShift) - 1).text, " (", to_dec(e - s + 1).text,
                      " frames)"});
                return true;
            });
        }
        emit({"per-CPU caches: ", to_dec(st.cached_frames).text, " frames; fragmentation ",
              to_dec(st.fragmentation_permille()).text, "/1000"});
        return 0;
    });
}

}  // namespace framealloc
