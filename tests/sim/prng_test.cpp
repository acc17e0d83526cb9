// The simulator's own PRNG: reproducible by seed, in range, and not
// grossly biased (determinism of whole runs rests on it).
#include <gtest/gtest.h>

#include <array>

#include "prng.hpp"

namespace framealloc::sim {
namespace {

TEST(SimPrng, SameSeedSameStream) {
    Prng a(42);
    Prng b(42);
    Prng c(43);
    bool differs = false;
    for (int i = 0; i < 1000; ++i) {
        const std::uint64_t x = a.next();
        EXPECT_EQ(x, b.next());
        differs = differs || x != c.next();
    }
    EXPECT_TRUE(differs);
}

TEST(SimPrng, BelowStaysInRangeAndCoversIt) {
    Prng p(1);
    std::array<int, 10> seen{};
    for (int i = 0; i < 100000; ++i) {
        const std::uint64_t v = p.below(10);
        ASSERT_LT(v, 10U);
        ++seen[v];
    }
    for (const int n : seen) {
        EXPECT_NEAR(n, 10000, 600) << "each bucket near a tenth";
    }
    EXPECT_EQ(p.below(1), 0U);
    EXPECT_EQ(p.below(0), 0U);
}

TEST(SimPrng, BetweenIsInclusiveAndChanceIsProportional) {
    Prng p(9);
    bool lo = false;
    bool hi = false;
    int yes = 0;
    for (int i = 0; i < 20000; ++i) {
        const std::uint64_t v = p.between(3, 5);
        ASSERT_GE(v, 3U);
        ASSERT_LE(v, 5U);
        lo = lo || v == 3;
        hi = hi || v == 5;
        yes += p.chance(250) ? 1 : 0;
    }
    EXPECT_TRUE(lo && hi);
    EXPECT_NEAR(yes, 5000, 400);
}

}  // namespace
}  // namespace framealloc::sim
