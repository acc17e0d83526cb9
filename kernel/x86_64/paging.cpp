// Builder for the kernel's identity map. Tables are written through their
// physical address, which works because the boot tables identity-map the low
// 4 GiB and framealloc is asked for table frames below 4 GiB.
#include "paging.hpp"

#include "x86.hpp"

namespace kernel {
namespace {

constexpr std::uint64_t kPresent = 1u << 0;
constexpr std::uint64_t kWritable = 1u << 1;
constexpr std::uint64_t kHugePage = 1u << 7;
constexpr std::uint64_t kTwoMiB = std::uint64_t{1} << 21;
constexpr std::uint64_t kOneGiB = std::uint64_t{1} << 30;
constexpr std::uint64_t kFourGiB = std::uint64_t{4} << 30;
constexpr std::uint64_t kPdptSpan = std::uint64_t{512} << 30;
// One PML4 reaches 256 TiB with 48-bit virtual addresses; the identity map is
// limited to the lower half so that every address stays canonical.
constexpr std::uint64_t kMaxIdentityTop = std::uint64_t{256} * kPdptSpan;
constexpr std::uint32_t kEntries = 512;

std::uint64_t* table_at(std::uint64_t phys) {
    return reinterpret_cast<std::uint64_t*>(static_cast<std::uintptr_t>(phys));
}

bool new_table(PageTableFrameSource source, void* context, IdentityMapInfo* info,
               std::uint64_t* phys) {
    if (!source(context, phys) || *phys >= kFourGiB || (*phys & 0xfff) != 0) {
        return false;
    }
    __builtin_memset(table_at(*phys), 0, 4096);
    ++info->table_frames;
    return true;
}

}  // namespace

bool install_identity_map(std::uint64_t top, PageTableFrameSource source, void* context,
                          IdentityMapInfo* info, const char** why) {
    if (top < kFourGiB) {
        top = kFourGiB;
    }
    if (top > kMaxIdentityTop) {
        *why = "memory reaches past what the identity map can cover";
        return false;
    }
    top = (top + kOneGiB - 1) & ~(kOneGiB - 1);
    *info = IdentityMapInfo{};

    std::uint64_t pml4 = 0;
    if (!new_table(source, context, info, &pml4)) {
        *why = "no frame below 4 GiB for the PML4";
        return false;
    }
    std::uint64_t pdpt = 0;
    for (std::uint64_t gib = 0; gib < top / kOneGiB; ++gib) {
        std::uint32_t pml4_index = static_cast<std::uint32_t>(gib / kEntries);
        std::uint32_t pdpt_index = static_cast<std::uint32_t>(gib % kEntries);
        if (pdpt_index == 0) {
            if (!new_table(source, context, info, &pdpt)) {
                *why = "no frame below 4 GiB for a PDPT";
                return false;
            }
            table_at(pml4)[pml4_index] = pdpt | kPresent | kWritable;
        }
        std::uint64_t pd = 0;
        if (!new_table(source, context, info, &pd)) {
            *why = "no frame below 4 GiB for a page directory";
            return false;
        }
        table_at(pdpt)[pdpt_index] = pd | kPresent | kWritable;
        std::uint64_t* entries = table_at(pd);
        for (std::uint32_t i = 0; i < kEntries; ++i) {
            entries[i] = (gib * kOneGiB + i * kTwoMiB) | kPresent | kWritable | kHugePage;
        }
    }
    write_cr3(pml4);
    info->mapped_bytes = top;
    return true;
}

}  // namespace kernel
