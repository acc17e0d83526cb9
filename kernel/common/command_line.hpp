// Looking for an option in a kernel command line: the Multiboot loader's, or
// the one the UEFI boot reads from QEMU's fw_cfg. The harness tests use it to
// inject failures and to force rare paths.
#pragma once

#include <cstddef>

namespace kernel {

/// True when `option` is one of the space-separated words of `command_line`
/// (which may be null).
inline bool command_line_has(const char* command_line, const char* option) {
    if (command_line == nullptr) {
        return false;
    }
    for (const char* word = command_line; *word != '\0'; ++word) {
        if (word != command_line && word[-1] != ' ') {
            continue;
        }
        std::size_t i = 0;
        while (option[i] != '\0' && word[i] == option[i]) {
            ++i;
        }
        if (option[i] == '\0' && (word[i] == '\0' || word[i] == ' ')) {
            return true;
        }
    }
    return false;
}

}  // namespace kernel
