// What a freestanding test kernel must define itself: the two framealloc
// hooks, and the four memory routines every freestanding C++ compiler may
// emit calls to. Included by the freestanding link checks
// (tests/core/freestanding/check.cmake), one translation unit each.
#pragma once

extern "C" {
void framealloc_panic(const char*) {
    for (;;) {
    }
}
unsigned framealloc_cpu_id() {
    return 0;
}
void* memcpy(void* d, const void* s, unsigned long n) {
    for (unsigned long i = 0; i < n; ++i)
        static_cast<char*>(d)[i] = static_cast<const char*>(s)[i];
    return d;
}
void* memmove(void* d, const void* s, unsigned long n) {
    if (d < s)
        return memcpy(d, s, n);
    for (unsigned long i = n; i-- > 0;)
        static_cast<char*>(d)[i] = static_cast<const char*>(s)[i];
    return d;
}
void* memset(void* d, int c, unsigned long n) {
    for (unsigned long i = 0; i < n; ++i)
        static_cast<char*>(d)[i] = static_cast<char>(c);
    return d;
}
int memcmp(const void* a, const void* b, unsigned long n) {
    for (unsigned long i = 0; i < n; ++i) {
        const int d =
            static_cast<const unsigned char*>(a)[i] - static_cast<const unsigned char*>(b)[i];
        if (d != 0)
            return d;
    }
    return 0;
}
}
