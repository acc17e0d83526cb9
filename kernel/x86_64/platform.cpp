// platform.hpp for the x86_64 kernels (Multiboot and UEFI boots): COM1 at I/O
// port 0x3f8, QEMU's isa-debug-exit device at 0xf4, the local APIC and IOAPIC
// as device frames, and four-level page tables (paging.cpp).
#include "platform.hpp"

#include "cpu_local.hpp"
#include "paging.hpp"
#include "x86.hpp"

namespace kernel::platform {
namespace {

constexpr std::uint16_t kCom1 = 0x3f8;
constexpr std::uint16_t kData = kCom1 + 0;
constexpr std::uint16_t kInterruptEnable = kCom1 + 1;
constexpr std::uint16_t kFifoControl = kCom1 + 2;
constexpr std::uint16_t kLineControl = kCom1 + 3;
constexpr std::uint16_t kModemControl = kCom1 + 4;
constexpr std::uint16_t kLineStatus = kCom1 + 5;
constexpr std::uint8_t kLineStatusTransmitEmpty = 0x20;

constexpr DeviceFrame kDevices[] = {
    {0xfee00000, "local APIC"},
    {0xfec00000, "IOAPIC"},
};

}  // namespace

// 115200 baud, 8N1, FIFOs on, interrupts off.
void serial_init() {
    outb(kInterruptEnable, 0x00);
    outb(kLineControl, 0x80);  // DLAB on: the next two ports are the divisor
    outb(kData, 0x01);         // 115200 / 1
    outb(kInterruptEnable, 0x00);
    outb(kLineControl, 0x03);   // 8 data bits, no parity, one stop bit, DLAB off
    outb(kFifoControl, 0xc7);   // enable and clear FIFOs
    outb(kModemControl, 0x03);  // DTR and RTS, no loopback
}

void serial_write(char c) {
    while ((inb(kLineStatus) & kLineStatusTransmitEmpty) == 0) {
    }
    outb(kData, static_cast<std::uint8_t>(c));
}

void exit(ExitCode code) {
    qemu_exit(code == ExitCode::kSuccess ? kExitSuccess : kExitFailure);
}

unsigned cpu_index() {
    return kernel::cpu_index();
}

const DeviceFrame* device_frames(std::size_t* count) {
    *count = sizeof(kDevices) / sizeof(kDevices[0]);
    return kDevices;
}

// RAM starts at 0 on a PC; the map always covers the first 4 GiB (devices).
bool map_memory(std::uint64_t /*ram_base*/, std::uint64_t ram_top, TableFrameSource source,
                void* context, MappingInfo* info, const char** why) {
    IdentityMapInfo map{};
    if (!install_identity_map(ram_top, source, context, &map, why)) {
        return false;
    }
    info->mapped_bytes = map.mapped_bytes;
    info->table_frames = map.table_frames;
    return true;
}

}  // namespace kernel::platform
