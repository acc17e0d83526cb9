// The reference model: see model.hpp. Every answer is computed by walking
// frames one by one, with 128-bit arithmetic wherever a sum could wrap, so
// that none of framealloc's own overflow reasoning is reused here.
#include "model.hpp"

#include <cstdio>
#include <stdexcept>

#include "source.hpp"

namespace framealloc::reliability {

namespace {

bool is_pow2(std::uint64_t v) {
    return v != 0 && (v & (v - 1)) == 0;
}

Owner owner_of(Pool p) {
    return p == Pool::kGeneral ? Owner::kGeneral : Owner::kReserved;
}
}  // namespace

const char* kind_name(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::kZeroFrames:
            return "kZeroFrames";
        case ErrorKind::kAddressInUse:
            return "kAddressInUse";
        case ErrorKind::kOutsideAllocator:
            return "kOutsideAllocator";
        case ErrorKind::kNotEnoughContiguous:
            return "kNotEnoughContiguous";
        case ErrorKind::kOutOfMemory:
            return "kOutOfMemory";
        case ErrorKind::kAlreadyInitialized:
            return "kAlreadyInitialized";
        case ErrorKind::kNotInitialized:
            return "kNotInitialized";
        case ErrorKind::kCapacityExhausted:
            return "kCapacityExhausted";
        case ErrorKind::kBadRegion:
            return "kBadRegion";
        case ErrorKind::kOverflow:
            return "kOverflow";
        case ErrorKind::kNotAdjacent:
            return "kNotAdjacent";
        case ErrorKind::kOutOfRange:
            return "kOutOfRange";
        case ErrorKind::kMisaligned:
            return "kMisaligned";
        case ErrorKind::kInvalidArgument:
            return "kInvalidArgument";
        case ErrorKind::kRegionBusy:
            return "kRegionBusy";
        case ErrorKind::kHeapUnavailable:
            return "kHeapUnavailable";
        case ErrorKind::kForeignHandle:
            return "kForeignHandle";
        case ErrorKind::kInvariantViolation:
            return "kInvariantViolation";
    }
    return "kind?";
}

std::string Expect::str() const {
    if (ok) {
        return pool == Pool::kGeneral ? "ok(general)" : "ok(reserved)";
    }
    return std::string("error ") + kind_name(kind);
}

void RefModel::reset(std::uint64_t base, std::uint64_t size) {
    base_ = base;
    size_ = size;
    initialized_ = false;
    owner_.assign(size, 0);
    free_.assign(size, 0);
    runlen_.assign(size + 1, 0);
    total_[0] = total_[1] = 0;
    free_count_[0] = free_count_[1] = 0;
}

void RefModel::set(std::uint64_t f, Owner o, bool is_free) {
    if (f < base_ || f - base_ >= size_) {
        throw std::logic_error("reference model: frame outside the universe (driver bug)");
    }
    const std::uint64_t i = f - base_;
    const Owner old = static_cast<Owner>(owner_[i]);
    if (old != Owner::kNone) {
        --total_[static_cast<int>(old) - 1];
        if (free_[i] != 0) {
            --free_count_[static_cast<int>(old) - 1];
        }
    }
    owner_[i] = static_cast<std::uint8_t>(o);
    free_[i] = (o != Owner::kNone && is_free) ? 1 : 0;
    if (o != Owner::kNone) {
        ++total_[static_cast<int>(o) - 1];
        if (is_free) {
            ++free_count_[static_cast<int>(o) - 1];
        }
    }
}

Expect RefModel::expect_init(const std::vector<PhysicalMemoryRegion>& free_regions,
                             const std::vector<PhysicalMemoryRegion>& reserved_regions) const {
    if (initialized_) {
        return Expect::failure(ErrorKind::kAlreadyInitialized);
    }
    for (const auto& r : reserved_regions) {
        if (r.type == MemoryRegionType::kFree) {
            return Expect::failure(ErrorKind::kBadRegion);
        }
    }
    for (const auto& r : free_regions) {
        if (r.type == MemoryRegionType::kReserved) {
            return Expect::failure(ErrorKind::kBadRegion);
        }
    }
    return Expect::success(Pool::kGeneral);
}

