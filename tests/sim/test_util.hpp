// Helpers shared by the simulator tests: running the command line in-process
// and a scratch directory that cleans up after itself.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli.hpp"

namespace framealloc::sim::test {

struct CommandResult {
    int code = -1;
    std::string out;
    std::string err;
};

inline CommandResult run_cli(const std::vector<std::string>& args) {
    std::ostringstream out;
    std::ostringstream err;
    CommandResult r;
    r.code = sim_main(args, out, err);
    r.out = out.str();
    r.err = err.str();
    return r;
}

inline std::string read_text(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

inline void write_text(const std::filesystem::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
}

class ScratchDir {
  public:
    ScratchDir() {
        path_ = std::filesystem::temp_directory_path() /
                ("framealloc-sim-test-" + std::to_string(::getpid()) + "-" +
                 std::to_string(counter()++));
        std::filesystem::create_directories(path_);
    }
    ~ScratchDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    [[nodiscard]] std::filesystem::path file(const std::string& name) const { return path_ / name; }

  private:
    static int& counter() {
        static int n = 0;
        return n;
    }
    std::filesystem::path path_;
};

inline std::string memmap(const std::string& name) {
    return std::string(FRAMEALLOC_MEMMAPS_DIR) + "/" + name;
}

}  // namespace framealloc::sim::test
