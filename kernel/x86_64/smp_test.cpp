// The concurrent self-test (smp_test.hpp) and the timer interrupt handler.
#include "smp_test.hpp"

#include <atomic>
#include <new>
#include <utility>

#include "console.hpp"
#include "cpu_local.hpp"
#include "frame_allocator.hpp"
#include "irq_lock.hpp"
#include "lapic.hpp"
#include "memory.hpp"
#include "selftest_support.hpp"
#include "smp.hpp"
#include "smp_irq.hpp"
#include "x86.hpp"

namespace kernel::smp_test {
namespace {

using framealloc::AllocatedFrames;
using framealloc::AllocRequest;
using framealloc::ErrorKind;
using framealloc::Page2M;
using framealloc::PhysicalAddress;
using selftest::fill;
using selftest::kind_name;
using selftest::Random;
using selftest::verify;

constexpr std::size_t kSlotsPerCpu = 48;
constexpr std::size_t kHugePerCpu = 2;
constexpr std::size_t kQueueEntries = 64;
constexpr std::uint64_t kMaxRun = 16;
constexpr unsigned kExtraOperations = 200;
constexpr unsigned kWatchdogGraceSeconds = 15;
// Words checked per frame: one in 8 for 4 KiB allocations (every frame is
// still covered, and the CPUs spend more of their time inside framealloc),
// one in 64 for 2 MiB frames.
constexpr unsigned kStride = 8;
constexpr unsigned kSparseStride = 64;
// The windowed requests: 16-48 MiB, never crossing 64 KiB.
constexpr std::uint64_t kWindowLow = 16ull << 20;
constexpr std::uint64_t kWindowHigh = 48ull << 20;

// Counts a CPU's self-test code as inside framealloc for the duration of one
// call; the timer handler reads it to tell nested calls apart.
class Inside {
  public:
    Inside() : cpu_(this_cpu()) { ++cpu_->framealloc_depth; }
    ~Inside() { --cpu_->framealloc_depth; }
    Inside(const Inside&) = delete;
    Inside& operator=(const Inside&) = delete;

  private:
    CpuLocal* cpu_;
};

struct Held {
    AllocatedFrames<> frames;
    std::uint64_t seed = 0;
};

struct HeldHuge {
    AllocatedFrames<Page2M> frames;
    std::uint64_t seed = 0;
};

struct CpuCounters {
    std::uint64_t allocations = 0;
    std::uint64_t single = 0;
    std::uint64_t runs = 0;
    std::uint64_t aligned = 0;
    std::uint64_t windowed = 0;
    std::uint64_t huge = 0;
    std::uint64_t at_address = 0;
    std::uint64_t at_address_taken = 0;  // another CPU got the range first
    std::uint64_t split_merge = 0;
    std::uint64_t handed_off = 0;
    std::uint64_t freed_from_other_cpu = 0;
    std::uint64_t frees = 0;
    std::uint64_t failed = 0;
    std::uint64_t frames_verified = 0;
};

struct CpuState {
    Held slots[kSlotsPerCpu];
    HeldHuge huge[kHugePerCpu];
    CpuCounters counters;
};

// Allocations in transit between CPUs. A hand-off moves the handle in under
// the lock; the receiver moves it out under the lock and frees it outside.
struct Handoff {
    AllocatedFrames<> frames;
    std::uint64_t seed = 0;
    unsigned from = 0;
};

struct Shared {
    Options options;
    CpuState* cpus = nullptr;
    Handoff* queue = nullptr;
    IrqSpinLock queue_lock;
    std::size_t queue_head FRAMEALLOC_GUARDED_BY(queue_lock) = 0;
    std::size_t queue_count FRAMEALLOC_GUARDED_BY(queue_lock) = 0;
    std::atomic<unsigned> finished_ops{0};
    std::uint64_t deadline_tsc = 0;
    // Past this, a CPU waiting for the others reports a hang instead of waiting on.
    std::uint64_t watchdog_tsc = 0;
};

Shared* shared = nullptr;

bool push_handoff(Held& held, unsigned from) {
    framealloc::LockGuard<IrqSpinLock> guard(shared->queue_lock);
    if (shared->queue_count == kQueueEntries) {
        return false;
    }
    Handoff& slot = shared->queue[(shared->queue_head + shared->queue_count) % kQueueEntries];
    slot.frames = std::move(held.frames);
    slot.seed = held.seed;
    slot.from = from;
    ++shared->queue_count;
    return true;
}

bool pop_handoff(Handoff* out) {
    framealloc::LockGuard<IrqSpinLock> guard(shared->queue_lock);
    if (shared->queue_count == 0) {
        return false;
    }
    Handoff& slot = shared->queue[shared->queue_head];
    out->frames = std::move(slot.frames);
    out->seed = slot.seed;
    out->from = slot.from;
    shared->queue_head = (shared->queue_head + 1) % kQueueEntries;
    --shared->queue_count;
    return true;
}

class Worker {
  public:
    Worker(unsigned cpu, CpuState& state)
        : cpu_(cpu), state_(state), c_(state.counters), random_(0x5eed0000u + cpu * 7919u) {}