void RefModel::init(const std::vector<PhysicalMemoryRegion>& free_regions,
                    const std::vector<PhysicalMemoryRegion>& reserved_regions) {
    for (const auto& r : free_regions) {
        if (r.type != MemoryRegionType::kFree || r.frames.is_empty()) {
            continue;
        }
        for (std::uint64_t f = r.frames.start().number(); f <= r.frames.end().number(); ++f) {
            set(f, Owner::kGeneral, true);
        }
    }
    for (const auto& r : reserved_regions) {
        if (r.type != MemoryRegionType::kReserved || r.frames.is_empty()) {
            continue;
        }
        for (std::uint64_t f = r.frames.start().number(); f <= r.frames.end().number(); ++f) {
            set(f, Owner::kReserved, true);
        }
    }
    initialized_ = true;
}

bool RefModel::window_frames(std::uint64_t lo, std::uint64_t hi, std::uint64_t& fmin,
                             std::uint64_t& fmax) {
    // Frame f lies wholly inside [lo, hi] iff lo <= f*4096 and f*4096 + 4095 <= hi.
    const U128 first = (static_cast<U128>(lo) + 4095) / 4096;
    const U128 after_last = (static_cast<U128>(hi) + 1) / 4096;  // frames f < this end by hi
    if (first >= after_last) {
        return false;
    }
    fmin = static_cast<std::uint64_t>(first);
    fmax = static_cast<std::uint64_t>(after_last - 1);
    return true;
}

Expect RefModel::validate(const AllocRequest& r, std::uint64_t& fmin, std::uint64_t& fmax) const {
    if (r.num_frames == 0) {
        return Expect::failure(ErrorKind::kZeroFrames);
    }
    if (!is_pow2(r.align_frames)) {
        return Expect::failure(ErrorKind::kInvalidArgument);
    }
    if (r.boundary_frames != 0 &&
        (!is_pow2(r.boundary_frames) || r.boundary_frames < r.num_frames)) {
        return Expect::failure(ErrorKind::kInvalidArgument);
    }
    if (static_cast<U128>(r.num_frames) > static_cast<U128>(kTopFrame) + 1) {
        return Expect::failure(ErrorKind::kOutOfMemory);
    }
    if (!window_frames(r.min_address.value(), r.max_address.value(), fmin, fmax)) {
        return Expect::failure(ErrorKind::kInvalidArgument);
    }
    return Expect::success(Pool::kGeneral);
}

bool RefModel::exists_fit(const AllocRequest& r, std::uint64_t fmin, std::uint64_t fmax) const {
    if (size_ == 0) {
        return false;
    }
    const std::uint64_t lo = fmin > base_ ? fmin : base_;
    const std::uint64_t hi = fmax < end() - 1 ? fmax : end() - 1;
    if (lo > hi) {
        return false;
    }
    // runlen_[i] = free general frames from frame base+i up to hi.
    runlen_[hi - base_ + 1] = 0;
    for (std::uint64_t f = hi + 1; f-- > lo;) {
        const std::uint64_t i = f - base_;
        const bool usable =
            owner_[i] == static_cast<std::uint8_t>(Owner::kGeneral) && free_[i] != 0;
        runlen_[i] = usable ? runlen_[i + 1] + 1 : 0;
    }
    const std::uint64_t n = r.num_frames;
    for (std::uint64_t s = lo; s <= hi; ++s) {
        if (s % r.align_frames != 0 || runlen_[s - base_] < n) {
            continue;
        }
        const std::uint64_t e = s + n - 1;
        if (r.boundary_frames != 0 && s / r.boundary_frames != e / r.boundary_frames) {
            continue;
        }
        return true;
    }
    return false;
}

