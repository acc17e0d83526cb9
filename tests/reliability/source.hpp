// Where the differential driver's decisions come from: a seeded PRNG (gtest,
// long runs) or the bytes libFuzzer hands over. Both answer "a number below
// N"; the byte source reads only as many bytes as N needs, so small inputs
// still mean many operations, and runs dry (answering 0) at the end.
#pragma once

#include <cstddef>
#include <cstdint>

namespace framealloc::reliability {

/// 128-bit arithmetic for sums that must not wrap (a GCC/Clang extension).
__extension__ typedef unsigned __int128 U128;

class Source {
  public:
    virtual ~Source() = default;
    /// A number in [0, bound); bound 0 means the full 64-bit range.
    virtual std::uint64_t below(std::uint64_t bound) = 0;
    /// True once a byte source has no input left.
    [[nodiscard]] virtual bool exhausted() const { return false; }

    bool chance(unsigned percent) { return below(100) < percent; }
    std::uint64_t range(std::uint64_t lo, std::uint64_t hi) {  // inclusive
        return lo + (hi - lo == ~0ULL ? below(0) : below(hi - lo + 1));
    }
};

/// xoshiro256** seeded through splitmix64.
class PrngSource final : public Source {
  public:
    explicit PrngSource(std::uint64_t seed) {
        for (auto& word : s_) {
            seed += 0x9e3779b97f4a7c15ULL;
            std::uint64_t z = seed;
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
            word = z ^ (z >> 31);
        }
    }
    std::uint64_t next() {
        const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const std::uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }
    std::uint64_t below(std::uint64_t bound) override {
        if (bound == 0) {
            return next();
        }
        return static_cast<std::uint64_t>((static_cast<U128>(next()) * bound) >> 64);
    }

  private:
    static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    std::uint64_t s_[4];
};

/// Reads decisions from a byte string.
class ByteSource final : public Source {
  public:
    ByteSource(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
    std::uint64_t below(std::uint64_t bound) override {
        std::uint64_t value = 0;
        std::uint64_t span = 1;
        do {
            const std::uint64_t byte = pos_ < size_ ? data_[pos_] : 0;
            if (pos_ < size_) {
                ++pos_;
            } else {
                dry_ = true;
            }
            value = (value << 8) | byte;
            span = span > (~0ULL >> 8) ? ~0ULL : span << 8;
        } while (span != ~0ULL && (bound == 0 || span < bound));
        return bound == 0 ? value : value % bound;
    }
    [[nodiscard]] bool exhausted() const override { return dry_ || pos_ >= size_; }

  private:
    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
    bool dry_ = false;
};

}  // namespace framealloc::reliability
