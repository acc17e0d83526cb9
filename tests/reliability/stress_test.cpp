// Multi-threaded stress: several threads allocate, split, merge, hand over
// and free frames for a bounded time against one heap-mode allocator with
// per-CPU caches on. A shared atomic shadow bitmap proves exclusive
// ownership: each allocated frame's bit is test-and-set (it must have been
// clear) and cleared again before the frame is freed, so a frame handed to
// two owners at once is caught at the moment it happens. At the end every
// frame must be back and check() must pass. A second test proves there is no
// spurious failure: with combined demand for single frames below the free
// total, no allocation may fail, however the per-CPU caches are filled.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "framealloc/framealloc.hpp"
#include "framealloc/hosted.hpp"

namespace framealloc {
namespace {

constexpr std::uint64_t kBase = 0x1000;     // first general frame (16 MiB)
constexpr std::uint64_t kFrames = 1 << 16;  // 256 MiB of general memory
constexpr std::uint64_t kResBase = kBase + kFrames + 512;
constexpr std::uint64_t kResFrames = 2048;

using Alloc = FrameAllocator;

FrameRange<> frames(std::uint64_t first, std::uint64_t count) {
    return FrameRange<>::from_count(Frame<>::from_number(first).value(), count).value();
}

class Shadow {
  public:
    Shadow() : bits_(kResBase + kResFrames) {}
    void claim(std::uint64_t first, std::uint64_t last) {
        for (std::uint64_t f = first; f <= last; ++f) {
            if (f >= bits_.size() || bits_[f].exchange(1, std::memory_order_acq_rel) != 0) {
                fail("frame " + std::to_string(f) + " handed out while another owner holds it");
            }
        }
    }
    void release(std::uint64_t first, std::uint64_t last) {
        for (std::uint64_t f = first; f <= last; ++f) {
            if (bits_[f].exchange(0, std::memory_order_acq_rel) != 1) {
                fail("frame " + std::to_string(f) + " freed but not owned");
            }
        }
    }
    void fail(const std::string& why) {
        std::lock_guard<std::mutex> g(mu_);
        if (first_failure_.empty()) {
            first_failure_ = why;
        }
        failures_.fetch_add(1);
    }
    [[nodiscard]] std::uint64_t failures() const { return failures_.load(); }
    [[nodiscard]] std::string first_failure() {
        std::lock_guard<std::mutex> g(mu_);
        return first_failure_;
    }

