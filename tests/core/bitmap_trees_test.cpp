// The bitmap's trees: the fast path that works inside one 128 MiB tree under
// that tree's lock, the per-CPU cursors, frees that lock the trees a run
// covers, the checker's view of the trees' lines, and spans appended after
// init (the table is append-only, so they arrive out of address order).
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "framealloc/detail/frame_bitmap.hpp"
#include "framealloc/lock.hpp"

namespace framealloc::detail {
namespace {

using Spans = std::vector<std::pair<std::uint64_t, std::uint64_t>>;

// A bitmap over `spans` (added in the order given) whose trees carry SpinLocks.
struct Trees {
    std::vector<std::byte> memory;
    FrameBitmap bitmap;

    explicit Trees(const Spans& spans) {
        const TreeLockShape shape = TreeLockShape::of<SpinLock>();
        std::size_t bytes = FrameBitmap::table_bytes(spans.size());
        for (const auto& [s, e] : spans) {
            bytes += FrameBitmap::span_bytes(s, e, shape.stride());
        }
        memory.resize(bytes);
        EXPECT_TRUE(bitmap.attach(memory.data(), memory.size(), spans.size(), shape));
        for (const auto& [s, e] : spans) {
            EXPECT_TRUE(bitmap.add_span(s, e));
        }
    }
    std::uint64_t fast(BitmapCursor& cursor, std::uint64_t count, unsigned cpu) {
        Constraint c;
        c.count = count;
        return bitmap.allocate_fast<SpinLock>(cursor, c, cpu);
    }
};

constexpr std::uint64_t kThreeTrees = 3 * kTreeFrames;

TEST(BitmapTrees, ATreeLineIsOneLockedCacheLine) {
    const TreeLockShape shape = TreeLockShape::of<SpinLock>();
    EXPECT_EQ(shape.stride(), 64U);
    EXPECT_GE(shape.lock_offset(), sizeof(BitmapTree));
    // Bigger locks take whole lines, so two trees never share one.
    struct Big {
        char bytes[100];
    };
    EXPECT_EQ(TreeLockShape::of<Big>().stride() % 64, 0U);
    EXPECT_GE(TreeLockShape::of<Big>().stride(), sizeof(BitmapTree) + 100);
}

TEST(BitmapTrees, TheFastPathStaysInOneTreeAndTheFullSearchFindsRunsAcrossTrees) {
    Trees t({{0, kThreeTrees - 1}});
    // Free: the last 8 frames of tree 0 and the first 8 of tree 1 only.
    t.bitmap.take(0, kTreeFrames - 9);
    t.bitmap.take(kTreeFrames + 8, kThreeTrees - 1);
    ASSERT_EQ(t.bitmap.check(), nullptr);
    BitmapCursor cursor;
    EXPECT_EQ(t.fast(cursor, 16, 0), kNoUnit) << "no single tree holds 16 free frames";
    Constraint c;
    c.count = 16;
    EXPECT_EQ(t.bitmap.allocate(c), kTreeFrames - 8);
    EXPECT_EQ(t.bitmap.free(), 0U);
    EXPECT_EQ(t.bitmap.check(), nullptr);
}

TEST(BitmapTrees, CpusStartInDifferentTreesAndKeepToTheirOwn) {
    Trees t({{0, kThreeTrees - 1}});
    BitmapCursor zero;
    BitmapCursor one;
    const std::uint64_t a = t.fast(zero, 1, 0);
    const std::uint64_t b = t.fast(one, 1, 1);
    ASSERT_NE(a, kNoUnit);
    ASSERT_NE(b, kNoUnit);
    EXPECT_EQ(a / kTreeFrames, 0U) << "CPU 0 starts in the lowest tree";
    EXPECT_NE(b / kTreeFrames, 0U) << "CPU 1 must not start in CPU 0's tree";
    for (int i = 0; i < 100; ++i) {
        EXPECT_EQ(t.fast(one, 1 + i % 40, 1) / kTreeFrames, b / kTreeFrames);
    }
    EXPECT_EQ(t.bitmap.check(), nullptr);
}

TEST(BitmapTrees, ACursorMovesOnWhenItsTreeCannotServe) {
    Trees t({{0, kThreeTrees - 1}});
    t.bitmap.take(0, kTreeFrames - 2);  // tree 0 keeps one free frame
    BitmapCursor cursor;
    EXPECT_EQ(t.fast(cursor, 1, 0), kTreeFrames - 1) << "a single frame still fits tree 0";
    const std::uint64_t run = t.fast(cursor, 64, 0);
    ASSERT_NE(run, kNoUnit);
    EXPECT_EQ(run / kTreeFrames, 1U);
    EXPECT_EQ(cursor.tree, 1U) << "the cursor follows the tree that had room";
    EXPECT_EQ(t.bitmap.check(), nullptr);
}

TEST(BitmapTrees, ReleaseRefusesDoubleFreesAndForeignFramesAndChangesNothing) {
    Trees t({{0, kThreeTrees - 1}});
    const std::uint64_t free_before = t.bitmap.free();
    EXPECT_EQ(t.bitmap.release<SpinLock>(5, 5), FrameBitmap::Release::kDoubleFree);
    EXPECT_EQ(t.bitmap.release<SpinLock>(kThreeTrees, kThreeTrees + 3),
              FrameBitmap::Release::kDoubleFree);
    EXPECT_EQ(t.bitmap.free(), free_before);
    // A run across the first two trees comes back to both.
    t.bitmap.take(kTreeFrames - 100, kTreeFrames + 99);
    EXPECT_EQ(t.bitmap.free(), free_before - 200);
    // Partly free: refused as a whole.
    EXPECT_EQ(t.bitmap.release<SpinLock>(kTreeFrames - 100, kTreeFrames + 100),
              FrameBitmap::Release::kDoubleFree);
    EXPECT_EQ(t.bitmap.free(), free_before - 200);
    EXPECT_EQ(t.bitmap.release<SpinLock>(kTreeFrames - 100, kTreeFrames + 99),
              FrameBitmap::Release::kDone);
    EXPECT_EQ(t.bitmap.free(), free_before);
    EXPECT_EQ(t.bitmap.check(), nullptr);
}

TEST(BitmapTrees, TheCheckerCatchesATreeCountOrAreaWordThatDisagrees) {
    Trees t({{0, kThreeTrees - 1}});
    BitmapTree& tree = t.bitmap.span(0).tree(1);
    tree.free += 1;
    EXPECT_STREQ(t.bitmap.check(), "bitmap: a tree's free count disagrees with its areas");
    tree.free -= 1;
    tree.partial |= 1;  // an entirely free area also marked partly free
    EXPECT_NE(t.bitmap.check(), nullptr);
    tree.partial &= ~std::uint64_t{1};
    EXPECT_EQ(t.bitmap.check(), nullptr);
}

TEST(BitmapTrees, SpansAppendedOutOfOrderAreWalkedInAddressOrder) {
    // Added high, low, middle: the table is append-only, not sorted.
    const Spans spans = {{5 * kTreeFrames, 5 * kTreeFrames + 999},
                         {100, 1099},
                         {2 * kTreeFrames + 7, 2 * kTreeFrames + 506}};
    Trees t(spans);
    ASSERT_EQ(t.bitmap.check(), nullptr);
    EXPECT_EQ(t.bitmap.next_span(0), 1U);
    EXPECT_EQ(t.bitmap.next_span(2000), 2U);
    EXPECT_EQ(t.bitmap.next_span(3 * kTreeFrames), 0U);
    EXPECT_EQ(t.bitmap.next_span(6 * kTreeFrames), kNoUnit);
    std::vector<std::pair<std::uint64_t, std::uint64_t>> runs;
    t.bitmap.for_each_run(0, ~0ULL, [&](std::uint64_t s, std::uint64_t len) {
        runs.emplace_back(s, s + len - 1);
        return true;
    });
    EXPECT_EQ(runs, (Spans{{100, 1099},
                           {2 * kTreeFrames + 7, 2 * kTreeFrames + 506},
                           {5 * kTreeFrames, 5 * kTreeFrames + 999}}));
    Constraint c;
    c.count = 400;
    c.min = 2000;
    EXPECT_EQ(t.bitmap.allocate(c), 2 * kTreeFrames + 7) << "the lowest fit above the window";
    EXPECT_TRUE(t.bitmap.spans_cover(100, 1099));
    EXPECT_FALSE(t.bitmap.spans_cover(100, 1100));
    EXPECT_EQ(t.bitmap.check(), nullptr);
}

TEST(BitmapTrees, ThreadsOnTheirOwnCursorsNeverShareAFrameAndLoseNothing) {
    Trees t({{0, kThreeTrees - 1}});
    const std::uint64_t total = t.bitmap.free();
    std::vector<std::atomic<std::uint8_t>> owner(kThreeTrees);
    std::atomic<int> errors{0};
    std::vector<std::thread> threads;
    for (unsigned cpu = 0; cpu < 4; ++cpu) {
        threads.emplace_back([&, cpu] {
            BitmapCursor cursor;
            std::mt19937_64 rng(cpu);
            std::vector<std::pair<std::uint64_t, std::uint64_t>> held;
            for (int step = 0; step < 20000; ++step) {
                if (held.size() > 64 || (!held.empty() && rng() % 2 == 0)) {
                    const std::size_t i = rng() % held.size();
                    const auto [s, e] = held[i];
                    held[i] = held.back();
                    held.pop_back();
                    for (std::uint64_t f = s; f <= e; ++f) {
                        owner[f].store(0);
                    }
                    if (t.bitmap.release<SpinLock>(s, e) != FrameBitmap::Release::kDone) {
                        errors.fetch_add(1);
                    }
                    continue;
                }
                const std::uint64_t n = 1 + rng() % 600;
                const std::uint64_t s = t.fast(cursor, n, cpu);
                if (s == kNoUnit) {
                    continue;
                }
                for (std::uint64_t f = s; f < s + n; ++f) {
                    if (owner[f].exchange(1) != 0) {
                        errors.fetch_add(1);
                    }
                }
                held.emplace_back(s, s + n - 1);
            }
            for (const auto& [s, e] : held) {
                for (std::uint64_t f = s; f <= e; ++f) {
                    owner[f].store(0);
                }
                if (t.bitmap.release<SpinLock>(s, e) != FrameBitmap::Release::kDone) {
                    errors.fetch_add(1);
                }
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    EXPECT_EQ(errors.load(), 0);
    EXPECT_EQ(t.bitmap.free(), total);
    EXPECT_EQ(t.bitmap.check(), nullptr);
}

}  // namespace
}  // namespace framealloc::detail
