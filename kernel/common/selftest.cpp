// framealloc self-test, run in ring 0 on real (emulated) memory. Every frame
// handed out from the general pool gets a pattern derived from its address and
// a per-allocation seed, and is checked before it is freed: if the allocator
// ever handed one frame to two owners, the later owner's pattern would
// overwrite the earlier one's and the check would fail. Device memory (the
// board's device frames from platform.hpp: the APICs on a PC, the GIC and
// UART on AArch64's virt board) is only allocated by address, never touched.
// The same test runs on every boot path; nothing in it depends on the CPU.
// The test's own bookkeeping lives on the kernel heap, so the heap (and with
// it framealloc's node storage) keeps growing while frames are allocated.
#include "selftest.hpp"

#include <new>
#include <utility>

#include "console.hpp"
#include "frame_allocator.hpp"
#include "framealloc/framealloc.hpp"
#include "memory.hpp"
#include "platform.hpp"
#include "selftest_support.hpp"

namespace kernel {
namespace {

using framealloc::AllocatedFrames;
using framealloc::AllocRequest;
using framealloc::ErrorKind;
using framealloc::Page2M;
using framealloc::PhysicalAddress;
using selftest::Counters;
using selftest::fill;
using selftest::kind_name;
using selftest::Random;
using selftest::Slot;
using selftest::verify;

constexpr std::size_t kSlots = 1024;
constexpr std::size_t kHugeSlots = 8;
constexpr unsigned kIterations = 6000;
constexpr std::uint64_t kMaxRun = 64;
constexpr std::size_t kMaxExhaustHandles = 512;
// The DMA-style window, as offsets from the lowest RAM address (0 on a PC, so
// 16-48 MiB there as in ISA-era DMA limits; 1 GiB + that on AArch64's virt).
constexpr std::uint64_t kWindowLowOffset = 16ull << 20;
constexpr std::uint64_t kWindowHighOffset = 48ull << 20;
constexpr std::uint64_t kFourGiB = 4ull << 30;
// Words per frame checked: every word for 4 KiB allocations; for 2 MiB frames
// one word in 64 keeps the run short under TCG while still touching every frame.
constexpr unsigned kDenseStride = 1;
constexpr unsigned kSparseStride = 64;

class Selftest {
  public:
    Selftest(Slot<framealloc::Page4K>* slots, Slot<Page2M>* huge)
        : allocator_(frame_allocator()), slots_(slots), huge_(huge) {}

    void run_mixed();
    void run_device_and_errors();
    void run_exhaustion();
    void release_all();
    [[nodiscard]] const Counters& counters() const { return counters_; }

  private:
    void place(AllocatedFrames<>&& frames, const char* what);
    void release(std::size_t index);
    void release_huge(std::size_t index);
    std::uint64_t random_run() { return 2 + random_.below(kMaxRun - 1); }
    AllocatedFrames<> expect(framealloc::Result<AllocatedFrames<>>&& result, const char* what);
    template <typename R>
    void expect_error(R&& result, ErrorKind kind, const char* what);
    AllocatedFrames<> constrained(framealloc::Result<AllocatedFrames<>>&& result,
                                  const AllocRequest& request, const char* what);
    void confirm_unavailable(ErrorKind kind, const AllocRequest& request, const char* what);
    void keep_within_budget();
    void op_aligned();
    void op_windowed();
    void op_at_reuse();
    void op_inspect();
    void op_split_merge();
    void op_huge();
    void op_high();

