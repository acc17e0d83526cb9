// Helpers for the page-allocator tests: canonical x86_64 addresses, virtual
// ranges by bytes, and an initialised page allocator over a small layout.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "feature_test_util.hpp"
#include "framealloc/page_allocator.hpp"

namespace framealloc::test {

inline constexpr std::uint64_t kPage = Page4K::kBytes;
/// Start of the x86_64 higher half (48-bit canonical addresses).
inline constexpr std::uint64_t kHigherHalf = 0xffff800000000000ULL;
/// The top 2 GiB, where x86_64 kernels link themselves.
inline constexpr std::uint64_t kKernelBase = 0xffffffff80000000ULL;

inline VirtualAddress vaddr(std::uint64_t value) {
    return VirtualAddress::create(value).value();
}
inline PageRange<> vrange(std::uint64_t start, std::uint64_t bytes) {
    return PageRange<>::from_address(vaddr(start), bytes).value();
}
inline PageRange<> pages_by_number(std::uint64_t first, std::uint64_t last) {
    return PageRange<>(Page<>::from_number(first).value(), Page<>::from_number(last).value());
}

template <typename Alloc = PageAllocator>
std::unique_ptr<Alloc> make_page_allocator(std::vector<PageRange<>> free,
                                           std::vector<PageRange<>> reserved = {}) {
    auto alloc = std::make_unique<Alloc>();
    const Status st = alloc->init(Span<const PageRange<>>(free), Span<const PageRange<>>(reserved));
    EXPECT_TRUE(st.ok()) << (st ? "" : st.error().message);
    return alloc;
}

// General: 1 GiB at the start of the higher half and 64 MiB at 1 GiB in the
// lower half. Reserved: the first 2 MiB of the kernel's top 2 GiB.
inline std::unique_ptr<PageAllocator> kernel_space() {
    return make_page_allocator({vrange(kHigherHalf, kGiB), vrange(kGiB, 64 * kMiB)},
                               {vrange(kKernelBase, 2 * kMiB)});
}

}  // namespace framealloc::test
