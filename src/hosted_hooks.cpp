// Hosted definitions of the hooks a kernel would provide: the panic hook
// prints and aborts (tests can swap in a handler), the CPU id is a per-thread
// slot handed out round-robin, and hosted_heap_hooks() wraps aligned new.
#include "framealloc/hosted.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

namespace {
std::atomic<framealloc::PanicHandler> g_panic_handler{nullptr};
std::atomic<unsigned> g_next_cpu{0};
// initial-exec: the library is position-independent, and the default TLS model
// would make every CPU-id query (twice per fast-path alloc+free) a call.
[[gnu::tls_model("initial-exec")]] thread_local unsigned t_cpu = ~0U;

void* heap_allocate(void* /*context*/, std::size_t bytes, std::size_t align) {
    return ::operator new(bytes, std::align_val_t(align), std::nothrow);
}
void heap_deallocate(void* /*context*/, void* memory, std::size_t /*bytes*/, std::size_t align) {
    ::operator delete(memory, std::align_val_t(align));
}
}  // namespace

extern "C" void framealloc_panic(const char* message) {
    if (const framealloc::PanicHandler handler = g_panic_handler.load()) {
        handler(message);
        return;
    }
    std::fprintf(stderr, "framealloc panic: %s\n", message);
    std::abort();
}

extern "C" unsigned framealloc_cpu_id() {
    if (t_cpu == ~0U) {
        t_cpu = g_next_cpu.fetch_add(1, std::memory_order_relaxed) % FRAMEALLOC_MAX_CPUS;
    }
    return t_cpu;
}

namespace framealloc {

PanicHandler set_panic_handler(PanicHandler handler) {
    return g_panic_handler.exchange(handler);
}

void set_current_cpu(unsigned cpu) {
    t_cpu = cpu;
}

HeapHooks hosted_heap_hooks() {
    return HeapHooks{heap_allocate, heap_deallocate, nullptr};
}

Span<std::byte> hosted_metadata(std::size_t bytes) {
    static std::mutex lock;
    static std::vector<std::unique_ptr<std::byte[]>> kept;
    // Default-initialised on purpose: pages the allocator never writes stay untouched.
    std::unique_ptr<std::byte[]> memory(new std::byte[bytes == 0 ? 1 : bytes]);
    const Span<std::byte> span(memory.get(), bytes);
    const std::lock_guard<std::mutex> guard(lock);
    kept.push_back(std::move(memory));
    return span;
}

}  // namespace framealloc