    void run(unsigned operations) {
        for (unsigned i = 0; i < operations; ++i) {
            step();
        }
    }
    // Frees what arrives from other CPUs until every CPU has stopped handing
    // off and the queue is empty, then frees this CPU's own allocations.
    void finish(unsigned cpus) {
        for (;;) {
            const bool all_done = shared->finished_ops.load(std::memory_order_acquire) == cpus;
            if (!receive() && all_done) {
                break;
            }
            if (read_tsc() > shared->watchdog_tsc) {
                kpanic(
                    "smp selftest: cpu %u: watchdog: %u of %u CPUs finished their operations; "
                    "a CPU is hung",
                    cpu_, shared->finished_ops.load(std::memory_order_acquire), cpus);
            }
        }
        for (std::size_t i = 0; i < kSlotsPerCpu; ++i) {
            release(state_.slots[i]);
        }
        for (std::size_t i = 0; i < kHugePerCpu; ++i) {
            release_huge(state_.huge[i]);
        }
    }

  private:
    void step() {
        const std::uint64_t op = random_.below(100);
        Held& slot = state_.slots[random_.below(kSlotsPerCpu)];
        if (op < 25) {
            release(slot);
            take(slot, allocate(AllocRequest::frames(1)), "single frame");
            ++c_.single;
        } else if (op < 40) {
            release(slot);
            take(slot, allocate(AllocRequest::frames(2 + random_.below(kMaxRun - 1))), "run");
            ++c_.runs;
        } else if (op < 48) {
            op_aligned(slot);
        } else if (op < 54) {
            op_windowed(slot);
        } else if (op < 58) {
            op_huge();
        } else if (op < 64) {
            op_at_reuse(slot);
        } else if (op < 70) {
            op_split_merge(slot);
        } else if (op < 82) {
            if (!slot.frames.is_empty() && push_handoff(slot, cpu_)) {
                ++c_.handed_off;
            }
        } else if (op < 92) {
            (void)receive();
        } else {
            release(slot);
        }
    }

    framealloc::Result<AllocatedFrames<>> allocate(const AllocRequest& request) {
        Inside inside;
        return frame_allocator().allocate(request);
    }

    void take(Held& slot, framealloc::Result<AllocatedFrames<>>&& result, const char* what) {
        if (!result) {
            ++c_.failed;
            kpanic("smp selftest: cpu %u: %s failed: %s (%s)", cpu_, what, kind_name(result.kind()),
                   result.error().message);
        }
        slot.frames = std::move(result.value());
        slot.seed = random_.next();
        fill(slot.frames.start_address().value(), slot.frames.size_in_frames(), slot.seed, kStride);
        ++c_.allocations;
    }

    void release(Held& slot) {
        if (slot.frames.is_empty()) {
            return;
        }
        c_.frames_verified += verify(slot.frames.start_address().value(),
                                     slot.frames.size_in_frames(), slot.seed, kStride);
        Inside inside;
        slot.frames = AllocatedFrames<>();
        ++c_.frees;
    }

