// The kernel command line of the AArch64 boot: /chosen/bootargs in the device
// tree, where QEMU puts -append (for bare-metal ELF images too). The tests use
// it to inject failures.
#pragma once

#include <cstddef>

namespace kernel {

/// Returns /chosen/bootargs of the blob (`size` readable bytes), or nullptr
/// when the blob is malformed or has none. Every offset is bounds-checked;
/// the value must be NUL-terminated inside the property.
[[nodiscard]] const char* device_tree_bootargs(const unsigned char* blob, std::size_t size);

}  // namespace kernel
