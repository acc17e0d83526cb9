// Draws a run as an SVG: physical memory as wrapped strips scaled so both a
// 4 GiB VM and a 12 TiB server stay legible, and free memory over time.
#pragma once

#include <ostream>

#include "machine_map.hpp"
#include "simulator.hpp"

namespace framealloc::sim {

void write_svg(const RunReport& report, const MachineMap& map, std::ostream& out);

}  // namespace framealloc::sim
