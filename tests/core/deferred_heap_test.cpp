// Early mode, the move to heap storage, the deferred bookkeeping action (and
// why it exists: a heap that allocates frames from this allocator while it
// grows), per-CPU caches and their draining, and a user-chosen lock type.
#include <cstdlib>

#include "test_support.hpp"

namespace framealloc::test {
namespace {

TEST(EarlyMode, AllocatesBeforeAnyHeapExists) {
    QemuMap map;
    auto a = make_allocator(map.free, map.reserved);
    EXPECT_FALSE(a->heap_mode());
    auto f = a->allocate_frames(3);
    ASSERT_TRUE(f);
    auto d = a->allocate_frames_deferred({}, 1);
    ASSERT_TRUE(d);
    EXPECT_FALSE(d->action.pending()) << "early mode has no heap work to defer";
    EXPECT_EQ(a->stats().cached_frames, 0U);
}

TEST(MoveToHeap, KeepsEveryFrameAndHandleValid) {
    QemuMap map;
    auto a = make_allocator(map.free, map.reserved);
    auto before = a->allocate_frames(10);
    ASSERT_TRUE(before);
    ASSERT_TRUE(a->move_to_heap(hosted_heap_hooks()));
    EXPECT_TRUE(a->heap_mode());
    EXPECT_GT(a->stats().nodes_capacity, 256U);
    EXPECT_EQ(a->move_to_heap(hosted_heap_hooks()).kind(), ErrorKind::kAlreadyInitialized);
    before = Result<AllocatedFrames<>>(AllocatedFrames<>());  // freed after the move
    EXPECT_EQ(a->stats().general.free_frames, QemuMap::kUsableFrames);
    EXPECT_CHECK_OK(*a);
}

TEST(MoveToHeap, NullHooksOrAFailingHeapAreErrorsThatChangeNothing) {
    auto a = make_allocator({frames(0, 99)});
    EXPECT_EQ(a->move_to_heap(HeapHooks{}).kind(), ErrorKind::kInvalidArgument);
    HeapHooks broken{[](void*, std::size_t, std::size_t) -> void* { return nullptr; },
                     [](void*, void*, std::size_t, std::size_t) {}, nullptr};
    EXPECT_EQ(a->move_to_heap(broken).kind(), ErrorKind::kHeapUnavailable);
    EXPECT_FALSE(a->heap_mode());
    EXPECT_TRUE(a->allocate_frames(5));
    EXPECT_TRUE(a->move_to_heap(hosted_heap_hooks()));
}

// A heap whose allocate hook takes frames from the very allocator it serves.
struct SelfFeedingHeap {
    FrameAllocator* frames = nullptr;
    std::vector<AllocatedFrames<>> backing;
    int grow_calls = 0;
    int nested_failures = 0;

