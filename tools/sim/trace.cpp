// The trace grammar. Counts, alignments and boundaries are in 4 KiB frames
// unless written with a unit (then bytes, which must be whole frames); an
// address is always bytes. Names are checked statically: freeing a name that
// is not live, or reusing a live one, is a malformed trace. A name whose
// allocation fails at replay time is a different matter -- that is a result,
// reported as a skipped free, not an error in the file.
#include "trace.hpp"

#include <unordered_map>

namespace framealloc::sim {
namespace {

constexpr std::uint64_t kFrameBytes = 4096;

std::vector<std::string_view> split_words(std::string_view line) {
    std::vector<std::string_view> words;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) {
            ++i;
        }
        const std::size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') {
            ++i;
        }
        if (i > start) {
            words.push_back(line.substr(start, i - start));
        }
    }
    return words;
}

bool is_pow2(std::uint64_t v) {
    return v != 0 && (v & (v - 1)) == 0;
}

class LineParser {
  public:
    LineParser(std::vector<Op>& ops, std::unordered_map<std::string, std::uint64_t>& live,
               std::uint64_t& next_id)
        : ops_(ops), live_(live), next_id_(next_id) {}

    // Returns an empty string on success, else the reason.
    std::string parse(const std::vector<std::string_view>& words) {
        const std::string_view verb = words[0];
        Op op;
        std::size_t first_option = 1;
        if (verb == "alloc" || verb == "alloc-huge") {
            op.kind = verb == "alloc" ? OpKind::kAlloc : OpKind::kAllocHuge;
            if (words.size() < 2) {
                return std::string(verb) + " needs a count";
            }
            if (auto e = count(words[1], op.count, verb == "alloc" ? 1 : 512); !e.empty()) {
                return e;
            }
            first_option = 2;
        } else if (verb == "alloc-at") {
            op.kind = OpKind::kAllocAt;
            if (words.size() < 3) {
                return "alloc-at needs an address and a count";
            }
            bool unit = false;
            if (!parse_number(words[1], op.at, unit)) {
                return "bad address '" + std::string(words[1]) + "'";
            }
            if (auto e = count(words[2], op.count, 1); !e.empty()) {
                return e;
            }
            first_option = 3;
        } else if (verb == "free") {
            if (words.size() < 2 || words[1].find('=') != std::string_view::npos) {
                return "free needs the name of an allocation";
            }
            const auto it = live_.find(std::string(words[1]));
            if (it == live_.end()) {
                return "free of '" + std::string(words[1]) + "', which is not allocated";
            }
            op.kind = OpKind::kFree;
            op.id = it->second;
            live_.erase(it);
            first_option = 2;
        } else if (verb == "heap") {
            op.kind = OpKind::kMoveToHeap;
        } else {
            return "unknown operation '" + std::string(verb) +
                   "' (expected alloc, alloc-at, alloc-huge, free or heap)";
        }
        std::string name;
        for (std::size_t i = first_option; i < words.size(); ++i) {
            if (auto e = option(words[i], op, name); !e.empty()) {
                return e;
            }
        }
        if (op.kind == OpKind::kAlloc && op.boundary != 0 && op.boundary < op.count) {
            return "boundary is smaller than the allocation";
        }
        if (!name.empty()) {
            if (live_.count(name) != 0) {
                return "id '" + name + "' is still allocated";
            }
            op.id = next_id_++;
            live_.emplace(name, op.id);
        }
        ops_.push_back(op);
        return {};
    }

  private:
    // A count in frames of `unit_frames` frames, or bytes with a unit suffix.
    static std::string count(std::string_view word, std::uint64_t& out, std::uint64_t unit_frames) {
        bool unit = false;
        if (!parse_number(word, out, unit)) {
            return "bad count '" + std::string(word) + "'";
        }
        if (unit) {
            const std::uint64_t bytes_per = unit_frames * kFrameBytes;
            if (out % bytes_per != 0) {
                return "size '" + std::string(word) + "' is not a whole number of frames";
            }
            out /= bytes_per;
        }
        if (out == 0) {
            return "count must be at least 1";
        }
        return {};
    }

