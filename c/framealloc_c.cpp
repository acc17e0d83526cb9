// The C interface (c/include/framealloc.h) over BasicFrameAllocator. An
// fa_allocator is placement-constructed in memory the caller hands over; the
// bytes after it are the first live-range table (see handle_table.hpp). After
// fa_move_to_heap() the table grows through the same heap hooks as the
// allocator. The table lock and the allocator lock are never held together
// with a heap hook call, so a heap that allocates frames from this allocator
// while it grows cannot deadlock.
#include "framealloc.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>

#include "framealloc/framealloc.hpp"
#include "handle_table.hpp"

namespace fa = framealloc;
using fa::capi::Handle;
using fa::capi::HandleTable;
using fa::capi::Slot;

namespace {

using Allocator = fa::BasicFrameAllocator<fa::SpinLock, FRAMEALLOC_EARLY_CAPACITY>;
constexpr std::uint64_t kMagic = 0x66612d616c6c6f63ULL;  // "fa-alloc"
constexpr std::uint32_t kKnownFlags =
    FA_REQ_AT | FA_REQ_POOL_GENERAL | FA_REQ_POOL_RESERVED | FA_REQ_DEFER;

static_assert(static_cast<int>(fa::ErrorKind::kInvariantViolation) == FA_ERR_INVARIANT_VIOLATION);
static_assert(static_cast<int>(fa::ErrorKind::kForeignHandle) == FA_ERR_FOREIGN_HANDLE);
static_assert(static_cast<int>(fa::MemoryRegionType::kReserved) == FA_REGION_RESERVED);
static_assert(fa::kFreeChunkOrders == FA_FREE_CHUNK_ORDERS);
// fa_init() converts regions into the table's memory.
static_assert(sizeof(Slot) >= sizeof(fa::PhysicalMemoryRegion));
static_assert(alignof(Slot) >= alignof(fa::PhysicalMemoryRegion));

fa_status to_status(fa::ErrorKind kind) {
    return static_cast<fa_status>(static_cast<int>(kind));
}
template <typename R>
fa_status to_status(const R& result) {
    return result.has_value() ? FA_OK : to_status(result.kind());
}
fa_frames to_c(const Handle& h) {
    return fa_frames{h.start().number(), h.size_in_frames()};
}
// The integer a C caller stored in an enum. C may store values no
// enumerator names; reading the bytes (not the enum) keeps C++ well defined.
template <typename E>
std::int64_t raw(const E& value) {
    std::underlying_type_t<E> v;
    __builtin_memcpy(&v, &value, sizeof v);  // no <cstring>: the kernel flavour has no libc
    return static_cast<std::int64_t>(v);
}
constexpr std::size_t round_up(std::size_t v, std::size_t a) {
    return (v + a - 1) / a * a;
}

}  // namespace

struct fa_allocator {
    std::uint64_t magic = kMagic;
    Allocator allocator;
    mutable fa::SpinLock table_lock;
    HandleTable table FRAMEALLOC_GUARDED_BY(table_lock);
    bool table_on_heap FRAMEALLOC_GUARDED_BY(table_lock) = false;
    fa::HeapHooks hooks;  // written once by fa_move_to_heap, before heap_ is set
    std::atomic<bool> heap{false};
    std::atomic<bool> growing{false};
    std::atomic<bool> deferred_pending{false};

    // Heap tables keep a quarter free so probes stay short; the early table
    // may fill up, as it cannot grow anyway.
    [[nodiscard]] std::size_t limit() const FRAMEALLOC_REQUIRES(table_lock) {
        return table_on_heap ? table.capacity() / 4 * 3 : table.capacity();
    }

