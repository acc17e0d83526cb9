// The bookkeeping nodes behind every free chunk and region, kept in one array
// and named by 32-bit index. Indices, unlike pointers, survive the move from
// the allocator's built-in early array to a larger heap array: growing is one
// copy. Index 0 is the nil node, so an all-zero pool is a valid empty one and
// a constinit allocator lands in .bss.
//
// The pool also keeps the reservation count: every live frame handle holds one
// node in reserve, so returning frames can always record a new chunk, and no
// frame is ever lost because bookkeeping ran out.
#pragma once

#include <cstddef>
#include <cstdint>

namespace framealloc::detail {

using Index = std::uint32_t;
inline constexpr Index kNil = 0;

/// One free chunk or one region: an inclusive unit range plus links.
struct Node {
    std::uint64_t start = 0;
    std::uint64_t end = 0;  // inclusive
    Index left = kNil;      // treap children (address order)
    Index right = kNil;
    Index prev = kNil;  // size-bin list, or the pool's free list (next only)
    Index next = kNil;
    std::uint32_t priority = 0;  // treap heap order
    std::uint16_t bin = 0;       // size bin + 1 while linked into one, else 0
    std::uint16_t unused = 0;

    [[nodiscard]] constexpr std::uint64_t size() const { return end - start + 1; }
};

class NodePool {
  public:
    constexpr NodePool() = default;

    /// Uses `nodes[0..count)` as storage (node 0 stays nil); forgets any earlier state.
    void attach(Node* nodes, Index count) {
        nodes_ = nodes;
        capacity_ = count - 1;
        used_ = 0;
        reserved_ = 0;
        free_head_ = kNil;
        for (Index i = count - 1; i >= 1; --i) {
            nodes_[i] = Node{};
            nodes_[i].next = free_head_;
            free_head_ = i;
        }
        nodes_[0] = Node{};
    }

    /// Moves the pool into `nodes[0..count)`, count > capacity()+1; indices stay valid.
    /// Returns the old storage so the caller can free it outside its lock.
    Node* relocate(Node* nodes, Index count) {
        Node* old = nodes_;
        const Index old_count = capacity_ + 1;
        for (Index i = 0; i < old_count; ++i) {
            nodes[i] = old[i];
        }
        for (Index i = count - 1; i >= old_count; --i) {
            nodes[i] = Node{};
            nodes[i].next = free_head_;
            free_head_ = i;
        }
        nodes_ = nodes;
        capacity_ = count - 1;
        return old;
    }

    [[nodiscard]] Node& operator[](Index i) { return nodes_[i]; }
    [[nodiscard]] const Node& operator[](Index i) const { return nodes_[i]; }

    [[nodiscard]] Index capacity() const { return capacity_; }
    [[nodiscard]] Index used() const { return used_; }
    [[nodiscard]] Index reserved() const { return reserved_; }
    /// Nodes neither in use nor promised to a live handle.
    [[nodiscard]] Index spare() const { return capacity_ - used_ - reserved_; }
    [[nodiscard]] Node* storage() const { return nodes_; }

    /// Promises `n` nodes to future frees; false (and no change) when short.
    [[nodiscard]] bool try_reserve(Index n) {
        if (spare() < n) {
            return false;
        }
        reserved_ += n;
        return true;
    }
    void unreserve(Index n) { reserved_ -= n; }

    /// A fresh node. The caller has checked spare() (or released a reservation).
    [[nodiscard]] Index take(std::uint64_t start, std::uint64_t end) {
        const Index i = free_head_;
        free_head_ = nodes_[i].next;
        ++used_;
        Node& node = nodes_[i];
        node = Node{};
        node.start = start;
        node.end = end;
        node.priority = next_priority();
        return i;
    }
    void put(Index i) {
        nodes_[i].next = free_head_;
        nodes_[i].bin = 0;
        free_head_ = i;
        --used_;
    }

  private:
    // xorshift32: treap priorities only need to look random, not be random.
    std::uint32_t next_priority() {
        std::uint32_t x = seed_;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        seed_ = x;
        return x;
    }

    Node* nodes_ = nullptr;
    Index capacity_ = 0;
    Index used_ = 0;
    Index reserved_ = 0;
    Index free_head_ = kNil;
    std::uint32_t seed_ = 0x9e3779b9U;
};

}  // namespace framealloc::detail
