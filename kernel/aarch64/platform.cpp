// platform.hpp for the AArch64 kernel on QEMU's virt board: the PL011 UART,
// semihosting exit, the GIC distributor and UART as device frames, and a
// level-1 translation table built from a framealloc frame (mmu.cpp).
#include "platform.hpp"

#include "arm64.hpp"
#include "mmu.hpp"

namespace kernel::platform {
namespace {

constexpr std::uint64_t kDataRegister = 0x00;
constexpr std::uint64_t kFlagRegister = 0x18;
constexpr std::uint32_t kFlagTransmitFull = 1u << 5;

volatile std::uint32_t& pl011(std::uint64_t offset) {
    return *reinterpret_cast<volatile std::uint32_t*>(arm64::kPl011Base + offset);
}

constexpr DeviceFrame kDevices[] = {
    {arm64::kGicDistributorBase, "GIC distributor"},
    {arm64::kPl011Base, "PL011 UART"},
};

}  // namespace

// QEMU's PL011 needs no programming: it is enabled at reset and ignores the
// baud rate.
void serial_init() {}

void serial_write(char c) {
    while ((pl011(kFlagRegister) & kFlagTransmitFull) != 0) {
    }
    pl011(kDataRegister) = static_cast<unsigned char>(c);
}

void exit(ExitCode code) {
    arm64::semihosting_exit(code == ExitCode::kSuccess ? kQemuStatusSuccess : kQemuStatusFailure);
}

// The AArch64 kernel runs on the boot CPU only.
unsigned cpu_index() {
    return 0;
}

const DeviceFrame* device_frames(std::size_t* count) {
    *count = sizeof(kDevices) / sizeof(kDevices[0]);
    return kDevices;
}

bool map_memory(std::uint64_t ram_base, std::uint64_t ram_top, TableFrameSource source,
                void* context, MappingInfo* info, const char** why) {
    std::uint64_t phys = 0;
    if (!source(context, &phys) || (phys & 0xfff) != 0) {
        *why = "no frame for the translation table";
        return false;
    }
    auto* table = reinterpret_cast<std::uint64_t*>(phys);
    const std::uint64_t mapped = mmu::fill_identity_table(table, ram_base, ram_top);
    if (mapped == 0) {
        *why = "RAM reaches beyond what one level-1 table maps";
        return false;
    }
    mmu::install(table);
    info->mapped_bytes = mapped;
    info->table_frames = 1;
    return true;
}

}  // namespace kernel::platform
