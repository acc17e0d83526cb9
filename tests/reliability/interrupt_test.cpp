// The interrupt contract (docs/reliability.md), hosted: a signal handler
// plays the interrupt handler, and SigLock plays an interrupt-masking
// spinlock (it blocks SIGUSR1 while held, as such a lock masks IRQs). The
// signal is raised while an operation holds this CPU's cache lock (a refill,
// a drain, a check...), and the handler calls an entry point that takes cache
// locks. Every pair must return: the handler with the frames or a clear
// error, the interrupted operation normally, and the allocator intact. Each
// pair runs in a forked child with an alarm, so a hang fails the test
// instead of hanging the suite.
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "framealloc/framealloc.hpp"
#include "framealloc/hosted.hpp"

namespace framealloc {
namespace {

// Raises SIGUSR1 at the g_raise_at-th acquisition after arming: with the
// signal blocked by the lock just taken, it is delivered when the last lock
// that masks it is let go.
std::atomic<int> g_raise_at{0};

class FRAMEALLOC_CAPABILITY("mutex") SigLock {
  public:
    constexpr SigLock() = default;
    SigLock(const SigLock&) = delete;
    SigLock& operator=(const SigLock&) = delete;

    void lock() FRAMEALLOC_ACQUIRE() {
        const sigset_t old = block();
        while (held_.exchange(true, std::memory_order_acquire)) {
            cpu_relax();
        }
        saved_ = old;
        maybe_raise();
    }
    [[nodiscard]] bool try_lock() FRAMEALLOC_TRY_ACQUIRE(true) {
        const sigset_t old = block();
        if (held_.exchange(true, std::memory_order_acquire)) {
            pthread_sigmask(SIG_SETMASK, &old, nullptr);
            return false;
        }
        saved_ = old;
        maybe_raise();
        return true;
    }
    void unlock() FRAMEALLOC_RELEASE() {
        const sigset_t old = saved_;
        held_.store(false, std::memory_order_release);
        pthread_sigmask(SIG_SETMASK, &old, nullptr);
    }

  private:
    static sigset_t block() {
        sigset_t set;
        sigset_t old;
        sigemptyset(&set);
        sigaddset(&set, SIGUSR1);
        pthread_sigmask(SIG_BLOCK, &set, &old);
        return old;
    }
    static void maybe_raise() {
        if (g_raise_at.load() > 0 && g_raise_at.fetch_sub(1) == 1) {
            raise(SIGUSR1);
        }
    }