    // Promises room for `count` entries; grows the table through the heap
    // when allowed and needed. Never calls a hook with a lock held.
    fa_status reserve_slots(std::size_t count, bool may_grow) FRAMEALLOC_EXCLUDES(table_lock) {
        for (int attempt = 0; attempt < 2; ++attempt) {
            {
                fa::LockGuard<fa::SpinLock> guard(table_lock);
                if (table.has_room(count, limit())) {
                    table.reserve(count);
                    return FA_OK;
                }
                if (!heap.load(std::memory_order_acquire) || !may_grow || attempt > 0) {
                    // Over the growth threshold but under the hard limit is still fine.
                    if (table.has_room(count, table.capacity())) {
                        table.reserve(count);
                        return FA_OK;
                    }
                    return FA_ERR_CAPACITY_EXHAUSTED;
                }
            }
            grow_table();
        }
        return FA_ERR_CAPACITY_EXHAUSTED;
    }
    void unreserve_slots(std::size_t count) FRAMEALLOC_EXCLUDES(table_lock) {
        fa::LockGuard<fa::SpinLock> guard(table_lock);
        table.unreserve(count);
    }
    void insert(Handle&& h) FRAMEALLOC_EXCLUDES(table_lock) {
        fa::LockGuard<fa::SpinLock> guard(table_lock);
        table.insert(static_cast<Handle&&>(h));
    }

    // Doubles the table from the heap. One grower at a time; a nested call
    // (the heap hook allocating frames through this same interface) returns.
    void grow_table() FRAMEALLOC_EXCLUDES(table_lock) {
        if (growing.exchange(true, std::memory_order_acquire)) {
            return;
        }
        std::size_t count = 0;
        {
            fa::LockGuard<fa::SpinLock> guard(table_lock);
            count = table.capacity() * 2 < 64 ? 64 : table.capacity() * 2;
        }
        void* memory = hooks.allocate(hooks.context, sizeof(Slot) * count, alignof(Slot));
        void* old_memory = nullptr;
        std::size_t old_count = 0;
        if (memory != nullptr) {
            HandleTable bigger;
            bigger.attach(memory, count);
            fa::LockGuard<fa::SpinLock> guard(table_lock);
            table.move_all_to(bigger);
            if (table_on_heap) {
                old_memory = table.slots();
                old_count = table.capacity();
            }
            table.detach();
            table.steal(bigger);
            table_on_heap = true;
        }
        if (old_memory != nullptr) {
            hooks.deallocate(hooks.context, old_memory, sizeof(Slot) * old_count, alignof(Slot));
        }
        growing.store(false, std::memory_order_release);
    }

    // Puts a freshly allocated handle into the table (room was reserved).
    fa_status keep(fa::Result<Handle>&& result, fa_frames* out) {
        if (!result) {
            unreserve_slots(1);
            return to_status(result.kind());
        }
        *out = to_c(result.value());
        insert(static_cast<Handle&&>(result.value()));
        return FA_OK;
    }

    // Finds an exact live range and takes it out (its room stays reserved).
    fa_status take(fa_frames frames, Handle* out) FRAMEALLOC_EXCLUDES(table_lock) {
        fa::LockGuard<fa::SpinLock> guard(table_lock);
        Slot* slot = table.find(frames.start_frame, frames.num_frames);
        if (slot == nullptr) {
            return FA_ERR_FOREIGN_HANDLE;
        }
        *out = table.take(slot);
        return FA_OK;
    }
};