Expect RefModel::expect_allocate(const AllocRequest& r) const {
    std::uint64_t fmin = 0;
    std::uint64_t fmax = 0;
    if (Expect v = validate(r, fmin, fmax); !v.ok) {
        return v;
    }
    if (!r.at) {
        if (!initialized_) {
            return Expect::failure(ErrorKind::kNotInitialized);
        }
        if (exists_fit(r, fmin, fmax)) {
            return Expect::success(Pool::kGeneral);
        }
        return Expect::failure(free(Pool::kGeneral) >= r.num_frames
                                   ? ErrorKind::kNotEnoughContiguous
                                   : ErrorKind::kOutOfMemory);
    }
    const std::uint64_t first = r.at->value() / 4096;
    if (first % r.align_frames != 0) {
        return Expect::failure(ErrorKind::kMisaligned);
    }
    const U128 last128 = static_cast<U128>(first) + r.num_frames - 1;
    if (last128 > kTopFrame) {
        return Expect::failure(ErrorKind::kOverflow);
    }
    const auto last = static_cast<std::uint64_t>(last128);
    if (first < fmin || last > fmax) {
        return Expect::failure(ErrorKind::kOutOfRange);
    }
    if (r.boundary_frames != 0 && first / r.boundary_frames != last / r.boundary_frames) {
        return Expect::failure(ErrorKind::kMisaligned);
    }
    if (!initialized_) {
        return Expect::failure(ErrorKind::kNotInitialized);
    }
    const bool may_reserved = !r.pool || *r.pool == Pool::kReserved;
    const bool may_general = !r.pool || *r.pool == Pool::kGeneral;
    const bool may_new = !r.pool;
    // Outside the universe nothing is in a region (the driver guarantees it).
    const bool inside = in_universe(first, last);
    if (inside && may_reserved && all(first, last, Owner::kReserved, true)) {
        return Expect::success(Pool::kReserved);
    }
    if (inside && may_general && all(first, last, Owner::kGeneral, true)) {
        return Expect::success(Pool::kGeneral);
    }
    if (may_new && (!inside || no_region(first, last))) {
        return Expect::success(Pool::kReserved);
    }
    if (inside &&
        (all(first, last, Owner::kGeneral, false) || all(first, last, Owner::kReserved, false))) {
        return Expect::failure(ErrorKind::kAddressInUse);
    }
    return Expect::failure(ErrorKind::kOutsideAllocator);
}

bool RefModel::legal_anywhere(const AllocRequest& r, std::uint64_t first, std::uint64_t last,
                              std::string* why) const {
    const auto fail = [&](const char* text) {
        if (why != nullptr) {
            *why = text;
        }
        return false;
    };
    if (last < first || last - first + 1 != r.num_frames) {
        return fail("wrong number of frames");
    }
    if (!in_universe(first, last)) {
        return fail("frames outside every region");
    }
    if (!all(first, last, Owner::kGeneral, true)) {
        return fail("a frame that was not free in the general pool");
    }
    if (first % r.align_frames != 0) {
        return fail("misaligned start");
    }
    if (r.boundary_frames != 0 && first / r.boundary_frames != last / r.boundary_frames) {
        return fail("crosses the boundary");
    }
    std::uint64_t fmin = 0;
    std::uint64_t fmax = 0;
    if (!window_frames(r.min_address.value(), r.max_address.value(), fmin, fmax) || first < fmin ||
        last > fmax) {
        return fail("outside the address window");
    }
    return true;
}

Expect RefModel::expect_adopt(std::uint64_t first, std::uint64_t last) const {
    if (!in_universe(first, last)) {
        return Expect::failure(ErrorKind::kOutsideAllocator);
    }
    for (const Pool p : {Pool::kGeneral, Pool::kReserved}) {
        if (all(first, last, owner_of(p), false)) {
            if (any_free(first, last)) {
                return Expect::failure(ErrorKind::kAddressInUse);
            }
            return Expect::success(p);
        }
    }
    return Expect::failure(ErrorKind::kOutsideAllocator);
}

Expect RefModel::expect_add_region(const PhysicalMemoryRegion& region) const {
    if (region.frames.is_empty()) {
        return Expect::failure(ErrorKind::kZeroFrames);
    }
    if (region.type == MemoryRegionType::kUnknown) {
        return Expect::failure(ErrorKind::kBadRegion);
    }
    if (!initialized_) {
        return Expect::failure(ErrorKind::kNotInitialized);
    }
    const std::uint64_t first = region.frames.start().number();
    const std::uint64_t last = region.frames.end().number();
    if (in_universe(first, last) && !no_region(first, last)) {
        return Expect::failure(ErrorKind::kBadRegion);
    }
    return Expect::success(region.type == MemoryRegionType::kReserved ? Pool::kReserved
                                                                      : Pool::kGeneral);
}

