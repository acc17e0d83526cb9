// The Theseus-style free functions on the default global allocator: they work
// with no run-time construction and keep Theseus's names and semantics.
#include <type_traits>

#include "test_support.hpp"

namespace framealloc::test {
namespace {

static_assert(std::is_trivially_destructible_v<GlobalFrameAllocator>,
              "the global allocator must need no destructor registration");

TEST(Global, FreeFunctionsUseTheDefaultAllocator) {
    QemuMap map;
    auto into_unmapped = init(map.free, map.reserved);
    ASSERT_TRUE(into_unmapped) << into_unmapped.error().message;
    EXPECT_EQ(init(map.free, map.reserved).kind(), ErrorKind::kAlreadyInitialized);
    {
        auto f = allocate_frames(2);
        auto at = allocate_frames_at(addr(0x200000), 4);
        auto bytes = allocate_frames_by_bytes(5000);
        auto bytes_at = allocate_frames_by_bytes_at(addr(0x300010), 4096);
        auto d = allocate_frames_deferred(addr(0x400000), 1);
        auto db = allocate_frames_by_bytes_deferred({}, 1);
        ASSERT_TRUE(f && at && bytes && bytes_at && d && db);
        EXPECT_EQ(bytes->size_in_frames(), 2U);
        EXPECT_EQ(bytes_at->size_in_frames(), 2U);
        EXPECT_EQ(at->start_address().value(), 0x200000U);
        auto inspected = inspect_then_allocate_free_frames(
            [](const FrameRange<>& c) { return FramesIteratorRequest::AllocateAt(c.start(), 1); });
        ASSERT_TRUE(inspected);
        EXPECT_TRUE(inspected->has_value());
        int lines = 0;
        dump_frame_allocator_state([&](const char*) { ++lines; });
        EXPECT_GT(lines, 3);
    }
    EXPECT_EQ(default_frame_allocator().stats().general.free_frames, QemuMap::kUsableFrames);
    EXPECT_TRUE(move_to_heap(hosted_heap_hooks()));
    EXPECT_CHECK_OK(default_frame_allocator());
}

}  // namespace
}  // namespace framealloc::test
