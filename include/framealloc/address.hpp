// Addresses and page sizes: the value types at the bottom of framealloc
// (Theseus: memory_structs). A PhysicalAddress is checked or canonicalised when
// made, so every address in the system fits the architecture's physical width;
// a VirtualAddress is canonical (sign-extended above bit 47 on x86_64).
#pragma once

#include <compare>
#include <cstdint>

#include "framealloc/config.hpp"
#include "framealloc/result.hpp"

namespace framealloc {

/// The 4 KiB base page size.
struct Page4K {
    static constexpr unsigned kShift = 12;
    static constexpr std::uint64_t kBytes = 1ULL << kShift;
    static constexpr std::uint64_t kFrames4K = 1;  ///< Size in 4 KiB frames.
};
/// A 2 MiB huge page.
struct Page2M {
    static constexpr unsigned kShift = 21;
    static constexpr std::uint64_t kBytes = 1ULL << kShift;
    static constexpr std::uint64_t kFrames4K = kBytes / Page4K::kBytes;
};
/// A 1 GiB huge page.
struct Page1G {
    static constexpr unsigned kShift = 30;
    static constexpr std::uint64_t kBytes = 1ULL << kShift;
    static constexpr std::uint64_t kFrames4K = kBytes / Page4K::kBytes;
};

/// The closed set of page sizes.
template <typename P>
concept PageSize =
    std::is_same_v<P, Page4K> || std::is_same_v<P, Page2M> || std::is_same_v<P, Page1G>;

/// A physical address no wider than FRAMEALLOC_PHYS_ADDR_BITS.
class PhysicalAddress {
  public:
    static constexpr std::uint64_t kMax = (1ULL << FRAMEALLOC_PHYS_ADDR_BITS) - 1;

    constexpr PhysicalAddress() = default;

    /// The address `value`, or nothing when it is wider than the architecture allows.
    [[nodiscard]] static constexpr Optional<PhysicalAddress> create(std::uint64_t value) {
        if (value > kMax) {
            return {};
        }
        return PhysicalAddress(value);
    }
    /// The address `value` with the bits above the physical width cleared.
    [[nodiscard]] static constexpr PhysicalAddress new_canonical(std::uint64_t value) {
        return PhysicalAddress(value & kMax);
    }
    [[nodiscard]] static constexpr PhysicalAddress zero() { return PhysicalAddress(0); }

    [[nodiscard]] constexpr std::uint64_t value() const { return value_; }
    /// Offset of this address inside its 4 KiB frame.
    [[nodiscard]] constexpr std::uint64_t frame_offset() const {
        return value_ & (Page4K::kBytes - 1);
    }
    /// This address plus `bytes`, or nothing if that passes kMax.
    [[nodiscard]] constexpr Optional<PhysicalAddress> checked_add(std::uint64_t bytes) const {
        if (bytes > kMax - value_) {
            return {};
        }
        return PhysicalAddress(value_ + bytes);
    }

    friend constexpr auto operator<=>(PhysicalAddress, PhysicalAddress) = default;

  private:
    constexpr explicit PhysicalAddress(std::uint64_t value) : value_(value) {}
    std::uint64_t value_ = 0;
};

/// A canonical virtual address.
class VirtualAddress {
  public:
    static constexpr std::uint64_t kMax = ~0ULL;

    constexpr VirtualAddress() = default;

    /// The address `value`, or nothing when it is not canonical.
    [[nodiscard]] static constexpr Optional<VirtualAddress> create(std::uint64_t value) {
        if (canonicalise(value) != value) {
            return {};
        }
        return VirtualAddress(value);
    }
    /// The address `value` sign-extended from the highest canonical bit.
    [[nodiscard]] static constexpr VirtualAddress new_canonical(std::uint64_t value) {
        return VirtualAddress(canonicalise(value));
    }
    [[nodiscard]] static constexpr VirtualAddress zero() { return VirtualAddress(0); }

    [[nodiscard]] constexpr std::uint64_t value() const { return value_; }
    [[nodiscard]] constexpr std::uint64_t page_offset() const {
        return value_ & (Page4K::kBytes - 1);
    }
    /// Alias of page_offset() so generic code can ask any address the same way.
    [[nodiscard]] constexpr std::uint64_t frame_offset() const { return page_offset(); }
    [[nodiscard]] constexpr Optional<VirtualAddress> checked_add(std::uint64_t bytes) const {
        if (bytes > kMax - value_) {
            return {};
        }
        return VirtualAddress(value_ + bytes);
    }

    friend constexpr auto operator<=>(VirtualAddress, VirtualAddress) = default;

  private:
    static constexpr std::uint64_t canonicalise(std::uint64_t value) {
        constexpr unsigned kUnused = 64 - FRAMEALLOC_VIRT_ADDR_BITS;
        return static_cast<std::uint64_t>(static_cast<std::int64_t>(value << kUnused) >> kUnused);
    }
    constexpr explicit VirtualAddress(std::uint64_t value) : value_(value) {}
    std::uint64_t value_ = 0;
};

}  // namespace framealloc
