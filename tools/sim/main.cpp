// framealloc-sim's entry point: hands the arguments to sim_main().
#include <iostream>
#include <string>
#include <vector>

#include "cli.hpp"

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    return framealloc::sim::sim_main(args, std::cout, std::cerr);
}