    static void* allocate(void* ctx, std::size_t bytes, std::size_t align) {
        auto* self = static_cast<SelfFeedingHeap*>(ctx);
        ++self->grow_calls;
        if (self->frames->heap_mode()) {
            // The allocator's lock is not held here: this must not deadlock.
            auto more = self->frames->allocate_frames_deferred({}, 4);
            if (more) {
                self->backing.push_back(std::move(more->frames));
            } else {
                ++self->nested_failures;
            }
        }
        return ::operator new(bytes, std::align_val_t(align));
    }
    static void deallocate(void*, void* p, std::size_t, std::size_t align) {
        ::operator delete(p, std::align_val_t(align));
    }
};

TEST(DeferredAllocAction, HeapThatAllocatesFramesWhileGrowingNeitherDeadlocksNorCorrupts) {
    // The heap feeds from the general region; handles are made in the
    // reserved one (reserved-pool handles are what hold bookkeeping nodes).
    auto a = make_allocator({frames(0, 0x7ffff)},
                            {frames(0x100000, 0x1fffff, MemoryRegionType::kReserved)});
    SelfFeedingHeap heap;
    heap.frames = a.get();
    ASSERT_TRUE(
        a->move_to_heap(HeapHooks{SelfFeedingHeap::allocate, SelfFeedingHeap::deallocate, &heap}));
    const std::uint32_t initial_capacity = a->stats().nodes_capacity;
    // Many separate handles at alternating frames use up nodes until the
    // deferred action has to grow storage through the heap.
    std::vector<AllocatedFrames<>> held;
    bool saw_pending = false;
    for (std::uint64_t i = 0; i < 3 * initial_capacity; ++i) {
        auto d = a->allocate_frames_deferred(frame(0x100000 + 2 * i).start_address(), 1);
        ASSERT_TRUE(d) << d.error().message;
        saw_pending = saw_pending || d->action.pending();
        held.push_back(std::move(d->frames));
        // d->action runs here, outside every lock.
    }
    EXPECT_TRUE(saw_pending);
    EXPECT_GT(heap.grow_calls, 1);
    EXPECT_GT(a->stats().nodes_capacity, initial_capacity);
    EXPECT_EQ(heap.nested_failures, 0);
    EXPECT_FALSE(heap.backing.empty());
    EXPECT_CHECK_OK(*a);
    held.clear();
    heap.backing.clear();
    EXPECT_EQ(a->stats().general.free_frames, 0x80000U);
    EXPECT_EQ(a->stats().reserved.free_frames, 0x100000U);
    EXPECT_CHECK_OK(*a);
}

TEST(DeferredAllocAction, RunsOnceWhetherRunExplicitlyOrDestroyed) {
    struct Counter : FrameOwner {
        int runs = 0;
        void run_deferred() override { ++runs; }
    } counter;
    {
        DeferredAllocAction action(&counter);
        EXPECT_TRUE(action.pending());
        action.run();
        EXPECT_FALSE(action.pending());
    }
    { DeferredAllocAction action(&counter); }
    EXPECT_EQ(counter.runs, 2);
}

TEST(PerCpuCache, CachedFramesCountAsFreeAndDrainBack) {
    auto a = make_allocator({frames(0, 0xffff)});
    ASSERT_TRUE(a->move_to_heap(hosted_heap_hooks()));
    set_current_cpu(3);
    { auto one = a->allocate_frames(1); }
    const FrameStats st = a->stats();
    EXPECT_GT(st.cached_frames, 0U);
    EXPECT_EQ(st.general.free_frames, 0x10000U);
    EXPECT_CHECK_OK(*a);
    a->drain_cpu_cache(3);
    EXPECT_EQ(a->stats().cached_frames, 0U);
    EXPECT_EQ(a->stats().general.free_chunks, 1U);
    EXPECT_CHECK_OK(*a);
}

TEST(PerCpuCache, FramesParkedInAnotherCpuCacheAreStillAllocatable) {
    auto a = make_allocator({frames(0, 63)});
    ASSERT_TRUE(a->move_to_heap(hosted_heap_hooks()));
    set_current_cpu(5);
    { auto one = a->allocate_frames(1); }  // CPU 5 caches a batch
    ASSERT_GT(a->stats().cached_frames, 0U);
    set_current_cpu(6);
    auto all = a->allocate_frames(64);  // needs the frames CPU 5 holds
    ASSERT_TRUE(all) << all.error().message;
    auto exact = a->allocate_frames_at(addr(0), 1);
    EXPECT_EQ(exact.kind(), ErrorKind::kAddressInUse);
    all = Result<AllocatedFrames<>>(AllocatedFrames<>());
    auto at = a->allocate_frames_at(addr(0), 64);
    EXPECT_TRUE(at) << "allocate-at must see frames parked in caches";
    set_current_cpu(0);
}

// A lock that counts, standing in for a kernel's interrupt-masking lock.
struct CountingLock {
    int locks = 0;
    int depth = 0;
    void lock() {
        ++locks;
        ++depth;
        EXPECT_EQ(depth, 1) << "the allocator must never take its lock twice";
    }
    void unlock() { --depth; }
};

TEST(Lock, AUserChosenLockGuardsEveryOperation) {
    BasicFrameAllocator<CountingLock> a;
    ASSERT_TRUE(a.init(std::vector{frames(0, 99)}, {}));
    { auto f = a.allocate_frames(2); }
    auto st = a.stats();
    EXPECT_EQ(st.general.free_frames, 100U);
    EXPECT_TRUE(a.check());
}

}  // namespace
}  // namespace framealloc::test