    void release_huge(HeldHuge& slot) {
        if (slot.frames.is_empty()) {
            return;
        }
        c_.frames_verified +=
            verify(slot.frames.start_address().value(), 512, slot.seed, kSparseStride);
        Inside inside;
        slot.frames = AllocatedFrames<Page2M>();
        ++c_.frees;
    }

    bool receive() {
        Handoff item;
        if (!pop_handoff(&item)) {
            return false;
        }
        c_.frames_verified += verify(item.frames.start_address().value(),
                                     item.frames.size_in_frames(), item.seed, kStride);
        {
            Inside inside;
            item.frames = AllocatedFrames<>();
        }
        ++c_.frees;
        if (item.from != cpu_) {
            ++c_.freed_from_other_cpu;
        }
        return true;
    }

    void op_aligned(Held& slot) {
        const std::uint64_t align = std::uint64_t{1} << (1 + random_.below(6));
        const std::uint64_t count = 1 + random_.below(align);
        release(slot);
        take(slot, allocate(AllocRequest::frames(count).aligned(align)), "aligned allocate");
        if (slot.frames.start().number() % align != 0 || slot.frames.size_in_frames() != count) {
            kpanic("smp selftest: cpu %u: aligned request (%lu frames, align %lu) got frame 0x%lx",
                   cpu_, count, align, slot.frames.start().number());
        }
        ++c_.aligned;
    }

    void op_windowed(Held& slot) {
        const std::uint64_t count = 1 + random_.below(8);
        release(slot);
        take(slot,
             allocate(AllocRequest::frames(count)
                          .within(PhysicalAddress::new_canonical(kWindowLow),
                                  PhysicalAddress::new_canonical(kWindowHigh - 1))
                          .not_crossing(16)),
             "windowed allocate");
        const std::uint64_t start = slot.frames.start_address().value();
        const std::uint64_t end = start + slot.frames.size_in_bytes();
        if (start < kWindowLow || end > kWindowHigh || start / 65536 != (end - 1) / 65536) {
            kpanic("smp selftest: cpu %u: windowed allocation [0x%lx, 0x%lx) breaks its window",
                   cpu_, start, end);
        }
        ++c_.windowed;
    }

    void op_huge() {
        HeldHuge& slot = state_.huge[random_.below(kHugePerCpu)];
        release_huge(slot);
        framealloc::Result<AllocatedFrames<Page2M>> result = [] {
            Inside inside;
            return frame_allocator().allocate_huge<Page2M>();
        }();
        if (!result) {
            ++c_.failed;
            kpanic("smp selftest: cpu %u: 2 MiB frame failed: %s", cpu_, kind_name(result.kind()));
        }
        slot.frames = std::move(result.value());
        if (slot.frames.start_address().value() % Page2M::kBytes != 0) {
            kpanic("smp selftest: cpu %u: 2 MiB frame at 0x%lx is misaligned", cpu_,
                   slot.frames.start_address().value());
        }
        slot.seed = random_.next();
        fill(slot.frames.start_address().value(), 512, slot.seed, kSparseStride);
        ++c_.allocations;
        ++c_.huge;
    }

    // Frees a range and asks for it back by address. Another CPU may take
    // some of it in between: then the answer must be "address in use".
    void op_at_reuse(Held& slot) {
        if (slot.frames.is_empty()) {
            return;
        }
        const std::uint64_t start = slot.frames.start_address().value();
        const std::uint64_t count = slot.frames.size_in_frames();
        release(slot);
        framealloc::Result<AllocatedFrames<>> result = [&] {
            Inside inside;
            return frame_allocator().allocate_frames_at(PhysicalAddress::new_canonical(start),
                                                        count);
        }();
        if (!result) {
            if (result.kind() != ErrorKind::kAddressInUse) {
                kpanic("smp selftest: cpu %u: allocate_frames_at(0x%lx, %lu): %s", cpu_, start,
                       count, kind_name(result.kind()));
            }
            ++c_.at_address_taken;
            return;
        }
        if (result.value().start_address().value() != start ||
            result.value().size_in_frames() != count) {
            kpanic("smp selftest: cpu %u: allocate_frames_at(0x%lx) returned other frames", cpu_,
                   start);
        }
        take(slot, std::move(result), "allocate_frames_at");
        ++c_.at_address;
    }

