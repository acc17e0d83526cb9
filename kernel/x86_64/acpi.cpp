// ACPI table lookup (acpi.hpp). Tables come from firmware and are read
// defensively: lengths are bounded before they are used to walk anything.
#include "acpi.hpp"

namespace kernel::acpi {
namespace {

constexpr std::uint64_t kBdaEbdaSegment = 0x40e;
constexpr std::uint64_t kBiosAreaStart = 0xe0000;
constexpr std::uint64_t kBiosAreaEnd = 0x100000;
constexpr std::uint64_t kEbdaScanBytes = 1024;
// No sane table is this large; a bigger length means a corrupt header.
constexpr std::uint32_t kMaxTableBytes = 1u << 20;

struct [[gnu::packed]] Rsdp {
    char signature[8];
    std::uint8_t checksum;
    char oem_id[6];
    std::uint8_t revision;
    std::uint32_t rsdt_address;
    // ACPI 2.0+
    std::uint32_t length;
    std::uint64_t xsdt_address;
    std::uint8_t extended_checksum;
    std::uint8_t reserved[3];
};
static_assert(sizeof(Rsdp) == 36);

// The empty asm hides the constant address from GCC, which otherwise treats
// a pointer to the BIOS data area (page 0) as a null-derived one.
const std::uint8_t* bytes_at(std::uint64_t phys) {
    auto address = static_cast<std::uintptr_t>(phys);
    asm("" : "+r"(address));
    return reinterpret_cast<const std::uint8_t*>(address);
}

bool sums_to_zero(const std::uint8_t* p, std::size_t length) {
    std::uint8_t sum = 0;
    for (std::size_t i = 0; i < length; ++i) {
        sum = static_cast<std::uint8_t>(sum + p[i]);
    }
    return sum == 0;
}

bool same_signature(const char* a, const char* b, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        if (a[i] != b[i]) {
            return false;
        }
    }
    return true;
}

bool valid_rsdp(std::uint64_t phys) {
    const auto* rsdp = reinterpret_cast<const Rsdp*>(bytes_at(phys));
    if (!same_signature(rsdp->signature, "RSD PTR ", 8) || !sums_to_zero(bytes_at(phys), 20)) {
        return false;
    }
    if (rsdp->revision >= 2) {
        return rsdp->length >= sizeof(Rsdp) && rsdp->length <= 4096 &&
               sums_to_zero(bytes_at(phys), rsdp->length);
    }
    return true;
}

// Scans [start, end) on 16-byte boundaries, as the specification places it.
std::uint64_t scan(std::uint64_t start, std::uint64_t end) {
    for (std::uint64_t p = start; p + sizeof(Rsdp) <= end; p += 16) {
        if (valid_rsdp(p)) {
            return p;
        }
    }
    return 0;
}

const TableHeader* checked_table(std::uint64_t phys) {
    if (phys == 0) {
        return nullptr;
    }
    const auto* header = reinterpret_cast<const TableHeader*>(bytes_at(phys));
    if (header->length < sizeof(TableHeader) || header->length > kMaxTableBytes ||
        !sums_to_zero(bytes_at(phys), header->length)) {
        return nullptr;
    }
    return header;
}

}  // namespace

std::uint64_t find_rsdp() {
    const std::uint64_t ebda =
        static_cast<std::uint64_t>(
            *reinterpret_cast<const volatile std::uint16_t*>(bytes_at(kBdaEbdaSegment)))
        << 4;
    if (ebda >= 0x80000 && ebda < 0xa0000) {
        if (std::uint64_t found = scan(ebda, ebda + kEbdaScanBytes); found != 0) {
            return found;
        }
    }
    return scan(kBiosAreaStart, kBiosAreaEnd);
}

const TableHeader* find_table(const char sig[4]) {
    const std::uint64_t rsdp_phys = find_rsdp();
    if (rsdp_phys == 0) {
        return nullptr;
    }
    const auto* rsdp = reinterpret_cast<const Rsdp*>(bytes_at(rsdp_phys));
    const bool use_xsdt = rsdp->revision >= 2 && rsdp->xsdt_address != 0;
    const TableHeader* root = checked_table(use_xsdt ? rsdp->xsdt_address : rsdp->rsdt_address);
    if (root == nullptr || !same_signature(root->signature, use_xsdt ? "XSDT" : "RSDT", 4)) {
        return nullptr;
    }
    const std::size_t entry_bytes = use_xsdt ? 8 : 4;
    const std::size_t entries = (root->length - sizeof(TableHeader)) / entry_bytes;
    const std::uint8_t* list = reinterpret_cast<const std::uint8_t*>(root) + sizeof(TableHeader);
    for (std::size_t i = 0; i < entries; ++i) {
        std::uint64_t phys = 0;
        __builtin_memcpy(&phys, list + i * entry_bytes, entry_bytes);
        const TableHeader* table = checked_table(phys);
        if (table != nullptr && same_signature(table->signature, sig, 4)) {
            return table;
        }
    }
    return nullptr;
}

bool read_madt_cpus(MadtCpus* cpus, const char** why) {
    *cpus = MadtCpus{};
    const TableHeader* madt = find_table("APIC");
    if (madt == nullptr) {
        *why = "no valid ACPI MADT (signature APIC)";
        return false;
    }
    // The MADT header: the common header, the local APIC address, flags.
    constexpr std::size_t kMadtFixed = sizeof(TableHeader) + 8;
    if (madt->length < kMadtFixed) {
        *why = "ACPI MADT shorter than its fixed part";
        return false;
    }
    const std::uint8_t* base = reinterpret_cast<const std::uint8_t*>(madt);
    std::uint32_t lapic = 0;
    __builtin_memcpy(&lapic, base + sizeof(TableHeader), 4);
    cpus->lapic_address = lapic;
    constexpr std::uint32_t kEnabled = 1u << 0;
    constexpr std::uint32_t kOnlineCapable = 1u << 1;
    for (std::size_t at = kMadtFixed; at < madt->length;) {
        if (madt->length - at < 2) {
            *why = "ACPI MADT entry header runs past the table";
            return false;
        }
        const std::uint8_t type = base[at];
        const std::uint8_t length = base[at + 1];
        if (length < 2 || length > madt->length - at) {
            *why = "ACPI MADT entry with a bad length";
            return false;
        }
        std::uint32_t apic_id = 0;
        std::uint32_t flags = 0;
        bool is_cpu = false;
        if (type == 0 && length >= 8) {  // processor local APIC
            apic_id = base[at + 3];
            __builtin_memcpy(&flags, base + at + 4, 4);
            is_cpu = true;
        } else if (type == 9 && length >= 16) {  // processor local x2APIC
            __builtin_memcpy(&apic_id, base + at + 4, 4);
            __builtin_memcpy(&flags, base + at + 8, 4);
            is_cpu = true;
        } else if (type == 5 && length >= 12) {  // local APIC address override
            __builtin_memcpy(&cpus->lapic_address, base + at + 4, 8);
        }
        if (is_cpu && (flags & (kEnabled | kOnlineCapable)) != 0) {
            if (cpus->count < kMaxMadtCpus) {
                cpus->apic_ids[cpus->count++] = apic_id;
            } else {
                ++cpus->dropped;
            }
        }
        at += length;
    }
    if (cpus->count == 0) {
        *why = "ACPI MADT lists no usable CPU";
        return false;
    }
    return true;
}

}  // namespace kernel::acpi