    std::atomic<bool> held_{false};
    sigset_t saved_{};
};

using Alloc = BasicFrameAllocator<SigLock>;

constexpr std::uint64_t kFirst = 0x1000;    // 16 MiB
constexpr std::uint64_t kFrames = 0x4000;   // 64 MiB of free frames
constexpr std::uint64_t kInUse = 0x1800;    // a frame the test keeps allocated
constexpr std::uint64_t kOffline = 0x4f00;  // a free range the handler may take offline

PhysicalAddress addr(std::uint64_t frame) {
    return Frame<>::from_number(frame).value().start_address();
}

// What the handler does; each one takes cache locks somewhere.
enum class Handler {
    kAllocateAtInUse,
    kAllocateTooMany,
    kAllocateOne,
    kAllocateHuge,
    kFreeOne,
    kDrainOwn,
    kDrainAll,
    kTakeOffline,
    kInspect,
    kAdopt,
    kCheck,
    kStats,
    kDump,
};
constexpr Handler kHandlers[] = {
    Handler::kAllocateAtInUse,
    Handler::kAllocateTooMany,
    Handler::kAllocateOne,
    Handler::kAllocateHuge,
    Handler::kFreeOne,
    Handler::kDrainOwn,
    Handler::kDrainAll,
    Handler::kTakeOffline,
    Handler::kInspect,
    Handler::kAdopt,
    Handler::kCheck,
    Handler::kStats,
    Handler::kDump,
};

// What is running when the signal comes; each holds this CPU's cache lock.
enum class Interrupted {
    kRefillSmall,
    kRefillHuge,
    kFreeIntoFullCache,
    kDrainOwn,
    kDrainAll,
    kAllocateAtInUse,
    kCheck,
    kStats,
};
constexpr Interrupted kInterrupted[] = {
    Interrupted::kRefillSmall, Interrupted::kRefillHuge, Interrupted::kFreeIntoFullCache,
    Interrupted::kDrainOwn,    Interrupted::kDrainAll,   Interrupted::kAllocateAtInUse,
    Interrupted::kCheck,       Interrupted::kStats,
};

// State the handler reaches (a signal handler takes no arguments).
Alloc* g_alloc = nullptr;
IntoUnmappedFrames g_into_unmapped;
FrameRange<> g_in_page_tables;
Handler g_handler = Handler::kCheck;
AllocatedFrames<>* g_spare = nullptr;  // a single frame the handler may free
volatile sig_atomic_t g_handler_done = 0;
volatile sig_atomic_t g_handler_ok = 0;

bool handler_body() {
    Alloc& a = *g_alloc;
    switch (g_handler) {
        case Handler::kAllocateAtInUse:
            return a.allocate_frames_at(addr(kInUse), 1).kind() == ErrorKind::kAddressInUse;
        case Handler::kAllocateTooMany: {
            const auto r = a.allocate_frames(kFrames + 1);
            return !r && (r.kind() == ErrorKind::kOutOfMemory ||
                          r.kind() == ErrorKind::kNotEnoughContiguous);
        }
        case Handler::kAllocateOne:
            return a.allocate_frames(1).has_value();
        case Handler::kAllocateHuge:
            return a.allocate_huge<Page2M>().has_value();
        case Handler::kFreeOne:
            *g_spare = AllocatedFrames<>();
            return true;
        case Handler::kDrainOwn:
            a.drain_cpu_cache(0);
            return true;
        case Handler::kDrainAll:
            a.drain_cpu_caches();
            return true;
        case Handler::kTakeOffline: {
            const auto range = FrameRange<>::from_count(Frame<>::from_number(kOffline).value(), 4);
            return a.take_offline(range.value()).ok();
        }
        case Handler::kInspect: {
            const auto r = a.inspect_then_allocate_free_frames(
                [](FrameRange<>) { return FramesIteratorRequest::Stop(); });
            return r.has_value() && !r.value().has_value();
        }
        case Handler::kAdopt: {
            auto back = g_into_unmapped(g_in_page_tables);
            return back.has_value();  // destroyed here: the frames return
        }
        case Handler::kCheck:
            return a.check().ok();
        case Handler::kStats: {
            const FrameStats st = a.stats();
            return st.general.free_frames <= st.general.total_frames &&
                   st.cached_frames <= st.general.free_frames;
        }
        case Handler::kDump: {
            static int lines = 0;
            lines = 0;
            a.dump([](const char*) { ++lines; });
            return lines > 3;
        }
    }
    return false;
}

void on_signal(int) {
    g_handler_ok = handler_body() ? 1 : 0;
    g_handler_done = 1;
}

// The child: builds the state, arms the signal, runs the interrupted
// operation, and reports through its exit status (0 = all as promised).
[[noreturn]] void child(Interrupted interrupted, Handler handler) {
    alarm(5);  // a handler that never returns ends here, killed by SIGALRM
    set_current_cpu(0);
    auto alloc = std::make_unique<Alloc>();
    const PhysicalMemoryRegion map[] = {
        PhysicalMemoryRegion(FrameRange<>(Frame<>::from_number(kFirst).value(),
                                          Frame<>::from_number(kFirst + kFrames - 1).value()),
                             MemoryRegionType::kFree)};
    auto into = alloc->init(map, {});
    if (!into || !alloc->move_to_heap(hosted_heap_hooks())) {
        _exit(10);
    }
    g_alloc = alloc.get();
    g_into_unmapped = into.value();
    g_handler = handler;
    auto in_use = alloc->allocate_frames_at(addr(kInUse), 1);
    auto mapped = alloc->allocate_frames(3);
    auto spare = alloc->allocate_frames_at(addr(kInUse + 1), 1);
    if (!in_use || !mapped || !spare) {
        _exit(11);
    }
    g_spare = &spare.value();
    g_in_page_tables = std::move(mapped.value()).into_mapped().into_page_table();
    // For the free that drains: 64 single frames parked fill this CPU's
    // small cache, so the 65th makes room first (with the cache locked).
    std::unique_ptr<AllocatedFrames<>[]> singles(new AllocatedFrames<>[65]);
    if (interrupted == Interrupted::kFreeIntoFullCache) {
        alloc->drain_cpu_caches();
        for (int i = 0; i < 65; ++i) {
            auto f = alloc->allocate_frames_at(addr(0x3000 + i), 1);
            if (!f) {
                _exit(12);
            }
            singles[i] = std::move(f.value());
        }
        for (int i = 1; i < 65; ++i) {
            singles[i] = AllocatedFrames<>();
        }
    } else if (interrupted != Interrupted::kRefillSmall &&
               interrupted != Interrupted::kRefillHuge) {
        // Something in the caches for the drains and checks to visit.
        auto f = alloc->allocate_frames(1);
        f.value() = AllocatedFrames<>();
    } else {
        alloc->drain_cpu_caches();
    }
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, nullptr);

