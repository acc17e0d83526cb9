// libFuzzer target for the C interface: the input bytes choose a sequence of
// fa_* calls (failed fa_init calls first, then a good one, then allocations
// anywhere and at addresses, frees of live, foreign and already freed ranges,
// splits, merges including a range with itself, deferred allocations, the
// move to the heap, cache drains) and a tiny model of the live ranges says
// what each call must answer. After every call: fa_check() passes, the
// allocator counts exactly the model's live ranges, and the frames they hold
// are exactly the frames the pools count as allocated. At the end every
// range is freed and every byte of heap memory must have come back.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <map>
#include <vector>

#include "framealloc.h"
#include "source.hpp"

namespace {

using framealloc::reliability::ByteSource;

[[noreturn]] void fail(const char* what, long long got, long long want) {
    std::fprintf(stderr, "c api fuzz: %s: got %lld, expected %lld\n", what, got, want);
    std::abort();
}

struct Heap {
    long live = 0;
    static void* allocate(void* context, std::size_t bytes, std::size_t align) {
        ++static_cast<Heap*>(context)->live;
        return std::aligned_alloc(align, (bytes + align - 1) / align * align);
    }
    static void deallocate(void* context, void* memory, std::size_t, std::size_t) {
        --static_cast<Heap*>(context)->live;
        std::free(memory);
    }
};

constexpr std::uint64_t kFrame = FA_FRAME_SIZE;
constexpr std::uint64_t kSpaceFrames = 4096;  // regions and addresses in the first 16 MiB

class Driver {
  public:
    explicit Driver(ByteSource& in) : in_(in), memory_(nullptr) {}
    ~Driver() { std::free(memory_); }
    Driver(const Driver&) = delete;
    Driver& operator=(const Driver&) = delete;

    void run() {
        const std::size_t size = fa_allocator_size(16 + in_.below(48));
        memory_ = std::aligned_alloc(
            fa_allocator_align(),
            (size + fa_allocator_align() - 1) / fa_allocator_align() * fa_allocator_align());
        if (fa_create(memory_, size, &fa_) != FA_OK) {
            fail("fa_create", 1, 0);
        }
        fa_stats st{};
        (void)fa_get_stats(fa_, &st);
        capacity_ = st.handle_capacity;
        failed_inits();
        good_init();
        for (int op = 0; op < 3000 && !in_.exhausted(); ++op) {
            step();
            verify();
        }
        while (!live_.empty()) {
            free_live(live_.begin());
        }
        verify();
        fa_stats end{};
        (void)fa_get_stats(fa_, &end);
        if (end.general.allocated_frames != 0 || end.reserved.allocated_frames != 0) {
            fail("frames still allocated after freeing every range",
                 static_cast<long long>(end.general.allocated_frames), 0);
        }
        fa_destroy(fa_);
        if (heap_.live != 0) {
            fail("heap blocks not given back", heap_.live, 0);
        }
    }

  private:
    fa_region random_region(fa_region_type type) {
        const std::uint64_t start =
            in_.below(kSpaceFrames) * kFrame + in_.below(2) * in_.below(kFrame);
        const std::uint64_t size = (1 + in_.below(512)) * kFrame + in_.below(2) * in_.below(kFrame);
        return fa_region{start, size, type};
    }

    // A free region whose last byte would lie past 2^64.
    fa_region wrapping_region() {
        const std::uint64_t below_top = in_.below(1 << 20);
        return fa_region{~0ULL - below_top, below_top + 2 + in_.below(1 << 20), FA_REGION_FREE};
    }

    std::vector<fa_region> random_map() {
        std::vector<fa_region> map;
        const std::uint64_t n = 1 + in_.below(6);
        for (std::uint64_t i = 0; i < n; ++i) {
            map.push_back(random_region(in_.chance(75) ? FA_REGION_FREE : FA_REGION_RESERVED));
        }
        return map;
    }

    // Any number of rejected fa_init calls: each must change nothing.
    void failed_inits() {
        while (!in_.exhausted() && in_.chance(40)) {
            std::vector<fa_region> map = random_map();
            fa_status want = FA_ERR_BAD_REGION;
            const auto at = static_cast<std::ptrdiff_t>(in_.below(map.size() + 1));
            switch (in_.below(3)) {
                case 0:
                    map.insert(
                        map.begin() + at,
                        fa_region{0x1000, 0x1000, static_cast<fa_region_type>(3 + in_.below(9))});
                    break;
                case 1:
                    map.insert(map.begin() + at, wrapping_region());
                    want = FA_ERR_OVERFLOW;
                    break;
                default:
                    map.resize(capacity_ + in_.below(4),
                               fa_region{0x100000, 0x1000, FA_REGION_FREE});
                    want = FA_ERR_CAPACITY_EXHAUSTED;
                    break;
            }
            const fa_status got = fa_init(fa_, map.data(), map.size());
            if (got != want) {
                fail("a bad fa_init", got, want);
            }
            verify();
        }
    }

