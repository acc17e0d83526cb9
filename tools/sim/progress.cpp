// Draws the bar with a carriage return, at most ten times a second.
#include "progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace framealloc::sim {

ProgressBar::ProgressBar(bool enabled)
    : enabled_(enabled && isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

ProgressBar::~ProgressBar() {
    finish();
}

void ProgressBar::update(std::uint64_t done, std::uint64_t total) {
    if (!enabled_ || total == 0) {
        return;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - start_ < std::chrono::seconds(1) ||
        (drawn_ && now - last_draw_ < std::chrono::milliseconds(100))) {
        return;
    }
    last_draw_ = now;
    constexpr int kWidth = 40;
    const int filled = static_cast<int>(done * kWidth / total);
    char bar[kWidth + 1];
    for (int i = 0; i < kWidth; ++i) {
        bar[i] = i < filled ? '#' : '.';
    }
    bar[kWidth] = '\0';
    std::fprintf(stderr, "\r  [%s] %3d%%  %llu / %llu ops", bar,
                 static_cast<int>(done * 100 / total), static_cast<unsigned long long>(done),
                 static_cast<unsigned long long>(total));
    std::fflush(stderr);
    drawn_ = true;
}

void ProgressBar::finish() {
    if (drawn_) {
        std::fprintf(stderr, "\r%*s\r", 80, "");
        std::fflush(stderr);
        drawn_ = false;
    }
}

}  // namespace framealloc::sim