    KernelFrameAllocator& allocator_;
    Slot<framealloc::Page4K>* slots_;
    Slot<Page2M>* huge_;
    Random random_{0x5eed'f4a1'10c0'2026};
    Counters counters_;
    // Frames held by live slots, and the most the mixed phase may hold: a
    // quarter of free memory, so that every request size stays satisfiable
    // on small machines too.
    std::uint64_t live_frames_ = 0;
    std::uint64_t budget_frames_ = 0;
};

AllocatedFrames<> Selftest::expect(framealloc::Result<AllocatedFrames<>>&& result,
                                   const char* what) {
    if (!result) {
        kpanic("selftest: %s failed: %s (%s)", what, kind_name(result.kind()),
               result.error().message);
    }
    ++counters_.allocations;
    return std::move(result.value());
}

template <typename R>
void Selftest::expect_error(R&& result, ErrorKind kind, const char* what) {
    if (result) {
        kpanic("selftest: %s succeeded, expected '%s'", what, kind_name(kind));
    }
    if (result.kind() != kind) {
        kpanic("selftest: %s failed with '%s', expected '%s'", what, kind_name(result.kind()),
               kind_name(kind));
    }
    ++counters_.expected_errors;
}

// A constrained request (alignment, window, huge) may fail for want of a
// fitting run; that answer is accepted only after checking every free chunk
// independently and finding none that fits. Any other error is a failure.
void Selftest::confirm_unavailable(ErrorKind kind, const AllocRequest& request, const char* what) {
    if (kind != ErrorKind::kNotEnoughContiguous && kind != ErrorKind::kOutOfMemory) {
        kpanic("selftest: %s failed: %s", what, kind_name(kind));
    }
    framealloc::FrameRange<> witness;
    auto inspected =
        allocator_.inspect_then_allocate_free_frames([&](framealloc::FrameRange<> chunk) {
            if (selftest::run_fits(chunk.start().number(), chunk.end().number(), request)) {
                witness = chunk;
                return framealloc::FramesIteratorRequest::Stop();
            }
            return framealloc::FramesIteratorRequest::Next();
        });
    if (!inspected) {
        kpanic("selftest: inspect_then_allocate_free_frames failed: %s",
               kind_name(inspected.kind()));
    }
    if (!witness.is_empty()) {
        kpanic("selftest: %s failed with '%s' although free frames 0x%lx-0x%lx fit it", what,
               kind_name(kind), witness.start().number(), witness.end().number());
    }
    ++counters_.unavailable;
}

AllocatedFrames<> Selftest::constrained(framealloc::Result<AllocatedFrames<>>&& result,
                                        const AllocRequest& request, const char* what) {
    if (result) {
        ++counters_.allocations;
        return std::move(result.value());
    }
    confirm_unavailable(result.kind(), request, what);
    return AllocatedFrames<>();
}

// Frees random slots until the live frames fit the budget again.
void Selftest::keep_within_budget() {
    while (live_frames_ > budget_frames_) {
        release(random_.below(kSlots));
        release_huge(random_.below(kHugeSlots));
    }
}

// Stores a fresh allocation in a random slot, freeing (after checking) what
// was there: that keeps many allocations alive and churning.
void Selftest::place(AllocatedFrames<>&& frames, const char* what) {
    if (frames.is_empty()) {
        kpanic("selftest: %s returned an empty handle", what);
    }
    std::size_t index = random_.below(kSlots);
    release(index);
    Slot<framealloc::Page4K>& slot = slots_[index];
    slot.frames = std::move(frames);
    slot.seed = random_.next();
    live_frames_ += slot.frames.size_in_frames();
    std::uint64_t end = slot.frames.start_address().value() + slot.frames.size_in_bytes();
    counters_.highest_address = end > counters_.highest_address ? end : counters_.highest_address;
    fill(slot.frames.start_address().value(), slot.frames.size_in_frames(), slot.seed,
         kDenseStride);
}

void Selftest::release(std::size_t index) {
    Slot<framealloc::Page4K>& slot = slots_[index];
    if (slot.frames.is_empty()) {
        return;
    }
    counters_.frames_verified += verify(slot.frames.start_address().value(),
                                        slot.frames.size_in_frames(), slot.seed, kDenseStride);
    live_frames_ -= slot.frames.size_in_frames();
    slot.frames = AllocatedFrames<>();  // back to framealloc
}

void Selftest::release_huge(std::size_t index) {
    Slot<Page2M>& slot = huge_[index];
    if (slot.frames.is_empty()) {
        return;
    }
    std::uint64_t frames = slot.frames.size_in_bytes() / 4096;
    counters_.frames_verified +=
        verify(slot.frames.start_address().value(), frames, slot.seed, kSparseStride);
    live_frames_ -= frames;
    slot.frames = AllocatedFrames<Page2M>();
}

// Frees an allocation and asks for exactly its frames back by address.
void Selftest::op_at_reuse() {
    std::size_t index = random_.below(kSlots);
    if (slots_[index].frames.is_empty()) {
        return;
    }
    std::uint64_t start = slots_[index].frames.start_address().value();
    std::uint64_t count = slots_[index].frames.size_in_frames();
    release(index);
    auto frames =
        expect(allocator_.allocate_frames_at(PhysicalAddress::new_canonical(start), count),
               "allocate_frames_at a just-freed range");
    if (frames.start_address().value() != start || frames.size_in_frames() != count) {
        kpanic("selftest: allocate_frames_at(0x%lx, %lu) returned other frames", start, count);
    }
    ++counters_.at_address;
    place(std::move(frames), "allocate_frames_at");
}

// Takes two frames out of the middle of the first free chunk big enough.
void Selftest::op_inspect() {
    auto result = allocator_.inspect_then_allocate_free_frames([](framealloc::FrameRange<> chunk) {
        if (chunk.size_in_frames() < 4) {
            return framealloc::FramesIteratorRequest::Next();
        }
        return framealloc::FramesIteratorRequest::AllocateAt(chunk.start() + 1, 2);
    });
    if (!result) {
        kpanic("selftest: inspect_then_allocate_free_frames failed: %s", kind_name(result.kind()));
    }
    if (!result.value().has_value()) {
        kpanic("selftest: inspect_then_allocate_free_frames found no chunk of 4 frames");
    }
    AllocatedFrames<> frames = std::move(result.value().value());
    if (frames.size_in_frames() != 2) {
        kpanic("selftest: inspect_then_allocate_free_frames gave %lu frames, asked for 2",
               frames.size_in_frames());
    }
    ++counters_.allocations;
    ++counters_.inspected;
    place(std::move(frames), "inspect_then_allocate_free_frames");
}

// Splits a run in two and merges it back; the pattern must survive both.
void Selftest::op_split_merge() {
    std::size_t index = random_.below(kSlots);
    Slot<framealloc::Page4K>& slot = slots_[index];
    if (slot.frames.size_in_frames() < 2) {
        return;
    }
    auto original = slot.frames.range();
    auto at = slot.frames.start() + (1 + random_.below(slot.frames.size_in_frames() - 1));
    auto parts = slot.frames.split_at(at);
    if (!parts) {
        kpanic("selftest: split_at failed: %s", kind_name(parts.kind()));
    }
    if (!slot.frames.is_empty() || parts.value().second.start() != at) {
        kpanic("selftest: split_at left the wrong pieces");
    }
    AllocatedFrames<> first = std::move(parts.value().first);
    AllocatedFrames<> second = std::move(parts.value().second);
    if (!first.merge(second) || !second.is_empty() || first.range() != original) {
        kpanic("selftest: merge did not restore the split range");
    }
    slot.frames = std::move(first);
    ++counters_.split_merge;
}

void Selftest::op_huge() {
    std::size_t index = random_.below(kHugeSlots);
    release_huge(index);
    auto result = allocator_.allocate_huge<Page2M>();
    if (!result) {
        confirm_unavailable(result.kind(), AllocRequest::frames(512).aligned(512),
                            "allocate_huge<Page2M>");
        return;
    }
    Slot<Page2M>& slot = huge_[index];
    slot.frames = std::move(result.value());
    if (slot.frames.start_address().value() % Page2M::kBytes != 0) {
        kpanic("selftest: 2 MiB frame at 0x%lx is not 2 MiB aligned",
               slot.frames.start_address().value());
    }
    slot.seed = random_.next();
    live_frames_ += 512;
    fill(slot.frames.start_address().value(), 512, slot.seed, kSparseStride);
    ++counters_.allocations;
    ++counters_.huge;
}

void Selftest::op_aligned() {
    std::uint64_t align = std::uint64_t{1} << (1 + random_.below(9));
    std::uint64_t count = 1 + random_.below(align < 16 ? align : 16);
    auto request = AllocRequest::frames(count).aligned(align);
    auto frames = constrained(allocator_.allocate(request), request, "aligned allocate");
    if (frames.is_empty()) {
        return;
    }
    if (frames.start().number() % align != 0 || frames.size_in_frames() != count) {
        kpanic("selftest: aligned allocation of %lu frames at frame 0x%lx, align %lu", count,
               frames.start().number(), align);
    }
    ++counters_.aligned;
    place(std::move(frames), "aligned");
}

// A DMA-style window that never crosses a 64 KiB boundary.
void Selftest::op_windowed() {
    const std::uint64_t low = memory_facts().ram_base + kWindowLowOffset;
    const std::uint64_t high = memory_facts().ram_base + kWindowHighOffset;
    std::uint64_t count = 1 + random_.below(16);
    auto request =
        AllocRequest::frames(count)
            .within(PhysicalAddress::new_canonical(low), PhysicalAddress::new_canonical(high - 1))
            .not_crossing(16);
    auto frames = constrained(allocator_.allocate(request), request, "windowed allocate");
    if (frames.is_empty()) {
        return;
    }
    std::uint64_t start = frames.start_address().value();
    std::uint64_t end = start + frames.size_in_bytes();
    if (start < low || end > high || start / 65536 != (end - 1) / 65536) {
        kpanic("selftest: windowed allocation [0x%lx, 0x%lx) breaks its constraints", start, end);
    }
    ++counters_.windowed;
    place(std::move(frames), "windowed");
}

// RAM above 4 GiB (QEMU -m 4G has 1 GiB there) is only reachable through the
// page tables the kernel built from framealloc frames; write to it on purpose,
// since an allocator preferring low addresses might never hand it out.
void Selftest::op_high() {
    std::uint64_t count = 1 + random_.below(kMaxRun);
    auto request = AllocRequest::frames(count).within(
        PhysicalAddress::new_canonical(kFourGiB),
        PhysicalAddress::new_canonical(memory_facts().ram_top - 1));
    auto frames = constrained(allocator_.allocate(request), request, "allocation above 4 GiB");
    if (frames.is_empty()) {
        return;
    }
    if (frames.start_address().value() < kFourGiB) {
        kpanic("selftest: allocation above 4 GiB returned 0x%lx", frames.start_address().value());
    }
    ++counters_.above_4g;
    place(std::move(frames), "above 4 GiB");
}

void Selftest::run_mixed() {
    budget_frames_ = allocator_.stats().general.free_frames / 4;
    for (unsigned i = 0; i < kIterations; ++i) {
        keep_within_budget();
        std::uint64_t dice = random_.below(100);
        if (dice < 30) {
            place(expect(allocator_.allocate_frames(1), "allocate_frames(1)"), "single");
        } else if (dice < 50) {
            place(expect(allocator_.allocate_frames(random_run()), "allocate_frames(n)"), "run");
        } else if (dice < 60) {
            op_aligned();
        } else if (dice < 66) {
            op_windowed();
        } else if (dice < 70 && memory_facts().ram_top > kFourGiB) {
            op_high();
        } else if (dice < 74) {
            std::uint64_t bytes = 1 + random_.below(64 * 1024);
            auto frames =
                expect(allocator_.allocate_frames_by_bytes(bytes), "allocate_frames_by_bytes");
            if (frames.size_in_frames() != (bytes + 4095) / 4096) {
                kpanic("selftest: %lu bytes gave %lu frames", bytes, frames.size_in_frames());
            }
            place(std::move(frames), "by bytes");
        } else if (dice < 80) {
            op_at_reuse();
        } else if (dice < 82) {
            op_huge();
        } else if (dice < 84) {
            op_split_merge();
        } else if (i % 97 == 0) {
            op_inspect();
        } else {
            release(random_.below(kSlots));
        }
    }
}

void Selftest::run_device_and_errors() {
    // Device windows lie in no free region of the firmware's map: the first
    // allocation at an address takes the frame from the reserved pool (making
    // a reserved region there if the map had none), a second one must fail.
    std::size_t device_count = 0;
    const platform::DeviceFrame* devices = platform::device_frames(&device_count);
    for (std::size_t i = 0; i < device_count; ++i) {
        const std::uint64_t device = devices[i].address;
        auto address = PhysicalAddress::new_canonical(device);
        auto frames = expect(allocator_.allocate_frames_at(address, 1), "allocate at MMIO");
        if (frames.pool() != framealloc::Pool::kReserved ||
            frames.start_address().value() != device) {
            kpanic("selftest: MMIO frame 0x%lx (%s) not from the reserved pool", device,
                   devices[i].name);
        }
        expect_error(allocator_.allocate_frames_at(address, 1), ErrorKind::kAddressInUse,
                     "second allocation at an MMIO frame");
        frames = AllocatedFrames<>();
        auto again = expect(allocator_.allocate_frames_at(address, 1), "MMIO after free");
        ++counters_.device;
    }
    // The very last frame of RAM: proves the identity map reaches the top.
    const MemoryFacts& facts = memory_facts();
    {
        auto last = expect(
            allocator_.allocate_frames_at(PhysicalAddress::new_canonical(facts.ram_top - 4096), 1),
            "allocation of the last frame of RAM");
        std::uint64_t seed = random_.next();
        fill(last.start_address().value(), 1, seed, kDenseStride);
        counters_.frames_verified += verify(last.start_address().value(), 1, seed, kDenseStride);
        counters_.highest_address = facts.ram_top;
    }
    expect_error(allocator_.allocate_frames(0), ErrorKind::kZeroFrames, "allocate_frames(0)");
    expect_error(
        allocator_.allocate_frames_at(PhysicalAddress::new_canonical(facts.kernel_image_start), 1),
        ErrorKind::kAddressInUse, "allocation at the kernel image");
    expect_error(allocator_.allocate(AllocRequest::frames(1).aligned(3)),
                 ErrorKind::kInvalidArgument, "alignment 3");
    auto too_many = allocator_.allocate_frames(allocator_.stats().general.total_frames + 1);
    if (too_many || (too_many.kind() != ErrorKind::kOutOfMemory &&
                     too_many.kind() != ErrorKind::kNotEnoughContiguous)) {
        kpanic("selftest: allocating more frames than exist did not fail as it should");
    }
    ++counters_.expected_errors;
}

// Takes every free frame (without touching them: at -m 4G that would be 4 GiB
// of writes under TCG), checks the allocator then reports out-of-memory, and
// gives everything back.
void Selftest::run_exhaustion() {
    void* memory = kernel_heap().allocate(sizeof(AllocatedFrames<>) * kMaxExhaustHandles,
                                          alignof(AllocatedFrames<>));
    if (memory == nullptr) {
        kpanic("selftest: heap could not hold the exhaustion handles");
    }
    // Measured after the heap allocation above, which may have grown the heap.
    const std::uint64_t free_before = allocator_.stats().general.free_frames;
    const std::uint64_t heap_before = heap_frames_taken();
    auto* handles = static_cast<AllocatedFrames<>*>(memory);
    std::size_t count = 0;
    std::uint64_t taken = 0;
    for (; count < kMaxExhaustHandles; ++count) {
        std::uint64_t largest = allocator_.stats().general.largest_free_chunk;
        auto frames = allocator_.allocate_frames(largest != 0 ? largest : 1);
        if (!frames) {
            if (frames.kind() != ErrorKind::kOutOfMemory) {
                kpanic("selftest: exhausting memory ended with '%s', not out of memory",
                       kind_name(frames.kind()));
            }
            break;
        }
        taken += frames.value().size_in_frames();
        new (&handles[count]) AllocatedFrames<>(std::move(frames.value()));
        ++counters_.allocations;
    }
    // Frames framealloc's node growth made the heap take meanwhile are not ours.
    const std::uint64_t heap_growth = heap_frames_taken() - heap_before;
    if (taken + heap_growth != free_before || allocator_.stats().general.free_frames != 0) {
        kpanic(
            "selftest: exhaustion took %lu frames in %zu allocations (heap %lu), %lu were "
            "free",
            taken, count, heap_growth, free_before);
    }
    kprintf("framealloc-kernel: exhausted RAM: %lu frames in %zu allocations, then out of memory\n",
            taken, count);
    for (std::size_t i = 0; i < count; ++i) {
        handles[i].~AllocatedFrames<>();
    }
    kernel_heap().deallocate(memory, sizeof(AllocatedFrames<>) * kMaxExhaustHandles,
                             alignof(AllocatedFrames<>));
}

void Selftest::release_all() {
    for (std::size_t i = 0; i < kSlots; ++i) {
        release(i);
    }
    for (std::size_t i = 0; i < kHugeSlots; ++i) {
        release_huge(i);
    }
}

void check_invariants(const char* when) {
    auto status = frame_allocator().check();
    if (!status) {
        kpanic("selftest: framealloc check() failed %s: %s", when, status.error().message);
    }
    const char* why = nullptr;
    if (!kernel_heap().check(&why)) {
        kpanic("selftest: heap check failed %s: %s", when, why);
    }
}

}  // namespace

SelftestSummary run_selftest() {
    auto& allocator = frame_allocator();
    check_invariants("before the test");
    const framealloc::FrameStats before = allocator.stats();
    const std::uint64_t heap_frames_before = heap_frames_taken();

    // The test's own tables live on the kernel heap: more heap growth.
    Heap& heap = kernel_heap();
    auto* slots = static_cast<Slot<framealloc::Page4K>*>(heap.allocate(
        sizeof(Slot<framealloc::Page4K>) * kSlots, alignof(Slot<framealloc::Page4K>)));
    auto* huge = static_cast<Slot<Page2M>*>(
        heap.allocate(sizeof(Slot<Page2M>) * kHugeSlots, alignof(Slot<Page2M>)));
    if (slots == nullptr || huge == nullptr) {
        kpanic("selftest: heap could not hold the slot tables");
    }
    for (std::size_t i = 0; i < kSlots; ++i) {
        new (&slots[i]) Slot<framealloc::Page4K>();
    }
    for (std::size_t i = 0; i < kHugeSlots; ++i) {
        new (&huge[i]) Slot<Page2M>();
    }

    Selftest test(slots, huge);
    test.run_mixed();
    const framealloc::FrameStats busy = allocator.stats();
    kprintf(
        "framealloc-kernel: mixed phase done after %lu allocations: general free "
        "%lu/%lu, %lu chunks, fragmentation %u/1000, nodes %u of %u\n",
        test.counters().allocations, busy.general.free_frames, busy.general.total_frames,
        busy.general.free_chunks, busy.fragmentation_permille(), busy.nodes_used,
        busy.nodes_capacity);
    check_invariants("with allocations live");
    test.release_all();
    check_invariants("after freeing the mixed allocations");
    test.run_device_and_errors();
    test.run_exhaustion();
    check_invariants("after exhaustion");

    for (std::size_t i = 0; i < kSlots; ++i) {
        slots[i].~Slot();
    }
    for (std::size_t i = 0; i < kHugeSlots; ++i) {
        huge[i].~Slot();
    }
    heap.deallocate(huge, sizeof(Slot<Page2M>) * kHugeSlots, alignof(Slot<Page2M>));
    heap.deallocate(slots, sizeof(Slot<framealloc::Page4K>) * kSlots,
                    alignof(Slot<framealloc::Page4K>));
    check_invariants("at the end");

    // Every frame must be back: the only frames still out are those the heap
    // took to grow (it never shrinks), and the reserved pool is as it was.
    const framealloc::FrameStats after = allocator.stats();
    const std::uint64_t heap_growth = heap_frames_taken() - heap_frames_before;
    if (after.general.free_frames + heap_growth != before.general.free_frames ||
        after.reserved.allocated_frames != before.reserved.allocated_frames) {
        kpanic(
            "selftest: frames leaked: general free %lu before, %lu after (+%lu heap), "
            "reserved allocated %lu before, %lu after",
            before.general.free_frames, after.general.free_frames, heap_growth,
            before.reserved.allocated_frames, after.reserved.allocated_frames);
    }

    const Counters& c = test.counters();
    const HeapStats hs = heap.stats();
    kprintf(
        "framealloc-kernel: %lu huge (2 MiB) frames, %lu aligned, %lu windowed, %lu at-address, "
        "%lu inspected, %lu split+merge, %lu device, %lu expected errors, %lu constrained "
        "requests with no fitting run (confirmed)\n",
        c.huge, c.aligned, c.windowed, c.at_address, c.inspected, c.split_merge, c.device,
        c.expected_errors, c.unavailable);
    kprintf("framealloc-kernel: %lu allocations above 4 GiB, highest byte written 0x%lx\n",
            c.above_4g, c.highest_address - 1);
    kprintf(
        "framealloc-kernel: heap grew by %lu frames during the test (%zu grows in total, "
        "%zu KiB in %zu arenas), framealloc nodes %u of %u\n",
        heap_growth, hs.grows, hs.arena_bytes / 1024, hs.arenas, after.nodes_used,
        after.nodes_capacity);

    const HeapGrowthFacts& growth = heap_growth_facts();
    kprintf(
        "framealloc-kernel: heap grew %lu times inside framealloc's heap hook, %lu "
        "deferred action(s) had work pending\n",
        growth.grows_inside_hook, growth.deferred_actions_pending);

    SelftestSummary summary;
    summary.allocations = c.allocations;
    summary.frames_verified = c.frames_verified;
    summary.free_frames = after.general.free_frames;
    summary.total_frames = after.general.total_frames;
    return summary;
}

}  // namespace kernel
