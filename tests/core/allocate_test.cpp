// Allocation: the general and reserved pools, allocation at an address
// (including device memory found later), byte sizes, inspect-then-allocate,
// full coalescing, allocation spanning formerly separate chunks, and frame
// conservation under random churn.
#include <algorithm>
#include <random>

#include "test_support.hpp"

namespace framealloc::test {
namespace {

TEST(Allocate, AnywhereUsesOnlyTheGeneralPool) {
    auto a = make_allocator({frames(0, 9)}, {frames(20, 29, MemoryRegionType::kReserved)});
    std::vector<AllocatedFrames<>> held;
    while (auto f = a->allocate_frames(1)) {
        EXPECT_EQ(f->pool(), Pool::kGeneral);
        EXPECT_LE(f->start().number(), 9U);
        held.push_back(std::move(f.value()));
    }
    EXPECT_EQ(held.size(), 10U);
    EXPECT_EQ(a->allocate_frames(1).kind(), ErrorKind::kOutOfMemory);
}

TEST(Allocate, ZeroFramesOrBytesIsAnError) {
    auto a = make_allocator({frames(0, 9)});
    EXPECT_EQ(a->allocate_frames(0).kind(), ErrorKind::kZeroFrames);
    EXPECT_EQ(a->allocate_frames_at(addr(0), 0).kind(), ErrorKind::kZeroFrames);
    EXPECT_EQ(a->allocate_frames_by_bytes(0).kind(), ErrorKind::kZeroFrames);
    EXPECT_EQ(a->allocate_frames_deferred({}, 0).kind(), ErrorKind::kZeroFrames);
}

TEST(Allocate, TooLargeRequestsDistinguishOutOfMemoryFromFragmentation) {
    auto a = make_allocator({frames(0, 9), frames(20, 29)});
    EXPECT_EQ(a->allocate_frames(21).kind(), ErrorKind::kOutOfMemory);
    EXPECT_EQ(a->allocate_frames(11).kind(), ErrorKind::kNotEnoughContiguous);
    EXPECT_EQ(a->allocate_frames(~0ULL).kind(), ErrorKind::kOutOfMemory);
    EXPECT_TRUE(a->allocate_frames(10));
}

TEST(AllocateAt, PrefersTheReservedPoolThenTheGeneralPool) {
    auto a = make_allocator({frames(0, 9)}, {frames(20, 29, MemoryRegionType::kReserved)});
    auto r = a->allocate_frames_at(frame(22).start_address(), 3);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->pool(), Pool::kReserved);
    auto g = a->allocate_frames_at(frame(5).start_address(), 2);
    ASSERT_TRUE(g);
    EXPECT_EQ(g->pool(), Pool::kGeneral);
    EXPECT_EQ(a->stats().reserved.allocated_frames, 3U);
    EXPECT_EQ(a->allocate_frames_at(frame(23).start_address(), 1).kind(), ErrorKind::kAddressInUse);
    r = Result<AllocatedFrames<>>(AllocatedFrames<>());
    EXPECT_EQ(a->stats().reserved.free_frames, 10U)
        << "reserved frames return to the reserved pool";
    EXPECT_EQ(a->stats().general.free_frames, 8U);
}

TEST(AllocateAt, UnknownAddressBecomesANewReservedRegion) {
    auto a = make_allocator({frames(0, 99)});
    const std::uint64_t lapic = 0xfee00000;
    {
        auto mmio = a->allocate_frames_at(addr(lapic), 1);
        ASSERT_TRUE(mmio) << mmio.error().message;
        EXPECT_EQ(mmio->pool(), Pool::kReserved);
        EXPECT_EQ(mmio->start_address().value(), lapic);
        EXPECT_EQ(a->allocate_frames_at(addr(lapic), 1).kind(), ErrorKind::kAddressInUse);
        EXPECT_EQ(a->stats().reserved.total_frames, 1U);
    }
    EXPECT_EQ(a->stats().reserved.free_frames, 1U);
    EXPECT_TRUE(a->allocate_frames_at(addr(lapic), 1)) << "the new region can be allocated again";
    EXPECT_CHECK_OK(*a);
}

TEST(AllocateAt, RangeTouchingAGeneralRegionIsNotMadeReserved) {
    auto a = make_allocator({frames(0, 99)});
    auto straddle = a->allocate_frames_at(frame(98).start_address(), 5);
    ASSERT_FALSE(straddle);
    EXPECT_EQ(straddle.kind(), ErrorKind::kOutsideAllocator);
    EXPECT_EQ(a->stats().reserved.total_frames, 0U);
    EXPECT_EQ(a->stats().general.free_frames, 100U);
}

TEST(AllocateAt, SpansThreeFormerlySeparateFreeChunks) {
    auto a = make_allocator({frames(0, 99)});
    auto x = a->allocate_frames_at(frame(10).start_address(), 10);
    auto y = a->allocate_frames_at(frame(30).start_address(), 10);
    auto z = a->allocate_frames_at(frame(50).start_address(), 10);
    ASSERT_TRUE(x && y && z);
    EXPECT_EQ(a->stats().general.free_chunks, 4U);
    x = Result<AllocatedFrames<>>(AllocatedFrames<>());
    z = Result<AllocatedFrames<>>(AllocatedFrames<>());
    y = Result<AllocatedFrames<>>(AllocatedFrames<>());
    auto across = a->allocate_frames_at(frame(5).start_address(), 70);
    ASSERT_TRUE(across) << across.error().message;
    EXPECT_EQ(across->range(), FrameRange<>(frame(5), frame(74)));
    EXPECT_CHECK_OK(*a);
}

TEST(AllocateByBytes, RoundsUpCountingTheAddressOffset) {
    auto a = make_allocator({frames(0, 99)});
    auto one = a->allocate_frames_by_bytes(1);
    ASSERT_TRUE(one);
    EXPECT_EQ(one->size_in_frames(), 1U);
    auto exact = a->allocate_frames_by_bytes(8192);
    ASSERT_TRUE(exact);
    EXPECT_EQ(exact->size_in_frames(), 2U);
    // 0x100 bytes at offset 0xf80 of frame 50 touch frames 50 and 51.
    auto at = a->allocate_frames_by_bytes_at(addr(50 * 4096 + 0xf80), 0x100);
    ASSERT_TRUE(at);
    EXPECT_EQ(at->range(), FrameRange<>(frame(50), frame(51)));
    auto deferred = a->allocate_frames_by_bytes_deferred(addr(60 * 4096 + 1), 4096);
    ASSERT_TRUE(deferred);
    EXPECT_EQ(deferred->frames.range(), FrameRange<>(frame(60), frame(61)));
    EXPECT_EQ(a->allocate_frames_by_bytes(~0ULL).kind(), ErrorKind::kOverflow);
    EXPECT_EQ(a->allocate_frames_by_bytes_at(addr(0), 0).kind(), ErrorKind::kZeroFrames);
}

TEST(InspectThenAllocate, VisitsFreeChunksInAddressOrder) {
    auto a = make_allocator({frames(40, 49), frames(0, 9), frames(20, 29)});
    std::vector<std::uint64_t> starts;
    auto r = a->inspect_then_allocate_free_frames([&](const FrameRange<>& c) {
        starts.push_back(c.start().number());
        return FramesIteratorRequest::Next();
    });
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->has_value());
    EXPECT_EQ(starts, (std::vector<std::uint64_t>{0, 20, 40}));
}

