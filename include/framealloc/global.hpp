// The Theseus-style free functions, working on one default allocator that
// exists from the first instruction: it is constinit and trivially
// destructible, so no constructor or destructor ever runs for it. Kernels that
// want several allocators (one per NUMA node) create BasicFrameAllocator
// objects instead; these functions never touch those.
#pragma once

#include "framealloc/allocator.hpp"

namespace framealloc {

using GlobalFrameAllocator = BasicFrameAllocator<SpinLock, FRAMEALLOC_EARLY_CAPACITY, true>;

namespace detail {
inline constinit GlobalFrameAllocator g_default_frame_allocator{};
}  // namespace detail

/// The default allocator behind the free functions.
[[nodiscard]] inline GlobalFrameAllocator& default_frame_allocator() {
    return detail::g_default_frame_allocator;
}

[[nodiscard]] inline Result<IntoUnmappedFrames> init(
    Span<const PhysicalMemoryRegion> free_regions,
    Span<const PhysicalMemoryRegion> reserved_regions) {
    return default_frame_allocator().init(free_regions, reserved_regions);
}
/// init() with the metadata carved out of the free memory (see
/// BasicFrameAllocator::init_carving_metadata).
[[nodiscard]] inline Result<IntoUnmappedFrames> init_carving_metadata(
    Span<const PhysicalMemoryRegion> free_regions,
    Span<const PhysicalMemoryRegion> reserved_regions, const MetadataPlacement& where) {
    return default_frame_allocator().init_carving_metadata(free_regions, reserved_regions, where);
}
[[nodiscard]] inline Result<DeferredAllocation> allocate_frames_deferred(
    Optional<PhysicalAddress> address, std::uint64_t num_frames) {
    return default_frame_allocator().allocate_frames_deferred(address, num_frames);
}
[[nodiscard]] inline Result<DeferredAllocation> allocate_frames_by_bytes_deferred(
    Optional<PhysicalAddress> address, std::uint64_t num_bytes) {
    return default_frame_allocator().allocate_frames_by_bytes_deferred(address, num_bytes);
}
[[nodiscard]] inline Result<AllocatedFrames<>> allocate_frames(std::uint64_t num_frames) {
    return default_frame_allocator().allocate_frames(num_frames);
}
[[nodiscard]] inline Result<AllocatedFrames<>> allocate_frames_at(PhysicalAddress address,
                                                                  std::uint64_t num_frames) {
    return default_frame_allocator().allocate_frames_at(address, num_frames);
}
[[nodiscard]] inline Result<AllocatedFrames<>> allocate_frames_by_bytes(std::uint64_t num_bytes) {
    return default_frame_allocator().allocate_frames_by_bytes(num_bytes);
}
[[nodiscard]] inline Result<AllocatedFrames<>> allocate_frames_by_bytes_at(
    PhysicalAddress address, std::uint64_t num_bytes) {
    return default_frame_allocator().allocate_frames_by_bytes_at(address, num_bytes);
}
template <typename F>
[[nodiscard]] inline Result<Optional<AllocatedFrames<>>> inspect_then_allocate_free_frames(
    F&& func) {
    return default_frame_allocator().inspect_then_allocate_free_frames(static_cast<F&&>(func));
}
/// Theseus moves its allocator to heap storage implicitly; here it is one call.
[[nodiscard]] inline Status move_to_heap(HeapHooks hooks) {
    return default_frame_allocator().move_to_heap(hooks);
}
template <typename Sink>
inline void dump_frame_allocator_state(Sink&& out) {
    default_frame_allocator().dump(static_cast<Sink&&>(out));
}

}  // namespace framealloc