    // The shared-pool attempt comes first there; the drain of every cache
    // after it is what the signal must interrupt.
    g_raise_at = interrupted == Interrupted::kAllocateAtInUse ? 2 : 1;
    bool interrupted_ok = true;
    switch (interrupted) {
        case Interrupted::kRefillSmall:
            interrupted_ok = alloc->allocate_frames(1).has_value();
            break;
        case Interrupted::kRefillHuge:
            interrupted_ok = alloc->allocate_huge<Page2M>().has_value();
            break;
        case Interrupted::kFreeIntoFullCache:
            singles[0] = AllocatedFrames<>();
            break;
        case Interrupted::kDrainOwn:
            alloc->drain_cpu_cache(0);
            break;
        case Interrupted::kDrainAll:
            alloc->drain_cpu_caches();
            break;
        case Interrupted::kAllocateAtInUse:
            interrupted_ok =
                alloc->allocate_frames_at(addr(kInUse), 1).kind() == ErrorKind::kAddressInUse;
            break;
        case Interrupted::kCheck:
            interrupted_ok = alloc->check().ok();
            break;
        case Interrupted::kStats:
            interrupted_ok = alloc->stats().general.total_frames == kFrames;
            break;
    }
    g_raise_at = 0;
    if (g_handler_done == 0) {
        _exit(20);  // the signal never came: the test itself is broken
    }
    if (g_handler_ok == 0) {
        _exit(21);
    }
    if (!interrupted_ok) {
        _exit(22);
    }
    if (!alloc->check()) {
        _exit(23);
    }
    _exit(0);
}

std::string describe(int status) {
    if (WIFSIGNALED(status)) {
        return WTERMSIG(status) == SIGALRM ? "hung (killed by the 5 s alarm)"
                                           : "killed by signal " + std::to_string(WTERMSIG(status));
    }
    switch (WEXITSTATUS(status)) {
        case 20:
            return "the signal was never delivered";
        case 21:
            return "the handler's call returned a wrong answer";
        case 22:
            return "the interrupted operation returned a wrong answer";
        case 23:
            return "check() failed afterwards";
        default:
            return "exit status " + std::to_string(WEXITSTATUS(status));
    }
}

class InterruptContract : public ::testing::TestWithParam<std::tuple<Interrupted, Handler>> {};

TEST_P(InterruptContract, HandlerReturnsAndNothingIsLost) {
    const auto [interrupted, handler] = GetParam();
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        child(interrupted, handler);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "interrupted op " << static_cast<int>(interrupted) << ", handler op "
        << static_cast<int>(handler) << ": " << describe(status);
}

INSTANTIATE_TEST_SUITE_P(EveryCacheLockPath, InterruptContract,
                         ::testing::Combine(::testing::ValuesIn(kInterrupted),
                                            ::testing::ValuesIn(kHandlers)));

}  // namespace
}  // namespace framealloc
