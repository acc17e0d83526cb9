// QEMU's firmware configuration device (fw_cfg), legacy I/O-port interface:
// how the UEFI boot gets a "command line" from the test harness, which starts
// QEMU with -fw_cfg name=opt/framealloc/cmdline,string=... (the fallback
// boot path EFI/BOOT/BOOTX64.EFI has no load options to carry one).
#pragma once

#include <cstddef>

namespace kernel::fw_cfg {

/// Copies the fw_cfg file `name` into `buffer` as a NUL-terminated string
/// (cut to `capacity - 1` bytes). Returns false, leaving "" in the buffer,
/// when QEMU has no fw_cfg device or no such file.
bool read_file(const char* name, char* buffer, std::size_t capacity);

}  // namespace kernel::fw_cfg