  private:
    std::vector<std::atomic<std::uint8_t>> bits_;
    std::atomic<std::uint64_t> failures_{0};
    std::mutex mu_;
    std::string first_failure_;
};

// How a stress run sets its allocator up.
struct Mode {
    bool heap = true;  // heap mode (per-CPU caches) or early mode (tree locks only)
    // Only the first half of the general memory at init; the main thread adds
    // the second half in pieces while the workers run (memory hot-plug).
    bool hotplug = false;
};
constexpr std::uint64_t kPieces = 4;

std::unique_ptr<Alloc> make_heap_allocator(Mode mode = {}) {
    auto a = std::make_unique<Alloc>();
    const std::uint64_t at_init = mode.hotplug ? kFrames / 2 : kFrames;
    const PhysicalMemoryRegion free_regions[] = {{frames(kBase, at_init), MemoryRegionType::kFree}};
    const PhysicalMemoryRegion reserved[] = {
        {frames(kResBase, kResFrames), MemoryRegionType::kReserved}};
    EXPECT_TRUE(a->init(free_regions, reserved,
                        hosted_metadata(Alloc::metadata_bytes(free_regions, reserved)))
                    .has_value());
    if (mode.heap) {
        EXPECT_TRUE(a->move_to_heap(hosted_heap_hooks()).ok());
    }
    return a;
}

// A handle plus the frames it covers, for the shadow.
struct Owned {
    AllocatedFrames<> h;
    [[nodiscard]] std::uint64_t first() const { return h.start().number(); }
    [[nodiscard]] std::uint64_t last() const { return h.end().number(); }
};

struct Mailbox {
    std::mutex mu;
    std::vector<AllocatedFrames<>> items;
};

// `at_frames`: how much of the general memory allocate-at requests aim at
// (at an address outside every region, allocate-at makes a reserved region,
// which must not take the place of memory a hot-plug test adds later).
void worker(Alloc& a, Shadow& shadow, Mailbox& mailbox, unsigned cpu, unsigned seed,
            std::chrono::steady_clock::time_point until, std::atomic<std::uint64_t>& ops,
            std::uint64_t at_frames) {
    set_current_cpu(cpu);
    std::mt19937_64 rng(seed);
    std::vector<Owned> held;
    const auto give = [&](Result<AllocatedFrames<>> r) {
        if (r) {
            shadow.claim(r->start().number(), r->end().number());
            held.push_back(Owned{std::move(r.value())});
        }
    };
    const auto drop = [&](std::size_t i) {
        shadow.release(held[i].first(), held[i].last());
        Owned gone = std::move(held[i]);
        held[i] = std::move(held.back());
        held.pop_back();
    };
    std::uint64_t n = 0;
    while (std::chrono::steady_clock::now() < until && shadow.failures() == 0) {
        const unsigned r = static_cast<unsigned>(rng() % 100);
        if (held.size() > 400 || (r < 30 && !held.empty())) {
            drop(rng() % held.size());
        } else if (r < 50) {
            give(a.allocate_frames(1));  // the per-CPU fast path
        } else if (r < 58) {
            give(a.allocate_frames(1 + rng() % 64));
        } else if (r < 62) {
            auto huge = a.allocate_huge<Page2M>();
            if (huge) {
                // Keep it as 4K frames so splits and merges apply to it too.
                auto small = huge->into_page_size<Page4K>();
                give(std::move(small));
            }
        } else if (r < 66) {
            give(a.allocate(AllocRequest::frames(1 + rng() % 8).aligned(1ULL << (rng() % 6))));
        } else if (r < 70) {
            const std::uint64_t f = kBase + rng() % at_frames;
            give(a.allocate_frames_at(Frame<>::from_number(f).value().start_address(),
                                      1 + rng() % 4));
        } else if (r < 72) {
            const std::uint64_t f = kResBase + rng() % kResFrames;
            give(a.allocate_frames_at(Frame<>::from_number(f).value().start_address(), 1));
        } else if (r < 80 && !held.empty()) {  // split
            Owned& o = held[rng() % held.size()];
            if (o.last() > o.first()) {
                const std::uint64_t at = o.first() + 1 + rng() % (o.last() - o.first());
                auto parts = o.h.split_at(Frame<>::from_number(at).value());
                if (parts) {
                    o.h = std::move(parts->first);
                    held.push_back(Owned{std::move(parts->second)});
                } else if (o.h.is_empty()) {
                    shadow.fail("a failed split emptied the handle");
                }
            }
        } else if (r < 86 && held.size() >= 2) {  // merge with an adjacent own handle
            const std::size_t i = rng() % held.size();
            for (std::size_t j = 0; j < held.size(); ++j) {
                if (j != i && (held[j].last() + 1 == held[i].first() ||
                               held[i].last() + 1 == held[j].first())) {
                    const std::uint64_t lo = std::min(held[i].first(), held[j].first());
                    const std::uint64_t hi = std::max(held[i].last(), held[j].last());
                    const bool same_pool = held[i].h.pool() == held[j].h.pool();
                    Status st = held[i].h.merge(held[j].h);
                    if (st.ok() != same_pool ||
                        (st.ok() && (held[i].first() != lo || held[i].last() != hi))) {
                        shadow.fail("merge of adjacent handles misbehaved");
                    }
                    if (st.ok()) {
                        held[j] = std::move(held.back());
                        held.pop_back();
                    }
                    break;
                }
            }
        } else if (r < 92 && !held.empty()) {  // hand a handle to another thread
            const std::size_t i = rng() % held.size();
            std::lock_guard<std::mutex> g(mailbox.mu);
            mailbox.items.push_back(std::move(held[i].h));
            held[i] = std::move(held.back());
            held.pop_back();
        } else if (r < 97) {  // free what another thread handed over
            AllocatedFrames<> taken;
            {
                std::lock_guard<std::mutex> g(mailbox.mu);
                if (!mailbox.items.empty()) {
                    taken = std::move(mailbox.items.back());
                    mailbox.items.pop_back();
                }
            }
            if (!taken.is_empty()) {
                shadow.release(taken.start().number(), taken.end().number());
            }
        } else if (r < 99) {
            a.drain_cpu_cache(cpu);
        } else {
            if (Status st = a.check(); !st) {
                shadow.fail(std::string("check() during the run: ") + st.error().message);
            }
        }
        ++n;
    }
    while (!held.empty()) {
        drop(held.size() - 1);
    }
    ops.fetch_add(n);
}

void run_stress(const std::vector<unsigned>& cpus, double seconds, Mode mode = {}) {
    auto a = make_heap_allocator(mode);
    Shadow shadow;
    Mailbox mailbox;
    std::atomic<std::uint64_t> ops{0};
    const auto until = std::chrono::steady_clock::now() +
                       std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                           std::chrono::duration<double>(seconds));
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < cpus.size(); ++t) {
        threads.emplace_back(worker, std::ref(*a), std::ref(shadow), std::ref(mailbox), cpus[t],
                             static_cast<unsigned>(1234 + t), until, std::ref(ops),
                             mode.hotplug ? kFrames / 2 : kFrames);
    }
    if (mode.hotplug) {
        // Each piece brings its own metadata, as a hot-plug driver would.
        const std::uint64_t piece = kFrames / 2 / kPieces;
        for (std::uint64_t p = 0; p < kPieces; ++p) {
            std::this_thread::sleep_for(std::chrono::duration<double>(seconds / (kPieces + 2)));
            const PhysicalMemoryRegion region(frames(kBase + kFrames / 2 + p * piece, piece),
                                              MemoryRegionType::kFree);
            const Status st =
                a->add_region(region, hosted_metadata(Alloc::metadata_bytes(Span(&region, 1), {})));
            EXPECT_TRUE(st.ok()) << st.error().message;
        }
    }
    for (auto& t : threads) {
        t.join();
    }
    for (auto& h : mailbox.items) {
        shadow.release(h.start().number(), h.end().number());
    }
    mailbox.items.clear();
    ASSERT_EQ(shadow.failures(), 0U) << shadow.first_failure();
    ASSERT_TRUE(a->check().ok()) << a->check().error().message;
    a->drain_cpu_caches();
    const FrameStats st = a->stats();
    EXPECT_EQ(st.general.total_frames, kFrames);
    EXPECT_EQ(st.general.free_frames, kFrames) << "frames lost";
    EXPECT_EQ(st.reserved.free_frames, kResFrames) << "reserved frames lost";
    EXPECT_EQ(st.general.free_chunks, 1U) << "free memory not fully merged";
    EXPECT_EQ(st.nodes_reserved, 0U);
    EXPECT_TRUE(a->check().ok());
    EXPECT_GT(ops.load(), 1000U);
    ::testing::Test::RecordProperty("operations", std::to_string(ops.load()));
}

