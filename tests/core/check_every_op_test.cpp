// Built with FRAMEALLOC_CHECK_EVERY_OP=1: every operation of a random mix
// (early mode and heap mode, caches, splits, merges, regions) runs the full
// invariant checker, which panics on any violation. The test counts panics.
#include <random>

#include "test_support.hpp"

static_assert(FRAMEALLOC_CHECK_EVERY_OP == 1, "this test needs the checker after every operation");

namespace framealloc::test {
namespace {

int g_panics = 0;

TEST(CheckEveryOp, RandomMixKeepsEveryInvariantAfterEveryOperation) {
    g_panics = 0;
    const PanicHandler old = set_panic_handler([](const char*) { ++g_panics; });
    auto a = make_allocator({frames(0, 4095), frames(8192, 12287)},
                            {frames(4096, 4111, MemoryRegionType::kReserved)});
    std::mt19937_64 rng(3);
    std::vector<AllocatedFrames<>> held;
    for (int op = 0; op < 3000; ++op) {
        if (op == 1000) {
            ASSERT_TRUE(a->move_to_heap(hosted_heap_hooks()));
        }
        if (op == 2000) {
            ASSERT_TRUE(a->add_region(frames(20000, 20511)));
        }
        const unsigned kind = rng() % 8;
        if (kind < 3 || held.empty()) {
            auto f = a->allocate_frames(1 + rng() % (kind == 0 ? 1 : 40));
            if (f) {
                held.push_back(std::move(f.value()));
            }
        } else if (kind == 3) {
            auto f = a->allocate(AllocRequest::frames(1 + rng() % 16).aligned(16).not_crossing(16));
            if (f) {
                held.push_back(std::move(f.value()));
            }
        } else if (kind == 4) {
            auto f = a->allocate_frames_at(frame(4096 + rng() % 16).start_address(), 1);
            if (f) {
                held.push_back(std::move(f.value()));
            }
        } else if (kind == 5 && held.back().size_in_frames() > 1) {
            AllocatedFrames<> victim = std::move(held.back());
            held.pop_back();
            auto parts = victim.split_at(victim.start() + 1);
            if (parts) {
                held.push_back(std::move(parts->first));
                held.push_back(std::move(parts->second));
            } else {
                held.push_back(std::move(victim));
            }
        } else if (kind == 6 && held.size() >= 2) {
            (void)held[held.size() - 2].merge(held.back());
            if (held.back().is_empty()) {
                held.pop_back();
            }
        } else {
            held.erase(held.begin() + static_cast<std::ptrdiff_t>(rng() % held.size()));
        }
    }
    held.clear();
    set_panic_handler(old);
    EXPECT_EQ(g_panics, 0);
    EXPECT_EQ(a->stats().general.free_frames, 4096U + 4096 + 512);
}

}  // namespace
}  // namespace framealloc::test