    void good_init() {
        const std::vector<fa_region> map = random_map();
        const fa_status got = fa_init(fa_, map.data(), map.size());
        if (got != FA_OK) {
            fail("fa_init of a good map", got, FA_OK);
        }
        if (fa_init(fa_, map.data(), map.size()) != FA_ERR_ALREADY_INITIALIZED) {
            fail("a second fa_init", 0, FA_ERR_ALREADY_INITIALIZED);
        }
        verify();
    }

    // A range the allocator handed out: it must overlap no live range.
    void adopt(fa_frames f, std::uint64_t want_frames) {
        if (f.num_frames != want_frames) {
            fail("frames handed out", static_cast<long long>(f.num_frames),
                 static_cast<long long>(want_frames));
        }
        const auto next = live_.lower_bound(f.start_frame);
        if (next != live_.end() && next->first < f.start_frame + f.num_frames) {
            fail("a new range overlaps a live one", static_cast<long long>(f.start_frame),
                 static_cast<long long>(next->first));
        }
        if (next != live_.begin()) {
            const auto prev = std::prev(next);
            if (prev->first + prev->second > f.start_frame) {
                fail("a new range overlaps a live one", static_cast<long long>(f.start_frame),
                     static_cast<long long>(prev->first));
            }
        }
        live_[f.start_frame] = f.num_frames;
    }

    std::map<std::uint64_t, std::uint64_t>::iterator pick_live() {
        auto it = live_.begin();
        std::advance(it, static_cast<long>(in_.below(live_.size())));
        return it;
    }

    void free_live(std::map<std::uint64_t, std::uint64_t>::iterator it) {
        const fa_frames f{it->first, it->second};
        if (fa_free(fa_, f) != FA_OK) {
            fail("fa_free of a live range", 1, FA_OK);
        }
        live_.erase(it);
        if (fa_free(fa_, f) != FA_ERR_FOREIGN_HANDLE) {
            fail("a double free", 0, FA_ERR_FOREIGN_HANDLE);
        }
    }

    void step() {
        fa_frames f{};
        switch (in_.below(10)) {
            case 0: {
                const std::uint64_t n = 1 + in_.below(in_.chance(50) ? 2 : 64);
                if (fa_allocate_frames(fa_, n, &f) == FA_OK) {
                    adopt(f, n);
                }
                break;
            }
            case 1: {
                const std::uint64_t n = 1 + in_.below(16);
                const std::uint64_t address = in_.below(kSpaceFrames + 64) * kFrame;
                if (fa_allocate_frames_at(fa_, address, n, &f) == FA_OK) {
                    if (f.start_frame != address / kFrame) {
                        fail("fa_allocate_frames_at start", static_cast<long long>(f.start_frame),
                             static_cast<long long>(address / kFrame));
                    }
                    adopt(f, n);
                }
                break;
            }
            case 2: {
                fa_request req{};
                req.num_frames = 1 + in_.below(32);
                req.align_frames = 1ULL << in_.below(6);
                req.max_address = in_.chance(50) ? (1 + in_.below(kSpaceFrames)) * kFrame - 1 : 0;
                req.flags = in_.chance(25) ? FA_REQ_DEFER : 0;
                if (req.flags == FA_REQ_DEFER) {
                    req.align_frames = 0;
                    req.max_address = 0;
                }
                if (fa_allocate(fa_, &req, &f) == FA_OK) {
                    const std::uint64_t align = req.align_frames == 0 ? 1 : req.align_frames;
                    if (f.start_frame % align != 0 ||
                        (req.max_address != 0 &&
                         (f.start_frame + f.num_frames) * kFrame - 1 > req.max_address)) {
                        fail("a constraint was not honoured", static_cast<long long>(f.start_frame),
                             static_cast<long long>(align));
                    }
                    adopt(f, req.num_frames);
                }
                fa_run_deferred(fa_);
                break;
            }
            case 3:
                if (!live_.empty()) {
                    free_live(pick_live());
                }
                break;
            case 4: {
                // A range that is not live exactly as given.
                fa_frames g{in_.below(kSpaceFrames + 64), 1 + in_.below(8)};
                const auto it = live_.find(g.start_frame);
                if (it != live_.end() && it->second == g.num_frames) {
                    ++g.num_frames;
                }
                if (fa_free(fa_, g) != FA_ERR_FOREIGN_HANDLE) {
                    fail("fa_free of a range never handed out", 0, FA_ERR_FOREIGN_HANDLE);
                }
                break;
            }
            case 5:
                if (!live_.empty()) {
                    split();
                }
                break;
            case 6:
                if (!live_.empty()) {
                    merge();
                }
                break;
            case 7:
                if (!heap_moved_ && in_.chance(50)) {
                    const fa_heap_hooks hooks{Heap::allocate, Heap::deallocate, &heap_};
                    if (fa_move_to_heap(fa_, &hooks) != FA_OK) {
                        fail("fa_move_to_heap", 1, FA_OK);
                    }
                    heap_moved_ = true;
                }
                break;
            case 8:
                if (in_.chance(50)) {
                    fa_drain_cpu_caches(fa_);
                } else {
                    fa_drain_cpu_cache(fa_, static_cast<unsigned>(in_.below(4)));
                }
                break;
            default:
                if (!live_.empty() && in_.chance(30)) {
                    free_live(pick_live());
                }
                break;
        }
    }