TEST(Stress, FourThreadsOnDistinctCpuSlotsNeverShareAFrame) {
    run_stress({0, 1, 2, 3}, 2.5);
}

TEST(Stress, EarlyModeThreadsNeverShareAFrame) {
    // No heap, so no per-CPU caches: every operation meets the bitmap's
    // tree locks (or the pool lock) directly.
    run_stress({0, 1, 2, 3}, 2.0, Mode{.heap = false});
}

TEST(Stress, RegionsAddedWhileThreadsAllocateAreUsedAndLoseNothing) {
    // Spans appended to the bitmap's table while other threads read it
    // without a lock; at the end all of both halves must be free and whole.
    run_stress({0, 1, 2}, 2.0, Mode{.heap = true, .hotplug = true});
}

TEST(Stress, ThreadsSharingACpuSlotNeverShareAFrame) {
    // Two threads on slot 0 (their caches collide on the cache lock), one on
    // slot 1, one above FRAMEALLOC_MAX_CPUS (no cache at all).
    run_stress({0, 0, 1, FRAMEALLOC_MAX_CPUS + 5}, 2.0);
}

TEST(Stress, NoSpuriousFailureWhenDemandIsBelowTheFreeTotal) {
    auto a = make_heap_allocator();
    constexpr unsigned kThreads = 4;
    // Nearly everything: frames parked in other CPUs' caches must be found.
    constexpr std::uint64_t kEach = (kFrames - 64) / kThreads;
    std::atomic<std::uint64_t> failures{0};
    std::atomic<std::uint64_t> rounds{0};
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2000);
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            set_current_cpu(t % 3);  // two threads share slot 0
            std::vector<AllocatedFrames<>> mine;
            mine.reserve(kEach);
            std::mt19937 rng(t);
            while (std::chrono::steady_clock::now() < until) {
                for (std::uint64_t i = 0; i < kEach; ++i) {
                    auto r = a->allocate_frames(1);
                    if (!r) {
                        failures.fetch_add(1);
                        continue;
                    }
                    mine.push_back(std::move(r.value()));
                }
                // Free in random order, so caches fill with scattered frames.
                for (std::size_t i = mine.size(); i > 1; --i) {
                    std::swap(mine[i - 1], mine[rng() % i]);
                }
                mine.clear();
                rounds.fetch_add(1);
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(failures.load(), 0U)
        << "single-frame allocations failed although enough frames were free";
    EXPECT_GT(rounds.load(), 0U);
    a->drain_cpu_caches();
    EXPECT_EQ(a->stats().general.free_frames, kFrames);
    EXPECT_TRUE(a->check().ok());
}

}  // namespace
}  // namespace framealloc
