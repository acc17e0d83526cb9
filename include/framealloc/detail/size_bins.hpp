// Segregated free lists by chunk size, the way TLSF finds a block in constant
// time. Sizes map to 496 bins: 1..7 exactly, then eight bins per power of two.
// A two-level bitmap (one word of summary over eight words of bins) finds the
// first non-empty bin at or above any index with two count-trailing-zeros, so
// a chunk that fits is found without looking at any chunk that does not --
// the cost does not grow with fragmentation.
#pragma once

#include <bit>
#include <cstdint>

#include "framealloc/detail/node_pool.hpp"

namespace framealloc::detail {

class SizeBins {
  public:
    static constexpr unsigned kSubBits = 3;
    static constexpr unsigned kSub = 1U << kSubBits;
    static constexpr unsigned kCount = kSub + (64 - kSubBits) * kSub;  // 496
    static constexpr unsigned kWords = (kCount + 63) / 64;

    /// The bin a chunk of `size` (>= 1) units lives in.
    [[nodiscard]] static constexpr unsigned index_of(std::uint64_t size) {
        if (size < kSub) {
            return static_cast<unsigned>(size);
        }
        const unsigned msb = 63U - static_cast<unsigned>(std::countl_zero(size));
        const unsigned sub = static_cast<unsigned>(size >> (msb - kSubBits)) & (kSub - 1);
        return kSub + (msb - kSubBits) * kSub + sub;
    }
    /// The smallest size stored in bin `index`.
    [[nodiscard]] static constexpr std::uint64_t low_of(unsigned index) {
        if (index < kSub) {
            return index;
        }
        const unsigned msb = (index - kSub) / kSub + kSubBits;
        const std::uint64_t sub = (index - kSub) % kSub;
        return (kSub + sub) << (msb - kSubBits);
    }
    /// The first bin whose every chunk holds at least `size` units (kCount if none).
    [[nodiscard]] static constexpr unsigned fit_index(std::uint64_t size) {
        const unsigned i = index_of(size);
        return low_of(i) == size ? i : i + 1;
    }

    void link(NodePool& pool, Index n) {
        const unsigned b = index_of(pool[n].size());
        Node& node = pool[n];
        node.bin = static_cast<std::uint16_t>(b + 1);
        node.prev = kNil;
        node.next = heads_[b];
        if (heads_[b] != kNil) {
            pool[heads_[b]].prev = n;
        }
        heads_[b] = n;
        words_[b / 64] |= 1ULL << (b % 64);
        summary_ |= 1U << (b / 64);
    }
    void unlink(NodePool& pool, Index n) {
        Node& node = pool[n];
        const unsigned b = node.bin - 1U;
        if (node.prev != kNil) {
            pool[node.prev].next = node.next;
        } else {
            heads_[b] = node.next;
        }
        if (node.next != kNil) {
            pool[node.next].prev = node.prev;
        }
        node.bin = 0;
        if (heads_[b] == kNil) {
            words_[b / 64] &= ~(1ULL << (b % 64));
            if (words_[b / 64] == 0) {
                summary_ &= ~(1U << (b / 64));
            }
        }
    }
    /// Re-files a node whose size changed; cheap when the bin stays the same.
    void update(NodePool& pool, Index n) {
        if (pool[n].bin - 1U != index_of(pool[n].size())) {
            unlink(pool, n);
            link(pool, n);
        }
    }

    /// First non-empty bin at or above `from`, or kCount.
    [[nodiscard]] unsigned first_at_or_above(unsigned from) const {
        if (from >= kCount) {
            return kCount;
        }
        unsigned w = from / 64;
        const std::uint64_t here = words_[w] & (~0ULL << (from % 64));
        if (here != 0) {
            return w * 64 + static_cast<unsigned>(std::countr_zero(here));
        }
        const std::uint32_t above = summary_ & ~((2U << w) - 1U);
        if (above == 0) {
            return kCount;
        }
        w = static_cast<unsigned>(std::countr_zero(above));
        return w * 64 + static_cast<unsigned>(std::countr_zero(words_[w]));
    }
    /// Highest non-empty bin, or kCount when all are empty.
    [[nodiscard]] unsigned highest() const {
        if (summary_ == 0) {
            return kCount;
        }
        const unsigned w = 31U - static_cast<unsigned>(std::countl_zero(summary_));
        return w * 64 + 63U - static_cast<unsigned>(std::countl_zero(words_[w]));
    }
    [[nodiscard]] Index head(unsigned bin) const { return heads_[bin]; }

  private:
    Index heads_[kCount] = {};
    std::uint64_t words_[kWords] = {};
    std::uint32_t summary_ = 0;
};

}  // namespace framealloc::detail
