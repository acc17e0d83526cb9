// Trace files: a kernel's allocation log replayed on framealloc. One
// operation per line (see docs/simulator.md for the grammar); the whole file
// is parsed and checked before anything runs, so a typo on line 9000 is
// reported before a long replay rather than after it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ops.hpp"

namespace framealloc::sim {

struct TraceError {
    std::size_t line = 0;  ///< 1-based; 0 when the file could not be read.
    std::string message;
};

/// Parses a whole trace into `ops`. When the trace has no `heap` line the
/// replay starts with the heap up (per-CPU caches on), as a kernel's steady
/// state would. Returns false and fills `error` on the first bad line.
[[nodiscard]] bool parse_trace(std::string_view text, std::vector<Op>& ops, TraceError& error);

/// Replays parsed operations in order.
class TraceSource final : public OpSource {
  public:
    TraceSource(std::string name, std::vector<Op> ops)
        : name_(std::move(name)), ops_(std::move(ops)) {}
    bool next(Op& op) override {
        if (pos_ >= ops_.size()) {
            return false;
        }
        op = ops_[pos_++];
        return true;
    }
    void on_result(const Op& /*op*/, bool /*succeeded*/) override {}
    [[nodiscard]] std::string name() const override { return name_; }
    [[nodiscard]] std::size_t size() const { return ops_.size(); }

  private:
    std::string name_;
    std::vector<Op> ops_;
    std::size_t pos_ = 0;
};

/// Parses "4096", "0x1000", "64K", "2M", "4G", "1T" (binary units). False on
/// anything else, including overflow.
[[nodiscard]] bool parse_number(std::string_view text, std::uint64_t& value, bool& had_unit);

}  // namespace framealloc::sim
