// The reference model framealloc is checked against: the simplest allocator
// that could possibly be right. One byte per frame of a bounded "universe"
// says which pool's region the frame is in (or none) and whether it is free;
// every question is answered by looking at every frame. It is slow and has no
// cleverness, so when it and framealloc disagree, framealloc is the suspect.
//
// The model also states the public contract of each request (which argument
// errors come first, which error kind a refusal carries), written from the
// documentation in allocator.hpp rather than from the engine's code.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "framealloc/allocator_types.hpp"
#include "framealloc/region.hpp"

namespace framealloc::reliability {

enum class Owner : std::uint8_t { kNone = 0, kGeneral = 1, kReserved = 2 };

/// The model's verdict on a request: success (and from which pool) or the
/// error kind framealloc must report.
struct Expect {
    bool ok = false;
    ErrorKind kind = ErrorKind::kInvalidArgument;
    Pool pool = Pool::kGeneral;

    static Expect success(Pool p) { return Expect{true, ErrorKind::kInvalidArgument, p}; }
    static Expect failure(ErrorKind k) { return Expect{false, k, Pool::kGeneral}; }
    [[nodiscard]] std::string str() const;
};

/// An inclusive frame run.
struct Run {
    std::uint64_t first;
    std::uint64_t last;
    friend bool operator==(const Run&, const Run&) = default;
};

class RefModel {
  public:
    /// Highest 4 KiB frame number that exists (2^40 - 1 for 52-bit physical addresses).
    static constexpr std::uint64_t kTopFrame = PhysicalAddress::kMax >> Page4K::kShift;

    /// Forgets everything; frames [base, base + size) form the universe. No
    /// region may ever lie outside it (the driver keeps to that).
    void reset(std::uint64_t base, std::uint64_t size);

    [[nodiscard]] std::uint64_t base() const { return base_; }
    [[nodiscard]] std::uint64_t size() const { return size_; }
    [[nodiscard]] std::uint64_t end() const { return base_ + size_; }  // exclusive
    [[nodiscard]] bool initialized() const { return initialized_; }
    [[nodiscard]] bool in_universe(std::uint64_t first, std::uint64_t last) const {
        return first >= base_ && last >= first && last < base_ + size_;
    }
    [[nodiscard]] Owner owner(std::uint64_t f) const {
        return static_cast<Owner>(owner_[f - base_]);
    }
    [[nodiscard]] bool is_free(std::uint64_t f) const { return free_[f - base_] != 0; }

    // ---- init

    /// What init(free, reserved) must answer (kBadRegion for a mistyped region,
    /// kAlreadyInitialized, or success; capacity is judged by the driver).
    [[nodiscard]] Expect expect_init(
        const std::vector<PhysicalMemoryRegion>& free_regions,
        const std::vector<PhysicalMemoryRegion>& reserved_regions) const;
    /// Applies a successful init: reserved wins over free; everything is free.
    void init(const std::vector<PhysicalMemoryRegion>& free_regions,
              const std::vector<PhysicalMemoryRegion>& reserved_regions);

    // ---- allocation

    /// What allocate(request) must answer. `kCapacityExhausted` is never
    /// predicted (the model has no bookkeeping nodes).
    [[nodiscard]] Expect expect_allocate(const AllocRequest& request) const;
    /// True when [first, last] is a legal answer to the anywhere `request`:
    /// free general frames meeting alignment, boundary and window.
    [[nodiscard]] bool legal_anywhere(const AllocRequest& request, std::uint64_t first,
                                      std::uint64_t last, std::string* why) const;
    /// What IntoUnmappedFrames on [first, last] must answer, given that the
    /// driver only asks for ranges no live handle owns.
    [[nodiscard]] Expect expect_adopt(std::uint64_t first, std::uint64_t last) const;
    [[nodiscard]] Expect expect_add_region(const PhysicalMemoryRegion& region) const;
    [[nodiscard]] Expect expect_take_offline(std::uint64_t first, std::uint64_t last) const;

    /// Marks [first, last] allocated (all must be free; a new reserved region
    /// is made when `new_region`).
    void take(std::uint64_t first, std::uint64_t last, bool new_region);
    /// Marks [first, last] free again (all must be allocated).
    void give_back(std::uint64_t first, std::uint64_t last);
    void add_region(std::uint64_t first, std::uint64_t last, Pool pool);
    void remove_region(std::uint64_t first, std::uint64_t last);

    // ---- observation

    [[nodiscard]] std::uint64_t total(Pool p) const { return total_[static_cast<int>(p)]; }
    [[nodiscard]] std::uint64_t free(Pool p) const { return free_count_[static_cast<int>(p)]; }
    /// Maximal runs of free frames of pool p, in address order.
    [[nodiscard]] std::vector<Run> free_runs(Pool p) const;
    /// Maximal runs of frames in pool p's regions.
    [[nodiscard]] std::vector<Run> region_runs(Pool p) const;
    [[nodiscard]] bool all(std::uint64_t first, std::uint64_t last, Owner o, bool need_free) const;
    [[nodiscard]] bool any_free(std::uint64_t first, std::uint64_t last) const;
    [[nodiscard]] bool no_region(std::uint64_t first, std::uint64_t last) const;
    /// Recounts every counter from the bytes; empty when consistent.
    [[nodiscard]] std::string self_check() const;

    /// Whole frames inside the byte window [lo, hi] as [fmin, fmax]; false if none.
    static bool window_frames(std::uint64_t lo, std::uint64_t hi, std::uint64_t& fmin,
                              std::uint64_t& fmax);

  private:
    [[nodiscard]] Expect validate(const AllocRequest& r, std::uint64_t& fmin,
                                  std::uint64_t& fmax) const;
    [[nodiscard]] bool exists_fit(const AllocRequest& r, std::uint64_t fmin,
                                  std::uint64_t fmax) const;
    void set(std::uint64_t f, Owner o, bool is_free);

    std::uint64_t base_ = 0;
    std::uint64_t size_ = 0;
    bool initialized_ = false;
    std::vector<std::uint8_t> owner_;
    std::vector<std::uint8_t> free_;
    std::uint64_t total_[2] = {0, 0};
    std::uint64_t free_count_[2] = {0, 0};
    mutable std::vector<std::uint32_t> runlen_;  // scratch for exists_fit
};

[[nodiscard]] const char* kind_name(ErrorKind kind);

}  // namespace framealloc::reliability
