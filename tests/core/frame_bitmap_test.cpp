// The frame bitmap on its own: the word tricks against bit-by-bit answers,
// and FrameBitmap against a vector<bool> model under random runs with every
// kind of constraint, with the checker after every step.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "framealloc/detail/frame_bitmap.hpp"

namespace framealloc::detail {
namespace {

TEST(BitRuns, EachWordTrickAgreesWithCountingBitByBit) {
    std::mt19937_64 rng(3);
    for (int round = 0; round < 20000; ++round) {
        // Words with long runs as well as noise.
        std::uint64_t free = rng();
        if (round % 3 == 0) {
            free |= rng() | rng();
        }
        if (round % 5 == 0) {
            free &= rng() & rng();
        }
        const std::uint64_t base = rng() % (1ULL << 40);
        const unsigned n = 1 + static_cast<unsigned>(rng() % 64);
        const std::uint64_t align = 1ULL << (rng() % 8);
        const std::uint64_t boundary =
            (round % 2 == 0) ? 0 : (1ULL << (6 + rng() % 4)) >> (rng() % 4);
        std::uint64_t want_runs = 0;
        std::uint64_t want_align = 0;
        std::uint64_t want_bound = 0;
        for (unsigned p = 0; p < 64; ++p) {
            bool all = p + n <= 64;
            for (unsigned k = 0; all && k < n; ++k) {
                all = ((free >> (p + k)) & 1U) != 0;
            }
            want_runs |= std::uint64_t{all} << p;
            want_align |= std::uint64_t{(base + p) % align == 0} << p;
            if (boundary >= n) {
                const bool crosses = (base + p) / boundary != (base + p + n - 1) / boundary;
                want_bound |= std::uint64_t{!crosses} << p;
            }
        }
        ASSERT_EQ(run_starts(free, n), want_runs) << std::hex << free << " n=" << std::dec << n;
        ASSERT_EQ(aligned_starts(base, align), want_align) << base << " align " << align;
        if (boundary >= n) {
            // Only starts whose run stays inside the word are promised.
            const std::uint64_t inside = low_mask(64 - n + 1);
            ASSERT_EQ(boundary_starts(base, n, boundary) & inside, want_bound & inside)
                << base << " n " << n << " boundary " << boundary;
        }
        unsigned low = 0;
        while (low < 64 && ((free >> low) & 1U) != 0) {
            ++low;
        }
        unsigned high = 0;
        while (high < 64 && ((free >> (63 - high)) & 1U) != 0) {
            ++high;
        }
        ASSERT_EQ(low_run(free), low);
        ASSERT_EQ(high_run(free), high);
        ASSERT_EQ(popcount(free), static_cast<unsigned>(__builtin_popcountll(free)));
    }
}

// A model: one bool per frame of [0, kUniverse), true = free (and in a span).
constexpr std::uint64_t kUniverse = 6 * kAreaFrames + 77;

struct Harness {
    std::vector<std::byte> memory;
    FrameBitmap bitmap;
    std::vector<bool> is_free = std::vector<bool>(kUniverse, false);