Expect RefModel::expect_take_offline(std::uint64_t first, std::uint64_t last) const {
    if (last < first) {
        return Expect::failure(ErrorKind::kZeroFrames);
    }
    if (!initialized_) {
        return Expect::failure(ErrorKind::kNotInitialized);
    }
    if (in_universe(first, last)) {
        for (const Pool p : {Pool::kGeneral, Pool::kReserved}) {
            if (all(first, last, owner_of(p), false)) {
                return all(first, last, owner_of(p), true)
                           ? Expect::success(p)
                           : Expect::failure(ErrorKind::kRegionBusy);
            }
        }
    }
    return Expect::failure(ErrorKind::kBadRegion);
}

void RefModel::take(std::uint64_t first, std::uint64_t last, bool new_region) {
    for (std::uint64_t f = first; f <= last; ++f) {
        const Owner o = new_region ? Owner::kReserved : owner(f);
        set(f, o, false);
    }
}

void RefModel::give_back(std::uint64_t first, std::uint64_t last) {
    for (std::uint64_t f = first; f <= last; ++f) {
        set(f, owner(f), true);
    }
}

void RefModel::add_region(std::uint64_t first, std::uint64_t last, Pool pool) {
    for (std::uint64_t f = first; f <= last; ++f) {
        set(f, owner_of(pool), true);
    }
}

void RefModel::remove_region(std::uint64_t first, std::uint64_t last) {
    for (std::uint64_t f = first; f <= last; ++f) {
        set(f, Owner::kNone, false);
    }
}

bool RefModel::all(std::uint64_t first, std::uint64_t last, Owner o, bool need_free) const {
    if (!in_universe(first, last)) {
        return false;
    }
    for (std::uint64_t f = first; f <= last; ++f) {
        if (owner(f) != o || (need_free && !is_free(f))) {
            return false;
        }
    }
    return true;
}

bool RefModel::any_free(std::uint64_t first, std::uint64_t last) const {
    for (std::uint64_t f = first; f <= last; ++f) {
        if (in_universe(f, f) && is_free(f)) {
            return true;
        }
    }
    return false;
}

bool RefModel::no_region(std::uint64_t first, std::uint64_t last) const {
    for (std::uint64_t f = first; f <= last; ++f) {
        if (in_universe(f, f) && owner(f) != Owner::kNone) {
            return false;
        }
    }
    return true;
}

std::vector<Run> RefModel::free_runs(Pool p) const {
    std::vector<Run> out;
    const auto want = static_cast<std::uint8_t>(owner_of(p));
    for (std::uint64_t i = 0; i < size_; ++i) {
        if (owner_[i] != want || free_[i] == 0) {
            continue;
        }
        if (!out.empty() && out.back().last + 1 == base_ + i) {
            out.back().last = base_ + i;
        } else {
            out.push_back(Run{base_ + i, base_ + i});
        }
    }
    return out;
}

std::vector<Run> RefModel::region_runs(Pool p) const {
    std::vector<Run> out;
    const auto want = static_cast<std::uint8_t>(owner_of(p));
    for (std::uint64_t i = 0; i < size_; ++i) {
        if (owner_[i] != want) {
            continue;
        }
        if (!out.empty() && out.back().last + 1 == base_ + i) {
            out.back().last = base_ + i;
        } else {
            out.push_back(Run{base_ + i, base_ + i});
        }
    }
    return out;
}

std::string RefModel::self_check() const {
    std::uint64_t total[2] = {0, 0};
    std::uint64_t free_count[2] = {0, 0};
    for (std::uint64_t i = 0; i < size_; ++i) {
        if (owner_[i] == 0) {
            if (free_[i] != 0) {
                return "model: a frame in no region is marked free";
            }
            continue;
        }
        ++total[owner_[i] - 1];
        free_count[owner_[i] - 1] += free_[i];
    }
    for (int p = 0; p < 2; ++p) {
        if (total[p] != total_[p] || free_count[p] != free_count_[p]) {
            return "model: counters disagree with the frame bytes";
        }
    }
    return {};
}

}  // namespace framealloc::reliability