    void op_split_merge(Held& slot) {
        if (slot.frames.size_in_frames() < 2) {
            return;
        }
        const auto original = slot.frames.range();
        const auto at = slot.frames.start() + (1 + random_.below(slot.frames.size_in_frames() - 1));
        Inside inside;
        auto parts = slot.frames.split_at(at);
        if (!parts) {
            kpanic("smp selftest: cpu %u: split_at failed: %s", cpu_, kind_name(parts.kind()));
        }
        AllocatedFrames<> first = std::move(parts.value().first);
        AllocatedFrames<> second = std::move(parts.value().second);
        if (!first.merge(second) || !second.is_empty() || first.range() != original) {
            kpanic("smp selftest: cpu %u: merge did not restore the split range", cpu_);
        }
        slot.frames = std::move(first);
        ++c_.split_merge;
    }

    unsigned cpu_;
    CpuState& state_;
    CpuCounters& c_;
    Random random_;
};

}  // namespace

// What the timer handler does with framealloc on every tick: one frame
// allocated, written, read back and freed; every 64th tick a 2 MiB frame;
// every 16th an allocate_frames_at of the kernel image, which is always in
// use and must fail cleanly with "address in use".
namespace {

// The CPUs' nested-call counts as they stand; each is written only by its
// own CPU's timer handler, so the sum is a lower bound of the final total.
std::uint64_t nested_so_far() {
    std::uint64_t total = 0;
    for (unsigned i = 0; i < smp::cpu_count(); ++i) {
        total += __atomic_load_n(&cpu_local(i).nested_calls, __ATOMIC_RELAXED);
    }
    return total;
}

void cpu_job(unsigned cpu, void*) {
    if (shared->options.timer) {
        smp_irq::start_on_this_cpu(shared->options.timer_hz);
    }
    Worker worker(cpu, shared->cpus[cpu]);
    worker.run(shared->options.operations);
    if (shared->options.timer) {
        while (nested_so_far() < shared->options.min_nested_calls &&
               read_tsc() < shared->deadline_tsc) {
            worker.run(kExtraOperations);
        }
    }
    shared->finished_ops.fetch_add(1, std::memory_order_acq_rel);
    worker.finish(smp::cpu_count());
    if (shared->options.timer) {
        smp_irq::stop_on_this_cpu();
    }
}

void check_everything(const char* when) {
    auto status = frame_allocator().check();
    if (!status) {
        kpanic("smp selftest: framealloc check() failed %s: %s", when, status.error().message);
    }
    const char* why = nullptr;
    if (!kernel_heap().check(&why)) {
        kpanic("smp selftest: heap check failed %s: %s", when, why);
    }
}

}  // namespace

void run(const Options& options) {
    const unsigned cpus = smp::start_all_cpus();
    kprintf(
        "framealloc-kernel: smp: %u CPUs online; concurrent self-test, %u operations per "
        "CPU, timer %s\n",
        cpus, options.operations, options.timer ? "on" : "off");

    // The tables live on the kernel heap, taken before the "before" count.
    void* memory = heap_allocate_shared(sizeof(Shared), alignof(Shared));
    auto* states =
        static_cast<CpuState*>(heap_allocate_shared(sizeof(CpuState) * cpus, alignof(CpuState)));
    auto* queue = static_cast<Handoff*>(
        heap_allocate_shared(sizeof(Handoff) * kQueueEntries, alignof(Handoff)));
    if (memory == nullptr || states == nullptr || queue == nullptr) {
        kpanic("smp selftest: no heap for the test's tables");
    }
    shared = new (memory) Shared();
    shared->options = options;
    shared->cpus = states;
    shared->queue = queue;
    for (unsigned i = 0; i < cpus; ++i) {
        new (&states[i]) CpuState();
    }
    for (std::size_t i = 0; i < kQueueEntries; ++i) {
        new (&queue[i]) Handoff();
    }

    check_everything("before the concurrent test");
    const framealloc::FrameStats before = frame_allocator().stats();
    const std::uint64_t heap_before = heap_frames_taken();

    if (options.timer) {
        smp_irq::install(memory_facts().kernel_image_start, !options.skip_lock_check);
        smp_irq::set_work(true);
    }
    const std::uint64_t start_tsc = read_tsc();
    shared->deadline_tsc = start_tsc + lapic::tsc_hz() * options.max_seconds;
    shared->watchdog_tsc = shared->deadline_tsc + lapic::tsc_hz() * kWatchdogGraceSeconds;
    smp::run_on_all_cpus(cpu_job, nullptr);
    const std::uint64_t elapsed_tsc = read_tsc() - start_tsc;
    smp_irq::set_work(false);
    smp::park_aps();

    check_everything("after the concurrent test, APs parked");
    const framealloc::FrameStats after = frame_allocator().stats();
    const std::uint64_t heap_growth = heap_frames_taken() - heap_before;
    if (after.general.free_frames + heap_growth != before.general.free_frames ||
        after.reserved.allocated_frames != before.reserved.allocated_frames) {
        kpanic(
            "smp selftest: frames lost: general free %lu before, %lu after (+%lu heap), "
            "reserved allocated %lu before, %lu after",
            before.general.free_frames, after.general.free_frames, heap_growth,
            before.reserved.allocated_frames, after.reserved.allocated_frames);
    }

    std::uint64_t total_allocations = 0;
    std::uint64_t total_cross = 0;
    std::uint64_t total_nested = 0;
    std::uint64_t total_ticks = 0;
    for (unsigned i = 0; i < cpus; ++i) {
        const CpuCounters& c = states[i].counters;
        const CpuLocal& cpu = cpu_local(i);
        kprintf(
            "framealloc-kernel: cpu %u: %lu allocations, %lu failed (%lu single, %lu runs, %lu "
            "aligned, %lu windowed, %lu 2 MiB, %lu at-address + %lu taken by another CPU, %lu "
            "split+merge), %lu frees of which %lu of another CPU's frames, %lu frames "
            "verified\n",
            i, c.allocations, c.failed, c.single, c.runs, c.aligned, c.windowed, c.huge,
            c.at_address, c.at_address_taken, c.split_merge, c.frees, c.freed_from_other_cpu,
            c.frames_verified);
        if (options.timer) {
            kprintf(
                "framealloc-kernel: cpu %u: %lu timer interrupts, %lu of them nested in "
                "framealloc calls; handler: %lu frame allocations, %lu 2 MiB, %lu busy "
                "allocate_frames_at rejected, %lu capacity exhausted (allowed), %lu failures\n",
                i, cpu.timer_ticks, cpu.nested_calls, cpu.irq_allocations, cpu.irq_huge,
                cpu.irq_busy_rejected, cpu.irq_capacity_exhausted, cpu.irq_failures);
            if (cpu.irq_failures != 0) {
                kpanic("smp selftest: cpu %u: %lu interrupt-time allocations failed", i,
                       cpu.irq_failures);
            }
        }
        total_allocations += c.allocations;
        total_cross += c.freed_from_other_cpu;
        total_nested += cpu.nested_calls;
        total_ticks += cpu.timer_ticks;
    }
    if (cpus > 1 && total_cross == 0) {
        kpanic("smp selftest: no frame was freed by a CPU other than its allocator's");
    }
    if (options.timer && total_nested < options.min_nested_calls) {
        kpanic(
            "smp selftest: only %lu timer interrupts arrived inside framealloc calls, "
            "need %lu",
            total_nested, options.min_nested_calls);
    }
    kprintf(
        "framealloc-kernel: smp selftest passed: %u CPUs, %lu allocations, %lu cross-CPU "
        "frees, %lu timer interrupts, %lu nested interrupt-time calls, %lu ms; check() "
        "passed, every frame back (general free %lu = %lu before - %lu heap growth; %lu of "
        "them in per-CPU caches)\n",
        cpus, total_allocations, total_cross, total_ticks, total_nested,
        lapic::tsc_hz() == 0 ? 0 : elapsed_tsc * 1000 / lapic::tsc_hz(), after.general.free_frames,
        before.general.free_frames, heap_growth, after.cached_frames);
}

}  // namespace kernel::smp_test
