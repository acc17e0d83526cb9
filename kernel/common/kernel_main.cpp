// Shared tail of every boot path, and the two hooks framealloc's core leaves
// to the kernel (panic, CPU id).
#include "kernel_main.hpp"

#include "console.hpp"
#include "frame_allocator.hpp"
#include "framealloc/framealloc.hpp"
#include "platform.hpp"
#include "selftest.hpp"

namespace kernel {
namespace {

void print_dump_line(const char* line) {
    kprintf("  %s\n", line);
}

}  // namespace

void run_kernel(BootRegions& regions, std::uint64_t image_start, std::uint64_t image_bytes,
                const BootExtras& extras) {
    memory_init(regions, image_start, image_bytes, extras.after_allocator_init);
    SelftestSummary summary = run_selftest();
    if (extras.after_selftest != nullptr) {
        extras.after_selftest();
        const framealloc::FrameStats st = frame_allocator().stats();
        summary.free_frames = st.general.free_frames;
        summary.total_frames = st.general.total_frames;
    }
    frame_allocator().dump(print_dump_line);
    kprintf(
        "framealloc-kernel: selftest passed: %lu allocations, %lu frames verified, "
        "free=%lu/%lu\n",
        summary.allocations, summary.frames_verified, summary.free_frames, summary.total_frames);
    platform::exit(platform::ExitCode::kSuccess);
}

}  // namespace kernel

// framealloc's panic hook: a kernel bug it cannot report as an error value.
extern "C" void framealloc_panic(const char* message) {
    kernel::kpanic("framealloc: %s", message);
}

// The dense index of the running CPU (0 on the boot CPU and wherever the port
// runs on one CPU), so each CPU gets its own framealloc cache.
extern "C" unsigned framealloc_cpu_id() {
    return kernel::platform::cpu_index();
}
