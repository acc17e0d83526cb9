// A progress bar on stderr for long runs. It appears only when stderr is a
// terminal and the run has already taken a second, so short runs, pipes,
// logs and tests never see escape codes or carriage returns.
#pragma once

#include <chrono>
#include <cstdint>

namespace framealloc::sim {

class ProgressBar {
  public:
    /// `enabled` false (e.g. --quiet) silences it whatever the terminal.
    explicit ProgressBar(bool enabled);
    ~ProgressBar();
    ProgressBar(const ProgressBar&) = delete;
    ProgressBar& operator=(const ProgressBar&) = delete;

    void update(std::uint64_t done, std::uint64_t total);
    /// Clears the bar's line if it was drawn.
    void finish();

  private:
    bool enabled_;
    bool drawn_ = false;
    std::chrono::steady_clock::time_point start_;
    std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace framealloc::sim