TEST(InspectThenAllocate, StopEndsTheWalkWithoutAllocating) {
    auto a = make_allocator({frames(0, 9), frames(20, 29)});
    int calls = 0;
    auto r = a->inspect_then_allocate_free_frames([&](const FrameRange<>&) {
        ++calls;
        return FramesIteratorRequest::Stop();
    });
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->has_value());
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(a->stats().general.free_frames, 20U);
}

TEST(InspectThenAllocate, AllocateAtTakesFramesFromTheInspectedChunk) {
    auto a = make_allocator({frames(0, 9), frames(20, 29)});
    auto r = a->inspect_then_allocate_free_frames([&](const FrameRange<>& c) {
        if (c.start().number() == 20) {
            return FramesIteratorRequest::AllocateAt(frame(25), 3);
        }
        return FramesIteratorRequest::Next();
    });
    ASSERT_TRUE(r);
    ASSERT_TRUE(r->has_value());
    EXPECT_EQ(r.value()->range(), FrameRange<>(frame(25), frame(27)));
    EXPECT_EQ(a->stats().general.free_frames, 17U);
}

TEST(InspectThenAllocate, AllocateAtOutsideTheChunkIsRefused) {
    auto a = make_allocator({frames(0, 9), frames(20, 29)});
    auto r = a->inspect_then_allocate_free_frames(
        [&](const FrameRange<>&) { return FramesIteratorRequest::AllocateAt(frame(8), 5); });
    ASSERT_FALSE(r);
    EXPECT_EQ(r.kind(), ErrorKind::kOutOfRange);
    EXPECT_EQ(a->stats().general.free_frames, 20U);
}

TEST(Coalescing, AnyFreeOrderLeavesOneChunkPerRegion) {
    auto a = make_allocator({frames(0, 199)});
    std::mt19937_64 rng(7);
    for (int round = 0; round < 20; ++round) {
        std::vector<AllocatedFrames<>> held;
        while (auto f = a->allocate_frames(1 + rng() % 7)) {
            held.push_back(std::move(f.value()));
        }
        std::shuffle(held.begin(), held.end(), rng);
        while (!held.empty()) {
            held.pop_back();
            EXPECT_CHECK_OK(*a);
        }
        EXPECT_EQ(a->stats().general.free_chunks, 1U);
        EXPECT_EQ(a->stats().general.largest_free_chunk, 200U);
    }
}

