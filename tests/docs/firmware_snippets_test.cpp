// Runs the "ten lines from each firmware's map" examples of
// docs/getting-started.md, extracted verbatim at build time, on small maps
// built here byte by byte: a Multiboot1 mmap buffer, a UEFI descriptor array
// with the 48-byte stride OVMF uses, and a flattened device tree. Each test
// checks the allocator's frame totals against what the map says, so an
// example that compiles but reserves the wrong thing fails too. Every test
// initialises the process's default allocator, so ctest runs each in its own
// process (gtest_discover_tests).
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "fdt_builder.hpp"
#include "framealloc/framealloc.hpp"
#include "framealloc/memmap.hpp"

namespace docs_example {
#include "firmware_init_snippets.inc"
}  // namespace docs_example

namespace {

constexpr std::uint64_t kMiB = 1 << 20;
constexpr std::uint64_t kFrame = 4096;

class Bytes {
  public:
    void le(std::uint64_t value, unsigned width) {
        for (unsigned i = 0; i < width; ++i) {
            data.push_back(static_cast<unsigned char>(value >> (8 * i)));
        }
    }
    std::vector<unsigned char> data;
};

std::uint64_t general_total() {
    return framealloc::default_frame_allocator().stats().general.total_frames;
}

TEST(DocsFirmwareInit, MultibootExampleReservesLowMemoryAndTheImage) {
    // {u32 size (20, excluding itself), u64 base, u64 length, u32 type}
    Bytes map;
    auto entry = [&](std::uint64_t base, std::uint64_t length, std::uint32_t type) {
        map.le(20, 4);
        map.le(base, 8);
        map.le(length, 8);
        map.le(type, 4);
    };
    entry(0, 0x9fc00, 1);           // conventional memory below 640 KiB
    entry(0xf0000, 0x10000, 2);     // BIOS ROM
    entry(kMiB, 63 * kMiB, 1);      // RAM from 1 MiB to 64 MiB
    entry(0xfffc0000, 0x40000, 2);  // firmware flash
    const std::uint64_t image = 2 * kMiB;
    const std::uint64_t image_bytes = 3 * kFrame + 100;  // rounds up to 4 frames

    auto status =
        docs_example::init_from_multiboot(map.data.data(), map.data.size(), image, image_bytes);
    ASSERT_TRUE(status) << status.error().message;
    // Free: [1 MiB, 64 MiB) minus the image; everything below 1 MiB reserved.
    EXPECT_EQ(general_total(), (63 * kMiB) / kFrame - 4);
    // The image is out of the general pool: taking it by address comes from
    // the reserved pool.
    auto at_image =
        framealloc::allocate_frames_at(framealloc::PhysicalAddress::new_canonical(image), 1);
    ASSERT_TRUE(at_image);
    EXPECT_EQ(at_image->pool(), framealloc::Pool::kReserved);
}

TEST(DocsFirmwareInit, UefiExampleUsesTheFirmwareStrideAndReservesTheImage) {
    // 48-byte descriptors: {u32 type, u32 pad, u64 phys, u64 virt, u64 pages,
    // u64 attribute, 8 bytes the firmware appended}.
    Bytes map;
    constexpr std::uint64_t kWriteBack = 0x8;
    auto descriptor = [&](std::uint32_t type, std::uint64_t start, std::uint64_t pages,
                          std::uint64_t attribute) {
        map.le(type, 4);
        map.le(0, 4);
        map.le(start, 8);
        map.le(0, 8);
        map.le(pages, 8);
        map.le(attribute, 8);
        map.le(0xdeadbeefcafef00d, 8);  // must be skipped, not read as a descriptor
    };
    descriptor(7, 0, 0xa0, kWriteBack);                         // conventional, below 640 KiB
    descriptor(7, kMiB, 0x3f00, kWriteBack);                    // conventional, 1-64 MiB
    descriptor(4, 64 * kMiB, 0x100, kWriteBack);                // boot-services data: free now
    descriptor(6, 65 * kMiB, 0x10, kWriteBack | (1ULL << 63));  // runtime data
    descriptor(7, 66 * kMiB, 0x100, 0x1);                       // uncached: not general RAM
    const std::uint64_t image = 8 * kMiB;
    const std::uint64_t image_bytes = 16 * kFrame;

    auto status =
        docs_example::init_from_uefi(map.data.data(), map.data.size(), 48, image, image_bytes);
    ASSERT_TRUE(status) << status.error().message;
    // Free: [1 MiB, 65 MiB) minus the image; the low 1 MiB is reserved.
    EXPECT_EQ(general_total(), (64 * kMiB) / kFrame - 16);
}

TEST(DocsFirmwareInit, DeviceTreeExampleReservesTheBlobAndTheImage) {
    framealloc::memmap_text::FdtBuilder builder;
    builder.add_reservation(0x48000000, 2 * kMiB);  // e.g. a firmware carve-out
    builder.begin_node("");
    builder.property_u32("#address-cells", 2);
    builder.property_u32("#size-cells", 2);
    builder.begin_node("memory@40000000");
    builder.property_string("device_type", "memory");
    builder.property_cells("reg", {0, 0x40000000, 0, 0x10000000});  // 256 MiB at 1 GiB
    builder.end_node();
    builder.end_node();
    const std::vector<std::uint8_t> blob = builder.finish();
    const std::uint64_t image = 0x40200000;
    const std::uint64_t image_bytes = 42 * kFrame;

    auto status = docs_example::init_from_device_tree(blob.data(), image, image_bytes);
    ASSERT_TRUE(status) << status.error().message;
    // The blob lives in host memory, outside this map's RAM, so only the
    // image and the reservation-block entry come out of the 256 MiB.
    EXPECT_EQ(general_total(), (256 * kMiB) / kFrame - 42 - (2 * kMiB) / kFrame);
    const auto blob_address = reinterpret_cast<std::uintptr_t>(blob.data());
    auto at_blob =
        framealloc::allocate_frames_at(framealloc::PhysicalAddress::new_canonical(blob_address), 1);
    ASSERT_TRUE(at_blob);
    EXPECT_EQ(at_blob->pool(), framealloc::Pool::kReserved);
}

}  // namespace
