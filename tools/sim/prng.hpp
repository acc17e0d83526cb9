// The simulator's random numbers. Workloads must replay identically for a
// given seed on every compiler and standard library, and std:: distributions
// are allowed to differ between implementations, so the generator (SplitMix64
// seeding xoshiro256**) and the few ways we draw from it are written here.
#pragma once

#include <cstdint>

namespace framealloc::sim {

class Prng {
  public:
    explicit Prng(std::uint64_t seed) {
        std::uint64_t x = seed;
        for (std::uint64_t& word : state_) {
            word = split_mix(x);
        }
    }

    /// The next 64 random bits.
    std::uint64_t next() {
        const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
        const std::uint64_t t = state_[1] << 17;
        state_[2] ^= state_[0];
        state_[3] ^= state_[1];
        state_[1] ^= state_[2];
        state_[0] ^= state_[3];
        state_[2] ^= t;
        state_[3] = rotl(state_[3], 45);
        return result;
    }

    /// Uniform in [0, bound) for bound > 0. Rejection keeps it unbiased, so
    /// the result depends only on the bit stream, never on the platform.
    std::uint64_t below(std::uint64_t bound) {
        if (bound <= 1) {
            return 0;
        }
        const std::uint64_t limit = ~0ULL - (~0ULL % bound);
        std::uint64_t value = next();
        while (value >= limit) {
            value = next();
        }
        return value % bound;
    }

    /// Uniform in [lo, hi] (inclusive).
    std::uint64_t between(std::uint64_t lo, std::uint64_t hi) { return lo + below(hi - lo + 1); }

    /// True with probability permille / 1000; integer arithmetic keeps it exact.
    bool chance(std::uint32_t permille) { return below(1000) < permille; }

  private:
    static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    static std::uint64_t split_mix(std::uint64_t& x) {
        x += 0x9e3779b97f4a7c15ULL;
        std::uint64_t z = x;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }

    std::uint64_t state_[4] = {};
};

}  // namespace framealloc::sim
