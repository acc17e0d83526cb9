// The NUMA self-test of the Multiboot kernel (framealloc.numa): every CPU
// allocates through the node set (numa.hpp) at once, then single steps on
// chosen CPUs exhaust one node and check where requests go next. Panics on
// any failure.
#pragma once

namespace kernel::numa_test {

/// Starts every CPU (smp::start_all_cpus), checks the node set's CPU table
/// against the running CPUs, runs the test, parks the APs and checks the node
/// allocators: check() passes and every node has all its frames back. Prints
/// the counts.
void run();

}  // namespace kernel::numa_test
