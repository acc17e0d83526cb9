// Tests of the C interface from C++: every entry point's refusals (NULL
// pointers, zero sizes, unknown flags, too little metadata memory, foreign
// ranges, double frees), that a refusal changes nothing, that every
// allocation constraint reaches the C++ allocator, and that heap memory taken
// through the hooks is all given back.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "framealloc.h"
#include "framealloc/config.hpp"
#include "framealloc/result.hpp"

namespace {

constexpr std::uint64_t kMiB = 1024 * 1024;
constexpr std::uint64_t kGiB = 1024 * kMiB;

// Caller-provided metadata memory, released after the allocator is destroyed.
class Memory {
  public:
    explicit Memory(std::size_t bytes) : bytes_(bytes) {
        const std::size_t align = fa_allocator_align();
        data_ = std::aligned_alloc(align, (bytes + align - 1) / align * align);
    }
    ~Memory() { std::free(data_); }
    Memory(const Memory&) = delete;
    Memory& operator=(const Memory&) = delete;
    [[nodiscard]] void* data() const { return data_; }
    [[nodiscard]] std::size_t size() const { return bytes_; }

  private:
    std::size_t bytes_;
    void* data_;
};

// Heap hooks that count what they hand out, so leaks show.
struct CountingHeap {
    long live = 0;
    long calls = 0;
    bool refuse = false;

    static void* allocate(void* context, std::size_t bytes, std::size_t align) {
        auto* self = static_cast<CountingHeap*>(context);
        ++self->calls;
        if (self->refuse) {
            return nullptr;
        }
        ++self->live;
        return std::aligned_alloc(align, (bytes + align - 1) / align * align);
    }
    static void deallocate(void* context, void* memory, std::size_t, std::size_t) {
        --static_cast<CountingHeap*>(context)->live;
        std::free(memory);
    }
    [[nodiscard]] fa_heap_hooks hooks() { return fa_heap_hooks{allocate, deallocate, this}; }
};

// 64 MiB free from 1 MiB, 1 GiB free at 4 GiB, one reserved MMIO page.
const fa_region kMap[] = {
    {1 * kMiB, 64 * kMiB, FA_REGION_FREE},
    {4 * kGiB, 1 * kGiB, FA_REGION_FREE},
    {0xFEC00000ULL, 0x1000, FA_REGION_RESERVED},
};
constexpr std::uint64_t kGeneralFrames = (64 * kMiB + kGiB) / FA_FRAME_SIZE;

class CApi : public ::testing::Test {
  protected:
    explicit CApi(std::size_t handles = 32) : memory_(fa_allocator_size(handles)) {
        EXPECT_EQ(fa_create(memory_.data(), memory_.size(), &fa_), FA_OK);
    }
    ~CApi() override {
        fa_destroy(fa_);
        EXPECT_EQ(heap_.live, 0) << "heap memory leaked through the hooks";
    }
    void init() { ASSERT_EQ(fa_init(fa_, kMap, 3), FA_OK); }
    [[nodiscard]] fa_stats stats() const {
        fa_stats s{};
        EXPECT_EQ(fa_get_stats(fa_, &s), FA_OK);
        return s;
    }