    void split() {
        const auto it = pick_live();
        const fa_frames f{it->first, it->second};
        const std::uint64_t at = f.start_frame + in_.below(f.num_frames + 1);
        fa_frames a{};
        fa_frames b{};
        const fa_status got = fa_split(fa_, f, at, &a, &b);
        const bool inside = at > f.start_frame && at < f.start_frame + f.num_frames;
        if (!inside) {
            if (got != FA_ERR_OUT_OF_RANGE) {
                fail("fa_split at an edge", got, FA_ERR_OUT_OF_RANGE);
            }
            return;
        }
        if (got == FA_ERR_CAPACITY_EXHAUSTED) {
            return;
        }
        if (got != FA_OK || a.start_frame != f.start_frame || a.num_frames != at - f.start_frame ||
            b.start_frame != at || b.num_frames != f.num_frames - a.num_frames) {
            fail("fa_split inside a live range", got, FA_OK);
        }
        live_.erase(it);
        live_[a.start_frame] = a.num_frames;
        live_[b.start_frame] = b.num_frames;
    }

    void merge() {
        const auto x = pick_live();
        const auto y = in_.chance(20) ? x : pick_live();
        const fa_frames fx{x->first, x->second};
        const fa_frames fy{y->first, y->second};
        fa_frames out{};
        const fa_status got = fa_merge(fa_, fx, fy, &out);
        if (x == y) {
            if (got != FA_ERR_INVALID_ARGUMENT) {
                fail("fa_merge of a range with itself", got, FA_ERR_INVALID_ARGUMENT);
            }
            return;
        }
        const bool adjacent = fx.start_frame + fx.num_frames == fy.start_frame ||
                              fy.start_frame + fy.num_frames == fx.start_frame;
        if (!adjacent || got == FA_ERR_NOT_ADJACENT) {
            // Adjacent ranges of different pools stay apart too.
            if (got != FA_ERR_NOT_ADJACENT) {
                fail("fa_merge of ranges that are not adjacent", got, FA_ERR_NOT_ADJACENT);
            }
            return;
        }
        if (got != FA_OK) {
            fail("fa_merge of adjacent ranges", got, FA_OK);
        }
        const std::uint64_t start =
            fx.start_frame < fy.start_frame ? fx.start_frame : fy.start_frame;
        if (out.start_frame != start || out.num_frames != fx.num_frames + fy.num_frames) {
            fail("merged range", static_cast<long long>(out.start_frame),
                 static_cast<long long>(start));
        }
        live_.erase(fx.start_frame);
        live_.erase(fy.start_frame);
        live_[out.start_frame] = out.num_frames;
    }

    void verify() {
        if (const fa_status st = fa_check(fa_); st != FA_OK) {
            fail("fa_check", st, FA_OK);
        }
        fa_stats st{};
        if (fa_get_stats(fa_, &st) != FA_OK) {
            fail("fa_get_stats", 1, FA_OK);
        }
        if (st.live_ranges != live_.size()) {
            fail("live ranges", static_cast<long long>(st.live_ranges),
                 static_cast<long long>(live_.size()));
        }
        std::uint64_t held = 0;
        for (const auto& [start, count] : live_) {
            held += count;
        }
        const std::uint64_t allocated = st.general.allocated_frames + st.reserved.allocated_frames;
        if (held != allocated) {
            fail("frames held by live ranges vs allocated in the pools",
                 static_cast<long long>(held), static_cast<long long>(allocated));
        }
        if (st.general.free_frames > st.general.total_frames ||
            st.cached_frames > st.general.free_frames) {
            fail("free frames within total, cached within free",
                 static_cast<long long>(st.general.free_frames),
                 static_cast<long long>(st.general.total_frames));
        }
    }

    ByteSource& in_;
    void* memory_;
    fa_allocator* fa_ = nullptr;
    std::size_t capacity_ = 0;
    Heap heap_;
    bool heap_moved_ = false;
    std::map<std::uint64_t, std::uint64_t> live_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ByteSource source(data, size);
    Driver driver(source);
    driver.run();
    return 0;
}
