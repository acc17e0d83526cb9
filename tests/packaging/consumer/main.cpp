// Consumer check (C++): the installed headers compile and an allocator works.
#include <framealloc/framealloc.hpp>
#include <framealloc/hosted.hpp>

#include <cstdio>

int main() {
    static framealloc::FrameAllocator allocator;
    const framealloc::PhysicalMemoryRegion ram[] = {
        framealloc::PhysicalMemoryRegion::from_bytes(0x100000, 0x400000,
                                                     framealloc::MemoryRegionType::kFree)
            .value()};
    if (!allocator.init(ram, {})) {
        return 1;
    }
    auto frames = allocator.allocate_frames(4);
    if (!frames || frames->size_in_frames() != 4 ||
        allocator.stats().general.allocated_frames != 4) {
        return 2;
    }
    std::puts("consumer_cpp ok");
    return 0;
}
