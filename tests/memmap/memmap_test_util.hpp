// Helpers shared by the memory-map tests: a sink that records what a parser
// emits, and little/big-endian byte writers to build firmware structures by
// hand exactly as the firmware lays them out.
#pragma once

#include <cstdint>
#include <vector>

#include "framealloc/region.hpp"
#include "framealloc/result.hpp"

namespace framealloc::memmap_test {

/// Records every region, in order, split by type.
struct Captured {
    std::vector<PhysicalMemoryRegion> all;
    std::vector<PhysicalMemoryRegion> free;
    std::vector<PhysicalMemoryRegion> reserved;

    Status operator()(const PhysicalMemoryRegion& region) {
        all.push_back(region);
        (region.type == MemoryRegionType::kFree ? free : reserved).push_back(region);
        return {};
    }
};

/// Frame numbers [first, last] of a region, for compact assertions.
struct Frames {
    std::uint64_t first;
    std::uint64_t last;
    friend bool operator==(const Frames&, const Frames&) = default;
};

inline Frames frames_of(const PhysicalMemoryRegion& region) {
    return Frames{region.frames.start().number(), region.frames.end().number()};
}

inline std::vector<Frames> frames_of(const std::vector<PhysicalMemoryRegion>& regions) {
    std::vector<Frames> out;
    for (const auto& region : regions) {
        out.push_back(frames_of(region));
    }
    return out;
}

/// Appends numbers to a byte buffer in a chosen byte order.
class Bytes {
  public:
    Bytes& le(std::uint64_t value, unsigned width) {
        for (unsigned i = 0; i < width; ++i) {
            data_.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
        }
        return *this;
    }
    Bytes& le32(std::uint32_t value) { return le(value, 4); }
    Bytes& le64(std::uint64_t value) { return le(value, 8); }
    Bytes& be32(std::uint32_t value) {
        for (int shift = 24; shift >= 0; shift -= 8) {
            data_.push_back(static_cast<std::uint8_t>(value >> shift));
        }
        return *this;
    }
    Bytes& fill(std::uint8_t byte, std::size_t count) {
        data_.insert(data_.end(), count, byte);
        return *this;
    }
    [[nodiscard]] const std::vector<std::uint8_t>& data() const { return data_; }
    [[nodiscard]] std::size_t size() const { return data_.size(); }
    std::vector<std::uint8_t>& raw() { return data_; }

  private:
    std::vector<std::uint8_t> data_;
};

inline std::ostream& operator<<(std::ostream& os, const Frames& f) {
    return os << "[" << std::hex << f.first << ", " << f.last << "]" << std::dec;
}

}  // namespace framealloc::memmap_test
