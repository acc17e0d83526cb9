// What every parser fuzz target does with the regions a parser accepted:
// initialise a fresh allocator from them, run the checker, and compare the
// free total with an independent computation (frames of the union of free
// regions minus every frame of the union of reserved ones, reserved winning
// as init() promises). A mismatch prints both numbers and aborts, so
// libFuzzer keeps the input as a reproducer.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <utility>
#include <vector>

#include "framealloc/framealloc.hpp"

namespace framealloc::fuzz {

/// The sink every parser feeds: regions split by type.
struct Collected {
    std::vector<PhysicalMemoryRegion> free;
    std::vector<PhysicalMemoryRegion> reserved;

    Status operator()(const PhysicalMemoryRegion& region) {
        (region.type == MemoryRegionType::kFree ? free : reserved).push_back(region);
        return {};
    }
};

[[noreturn]] inline void fail(const char* what, std::uint64_t got, std::uint64_t want) {
    std::fprintf(stderr, "parser fuzz: %s: allocator says %llu, expected %llu\n", what,
                 static_cast<unsigned long long>(got), static_cast<unsigned long long>(want));
    std::abort();
}

using Span64 = std::pair<std::uint64_t, std::uint64_t>;  // inclusive frame numbers

/// Sorted, disjoint, non-adjacent union of inclusive frame ranges.
inline std::vector<Span64> union_of(const std::vector<PhysicalMemoryRegion>& regions) {
    std::vector<Span64> in;
    for (const auto& r : regions) {
        if (!r.frames.is_empty()) {
            in.emplace_back(r.frames.start().number(), r.frames.end().number());
        }
    }
    std::sort(in.begin(), in.end());
    std::vector<Span64> out;
    for (const auto& s : in) {
        if (!out.empty() && (s.first <= out.back().second || s.first == out.back().second + 1)) {
            out.back().second = std::max(out.back().second, s.second);
        } else {
            out.push_back(s);
        }
    }
    return out;
}

inline std::uint64_t frames_in(const std::vector<Span64>& spans) {
    std::uint64_t n = 0;
    for (const auto& s : spans) {
        n += s.second - s.first + 1;
    }
    return n;
}

/// Frames of `a` not in `b` (both sorted and disjoint).
inline std::uint64_t frames_in_minus(const std::vector<Span64>& a, const std::vector<Span64>& b) {
    std::uint64_t n = 0;
    std::size_t j = 0;
    for (const auto& s : a) {
        std::uint64_t covered = 0;
        while (j < b.size() && b[j].second < s.first) {
            ++j;
        }
        for (std::size_t k = j; k < b.size() && b[k].first <= s.second; ++k) {
            covered += std::min(s.second, b[k].second) - std::max(s.first, b[k].first) + 1;
        }
        n += s.second - s.first + 1 - covered;
    }
    return n;
}

/// Enough bookkeeping for every map a fuzzer's input size allows; more
/// distinct regions than this is a refusal (kCapacityExhausted), not a bug.
using FuzzAllocator = BasicFrameAllocator<SpinLock, 4096>;

/// Runs init() on what a parser produced and holds the allocator to the
/// independent numbers; then takes the largest free run and gives it back.
inline void exercise(const Collected& regions) {
    auto allocator = std::make_unique<FuzzAllocator>();
    auto init = allocator->init({regions.free.data(), regions.free.size()},
                                {regions.reserved.data(), regions.reserved.size()});
    if (!init) {
        if (init.kind() != ErrorKind::kCapacityExhausted) {
            std::fprintf(stderr, "parser fuzz: init refused parsed regions: %s\n",
                         init.error().message);
            std::abort();
        }
        return;
    }
    if (const Status st = allocator->check(); !st) {
        std::fprintf(stderr, "parser fuzz: check after init: %s\n", st.error().message);
        std::abort();
    }
    const auto free_union = union_of(regions.free);
    const auto reserved_union = union_of(regions.reserved);
    const std::uint64_t usable = frames_in_minus(free_union, reserved_union);
    const FrameStats st = allocator->stats();
    if (st.general.free_frames != usable) {
        fail("general free frames", st.general.free_frames, usable);
    }
    if (st.general.total_frames != usable) {
        fail("general total frames", st.general.total_frames, usable);
    }
    if (st.reserved.total_frames != frames_in(reserved_union)) {
        fail("reserved total frames", st.reserved.total_frames, frames_in(reserved_union));
    }
    if (st.general.largest_free_chunk != 0) {
        auto run = allocator->allocate_frames(st.general.largest_free_chunk);
        if (!run) {
            std::fprintf(stderr, "parser fuzz: the largest free run cannot be allocated: %s\n",
                         run.error().message);
            std::abort();
        }
        if (allocator->stats().general.free_frames != usable - st.general.largest_free_chunk) {
            fail("free frames after taking the largest run", allocator->stats().general.free_frames,
                 usable - st.general.largest_free_chunk);
        }
    }
    if (allocator->stats().general.free_frames != usable || !allocator->check()) {
        fail("free frames after giving the run back", allocator->stats().general.free_frames,
             usable);
    }
}

}  // namespace framealloc::fuzz