namespace {

bool valid(const fa_allocator* a) {
    return a != nullptr && a->magic == kMagic;
}

constexpr std::size_t table_offset() {
    return round_up(sizeof(fa_allocator), alignof(Slot));
}

// A C request as a C++ one; the page size and deferral are handled by the caller.
fa_status to_request(const fa_request& r, fa::AllocRequest* out) {
    if ((r.flags & ~kKnownFlags) != 0) {
        return FA_ERR_INVALID_ARGUMENT;
    }
    const bool at = (r.flags & FA_REQ_AT) != 0;
    const bool general = (r.flags & FA_REQ_POOL_GENERAL) != 0;
    const bool reserved = (r.flags & FA_REQ_POOL_RESERVED) != 0;
    if ((general && reserved) || (reserved && !at)) {
        return FA_ERR_INVALID_ARGUMENT;
    }
    fa::AllocRequest req = fa::AllocRequest::frames(r.num_frames);
    req.align_frames = r.align_frames == 0 ? 1 : r.align_frames;
    req.boundary_frames = r.boundary_frames;
    constexpr std::uint64_t kTop = fa::PhysicalAddress::kMax;
    req.min_address =
        fa::PhysicalAddress::new_canonical(r.min_address > kTop ? kTop : r.min_address);
    const std::uint64_t hi = r.max_address == 0 || r.max_address > kTop ? kTop : r.max_address;
    if (r.min_address > kTop) {
        return FA_ERR_INVALID_ARGUMENT;  // no frame can lie above the top
    }
    req.max_address = fa::PhysicalAddress::new_canonical(hi);
    if (at) {
        const auto address = fa::PhysicalAddress::create(r.at_address);
        if (!address) {
            return FA_ERR_OUTSIDE_ALLOCATOR;
        }
        req.at = *address;
    }
    if (general) {
        req.pool = fa::Pool::kGeneral;
    } else if (reserved) {
        req.pool = fa::Pool::kReserved;
    }
    *out = req;
    return FA_OK;
}

template <fa::PageSize P>
fa::Result<Handle> allocate_huge(Allocator& a, const fa::AllocRequest& req) {
    auto huge = a.allocate_huge<P>(req.num_frames, req);
    if (!huge) {
        return huge.error();
    }
    return huge.value().template into_page_size<fa::Page4K>();
}

fa::Result<fa::PhysicalMemoryRegion> to_region(const fa_region& r) {
    const std::int64_t type = raw(r.type);
    if (type != FA_REGION_FREE && type != FA_REGION_RESERVED && type != FA_REGION_UNKNOWN) {
        return fa::make_error(fa::ErrorKind::kBadRegion, "unknown region type");
    }
    return fa::PhysicalMemoryRegion::from_bytes(r.start, r.size_bytes,
                                                static_cast<fa::MemoryRegionType>(type));
}

}  // namespace

