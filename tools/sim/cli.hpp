// The command line of framealloc-sim, callable in-process so the tests drive
// exactly what users type without spawning processes.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace framealloc::sim {

/// Exit codes: 0 success; 1 the run found a broken invariant; 2 bad usage or
/// bad input (unknown workload, malformed map or trace, unwritable output).
inline constexpr int kExitOk = 0;
inline constexpr int kExitInvariant = 1;
inline constexpr int kExitUsage = 2;

/// Runs `framealloc-sim args...` (args excludes the program name).
[[nodiscard]] int sim_main(const std::vector<std::string>& args, std::ostream& out,
                           std::ostream& err);

}  // namespace framealloc::sim
