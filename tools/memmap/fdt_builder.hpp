// A small hosted writer of flattened device tree blobs (version 17). The text
// parser turns a device-tree boot log into a real DTB with it so that the
// freestanding parse_fdt() does the actual interpretation, and the tests use
// it to build blobs with exactly the nodes, cell counts and reservations they
// need (and then corrupt them byte by byte).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace framealloc::memmap_text {

class FdtBuilder {
  public:
    /// Adds an entry to the memory reservation block.
    void add_reservation(std::uint64_t address, std::uint64_t size);
    /// Opens a node; the first one opened is the root (name "").
    void begin_node(std::string_view name);
    void end_node();
    /// A property with raw bytes as its value.
    void property(std::string_view name, const std::vector<std::uint8_t>& value);
    void property_u32(std::string_view name, std::uint32_t value);
    /// A NUL-terminated string value, as device_type and status are stored.
    void property_string(std::string_view name, std::string_view value);
    /// A list of big-endian u32 cells (reg, ranges, ...).
    void property_cells(std::string_view name, const std::vector<std::uint32_t>& cells);
    /// Appends a value as `cells` big-endian u32 cells (1 or 2 for reg), for
    /// building the cells vector of a reg property.
    static void append_cells(std::vector<std::uint32_t>& out, std::uint64_t value, unsigned cells);

    /// The finished blob: header, reservation block, structure, strings.
    /// Closes any node still open.
    [[nodiscard]] std::vector<std::uint8_t> finish();

  private:
    std::uint32_t string_offset(std::string_view name);
    void token(std::uint32_t value);
    void pad_struct();

    std::vector<std::uint64_t> reservations_;
    std::vector<std::uint8_t> struct_;
    std::string strings_;
    int open_nodes_ = 0;
};

}  // namespace framealloc::memmap_text