    explicit Harness(const std::vector<std::pair<std::uint64_t, std::uint64_t>>& spans) {
        std::size_t bytes = FrameBitmap::table_bytes(spans.size());
        for (const auto& [s, e] : spans) {
            bytes += FrameBitmap::span_bytes(s, e, TreeLockShape{}.stride());
        }
        memory.resize(bytes);
        EXPECT_TRUE(bitmap.attach(memory.data(), memory.size(), spans.size()));
        for (const auto& [s, e] : spans) {
            EXPECT_TRUE(bitmap.add_span(s, e));
            for (std::uint64_t f = s; f <= e; ++f) {
                is_free[f] = true;
            }
        }
    }
    bool model_fits(const Constraint& c) const {
        for (std::uint64_t s = c.min; s + c.count - 1 <= c.max && s + c.count <= kUniverse; ++s) {
            if (s % c.align != 0 ||
                (c.boundary != 0 && s / c.boundary != (s + c.count - 1) / c.boundary)) {
                continue;
            }
            bool all = true;
            for (std::uint64_t f = s; all && f < s + c.count; ++f) {
                all = is_free[f];
            }
            if (all) {
                return true;
            }
        }
        return false;
    }
};

TEST(FrameBitmap, AgreesWithAModelUnderRandomRunsAndConstraints) {
    std::mt19937_64 rng(11);
    for (int episode = 0; episode < 12; ++episode) {
        // Two or three spans, sometimes touching, sometimes sharing an area.
        std::vector<std::pair<std::uint64_t, std::uint64_t>> spans;
        std::uint64_t at = rng() % 700;
        while (spans.size() < 3 && at < kUniverse - 2) {
            const std::uint64_t len = 1 + rng() % 1500;
            const std::uint64_t end = std::min(at + len - 1, kUniverse - 1);
            spans.emplace_back(at, end);
            at = end + 1 + (rng() % 3 == 0 ? 0 : rng() % 300);
        }
        Harness h(spans);
        ASSERT_EQ(h.bitmap.check(), nullptr);
        std::vector<std::pair<std::uint64_t, std::uint64_t>> held;
        for (int step = 0; step < 1500; ++step) {
            if (held.empty() || rng() % 100 < 55) {
                Constraint c;
                c.count = rng() % 4 == 0 ? 1 + rng() % 700 : 1 + rng() % 70;
                c.align = rng() % 3 == 0 ? 1ULL << (rng() % 10) : 1;
                if (rng() % 5 == 0) {
                    c.boundary = std::uint64_t{1} << (64 - __builtin_clzll(c.count) + rng() % 3);
                }
                if (rng() % 4 == 0) {
                    c.min = rng() % kUniverse;
                    c.max = c.min + rng() % kUniverse;
                }
                const bool expect = h.model_fits(c);
                const std::uint64_t s = h.bitmap.allocate(c);
                ASSERT_EQ(s != kNoUnit, expect) << "episode " << episode << " step " << step
                                                << " count " << c.count << " align " << c.align;
                if (s != kNoUnit) {
                    ASSERT_EQ(s % c.align, 0U);
                    ASSERT_GE(s, c.min);
                    ASSERT_LE(s + c.count - 1, c.max);
                    if (c.boundary != 0) {
                        ASSERT_EQ(s / c.boundary, (s + c.count - 1) / c.boundary);
                    }
                    for (std::uint64_t f = s; f < s + c.count; ++f) {
                        ASSERT_TRUE(h.is_free[f]) << "frame " << f << " handed out twice";
                        h.is_free[f] = false;
                    }
                    held.emplace_back(s, s + c.count - 1);
                }
            } else {
                const std::size_t i = rng() % held.size();
                auto [s, e] = held[i];
                held[i] = held.back();
                held.pop_back();
                ASSERT_TRUE(h.bitmap.none_free(s, e));
                h.bitmap.give(s, e);
                for (std::uint64_t f = s; f <= e; ++f) {
                    h.is_free[f] = true;
                }
                ASSERT_FALSE(h.bitmap.none_free(s, e)) << "a double free must be visible";
            }
            ASSERT_EQ(h.bitmap.check(), nullptr) << "episode " << episode << " step " << step;
        }
        // The free runs the bitmap reports are exactly the model's.
        std::vector<std::pair<std::uint64_t, std::uint64_t>> runs;
        h.bitmap.for_each_run(0, ~0ULL, [&](std::uint64_t s, std::uint64_t len) {
            runs.emplace_back(s, s + len - 1);
            return true;
        });
        std::vector<std::pair<std::uint64_t, std::uint64_t>> want;
        for (std::uint64_t f = 0; f < kUniverse; ++f) {
            if (h.is_free[f] && (f == 0 || !h.is_free[f - 1])) {
                std::uint64_t e = f;
                while (e + 1 < kUniverse && h.is_free[e + 1]) {
                    ++e;
                }
                want.emplace_back(f, e);
            }
        }
        ASSERT_EQ(runs, want);
    }
}

}  // namespace
}  // namespace framealloc::detail
