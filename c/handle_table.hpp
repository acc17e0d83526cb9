// The live-range table behind the C interface. C callers cannot hold the C++
// RAII handles, so the C library keeps each AllocatedFrames here, keyed by its
// start frame, and a range coming back from C is honoured only if it matches
// an entry exactly. That is what turns a double free or a foreign range into
// an error instead of corruption. Open addressing with linear probing and
// backward-shift deletion: no tombstones, so a table that churns forever never
// degrades, and it lives in any flat array (caller memory early, heap later).
//
// Locking: the owner serialises every call with its own lock. Slots "taken"
// out of the table for an update stay counted as reservations, so a
// concurrent insert can never steal the room a put-back needs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>

#include "framealloc/frames.hpp"

namespace framealloc::capi {

using Handle = AllocatedFrames<>;

/// One table slot: empty when its handle is empty.
struct Slot {
    Handle frames;
};

class HandleTable {
  public:
    /// Fewest slots a table may have: a table this small still leaves room
    /// for a handful of live ranges plus the one empty slot probing needs.
    static constexpr std::size_t kMinSlots = 9;

    constexpr HandleTable() = default;
    HandleTable(const HandleTable&) = delete;
    HandleTable& operator=(const HandleTable&) = delete;

    /// Takes over `count` slots of raw memory (constructs them empty).
    void attach(void* memory, std::size_t count) {
        slots_ = static_cast<Slot*>(memory);
        capacity_ = count;
        for (std::size_t i = 0; i < count; ++i) {
            new (&slots_[i]) Slot();
        }
    }

    [[nodiscard]] std::size_t capacity() const { return capacity_; }
    [[nodiscard]] std::size_t live() const { return live_; }
    [[nodiscard]] std::size_t reserved() const { return reserved_; }
    [[nodiscard]] Slot* slots() const { return slots_; }

    /// Room for `count` more entries, keeping one slot empty so probing ends.
    [[nodiscard]] bool has_room(std::size_t count, std::size_t limit) const {
        return live_ + reserved_ + count <= limit && live_ + reserved_ + count < capacity_;
    }
    void reserve(std::size_t count) { reserved_ += count; }
    void unreserve(std::size_t count) { reserved_ -= count; }

    /// Stores `frames` (non-empty), consuming one reservation.
    void insert(Handle&& frames) {
        std::size_t i = home(frames.start().number());
        while (!slots_[i].frames.is_empty()) {
            i = next(i);
        }
        slots_[i].frames = std::move(frames);
        --reserved_;
        ++live_;
    }

    /// The slot holding exactly the range [start_frame, +num_frames), or nullptr.
    [[nodiscard]] Slot* find(std::uint64_t start_frame, std::uint64_t num_frames) const {
        if (capacity_ == 0 || num_frames == 0) {
            return nullptr;
        }
        for (std::size_t i = home(start_frame), probes = 0; probes < capacity_;
             i = next(i), ++probes) {
            const Handle& h = slots_[i].frames;
            if (h.is_empty()) {
                return nullptr;
            }
            if (h.start().number() == start_frame) {
                return h.size_in_frames() == num_frames ? &slots_[i] : nullptr;
            }
        }
        return nullptr;
    }

    /// Moves the handle out of `slot` and closes the gap; the slot's room
    /// becomes a reservation (put it back with insert(), or unreserve()).
    [[nodiscard]] Handle take(Slot* slot) {
        Handle out = std::move(slot->frames);
        std::size_t hole = static_cast<std::size_t>(slot - slots_);
        // Backward shift: pull later members of the probe run into the hole
        // unless their home lies cyclically in (hole, j].
        for (std::size_t j = next(hole); !slots_[j].frames.is_empty(); j = next(j)) {
            const std::size_t k = home(slots_[j].frames.start().number());
            const bool stays = hole <= j ? (hole < k && k <= j) : (hole < k || k <= j);
            if (!stays) {
                slots_[hole].frames = std::move(slots_[j].frames);
                hole = j;
            }
        }
        --live_;
        ++reserved_;
        return out;
    }

    /// Moves every entry into `other` (empty, attached, large enough).
    void move_all_to(HandleTable& other) {
        for (std::size_t i = 0; i < capacity_; ++i) {
            if (!slots_[i].frames.is_empty()) {
                ++other.reserved_;
                other.insert(std::move(slots_[i].frames));
            }
        }
        other.reserved_ += reserved_;
        live_ = 0;
        reserved_ = 0;
    }

    /// Takes over `other`'s memory and entries (this table must be detached);
    /// `other` is left detached. The slots themselves do not move.
    void steal(HandleTable& other) {
        slots_ = other.slots_;
        capacity_ = other.capacity_;
        live_ = other.live_;
        reserved_ = other.reserved_;
        other.slots_ = nullptr;
        other.capacity_ = other.live_ = other.reserved_ = 0;
    }

    /// Destroys the (empty) slot objects and forgets the memory.
    void detach() {
        for (std::size_t i = 0; i < capacity_; ++i) {
            slots_[i].~Slot();
        }
        slots_ = nullptr;
        capacity_ = 0;
    }

    /// Every entry non-empty, reachable from its home slot, counted once.
    [[nodiscard]] bool consistent(const FrameOwner* owner) const {
        std::size_t count = 0;
        for (std::size_t i = 0; i < capacity_; ++i) {
            const Handle& h = slots_[i].frames;
            if (h.is_empty()) {
                continue;
            }
            ++count;
            if (h.owner() != owner || find(h.start().number(), h.size_in_frames()) != &slots_[i]) {
                return false;
            }
        }
        return count == live_ && (capacity_ == 0 || live_ + reserved_ < capacity_);
    }

  private:
    [[nodiscard]] std::size_t home(std::uint64_t key) const {
        // Fibonacci hashing: consecutive frame numbers spread over the table.
        const std::uint64_t mixed = key * 0x9E3779B97F4A7C15ULL;
        return static_cast<std::size_t>((mixed >> 32) % capacity_);
    }
    [[nodiscard]] std::size_t next(std::size_t i) const { return i + 1 == capacity_ ? 0 : i + 1; }

    Slot* slots_ = nullptr;
    std::size_t capacity_ = 0;
    std::size_t live_ = 0;
    std::size_t reserved_ = 0;
};

}  // namespace framealloc::capi