TEST(EarlyCapacity, GeneralPoolNeverRunsOutOfBookkeeping) {
    using Small = BasicFrameAllocator<SpinLock, 4>;
    auto a = make_allocator<Small>({frames(0, 99)});
    std::vector<AllocatedFrames<>> held;
    for (int i = 0; i < 50; ++i) {  // every other frame: 50 handles, 50 free pieces
        auto f = a->allocate_frames_at(frame(2 * i + 1).start_address(), 1);
        ASSERT_TRUE(f) << f.error().message;
        held.push_back(std::move(f.value()));
    }
    EXPECT_EQ(a->stats().general.free_chunks, 50U);
    EXPECT_CHECK_OK(*a);
    held.clear();
    EXPECT_EQ(a->stats().general.free_frames, 100U);
    EXPECT_EQ(a->stats().general.free_chunks, 1U);
}

TEST(EarlyCapacity, ReservedPoolExhaustionIsAnErrorAndNoFrameIsLost) {
    using Small = BasicFrameAllocator<SpinLock, 6>;
    auto a = make_allocator<Small>({}, {frames(0, 99, MemoryRegionType::kReserved)});
    std::vector<AllocatedFrames<>> held;
    Result<AllocatedFrames<>> last = make_error(ErrorKind::kInvalidArgument, "");
    for (int i = 0; i < 10; ++i) {
        // Allocating every other frame at an address splits the chunk each time.
        last = a->allocate_frames_at(frame(2 * i + 1).start_address(), 1);
        if (!last) {
            break;
        }
        held.push_back(std::move(last.value()));
    }
    ASSERT_FALSE(last);
    EXPECT_EQ(last.kind(), ErrorKind::kCapacityExhausted);
    std::uint64_t held_frames = 0;
    for (auto& h : held) {
        held_frames += h.size_in_frames();
    }
    EXPECT_EQ(a->stats().reserved.free_frames + held_frames, 100U);
    held.clear();  // every free needs bookkeeping: it must always succeed
    EXPECT_EQ(a->stats().reserved.free_frames, 100U);
    EXPECT_EQ(a->stats().reserved.free_chunks, 1U);
    EXPECT_CHECK_OK(*a);
}

TEST(Conservation, FreePlusHeldEqualsTotalAfterEveryOperation) {
    QemuMap map;
    auto a = make_allocator(map.free, map.reserved);
    std::mt19937_64 rng(42);
    std::vector<AllocatedFrames<>> held;
    std::uint64_t held_frames = 0;
    for (int op = 0; op < 3000; ++op) {
        if (held.empty() || rng() % 3 != 0) {
            auto f = a->allocate_frames(1 + rng() % 64);
            if (f) {
                held_frames += f->size_in_frames();
                held.push_back(std::move(f.value()));
            }
        } else {
            const std::size_t i = rng() % held.size();
            held_frames -= held[i].size_in_frames();
            held.erase(held.begin() + static_cast<std::ptrdiff_t>(i));
        }
        ASSERT_EQ(a->stats().general.free_frames + held_frames, QemuMap::kUsableFrames);
    }
    EXPECT_CHECK_OK(*a);
}

TEST(Dump, ListsModePoolsRegionsAndChunks) {
    auto a = make_allocator({frames(0, 9)}, {frames(16, 16, MemoryRegionType::kReserved)});
    std::string text;
    a->dump([&](const char* line) {
        text += line;
        text += '\n';
    });
    EXPECT_NE(text.find("early mode"), std::string::npos);
    EXPECT_NE(text.find("pool general: total 10 free 10"), std::string::npos);
    EXPECT_NE(text.find("region 0x10000-0x10fff"), std::string::npos);
    EXPECT_NE(text.find("free   0x0-0x9fff"), std::string::npos);
}

TEST(Dump, ShowsTheFreeChunkHistogramOfEachPool) {
    // General: 10 frames (order 3) and 1 frame (order 0); reserved: 1 frame.
    auto a = make_allocator({frames(0, 9), frames(20, 20)},
                            {frames(16, 16, MemoryRegionType::kReserved)});
    std::vector<std::string> lines;
    a->dump([&](const char* line) { lines.emplace_back(line); });
    std::vector<std::string> histograms;
    for (const std::string& line : lines) {
        if (line.rfind("  free chunks by order (4 KiB << k):", 0) == 0) {
            histograms.push_back(line);
        }
    }
    ASSERT_EQ(histograms.size(), 2U);
    EXPECT_EQ(histograms[0], "  free chunks by order (4 KiB << k): 0:1 3:1");
    EXPECT_EQ(histograms[1], "  free chunks by order (4 KiB << k): 0:1");
}

TEST(Dump, LongHistogramsContinueOnTheNextLine) {
    // One free chunk in each of 20 orders (chunks of 2^k frames, apart).
    std::vector<PhysicalMemoryRegion> free;
    std::uint64_t at = 0;
    for (unsigned k = 0; k < 20; ++k) {
        free.push_back(frames(at, at + (1ULL << k) - 1));
        at += (2ULL << k) + 1;
    }
    auto a = make_allocator(free, {});
    std::string text;
    a->dump([&](const char* line) {
        text += line;
        text += '\n';
    });
    // A line cut at the dump's buffer size would lose the last orders.
    for (unsigned k = 0; k < 20; ++k) {
        EXPECT_NE(text.find(" " + std::to_string(k) + ":1"), std::string::npos) << k << "\n"
                                                                                << text;
    }
}

}  // namespace
}  // namespace framealloc::test