    static std::string frames_option(std::string_view key, std::string_view value,
                                     std::uint64_t& out) {
        bool unit = false;
        if (!parse_number(value, out, unit)) {
            return "bad " + std::string(key) + " '" + std::string(value) + "'";
        }
        if (unit) {
            if (out % kFrameBytes != 0) {
                return std::string(key) + " is not a whole number of frames";
            }
            out /= kFrameBytes;
        }
        if (!is_pow2(out)) {
            return std::string(key) + " must be a power of two";
        }
        return {};
    }

    std::string option(std::string_view word, Op& op, std::string& name) const {
        const std::size_t eq = word.find('=');
        if (eq == std::string_view::npos || eq == 0 || eq + 1 == word.size()) {
            return "expected key=value, got '" + std::string(word) + "'";
        }
        const std::string_view key = word.substr(0, eq);
        const std::string_view value = word.substr(eq + 1);
        const bool plain_alloc = op.kind == OpKind::kAlloc;
        bool unit = false;
        if (key == "id" && op.kind != OpKind::kFree && op.kind != OpKind::kMoveToHeap) {
            name = std::string(value);
            return {};
        }
        if (key == "cpu") {
            std::uint64_t cpu = 0;
            if (!parse_number(value, cpu, unit) || unit || cpu >= 64) {
                return "cpu must be a number below 64";
            }
            op.cpu = static_cast<unsigned>(cpu);
            return {};
        }
        if (key == "align" && plain_alloc) {
            return frames_option(key, value, op.align);
        }
        if (key == "boundary" && plain_alloc) {
            return frames_option(key, value, op.boundary);
        }
        if (key == "below" && plain_alloc) {
            if (!parse_number(value, op.below, unit) || op.below == 0) {
                return "bad address for below '" + std::string(value) + "'";
            }
            return {};
        }
        return "option '" + std::string(key) + "' does not apply here";
    }

    std::vector<Op>& ops_;
    std::unordered_map<std::string, std::uint64_t>& live_;
    std::uint64_t& next_id_;
};

}  // namespace

bool parse_number(std::string_view text, std::uint64_t& value, bool& had_unit) {
    had_unit = false;
    if (text.empty()) {
        return false;
    }
    std::uint64_t multiplier = 1;
    const char last = text.back();
    const std::string_view units = "KMGT";
    const std::size_t u = units.find(static_cast<char>(last & ~0x20));
    const bool hex = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
    if (!hex && u != std::string_view::npos) {
        multiplier = 1ULL << (10 * (u + 1));
        text.remove_suffix(1);
        had_unit = true;
    }
    const unsigned base = hex ? 16 : 10;
    if (hex) {
        text.remove_prefix(2);
    }
    if (text.empty()) {
        return false;
    }
    std::uint64_t v = 0;
    for (const char c : text) {
        unsigned digit = 0;
        if (c >= '0' && c <= '9') {
            digit = static_cast<unsigned>(c - '0');
        } else if (base == 16 && c >= 'a' && c <= 'f') {
            digit = static_cast<unsigned>(c - 'a' + 10);
        } else if (base == 16 && c >= 'A' && c <= 'F') {
            digit = static_cast<unsigned>(c - 'A' + 10);
        } else {
            return false;
        }
        if (v > (~0ULL - digit) / base) {
            return false;
        }
        v = v * base + digit;
    }
    if (v > ~0ULL / multiplier) {
        return false;
    }
    value = v * multiplier;
    return true;
}

bool parse_trace(std::string_view text, std::vector<Op>& ops, TraceError& error) {
    std::unordered_map<std::string, std::uint64_t> live;
    std::uint64_t next_id = 1;
    std::vector<Op> parsed;
    LineParser parser(parsed, live, next_id);
    bool has_heap = false;
    std::size_t line_no = 0;
    while (!text.empty()) {
        ++line_no;
        const std::size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        if (const std::size_t hash = line.find('#'); hash != std::string_view::npos) {
            line = line.substr(0, hash);
        }
        const std::vector<std::string_view> words = split_words(line);
        if (words.empty()) {
            continue;
        }
        if (std::string why = parser.parse(words); !why.empty()) {
            error = TraceError{line_no, why};
            return false;
        }
        has_heap = has_heap || parsed.back().kind == OpKind::kMoveToHeap;
    }
    ops.clear();
    if (!has_heap) {
        Op heap;
        heap.kind = OpKind::kMoveToHeap;
        ops.push_back(heap);
    }
    ops.insert(ops.end(), parsed.begin(), parsed.end());
    return true;
}

}  // namespace framealloc::sim
