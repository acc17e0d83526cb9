// The machine-readable result of a run. It holds everything that is a
// function of the inputs (map, workload, seed) and nothing that is not --
// no latencies, times or paths -- so equal inputs give byte-identical files.
#pragma once

#include <cstdint>
#include <ostream>

#include "simulator.hpp"

namespace framealloc::sim {

void write_json(const RunReport& report, std::uint64_t seed, std::ostream& out);

}  // namespace framealloc::sim