extern "C" {

const char* fa_status_message(fa_status status) {
    const std::int64_t code = raw(status);
    if (code == FA_OK) {
        return "ok";
    }
    if (code < FA_ERR_ZERO_FRAMES || code > FA_ERR_INVARIANT_VIOLATION) {
        return "unknown status";
    }
    return fa::to_string(static_cast<fa::ErrorKind>(code));
}

size_t fa_allocator_size(size_t handle_capacity) {
    const std::size_t wanted =
        handle_capacity < HandleTable::kMinSlots - 1 ? HandleTable::kMinSlots - 1 : handle_capacity;
    const std::size_t max_slots = (SIZE_MAX - table_offset()) / sizeof(Slot);
    if (wanted >= max_slots) {
        return 0;
    }
    return table_offset() + (wanted + 1) * sizeof(Slot);
}

size_t fa_allocator_align(void) {
    return alignof(fa_allocator) > alignof(Slot) ? alignof(fa_allocator) : alignof(Slot);
}

fa_status fa_create(void* memory, size_t size, fa_allocator** out) {
    if (memory == nullptr || out == nullptr) {
        return FA_ERR_INVALID_ARGUMENT;
    }
    if (reinterpret_cast<std::uintptr_t>(memory) % fa_allocator_align() != 0) {
        return FA_ERR_MISALIGNED;
    }
    if (size < fa_allocator_size(0)) {
        return FA_ERR_CAPACITY_EXHAUSTED;
    }
    auto* a = new (memory) fa_allocator();
    {
        fa::LockGuard<fa::SpinLock> guard(a->table_lock);
        a->table.attach(static_cast<unsigned char*>(memory) + table_offset(),
                        (size - table_offset()) / sizeof(Slot));
    }
    *out = a;
    return FA_OK;
}

void fa_destroy(fa_allocator* a) {
    if (!valid(a)) {
        return;
    }
    void* heap_memory = nullptr;
    std::size_t heap_count = 0;
    {
        fa::LockGuard<fa::SpinLock> guard(a->table_lock);
        // Handles die here, returning their frames, before the allocator does.
        for (std::size_t i = 0; i < a->table.capacity(); ++i) {
            a->table.slots()[i].frames = Handle();
        }
        if (a->table_on_heap) {
            heap_memory = a->table.slots();
            heap_count = a->table.capacity();
        }
        a->table.detach();
    }
    if (heap_memory != nullptr) {
        a->hooks.deallocate(a->hooks.context, heap_memory, sizeof(Slot) * heap_count,
                            alignof(Slot));
    }
    a->magic = 0;
    a->~fa_allocator();
}

size_t fa_metadata_size(const fa_region* regions, size_t count) {
    if (regions == nullptr && count != 0) {
        return 0;
    }
    std::size_t bytes = fa::FrameAllocator::metadata_bytes_fixed();
    for (std::size_t i = 0; i < count; ++i) {
        auto region = to_region(regions[i]);
        if (!region) {
            return 0;
        }
        bytes += fa::FrameAllocator::metadata_bytes_of(region.value());
    }
    return bytes;
}

fa_status fa_init(fa_allocator* a, const fa_region* regions, size_t count) {
    return fa_init_with_metadata(a, regions, count, nullptr, 0);
}

fa_status fa_init_with_metadata(fa_allocator* a, const fa_region* regions, size_t count,
                                void* metadata, size_t size) {
    if (!valid(a) || (regions == nullptr && count != 0) || (metadata == nullptr && size != 0)) {
        return FA_ERR_INVALID_ARGUMENT;
    }
    if (a->allocator.is_initialized()) {
        return FA_ERR_ALREADY_INITIALIZED;
    }
    fa::LockGuard<fa::SpinLock> guard(a->table_lock);
    // No range can be live before init, so the table's slots are free scratch:
    // free regions fill it from the front, reserved ones from the back.
    if (count >= a->table.capacity() || a->table.live() != 0) {
        return FA_ERR_CAPACITY_EXHAUSTED;
    }
    auto* scratch = reinterpret_cast<fa::PhysicalMemoryRegion*>(a->table.slots());
    // Every exit, a rejected region included, must give the slots back
    // their empty state (the regions were trivially copyable): a slot left
    // holding region bytes would look like a live range.
    const auto restore_slots = [&]() FRAMEALLOC_NO_TSA {
        for (std::size_t i = 0; i < count; ++i) {
            new (&a->table.slots()[i]) Slot();
        }
    };
    std::size_t free_count = 0;
    std::size_t reserved_count = 0;
    for (std::size_t i = 0; i < count; ++i) {
        auto region = to_region(regions[i]);
        if (!region) {
            restore_slots();
            return to_status(region.kind());
        }
        if (region->type == fa::MemoryRegionType::kFree) {
            new (&scratch[free_count++]) fa::PhysicalMemoryRegion(region.value());
        } else if (region->type == fa::MemoryRegionType::kReserved) {
            new (&scratch[count - ++reserved_count]) fa::PhysicalMemoryRegion(region.value());
        }
    }
    const fa::Span<const fa::PhysicalMemoryRegion> free_regions(scratch, free_count);
    const fa::Span<const fa::PhysicalMemoryRegion> reserved_regions(
        scratch + count - reserved_count, reserved_count);
    auto result =
        metadata == nullptr
            ? a->allocator.init(free_regions, reserved_regions)
            : a->allocator.init(free_regions, reserved_regions,
                                fa::Span<std::byte>(static_cast<std::byte*>(metadata), size));
    restore_slots();
    return to_status(result);
}

fa_status fa_move_to_heap(fa_allocator* a, const fa_heap_hooks* hooks) {
    if (!valid(a) || hooks == nullptr || hooks->allocate == nullptr ||
        hooks->deallocate == nullptr) {
        return FA_ERR_INVALID_ARGUMENT;
    }
    const fa::HeapHooks cpp{hooks->allocate, hooks->deallocate, hooks->context};
    // The table reads `hooks` only once `heap` is set, and only this call sets it.
    if (a->heap.load(std::memory_order_acquire)) {
        return FA_ERR_ALREADY_INITIALIZED;
    }
    const fa::Status st = a->allocator.move_to_heap(cpp);
    if (!st) {
        return to_status(st.kind());
    }
    a->hooks = cpp;
    a->heap.store(true, std::memory_order_release);
    return FA_OK;
}

fa_status fa_allocate(fa_allocator* a, const fa_request* request, fa_frames* out) {
    if (!valid(a) || request == nullptr || out == nullptr) {
        return FA_ERR_INVALID_ARGUMENT;
    }
    fa::AllocRequest req;
    if (const fa_status st = to_request(*request, &req); st != FA_OK) {
        return st;
    }
    const bool defer = (request->flags & FA_REQ_DEFER) != 0;
    const std::int64_t page_size = raw(request->page_size);
    if (defer) {
        // Only the Theseus-style core routine can postpone its bookkeeping.
        const bool plain = req.align_frames == 1 && req.boundary_frames == 0 && !req.pool &&
                           request->min_address == 0 && request->max_address == 0 &&
                           page_size == FA_PAGE_4K;
        if (!plain) {
            return FA_ERR_INVALID_ARGUMENT;
        }
    }
    if (page_size != FA_PAGE_4K && page_size != FA_PAGE_2M && page_size != FA_PAGE_1G) {
        return FA_ERR_INVALID_ARGUMENT;
    }
    if (const fa_status st = a->reserve_slots(1, !defer); st != FA_OK) {
        return st;
    }
    if (defer) {
        auto result = a->allocator.allocate_frames_deferred(req.at, req.num_frames);
        if (!result) {
            a->unreserve_slots(1);
            return to_status(result.kind());
        }
        // The action would run when destroyed; move it into storage that is
        // never destroyed and run its work from fa_run_deferred() instead.
        if (result->action.pending()) {
            alignas(fa::DeferredAllocAction) unsigned char parked[sizeof(fa::DeferredAllocAction)];
            new (parked)
                fa::DeferredAllocAction(static_cast<fa::DeferredAllocAction&&>(result->action));
            a->deferred_pending.store(true, std::memory_order_release);
        }
        return a->keep(static_cast<Handle&&>(result->frames), out);
    }
    switch (page_size) {
        case FA_PAGE_2M:
            return a->keep(allocate_huge<fa::Page2M>(a->allocator, req), out);
        case FA_PAGE_1G:
            return a->keep(allocate_huge<fa::Page1G>(a->allocator, req), out);
        default:
            return a->keep(a->allocator.allocate(req), out);
    }
}

fa_status fa_allocate_frames(fa_allocator* a, uint64_t num_frames, fa_frames* out) {
    fa_request r{};
    r.num_frames = num_frames;
    return fa_allocate(a, &r, out);
}

fa_status fa_allocate_frames_at(fa_allocator* a, uint64_t address, uint64_t num_frames,
                                fa_frames* out) {
    fa_request r{};
    r.num_frames = num_frames;
    r.at_address = address;
    r.flags = FA_REQ_AT;
    return fa_allocate(a, &r, out);
}

fa_status fa_allocate_by_bytes(fa_allocator* a, uint64_t num_bytes, fa_frames* out) {
    if (!valid(a) || out == nullptr) {
        return FA_ERR_INVALID_ARGUMENT;
    }
    if (const fa_status st = a->reserve_slots(1, true); st != FA_OK) {
        return st;
    }
    return a->keep(a->allocator.allocate_frames_by_bytes(num_bytes), out);
}

fa_status fa_allocate_by_bytes_at(fa_allocator* a, uint64_t address, uint64_t num_bytes,
                                  fa_frames* out) {
    if (!valid(a) || out == nullptr) {
        return FA_ERR_INVALID_ARGUMENT;
    }
    const auto start = fa::PhysicalAddress::create(address);
    if (!start) {
        return FA_ERR_OUTSIDE_ALLOCATOR;
    }
    if (const fa_status st = a->reserve_slots(1, true); st != FA_OK) {
        return st;
    }
    return a->keep(a->allocator.allocate_frames_by_bytes_at(*start, num_bytes), out);
}

fa_status fa_inspect_then_allocate(fa_allocator* a, fa_inspect_fn fn, void* context,
                                   fa_frames* out) {
    if (!valid(a) || fn == nullptr || out == nullptr) {
        return FA_ERR_INVALID_ARGUMENT;
    }
    if (const fa_status st = a->reserve_slots(1, true); st != FA_OK) {
        return st;
    }
    bool bad_answer = false;
    auto result = a->allocator.inspect_then_allocate_free_frames([&](fa::FrameRange<> chunk) {
        const fa_iter_request answer =
            fn(context, fa_frames{chunk.start().number(), chunk.size_in_frames()});
        switch (raw(answer.kind)) {
            case FA_ITER_NEXT:
                return fa::FramesIteratorRequest::Next();
            case FA_ITER_ALLOCATE_AT: {
                const auto frame = fa::Frame<>::from_number(answer.frames.start_frame);
                if (frame) {
                    return fa::FramesIteratorRequest::AllocateAt(*frame, answer.frames.num_frames);
                }
                bad_answer = true;
                return fa::FramesIteratorRequest::Stop();
            }
            case FA_ITER_STOP:
                return fa::FramesIteratorRequest::Stop();
        }
        bad_answer = true;
        return fa::FramesIteratorRequest::Stop();
    });
    if (bad_answer) {
        a->unreserve_slots(1);
        return FA_ERR_INVALID_ARGUMENT;
    }
    if (!result) {
        a->unreserve_slots(1);
        return to_status(result.kind());
    }
    if (!result->has_value()) {
        a->unreserve_slots(1);
        *out = fa_frames{0, 0};
        return FA_OK;
    }
    *out = to_c(result->value());
    a->insert(static_cast<Handle&&>(result->value()));
    return FA_OK;
}

void fa_run_deferred(fa_allocator* a) {
    if (!valid(a)) {
        return;
    }
    if (a->deferred_pending.exchange(false, std::memory_order_acq_rel)) {
        a->allocator.run_deferred();
    }
    if (a->heap.load(std::memory_order_acquire)) {
        bool over = false;
        {
            fa::LockGuard<fa::SpinLock> guard(a->table_lock);
            over = !a->table.has_room(1, a->limit());
        }
        if (over) {
            a->grow_table();
        }
    }
}

fa_status fa_free(fa_allocator* a, fa_frames frames) {
    if (!valid(a)) {
        return FA_ERR_INVALID_ARGUMENT;
    }
    Handle h;
    if (const fa_status st = a->take(frames, &h); st != FA_OK) {
        return st;
    }
    a->unreserve_slots(1);
    h = Handle();  // returns the frames, outside the table lock
    return FA_OK;
}

fa_status fa_split(fa_allocator* a, fa_frames frames, uint64_t at, fa_frames* first,
                   fa_frames* second) {
    if (!valid(a) || first == nullptr || second == nullptr) {
        return FA_ERR_INVALID_ARGUMENT;
    }
    // The range and the split point first, so a full table is reported only
    // for a split that could otherwise be made.
    Handle h;
    if (const fa_status st = a->take(frames, &h); st != FA_OK) {
        return st;
    }
    // Both parts must be non-empty: an empty range cannot be looked up again.
    const auto at_frame = fa::Frame<>::from_number(at);
    if (!at_frame || *at_frame <= h.start() || *at_frame > h.end()) {
        a->insert(static_cast<Handle&&>(h));
        return FA_ERR_OUT_OF_RANGE;
    }
    // The taken range keeps its own room; the second part needs one more.
    if (const fa_status st = a->reserve_slots(1, true); st != FA_OK) {
        a->insert(static_cast<Handle&&>(h));
        return st;
    }
    auto parts = h.split_at(*at_frame);
    if (!parts) {
        a->insert(static_cast<Handle&&>(h));
        a->unreserve_slots(1);
        return to_status(parts.kind());
    }
    *first = to_c(parts->first);
    *second = to_c(parts->second);
    a->insert(static_cast<Handle&&>(parts->first));
    a->insert(static_cast<Handle&&>(parts->second));
    return FA_OK;
}

fa_status fa_merge(fa_allocator* a, fa_frames x, fa_frames y, fa_frames* out) {
    if (!valid(a) || out == nullptr) {
        return FA_ERR_INVALID_ARGUMENT;
    }
    Handle hx;
    Handle hy;
    if (const fa_status st = a->take(x, &hx); st != FA_OK) {
        return st;
    }
    // A live range given twice: the second lookup would miss it (the first
    // took it out) and call it foreign; say what is really wrong.
    if (x.start_frame == y.start_frame && x.num_frames == y.num_frames) {
        a->insert(static_cast<Handle&&>(hx));
        return FA_ERR_INVALID_ARGUMENT;
    }
    if (const fa_status st = a->take(y, &hy); st != FA_OK) {
        a->insert(static_cast<Handle&&>(hx));
        return st;
    }
    const fa::Status st = hx.merge(hy);
    if (!st) {
        a->insert(static_cast<Handle&&>(hx));
        a->insert(static_cast<Handle&&>(hy));
        return to_status(st.kind());
    }
    *out = to_c(hx);
    a->insert(static_cast<Handle&&>(hx));
    a->unreserve_slots(1);
    return FA_OK;
}

fa_status fa_add_region(fa_allocator* a, const fa_region* region) {
    if (!valid(a) || region == nullptr) {
        return FA_ERR_INVALID_ARGUMENT;
    }
    auto r = to_region(*region);
    if (!r) {
        return to_status(r.kind());
    }
    return to_status(a->allocator.add_region(r.value()));
}

fa_status fa_take_offline(fa_allocator* a, fa_frames frames) {
    if (!valid(a)) {
        return FA_ERR_INVALID_ARGUMENT;
    }
    if (frames.num_frames == 0) {
        return FA_ERR_ZERO_FRAMES;
    }
    const auto start = fa::Frame<>::from_number(frames.start_frame);
    if (!start) {
        return FA_ERR_OVERFLOW;
    }
    auto range = fa::FrameRange<>::from_count(*start, frames.num_frames);
    if (!range) {
        return to_status(range.kind());
    }
    return to_status(a->allocator.take_offline(range.value()));
}

void fa_drain_cpu_cache(fa_allocator* a, unsigned cpu) {
    if (valid(a)) {
        a->allocator.drain_cpu_cache(cpu);
    }
}

void fa_drain_cpu_caches(fa_allocator* a) {
    if (valid(a)) {
        a->allocator.drain_cpu_caches();
    }
}

fa_status fa_get_stats(const fa_allocator* a, fa_stats* out) {
    if (!valid(a) || out == nullptr) {
        return FA_ERR_INVALID_ARGUMENT;
    }
    const fa::FrameStats st = a->allocator.stats();
    const auto pool = [](const fa::PoolStats& p) {
        fa_pool_stats c{p.total_frames, p.free_frames,        p.allocated_frames,
                        p.free_chunks,  p.largest_free_chunk, {}};
        for (std::size_t k = 0; k < fa::kFreeChunkOrders; ++k) {
            c.free_chunks_by_order[k] = p.free_chunks_by_order[k];
        }
        return c;
    };
    fa_stats s{};
    s.general = pool(st.general);
    s.reserved = pool(st.reserved);
    s.cached_frames = st.cached_frames;
    s.nodes_capacity = st.nodes_capacity;
    s.nodes_used = st.nodes_used;
    s.nodes_reserved = st.nodes_reserved;
    s.fragmentation_permille = st.fragmentation_permille();
    s.heap_mode = st.heap_mode;
    {
        fa::LockGuard<fa::SpinLock> guard(a->table_lock);
        s.live_ranges = a->table.live();
        s.handle_capacity = a->table.capacity();
    }
    *out = s;
    return FA_OK;
}

fa_status fa_check(const fa_allocator* a) {
    if (!valid(a)) {
        return FA_ERR_INVALID_ARGUMENT;
    }
    if (const fa::Status st = a->allocator.check(); !st) {
        return to_status(st.kind());
    }
    fa::LockGuard<fa::SpinLock> guard(a->table_lock);
    return a->table.consistent(&a->allocator) ? FA_OK : FA_ERR_INVARIANT_VIOLATION;
}

fa_status fa_dump(const fa_allocator* a, fa_dump_fn fn, void* context) {
    if (!valid(a) || fn == nullptr) {
        return FA_ERR_INVALID_ARGUMENT;
    }
    a->allocator.dump([&](const char* line) { fn(context, line); });
    std::size_t live = 0;
    std::size_t capacity = 0;
    {
        fa::LockGuard<fa::SpinLock> guard(a->table_lock);
        live = a->table.live();
        capacity = a->table.capacity();
    }
    char line[96] = "c handles: live ";
    std::size_t n = 0;
    while (line[n] != '\0') {
        ++n;
    }
    const auto append = [&](const char* text) {
        while (*text != '\0' && n + 1 < sizeof(line)) {
            line[n++] = *text++;
        }
        line[n] = '\0';
    };
    append(fa::detail::to_dec(live).text);
    append(" of ");
    append(fa::detail::to_dec(capacity).text);
    fn(context, line);
    return FA_OK;
}

}  // extern "C"