    Memory memory_;
    fa_allocator* fa_ = nullptr;
    CountingHeap heap_;
};

TEST(CApiStatus, CodesEqualErrorKindsAndMessagesMatch) {
    using framealloc::ErrorKind;
    EXPECT_EQ(static_cast<int>(ErrorKind::kZeroFrames), FA_ERR_ZERO_FRAMES);
    EXPECT_EQ(static_cast<int>(ErrorKind::kAddressInUse), FA_ERR_ADDRESS_IN_USE);
    EXPECT_EQ(static_cast<int>(ErrorKind::kCapacityExhausted), FA_ERR_CAPACITY_EXHAUSTED);
    EXPECT_EQ(static_cast<int>(ErrorKind::kMisaligned), FA_ERR_MISALIGNED);
    EXPECT_EQ(static_cast<int>(ErrorKind::kForeignHandle), FA_ERR_FOREIGN_HANDLE);
    EXPECT_STREQ(fa_status_message(FA_ERR_ADDRESS_IN_USE), "address in use");
    EXPECT_STREQ(fa_status_message(FA_OK), "ok");
    EXPECT_STREQ(fa_status_message(static_cast<fa_status>(99)), "unknown status");
    EXPECT_STREQ(fa_status_message(FA_STATUS_MAX_ENUM), "unknown status");
}

TEST(CApiCreate, RefusesNullMisalignedAndTooSmallMemory) {
    Memory memory(fa_allocator_size(8));
    fa_allocator* fa = nullptr;
    EXPECT_EQ(fa_create(nullptr, memory.size(), &fa), FA_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fa_create(memory.data(), memory.size(), nullptr), FA_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fa_create(static_cast<char*>(memory.data()) + 1, memory.size() - 1, &fa),
              FA_ERR_MISALIGNED);
    EXPECT_EQ(fa_create(memory.data(), fa_allocator_size(0) - 1, &fa), FA_ERR_CAPACITY_EXHAUSTED);
    EXPECT_EQ(fa_create(memory.data(), 0, &fa), FA_ERR_CAPACITY_EXHAUSTED);
    EXPECT_EQ(fa, nullptr) << "out written on failure";
    EXPECT_EQ(fa_create(memory.data(), fa_allocator_size(0), &fa), FA_OK);
    fa_destroy(fa);
    fa_destroy(nullptr);  // ignored
}

TEST(CApiCreate, SizeGrowsWithHandlesAndOverflowGivesZero) {
    EXPECT_EQ(fa_allocator_size(0), fa_allocator_size(1)) << "a minimum table is always kept";
    EXPECT_LT(fa_allocator_size(100), fa_allocator_size(200));
    EXPECT_EQ(fa_allocator_size(SIZE_MAX), 0U);
    EXPECT_EQ(fa_allocator_align() & (fa_allocator_align() - 1), 0U);
}

TEST_F(CApi, EveryEntryPointRefusesNullAllocator) {
    fa_frames f{};
    fa_stats s{};
    fa_request r{};
    r.num_frames = 1;
    fa_heap_hooks h = heap_.hooks();
    EXPECT_EQ(fa_init(nullptr, kMap, 3), FA_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fa_move_to_heap(nullptr, &h), FA_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fa_allocate(nullptr, &r, &f), FA_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fa_allocate_frames(nullptr, 1, &f), FA_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fa_allocate_frames_at(nullptr, 0, 1, &f), FA_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fa_allocate_by_bytes(nullptr, 1, &f), FA_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fa_allocate_by_bytes_at(nullptr, 0, 1, &f), FA_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fa_free(nullptr, f), FA_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fa_split(nullptr, f, 1, &f, &f), FA_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fa_merge(nullptr, f, f, &f), FA_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fa_add_region(nullptr, &kMap[0]), FA_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fa_take_offline(nullptr, f), FA_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fa_get_stats(nullptr, &s), FA_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fa_check(nullptr), FA_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fa_dump(
                  nullptr, [](void*, const char*) {}, nullptr),
              FA_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fa_inspect_then_allocate(
                  nullptr, [](void*, fa_frames) { return fa_iter_request{}; }, nullptr, &f),
              FA_ERR_INVALID_ARGUMENT);
    fa_run_deferred(nullptr);
    fa_drain_cpu_cache(nullptr, 0);
    fa_drain_cpu_caches(nullptr);
}

TEST_F(CApi, EveryEntryPointRefusesNullOutputsAndCallbacks) {
    init();
    fa_request r{};
    r.num_frames = 1;
    fa_frames f{};
    EXPECT_EQ(fa_init(fa_, nullptr, 1), FA_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fa_move_to_heap(fa_, nullptr), FA_ERR_INVALID_ARGUMENT);
    fa_heap_hooks half{CountingHeap::allocate, nullptr, &heap_};
    EXPECT_EQ(fa_move_to_heap(fa_, &half), FA_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fa_allocate(fa_, nullptr, &f), FA_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fa_allocate(fa_, &r, nullptr), FA_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fa_allocate_frames(fa_, 1, nullptr), FA_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fa_allocate_frames_at(fa_, 2 * kMiB, 1, nullptr), FA_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fa_allocate_by_bytes(fa_, 1, nullptr), FA_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fa_allocate_by_bytes_at(fa_, 2 * kMiB, 1, nullptr), FA_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fa_split(fa_, f, 1, nullptr, &f), FA_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fa_split(fa_, f, 1, &f, nullptr), FA_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fa_merge(fa_, f, f, nullptr), FA_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fa_add_region(fa_, nullptr), FA_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fa_get_stats(fa_, nullptr), FA_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fa_dump(fa_, nullptr, nullptr), FA_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fa_inspect_then_allocate(fa_, nullptr, nullptr, &f), FA_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(stats().general.allocated_frames, 0U) << "a refused call allocated frames";
    EXPECT_EQ(fa_check(fa_), FA_OK);
}

TEST_F(CApi, StatsCountFreeChunksBySizeClass) {
    init();
    // 64 MiB = 16384 frames (order 14) and 1 GiB = 2^18 frames (order 18);
    // the reserved pool is one frame (order 0).
    fa_stats s = stats();
    EXPECT_EQ(s.general.free_chunks_by_order[14], 1U);
    EXPECT_EQ(s.general.free_chunks_by_order[18], 1U);
    EXPECT_EQ(s.reserved.free_chunks_by_order[0], 1U);
    // Taking 1 MiB from the middle of the 64 MiB run leaves 1 MiB (order 8)
    // before it and 62 MiB (order 13) after it.
    fa_frames f;
    ASSERT_EQ(fa_allocate_frames_at(fa_, 2 * kMiB, 256, &f), FA_OK);
    s = stats();
    EXPECT_EQ(s.general.free_chunks_by_order[14], 0U);
    EXPECT_EQ(s.general.free_chunks_by_order[8], 1U);
    EXPECT_EQ(s.general.free_chunks_by_order[13], 1U);
    std::uint64_t total = 0;
    for (const std::uint64_t n : s.general.free_chunks_by_order) {
        total += n;
    }
    EXPECT_EQ(total, s.general.free_chunks);
    ASSERT_EQ(fa_free(fa_, f), FA_OK);
    EXPECT_EQ(stats().general.free_chunks_by_order[14], 1U);
}

TEST_F(CApi, InitRefusesBadInputAndStaysRetryable) {
    fa_frames f{};
    EXPECT_EQ(fa_allocate_frames(fa_, 1, &f), FA_ERR_NOT_INITIALIZED);
    const fa_region bad_type[] = {{0, 4096, static_cast<fa_region_type>(7)}};
    EXPECT_EQ(fa_init(fa_, bad_type, 1), FA_ERR_BAD_REGION);
    const fa_region wraps[] = {{~0ULL - 4095, 8192, FA_REGION_FREE}};
    EXPECT_EQ(fa_init(fa_, wraps, 1), FA_ERR_OVERFLOW);
    std::vector<fa_region> too_many(1000, kMap[0]);
    EXPECT_EQ(fa_init(fa_, too_many.data(), too_many.size()), FA_ERR_CAPACITY_EXHAUSTED);
    init();
    EXPECT_EQ(stats().general.total_frames, kGeneralFrames);
    EXPECT_EQ(stats().reserved.total_frames, 1U);
    EXPECT_EQ(fa_init(fa_, kMap, 3), FA_ERR_ALREADY_INITIALIZED);
    EXPECT_EQ(fa_check(fa_), FA_OK) << "scratch use of the table left it inconsistent";
}

// fa_init() converts regions in the live-range table's slots; a region
// rejected after others were converted must not leave them looking live.
TEST_F(CApi, FailedInitLeavesNoStaleRangesAndARetryWorks) {
    const fa_region bad[] = {{0x100000, 0x1000, FA_REGION_FREE},
                             {0x200000, 0x1000, FA_REGION_FREE},
                             {0xfffffffffffff000ULL, 0x2000, FA_REGION_FREE}};
    EXPECT_EQ(fa_init(fa_, bad, 3), FA_ERR_OVERFLOW);
    const fa_region bad_type[] = {{0x100000, 0x1000, FA_REGION_FREE},
                                  {0x300000, 0x1000, FA_REGION_RESERVED},
                                  {0x400000, 0x1000, static_cast<fa_region_type>(9)}};
    EXPECT_EQ(fa_init(fa_, bad_type, 3), FA_ERR_BAD_REGION);
    EXPECT_EQ(stats().live_ranges, 0U);
    const fa_region good = {0x100000, 0x100000, FA_REGION_FREE};
    ASSERT_EQ(fa_init(fa_, &good, 1), FA_OK);
    EXPECT_EQ(fa_check(fa_), FA_OK) << "a failed init left region bytes in the table";
    EXPECT_EQ(stats().live_ranges, 0U);
    EXPECT_EQ(stats().general.free_frames, 0x100U);
    fa_frames f{};
    ASSERT_EQ(fa_allocate_frames(fa_, 0x100, &f), FA_OK);
    EXPECT_EQ(fa_free(fa_, f), FA_OK);
    EXPECT_EQ(fa_check(fa_), FA_OK);
}  // the fixture's fa_destroy() must not touch a stale slot

TEST_F(CApi, InitWithNoRegionsLeavesNothingToAllocate) {
    EXPECT_EQ(fa_init(fa_, nullptr, 0), FA_OK);
    fa_frames f{};
    EXPECT_NE(fa_allocate_frames(fa_, 1, &f), FA_OK);
}

TEST_F(CApi, AllocationRefusesZeroUnknownFlagsAndBadPageSize) {
    init();
    fa_frames f{};
    EXPECT_EQ(fa_allocate_frames(fa_, 0, &f), FA_ERR_ZERO_FRAMES);
    EXPECT_EQ(fa_allocate_by_bytes(fa_, 0, &f), FA_ERR_ZERO_FRAMES);
    fa_request r{};
    r.num_frames = 1;
    r.flags = 0x100;
    EXPECT_EQ(fa_allocate(fa_, &r, &f), FA_ERR_INVALID_ARGUMENT);
    r.flags = FA_REQ_POOL_RESERVED;  // a pool only narrows an at-address request
    EXPECT_EQ(fa_allocate(fa_, &r, &f), FA_ERR_INVALID_ARGUMENT);
    r.flags = FA_REQ_AT | FA_REQ_POOL_GENERAL | FA_REQ_POOL_RESERVED;
    EXPECT_EQ(fa_allocate(fa_, &r, &f), FA_ERR_INVALID_ARGUMENT);
    r.flags = 0;
    r.page_size = static_cast<fa_page_size>(9);
    EXPECT_EQ(fa_allocate(fa_, &r, &f), FA_ERR_INVALID_ARGUMENT);
    r.page_size = FA_PAGE_4K;
    r.align_frames = 3;
    EXPECT_EQ(fa_allocate(fa_, &r, &f), FA_ERR_INVALID_ARGUMENT);
    r.align_frames = 1;
    r.min_address = 8 * kGiB;
    r.max_address = 4 * kGiB;
    EXPECT_EQ(fa_allocate(fa_, &r, &f), FA_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fa_allocate_frames_at(fa_, ~0ULL, 1, &f), FA_ERR_OUTSIDE_ALLOCATOR);
    EXPECT_EQ(stats().general.allocated_frames, 0U);
    EXPECT_EQ(stats().live_ranges, 0U);
}

TEST_F(CApi, EveryConstraintReachesTheAllocator) {
    init();
    fa_request r{};
    r.num_frames = 5;
    r.align_frames = 64;
    fa_frames aligned{};
    ASSERT_EQ(fa_allocate(fa_, &r, &aligned), FA_OK);
    EXPECT_EQ(aligned.num_frames, 5U);
    EXPECT_EQ(aligned.start_frame % 64, 0U);

    r = fa_request{};
    r.num_frames = 4;
    r.min_address = 4 * kGiB;
    fa_frames high{};
    ASSERT_EQ(fa_allocate(fa_, &r, &high), FA_OK);
    EXPECT_GE(fa_frames_address(high), 4 * kGiB);

    r = fa_request{};
    r.num_frames = 4;
    r.max_address = 4 * kGiB - 1;
    fa_frames low{};
    ASSERT_EQ(fa_allocate(fa_, &r, &low), FA_OK);
    EXPECT_LE(fa_frames_address(low) + 4 * FA_FRAME_SIZE, 4 * kGiB);

    r = fa_request{};
    r.num_frames = 3;
    r.boundary_frames = 4;
    r.min_address = 1 * kMiB + 2 * FA_FRAME_SIZE;
    fa_frames bounded{};
    ASSERT_EQ(fa_allocate(fa_, &r, &bounded), FA_OK);
    EXPECT_EQ(bounded.start_frame / 4, (bounded.start_frame + 2) / 4);

    r = fa_request{};
    r.num_frames = 2;
    r.flags = FA_REQ_AT;
    r.at_address = 32 * kMiB + 123;  // inside its frame: the run starts at that frame
    fa_frames at{};
    ASSERT_EQ(fa_allocate(fa_, &r, &at), FA_OK);
    EXPECT_EQ(at.start_frame, 32 * kMiB / FA_FRAME_SIZE);

    r = fa_request{};
    r.num_frames = 1;
    r.flags = FA_REQ_AT | FA_REQ_POOL_GENERAL;
    r.at_address = 0xFEC00000ULL;
    fa_frames mmio{};
    EXPECT_NE(fa_allocate(fa_, &r, &mmio), FA_OK) << "a reserved page came from the general pool";
    r.flags = FA_REQ_AT | FA_REQ_POOL_RESERVED;
    ASSERT_EQ(fa_allocate(fa_, &r, &mmio), FA_OK);
    EXPECT_EQ(stats().reserved.allocated_frames, 1U);

    r = fa_request{};
    r.num_frames = 2;
    r.page_size = FA_PAGE_2M;
    fa_frames huge{};
    ASSERT_EQ(fa_allocate(fa_, &r, &huge), FA_OK);
    EXPECT_EQ(huge.num_frames, 2U * FA_FRAMES_PER_2M);
    EXPECT_EQ(huge.start_frame % FA_FRAMES_PER_2M, 0U);

    r.page_size = FA_PAGE_1G;
    r.num_frames = 2;  // only one 1 GiB frame exists
    fa_frames too_big{};
    EXPECT_NE(fa_allocate(fa_, &r, &too_big), FA_OK);

    fa_frames by_bytes{};
    ASSERT_EQ(fa_allocate_by_bytes_at(fa_, 40 * kMiB + 4000, 200, &by_bytes), FA_OK);
    EXPECT_EQ(by_bytes.num_frames, 2U) << "4000 + 200 bytes straddle two frames";

    const std::uint64_t taken = 5 + 4 + 4 + 3 + 2 + 2 * 512 + 2;
    EXPECT_EQ(stats().general.allocated_frames, taken);
    EXPECT_EQ(stats().live_ranges, 8U);
    EXPECT_EQ(fa_check(fa_), FA_OK);
    for (fa_frames f : {aligned, high, low, bounded, at, mmio, huge, by_bytes}) {
        EXPECT_EQ(fa_free(fa_, f), FA_OK);
    }
    EXPECT_EQ(stats().general.allocated_frames, 0U);
    EXPECT_EQ(stats().reserved.allocated_frames, 0U);
}

TEST_F(CApi, ForeignRangesAndDoubleFreesAreRefusedAndLoseNothing) {
    init();
    fa_frames f{};
    ASSERT_EQ(fa_allocate_frames(fa_, 4, &f), FA_OK);
    EXPECT_EQ(fa_free(fa_, fa_frames{f.start_frame + 1, 3}), FA_ERR_FOREIGN_HANDLE);
    EXPECT_EQ(fa_free(fa_, fa_frames{f.start_frame, 3}), FA_ERR_FOREIGN_HANDLE);
    EXPECT_EQ(fa_free(fa_, fa_frames{f.start_frame, 5}), FA_ERR_FOREIGN_HANDLE);
    EXPECT_EQ(fa_free(fa_, fa_frames{f.start_frame, 0}), FA_ERR_FOREIGN_HANDLE);
    EXPECT_EQ(fa_free(fa_, fa_frames{123456789, 1}), FA_ERR_FOREIGN_HANDLE);
    EXPECT_EQ(stats().general.allocated_frames, 4U) << "a refused free released frames";

    // A range from another allocator over the same map.
    Memory other_memory(fa_allocator_size(8));
    fa_allocator* other = nullptr;
    ASSERT_EQ(fa_create(other_memory.data(), other_memory.size(), &other), FA_OK);
    ASSERT_EQ(fa_init(other, kMap, 3), FA_OK);
    fa_frames theirs{};
    ASSERT_EQ(fa_allocate_frames(other, 2, &theirs), FA_OK);
    if (theirs.start_frame != f.start_frame) {
        EXPECT_EQ(fa_free(fa_, theirs), FA_ERR_FOREIGN_HANDLE);
    }
    EXPECT_EQ(fa_free(other, f), FA_ERR_FOREIGN_HANDLE);
    fa_destroy(other);

    EXPECT_EQ(fa_free(fa_, f), FA_OK);
    EXPECT_EQ(fa_free(fa_, f), FA_ERR_FOREIGN_HANDLE);
    EXPECT_EQ(stats().general.allocated_frames, 0U);
    EXPECT_EQ(stats().live_ranges, 0U);
    EXPECT_EQ(fa_check(fa_), FA_OK);
}

TEST_F(CApi, FullEarlyTableRefusesWithoutAllocating) {
    init();
    fa_stats s = stats();
    std::vector<fa_frames> live;
    fa_frames f{};
    fa_status st = FA_OK;
    while ((st = fa_allocate_frames(fa_, 1, &f)) == FA_OK) {
        live.push_back(f);
        ASSERT_LE(live.size(), s.handle_capacity) << "more live ranges than table slots";
    }
    EXPECT_EQ(st, FA_ERR_CAPACITY_EXHAUSTED);
    EXPECT_GE(live.size(), 32U) << "fewer ranges than fa_allocator_size() promised";
    EXPECT_EQ(stats().general.allocated_frames, live.size());
    for (const fa_frames& x : live) {
        EXPECT_EQ(fa_free(fa_, x), FA_OK);
    }
    EXPECT_EQ(stats().general.allocated_frames, 0U);
}

// A full table is a reason to refuse a split that would work, not one that
// could never work: a bad split point or a foreign range says so.
TEST_F(CApi, SplitInAFullTableNamesTheRealCause) {
    init();
    std::vector<fa_frames> live;
    fa_frames f{};
    while (fa_allocate_frames(fa_, 2, &f) == FA_OK) {
        live.push_back(f);
    }
    ASSERT_FALSE(live.empty());
    const fa_frames x = live.front();
    fa_frames a{};
    fa_frames b{};
    EXPECT_EQ(fa_split(fa_, x, x.start_frame, &a, &b), FA_ERR_OUT_OF_RANGE);
    EXPECT_EQ(fa_split(fa_, x, x.start_frame + 2, &a, &b), FA_ERR_OUT_OF_RANGE);
    EXPECT_EQ(fa_split(fa_, fa_frames{x.start_frame, 1}, x.start_frame + 1, &a, &b),
              FA_ERR_FOREIGN_HANDLE);
    EXPECT_EQ(fa_split(fa_, x, x.start_frame + 1, &a, &b), FA_ERR_CAPACITY_EXHAUSTED);
    EXPECT_EQ(stats().live_ranges, live.size()) << "a refused split lost a range";
    for (const fa_frames& y : live) {
        EXPECT_EQ(fa_free(fa_, y), FA_OK);
    }
    EXPECT_EQ(fa_check(fa_), FA_OK);
}

TEST_F(CApi, HeapModeGrowsTheTableAndGivesEveryByteBack) {
    init();
    fa_heap_hooks hooks = heap_.hooks();
    EXPECT_EQ(fa_move_to_heap(fa_, &hooks), FA_OK);
    EXPECT_EQ(fa_move_to_heap(fa_, &hooks), FA_ERR_ALREADY_INITIALIZED);
    std::vector<fa_frames> live(3000);
    for (fa_frames& f : live) {
        ASSERT_EQ(fa_allocate_frames(fa_, 1, &f), FA_OK);
    }
    const fa_stats s = stats();
    EXPECT_TRUE(s.heap_mode);
    EXPECT_EQ(s.live_ranges, live.size());
    EXPECT_GT(s.handle_capacity, live.size());
    EXPECT_EQ(fa_check(fa_), FA_OK);
    // Free every other one and check that the rest are still found.
    for (std::size_t i = 0; i < live.size(); i += 2) {
        EXPECT_EQ(fa_free(fa_, live[i]), FA_OK);
    }
    EXPECT_EQ(fa_check(fa_), FA_OK);
    for (std::size_t i = 1; i < live.size(); i += 2) {
        EXPECT_EQ(fa_free(fa_, live[i]), FA_OK);
    }
    EXPECT_EQ(stats().live_ranges, 0U);
    EXPECT_EQ(fa_check(fa_), FA_OK);
    // Destroy with ranges still live: they and the heap table are given back
    // (the fixture's destructor checks the hooks' balance).
    ASSERT_EQ(fa_allocate_frames(fa_, 7, &live[0]), FA_OK);
}

TEST_F(CApi, MoveToHeapFailsCleanlyWhenTheHeapRefuses) {
    fa_heap_hooks hooks = heap_.hooks();
    EXPECT_EQ(fa_move_to_heap(fa_, &hooks), FA_ERR_NOT_INITIALIZED);
    init();
    heap_.refuse = true;
    EXPECT_EQ(fa_move_to_heap(fa_, &hooks), FA_ERR_HEAP_UNAVAILABLE);
    EXPECT_FALSE(stats().heap_mode);
    heap_.refuse = false;
    EXPECT_EQ(fa_move_to_heap(fa_, &hooks), FA_OK);
    EXPECT_TRUE(stats().heap_mode);
}

TEST_F(CApi, SplitAndMergeKeepTheTableExact) {
    init();
    fa_frames f{};
    ASSERT_EQ(fa_allocate_frames(fa_, 10, &f), FA_OK);
    fa_frames a{};
    fa_frames b{};
    EXPECT_EQ(fa_split(fa_, f, f.start_frame, &a, &b), FA_ERR_OUT_OF_RANGE);
    EXPECT_EQ(fa_split(fa_, f, f.start_frame + 10, &a, &b), FA_ERR_OUT_OF_RANGE);
    EXPECT_EQ(fa_split(fa_, fa_frames{f.start_frame, 9}, f.start_frame + 3, &a, &b),
              FA_ERR_FOREIGN_HANDLE);
    ASSERT_EQ(fa_split(fa_, f, f.start_frame + 3, &a, &b), FA_OK);
    EXPECT_EQ(a.start_frame, f.start_frame);
    EXPECT_EQ(a.num_frames, 3U);
    EXPECT_EQ(b.start_frame, f.start_frame + 3);
    EXPECT_EQ(b.num_frames, 7U);
    EXPECT_EQ(fa_free(fa_, f), FA_ERR_FOREIGN_HANDLE) << "the unsplit range is gone";
    EXPECT_EQ(stats().live_ranges, 2U);

    fa_frames other{};
    ASSERT_EQ(fa_allocate_frames_at(fa_, 50 * kMiB, 1, &other), FA_OK);
    fa_frames merged{};
    EXPECT_EQ(fa_merge(fa_, a, other, &merged), FA_ERR_NOT_ADJACENT);
    EXPECT_EQ(fa_merge(fa_, a, fa_frames{999, 1}, &merged), FA_ERR_FOREIGN_HANDLE);
    EXPECT_EQ(fa_merge(fa_, a, a, &merged), FA_ERR_INVALID_ARGUMENT)
        << "a live range merged with itself is a bad argument, not a foreign range";
    EXPECT_EQ(stats().live_ranges, 3U) << "a failed merge lost a range";
    ASSERT_EQ(fa_merge(fa_, b, a, &merged), FA_OK);
    EXPECT_EQ(merged.start_frame, f.start_frame);
    EXPECT_EQ(merged.num_frames, 10U);
    EXPECT_EQ(fa_free(fa_, a), FA_ERR_FOREIGN_HANDLE);
    EXPECT_EQ(fa_free(fa_, merged), FA_OK);
    EXPECT_EQ(fa_free(fa_, other), FA_OK);
    EXPECT_EQ(stats().general.allocated_frames, 0U);
    EXPECT_EQ(fa_check(fa_), FA_OK);
}

TEST_F(CApi, DeferredAllocationPostponesGrowthUntilAsked) {
    init();
    fa_heap_hooks hooks = heap_.hooks();
    ASSERT_EQ(fa_move_to_heap(fa_, &hooks), FA_OK);
    fa_request r{};
    r.num_frames = 1;
    r.align_frames = 4;
    r.flags = FA_REQ_DEFER;
    fa_frames f{};
    EXPECT_EQ(fa_allocate(fa_, &r, &f), FA_ERR_INVALID_ARGUMENT) << "only plain requests defer";
    r.align_frames = 0;
    std::vector<fa_frames> live(2000);
    const long calls_before = heap_.calls;
    for (fa_frames& x : live) {
        const fa_status st = fa_allocate(fa_, &r, &x);
        ASSERT_TRUE(st == FA_OK || st == FA_ERR_CAPACITY_EXHAUSTED) << fa_status_message(st);
        if (st != FA_OK) {
            fa_run_deferred(fa_);  // what a heap does once its own lock is dropped
            ASSERT_EQ(fa_allocate(fa_, &r, &x), FA_OK);
        }
    }
    EXPECT_GT(heap_.calls, calls_before) << "growth never ran";
    EXPECT_EQ(fa_check(fa_), FA_OK);
    for (const fa_frames& x : live) {
        EXPECT_EQ(fa_free(fa_, x), FA_OK);
    }
}

TEST_F(CApi, InspectThenAllocateTakesFramesInsideTheShownChunk) {
    init();
    struct Seen {
        std::vector<fa_frames> chunks;
    } seen;
    fa_frames f{};
    const auto stop = [](void* ctx, fa_frames chunk) {
        static_cast<Seen*>(ctx)->chunks.push_back(chunk);
        return fa_iter_request{FA_ITER_NEXT, {}};
    };
    ASSERT_EQ(fa_inspect_then_allocate(fa_, stop, &seen, &f), FA_OK);
    EXPECT_EQ(f.num_frames, 0U);
    ASSERT_EQ(seen.chunks.size(), 2U);
    EXPECT_EQ(seen.chunks[0].start_frame, 1 * kMiB / FA_FRAME_SIZE);
    EXPECT_EQ(seen.chunks[1].start_frame, 4 * kGiB / FA_FRAME_SIZE);

    const auto second = [](void* ctx, fa_frames chunk) {
        auto* count = static_cast<int*>(ctx);
        if (++*count < 2) {
            return fa_iter_request{FA_ITER_NEXT, {}};
        }
        return fa_iter_request{FA_ITER_ALLOCATE_AT, {chunk.start_frame + 8, 16}};
    };
    int count = 0;
    ASSERT_EQ(fa_inspect_then_allocate(fa_, second, &count, &f), FA_OK);
    EXPECT_EQ(f.start_frame, 4 * kGiB / FA_FRAME_SIZE + 8);
    EXPECT_EQ(f.num_frames, 16U);
    EXPECT_EQ(fa_free(fa_, f), FA_OK);

    const auto outside = [](void*, fa_frames chunk) {
        return fa_iter_request{FA_ITER_ALLOCATE_AT, {chunk.start_frame + chunk.num_frames, 1}};
    };
    EXPECT_EQ(fa_inspect_then_allocate(fa_, outside, nullptr, &f), FA_ERR_OUT_OF_RANGE);
    const auto nonsense = [](void*, fa_frames) {
        return fa_iter_request{static_cast<fa_iter_kind>(42), {}};
    };
    EXPECT_EQ(fa_inspect_then_allocate(fa_, nonsense, nullptr, &f), FA_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(stats().live_ranges, 0U);
    EXPECT_EQ(stats().general.allocated_frames, 0U);
}

TEST_F(CApi, RegionsComeAndGoAtRunTime) {
    fa_region hot{16 * kGiB, 64 * kMiB, FA_REGION_FREE};
    EXPECT_EQ(fa_add_region(fa_, &hot), FA_ERR_NOT_INITIALIZED);
    init();
    fa_region empty{16 * kGiB + 1, 100, FA_REGION_FREE};  // no whole frame inside
    EXPECT_EQ(fa_add_region(fa_, &empty), FA_ERR_ZERO_FRAMES);
    fa_region bad{16 * kGiB, 4096, static_cast<fa_region_type>(5)};
    EXPECT_EQ(fa_add_region(fa_, &bad), FA_ERR_BAD_REGION);
    ASSERT_EQ(fa_add_region(fa_, &hot), FA_OK);
    EXPECT_EQ(fa_add_region(fa_, &hot), FA_ERR_BAD_REGION) << "overlap accepted";
    EXPECT_EQ(stats().general.total_frames, kGeneralFrames + 64 * kMiB / FA_FRAME_SIZE);

    const fa_frames hot_frames{16 * kGiB / FA_FRAME_SIZE, 64 * kMiB / FA_FRAME_SIZE};
    fa_frames pinned{};
    ASSERT_EQ(fa_allocate_frames_at(fa_, 16 * kGiB, 1, &pinned), FA_OK);
    EXPECT_EQ(fa_take_offline(fa_, hot_frames), FA_ERR_REGION_BUSY);
    EXPECT_EQ(fa_take_offline(fa_, fa_frames{0, 0}), FA_ERR_ZERO_FRAMES);
    EXPECT_EQ(fa_take_offline(fa_, fa_frames{~0ULL, 1}), FA_ERR_OVERFLOW);
    ASSERT_EQ(fa_free(fa_, pinned), FA_OK);
    EXPECT_EQ(fa_take_offline(fa_, hot_frames), FA_OK);
    EXPECT_EQ(stats().general.total_frames, kGeneralFrames);
    EXPECT_EQ(fa_check(fa_), FA_OK);
}

TEST_F(CApi, DumpReportsPoolsAndLiveRanges) {
    init();
    fa_frames f{};
    ASSERT_EQ(fa_allocate_frames(fa_, 2, &f), FA_OK);
    std::vector<std::string> lines;
    ASSERT_EQ(fa_dump(
                  fa_,
                  [](void* ctx, const char* line) {
                      static_cast<std::vector<std::string>*>(ctx)->push_back(line);
                  },
                  &lines),
              FA_OK);
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines.back(), "c handles: live 1 of " + std::to_string(stats().handle_capacity));
    bool general = false;
    for (const std::string& l : lines) {
        general = general || l.find("pool general") != std::string::npos;
    }
    EXPECT_TRUE(general);
    EXPECT_EQ(fa_free(fa_, f), FA_OK);
}

}  // namespace

namespace {

// fa_metadata_size and fa_init_with_metadata: the size asked for is enough,
// less is refused without change, and bad input is refused.
TEST(CApiMetadata, SizeIsEnoughAndLessIsRefusedCleanly) {
    const Memory memory(fa_allocator_size(16));
    fa_allocator* a = nullptr;
    ASSERT_EQ(fa_create(memory.data(), memory.size(), &a), FA_OK);
    const fa_region map[] = {{0x100000, 8ULL << 30, FA_REGION_FREE},
                             {0xfee00000, 0x1000, FA_REGION_RESERVED}};
    const size_t need = fa_metadata_size(map, 2);
    EXPECT_GT(need, size_t{FRAMEALLOC_BUILTIN_METADATA});
    EXPECT_EQ(fa_metadata_size(nullptr, 1), 0U);
    const fa_region bad = {0xfffffffffffff000ULL, 0x2000, FA_REGION_FREE};
    EXPECT_EQ(fa_metadata_size(&bad, 1), 0U);
    std::vector<unsigned char> meta(need);
    EXPECT_EQ(fa_init_with_metadata(a, map, 2, nullptr, 16), FA_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fa_init(a, map, 2), FA_ERR_CAPACITY_EXHAUSTED);
    EXPECT_EQ(fa_init_with_metadata(a, map, 2, meta.data(), need - 4096),
              FA_ERR_CAPACITY_EXHAUSTED);
    ASSERT_EQ(fa_init_with_metadata(a, map, 2, meta.data(), need), FA_OK);
    fa_stats st;
    ASSERT_EQ(fa_get_stats(a, &st), FA_OK);
    EXPECT_EQ(st.general.free_frames, (8ULL << 30) / 4096 - 1);  // the APIC page is reserved
    EXPECT_EQ(fa_check(a), FA_OK);
    fa_destroy(a);
}

}  // namespace
