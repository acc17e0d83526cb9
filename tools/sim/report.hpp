// The human-readable summary a run prints, and the number formatting shared
// by the summary, the JSON and the picture.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "simulator.hpp"

namespace framealloc::sim {

/// "16.0 GiB", "640 KiB", "4 KiB": bytes in the largest unit that keeps a
/// value of at least 1.
[[nodiscard]] std::string human_bytes(std::uint64_t bytes);
/// "0x00000000fee00000".
[[nodiscard]] std::string hex_address(std::uint64_t address);
/// Short form for labels: "0xfee00000".
[[nodiscard]] std::string short_hex(std::uint64_t address);

struct Percentiles {
    std::uint32_t p50 = 0;
    std::uint32_t p90 = 0;
    std::uint32_t p99 = 0;
};
/// Nearest-rank percentiles of `samples` (all zero when empty).
[[nodiscard]] Percentiles percentiles(std::vector<std::uint32_t> samples);

/// Writes the summary table.
void print_summary(const RunReport& report, std::uint64_t seed, std::ostream& out);

}  // namespace framealloc::sim
