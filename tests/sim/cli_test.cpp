// The command line as users type it: help, both subcommands, every error
// path that must name its cause, output files, and determinism by seed.
#include <gtest/gtest.h>

#include <sstream>

#include "framealloc/allocator_types.hpp"
#include "test_util.hpp"
#include "workloads.hpp"

namespace framealloc::sim::test {
namespace {

TEST(SimCli, HelpListsSubcommandsWorkloadsAndTraceGrammar) {
    const CommandResult r = run_cli({"--help"});
    EXPECT_EQ(r.code, kExitOk);
    for (const char* word : {"run", "regions", "--map", "--workload", "--trace", "--ops", "--seed",
                             "--svg", "--json", "--quiet", "alloc-at", "free NAME"}) {
        EXPECT_NE(r.out.find(word), std::string::npos) << word;
    }
    for (const WorkloadInfo& w : workloads()) {
        EXPECT_NE(r.out.find(w.name), std::string::npos) << w.name;
    }
}

TEST(SimCli, NoArgumentsIsAUsageError) {
    EXPECT_EQ(run_cli({}).code, kExitUsage);
}

TEST(SimCli, UnknownCommandIsNamed) {
    const CommandResult r = run_cli({"frobnicate"});
    EXPECT_EQ(r.code, kExitUsage);
    EXPECT_NE(r.err.find("frobnicate"), std::string::npos);
}

TEST(SimCli, UnknownWorkloadIsNamedWithTheKnownOnes) {
    const CommandResult r = run_cli({"run", "--workload", "nosuch", "--no-svg"});
    EXPECT_EQ(r.code, kExitUsage);
    EXPECT_NE(r.err.find("nosuch"), std::string::npos);
    EXPECT_NE(r.err.find("hugepages"), std::string::npos);
}

TEST(SimCli, BadOptionsAreRejected) {
    EXPECT_EQ(run_cli({"run", "--ops"}).code, kExitUsage);
    EXPECT_EQ(run_cli({"run", "--ops", "lots"}).code, kExitUsage);
    EXPECT_EQ(run_cli({"run", "--bogus"}).code, kExitUsage);
    EXPECT_EQ(run_cli({"run", "--workload", "dma", "--trace", "x.trace"}).code, kExitUsage);
}

TEST(SimCli, RunPrintsTheSummaryAndWritesThePicture) {
    ScratchDir dir;
    const auto svg = dir.file("out.svg");
    const CommandResult r = run_cli({"run", "--ops", "3000", "--svg", svg.string()});
    ASSERT_EQ(r.code, kExitOk) << r.err;
    for (const char* row :
         {"operations", "failed operations", "free chunks", "largest free chunk", "fragmentation",
          "2 MiB frames available", "p50", "p90", "p99", "allocator check()", "frames conserved"}) {
        EXPECT_NE(r.out.find(row), std::string::npos) << row;
    }
    EXPECT_NE(r.out.find("3000 ("), std::string::npos) << "asked for 3000 operations";
    EXPECT_NE(r.out.find(svg.string()), std::string::npos) << "the picture's path is printed";
    const std::string picture = read_text(svg);
    EXPECT_EQ(picture.rfind("<svg", 0), 0U);
    EXPECT_NE(picture.find("</svg>"), std::string::npos);
    EXPECT_NE(picture.find("RAM above 4G"), std::string::npos) << "built-in regions are labelled";
}

TEST(SimCli, QuietPrintsNothingOnSuccess) {
    const CommandResult r = run_cli({"run", "--ops", "500", "--no-svg", "--quiet"});
    EXPECT_EQ(r.code, kExitOk);
    EXPECT_TRUE(r.out.empty());
    EXPECT_TRUE(r.err.empty());
}

TEST(SimCli, UnwritableOutputIsAnError) {
    const CommandResult r =
        run_cli({"run", "--ops", "100", "--svg", "/nonexistent-dir/x.svg", "--quiet"});
    EXPECT_EQ(r.code, kExitUsage);
    EXPECT_NE(r.err.find("/nonexistent-dir/x.svg"), std::string::npos);
}

TEST(SimCli, EachWorkloadRunsCleanly) {
    for (const WorkloadInfo& w : workloads()) {
        ScratchDir dir;
        const auto json = dir.file("w.json");
        const CommandResult r = run_cli({"run", "--workload", w.name, "--ops", "4000", "--no-svg",
                                         "--json", json.string(), "--quiet"});
        ASSERT_EQ(r.code, kExitOk) << w.name << ": " << r.err;
        const std::string text = read_text(json);
        EXPECT_NE(text.find("\"check\": \"ok\""), std::string::npos) << w.name;
        EXPECT_NE(text.find("\"conserved\": true"), std::string::npos) << w.name;
        EXPECT_NE(text.find("\"operations\": 4000"), std::string::npos) << w.name;
    }
}

TEST(SimCli, SameSeedGivesIdenticalJsonAndSvg) {
    ScratchDir dir;
    const auto run = [&](const std::string& tag, const std::string& seed) {
        const CommandResult r = run_cli({"run", "--ops", "20000", "--seed", seed, "--svg",
                                         dir.file(tag + ".svg").string(), "--json",
                                         dir.file(tag + ".json").string(), "--quiet"});
        EXPECT_EQ(r.code, kExitOk) << r.err;
    };
    run("a", "7");
    run("b", "7");
    run("c", "8");
    EXPECT_EQ(read_text(dir.file("a.json")), read_text(dir.file("b.json")));
    EXPECT_EQ(read_text(dir.file("a.svg")), read_text(dir.file("b.svg")));
    EXPECT_NE(read_text(dir.file("a.json")), read_text(dir.file("c.json")));
    EXPECT_NE(read_text(dir.file("a.svg")), read_text(dir.file("c.svg")));
}

TEST(SimCli, EverySubcommandHasHelpThatExitsZero) {
    for (const std::vector<std::string>& args :
         std::vector<std::vector<std::string>>{{"run", "--help"},
                                               {"run", "-h"},
                                               {"run", "--ops", "5", "--help"},
                                               {"regions", "--help"},
                                               {"help", "run"},
                                               {"help", "regions"}}) {
        const CommandResult r = run_cli(args);
        EXPECT_EQ(r.code, kExitOk) << args[0] << " " << args[1] << ": " << r.err;
        EXPECT_TRUE(r.err.empty()) << r.err;
        EXPECT_EQ(
            r.out.rfind("usage: framealloc-sim " + (args[0] == "help" ? args[1] : args[0]), 0), 0U)
            << r.out;
    }
    EXPECT_NE(run_cli({"run", "--help"}).out.find("--workload"), std::string::npos);
    EXPECT_EQ(run_cli({"run", "--help"}).out.find("usage: framealloc-sim regions"),
              std::string::npos)
        << "a command's help is about that command";
}

TEST(SimCli, VersionPrintsTheProjectVersion) {
    const CommandResult r = run_cli({"--version"});
    EXPECT_EQ(r.code, kExitOk);
    EXPECT_EQ(r.out.rfind("framealloc-sim ", 0), 0U);
    EXPECT_NE(r.out.find('.'), std::string::npos) << r.out;
}

TEST(SimCli, OutputPathsAreCheckedBeforeTheRun) {
    // A run that would take long must not start when its output cannot be written.
    for (const char* option : {"--svg", "--json"}) {
        const CommandResult r =
            run_cli({"run", "--ops", "100000000", option, "/nonexistent-dir/out.file"});
        EXPECT_EQ(r.code, kExitUsage) << option;
        EXPECT_TRUE(r.out.empty()) << option << ": the workload ran anyway:\n" << r.out;
        EXPECT_EQ(r.err,
                  "framealloc-sim: cannot open '/nonexistent-dir/out.file': No such file or "
                  "directory\n");
    }
}

TEST(SimCli, CheckingAnOutputPathLeavesNoFileAndKeepsAnExistingOne) {
    ScratchDir dir;
    const auto kept = dir.file("kept.json");
    write_text(kept, "old");
    // Fails later (bad trace): neither the new SVG path nor the JSON may be touched.
    const auto trace = dir.file("bad.trace");
    write_text(trace, "frobnicate 1\n");
    const auto svg = dir.file("new.svg");
    const CommandResult r =
        run_cli({"run", "--trace", trace.string(), "--svg", svg.string(), "--json", kept.string()});
    EXPECT_EQ(r.code, kExitUsage);
    EXPECT_FALSE(std::filesystem::exists(svg));
    EXPECT_EQ(read_text(kept), "old");
}

TEST(SimCli, UnreadableInputsNameTheFileAndTheOsReason) {
    ScratchDir dir;
    const CommandResult trace = run_cli({"run", "--trace", "/nonexistent/t.trace", "--no-svg"});
    EXPECT_EQ(trace.code, kExitUsage);
    EXPECT_EQ(trace.err,
              "framealloc-sim: cannot open '/nonexistent/t.trace': No such file or directory\n");
    const std::string folder = dir.file("").string();
    const CommandResult directory = run_cli({"run", "--trace", folder, "--no-svg"});
    EXPECT_EQ(directory.code, kExitUsage);
    EXPECT_EQ(directory.err, "framealloc-sim: cannot read '" + folder + "': Is a directory\n");
}

TEST(SimCli, TheHeapStepIsCountedApartFromOperations) {
    ScratchDir dir;
    const auto trace = dir.file("one.trace");
    write_text(trace, "alloc 1\n");
    const auto json = dir.file("one.json");
    const CommandResult r =
        run_cli({"run", "--trace", trace.string(), "--no-svg", "--json", json.string()});
    ASSERT_EQ(r.code, kExitOk) << r.err;
    EXPECT_NE(r.out.find("operations                1 (1 allocations, 0 frees)"), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("moved to the heap 1 time"), std::string::npos) << r.out;
    const std::string text = read_text(json);
    EXPECT_NE(text.find("\"operations\": 1,"), std::string::npos) << text;
    EXPECT_NE(text.find("\"heap_moves\": 1,"), std::string::npos) << text;
}

TEST(SimCli, FailuresAreBrokenDownByRequestCategory) {
    ScratchDir dir;
    const auto trace = dir.file("fail.trace");
    // 16 GiB of RAM: one 2 MiB frame works, 100 GiB of them cannot, and a
    // plain allocation succeeds.
    write_text(trace, "alloc-huge 1\nalloc-huge 51200\nalloc 4\n");
    const auto json = dir.file("fail.json");
    const CommandResult r =
        run_cli({"run", "--trace", trace.string(), "--no-svg", "--json", json.string()});
    ASSERT_EQ(r.code, kExitOk) << r.err;
    EXPECT_NE(r.out.find("    alloc-huge: 1 of 2 failed -- "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("largest failed request 26214400 frames (100 GiB)"), std::string::npos)
        << r.out;
    EXPECT_EQ(r.out.find("    alloc: "), std::string::npos) << "no failure, no line:\n" << r.out;
    const std::string text = read_text(json);
    EXPECT_NE(text.find("{\"name\": \"alloc-huge\", \"attempts\": 2, \"failures\": 1, "
                        "\"largest_failed_frames\": 26214400"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("{\"name\": \"alloc\", \"attempts\": 1, \"failures\": 0"),
              std::string::npos)
        << text;
}

TEST(SimCli, WorkloadRequestsAreCountedByCategory) {
    // Each workload request carries its category, so failures can be told apart.
    ScratchDir dir;
    const auto json = dir.file("dma.json");
    const CommandResult r = run_cli({"run", "--workload", "dma", "--ops", "20000", "--no-svg",
                                     "--json", json.string(), "--quiet"});
    ASSERT_EQ(r.code, kExitOk) << r.err;
    const std::string text = read_text(json);
    EXPECT_NE(text.find("\"name\": \"DMA rings (below 4 GiB, 64 KiB aligned)\""), std::string::npos)
        << text;
    EXPECT_NE(text.find("\"name\": \"DMA descriptors (below 4 GiB, not crossing 64 KiB)\""),
              std::string::npos);
}

TEST(SimCli, SummaryAndJsonCarryTheFreeChunkHistogram) {
    ScratchDir dir;
    const auto json = dir.file("h.json");
    const CommandResult r = run_cli({"run", "--ops", "5000", "--no-svg", "--json", json.string()});
    ASSERT_EQ(r.code, kExitOk) << r.err;
    EXPECT_NE(r.out.find("  free chunks by size       "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("    free chunks by size     "), std::string::npos)
        << "the reserved pool's too:\n"
        << r.out;
    // Each pool's histogram has one count per order and adds up to its free_chunks.
    const std::string text = read_text(json);
    for (const char* pool : {"\"general\": {", "\"reserved\": {"}) {
        const std::size_t at = text.find(pool);
        ASSERT_NE(at, std::string::npos) << pool;
        const std::size_t chunks_at = text.find("\"free_chunks\": ", at);
        const std::uint64_t chunks = std::stoull(text.substr(chunks_at + 15));
        const std::size_t open = text.find("\"free_chunks_by_order\": [", at);
        ASSERT_NE(open, std::string::npos) << pool;
        const std::size_t close = text.find(']', open);
        std::istringstream counts(text.substr(open + 25, close - open - 25));
        std::uint64_t sum = 0;
        std::size_t n = 0;
        std::string item;
        while (std::getline(counts, item, ',')) {
            sum += std::stoull(item);
            ++n;
        }
        EXPECT_EQ(n, framealloc::kFreeChunkOrders) << pool;
        EXPECT_EQ(sum, chunks) << pool;
    }
}

#if FRAMEALLOC_SIM_HAVE_MEMMAP

TEST(SimCli, RegionsPrintsEveryRegionAndTheUsableTotal) {
    const CommandResult r = run_cli({"regions", memmap("e820-vm-qemu-1.txt")});
    ASSERT_EQ(r.code, kExitOk) << r.err;
    // Frames wholly inside the three usable e820 lines: [0, 0x9fbff] loses its
    // partial last frame, then [0x100000, 0x7ffddfff] and [4 GiB, 18 GiB).
    const std::uint64_t usable = 0x9f + (0x7ffde - 0x100) + (0x480000 - 0x100000);
    EXPECT_NE(r.out.find(std::to_string(usable)), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("0x00000000b0000000"), std::string::npos) << "the reserved MMCONFIG";
}

TEST(SimCli, RegionsNeedsExactlyOneFile) {
    EXPECT_EQ(run_cli({"regions"}).code, kExitUsage);
    EXPECT_EQ(run_cli({"regions", "a", "b"}).code, kExitUsage);
}

TEST(SimCli, RegionsOfAMissingFileFails) {
    const CommandResult r = run_cli({"regions", "/nonexistent/map.txt"});
    EXPECT_EQ(r.code, kExitUsage);
    EXPECT_EQ(r.err,
              "framealloc-sim: cannot open '/nonexistent/map.txt': No such file or directory\n");
}

TEST(SimCli, RegionsOfAMalformedMapExitsTwoAsDocumented) {
    // docs/simulator.md and docs/memmap.md: 2 for every bad input.
    ScratchDir dir;
    const auto map = dir.file("bad.txt");
    write_text(map, "BIOS-e820: [mem 0x0000000000000000-0xzz] usable\n");
    const CommandResult r = run_cli({"regions", map.string()});
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(r.err.rfind("framealloc-sim: " + map.string() + ":1: ", 0), 0U) << r.err;
}

TEST(SimCli, RunOnAMapFileUsesItsMemory) {
    ScratchDir dir;
    const auto json = dir.file("vm.json");
    const CommandResult r =
        run_cli({"run", "--map", memmap("e820-vm-qemu-1.txt"), "--workload", "churn", "--ops",
                 "2000", "--no-svg", "--json", json.string(), "--quiet"});
    ASSERT_EQ(r.code, kExitOk) << r.err;
    const std::uint64_t usable = 0x9f + (0x7ffde - 0x100) + (0x480000 - 0x100000);
    EXPECT_NE(read_text(json).find("\"total_frames\": " + std::to_string(usable)),
              std::string::npos);
}

TEST(SimCli, BadMapFileNamesFileAndLine) {
    ScratchDir dir;
    const auto map = dir.file("bad.txt");
    write_text(map,
               "BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable\n"
               "BIOS-e820: [mem 0x00000000000f0000-0xzz] reserved\n");
    const CommandResult r = run_cli({"run", "--map", map.string(), "--no-svg"});
    EXPECT_EQ(r.code, kExitUsage);
    EXPECT_NE(r.err.find(map.string() + ":2"), std::string::npos) << r.err;
}

TEST(SimCli, RegionsOfThisMachineNamesTheSourceRead) {
    const CommandResult r = run_cli({"regions", "--this-machine"});
    if (r.code != kExitOk) {
        ASSERT_NE(r.err.find("cannot read this machine's memory map"), std::string::npos) << r.err;
        GTEST_SKIP() << "this machine's map is not readable here: " << r.err;
    }
    EXPECT_EQ(r.out.rfind("this machine, read from /", 0), 0U) << r.out;
    EXPECT_NE(r.out.find("\nusable: "), std::string::npos) << r.out;
}

TEST(SimCli, RegionsTakesAFileOrThisMachineNotBoth) {
    EXPECT_EQ(run_cli({"regions", "--this-machine", "map.txt"}).code, kExitUsage);
    EXPECT_EQ(run_cli({"regions", "--frobnicate", "map.txt"}).code, kExitUsage);
    EXPECT_EQ(run_cli({"regions", "--columns"}).code, kExitUsage);
}

TEST(SimCli, ColumnsSettlesATableTheDataCannot) {
    ScratchDir dir;
    const auto table = dir.file("table.txt");
    write_text(table, "0x0 0x9fc00 1\n");  // 0x9fc00 bytes, or the range up to 0x9fc00
    const CommandResult guessed = run_cli({"regions", table.string()});
    EXPECT_EQ(guessed.code, kExitUsage);
    EXPECT_NE(guessed.err.find("--columns"), std::string::npos) << guessed.err;
    const CommandResult forced = run_cli({"regions", "--columns", "base-length", table.string()});
    ASSERT_EQ(forced.code, kExitOk) << forced.err;
    EXPECT_NE(forced.out.find("usable: 159 frames"), std::string::npos) << forced.out;
    const CommandResult bogus = run_cli({"regions", "--columns", "sideways", table.string()});
    EXPECT_EQ(bogus.code, kExitUsage);
    EXPECT_NE(bogus.err.find("sideways"), std::string::npos) << bogus.err;

    const auto json = dir.file("t.json");
    const CommandResult run =
        run_cli({"run", "--map", table.string(), "--columns", "start-end-exclusive", "--ops", "100",
                 "--no-svg", "--quiet", "--json", json.string()});
    ASSERT_EQ(run.code, kExitOk) << run.err;
    EXPECT_NE(read_text(json).find("\"total_frames\": 159"), std::string::npos);
}

TEST(SimCli, RunOnThisMachineUsesWhatRegionsReports) {
    const CommandResult regions = run_cli({"regions", "--this-machine"});
    if (regions.code != kExitOk) {
        GTEST_SKIP() << "this machine's map is not readable here: " << regions.err;
    }
    const std::size_t at = regions.out.find("\nusable: ") + 9;
    const std::string usable = regions.out.substr(at, regions.out.find(' ', at) - at);
    ScratchDir dir;
    const auto json = dir.file("me.json");
    const CommandResult r = run_cli({"run", "--map", "this-machine", "--workload", "churn", "--ops",
                                     "2000", "--no-svg", "--json", json.string()});
    ASSERT_EQ(r.code, kExitOk) << r.err;
    EXPECT_NE(r.out.find("on this machine, from /"), std::string::npos) << r.out;
    EXPECT_NE(read_text(json).find("\"total_frames\": " + usable), std::string::npos) << usable;
}

TEST(SimCli, MissingMapFileIsAnError) {
    const CommandResult r = run_cli({"run", "--map", "/nonexistent/map.txt", "--no-svg"});
    EXPECT_EQ(r.code, kExitUsage);
    EXPECT_NE(r.err.find("/nonexistent/map.txt"), std::string::npos);
}

#endif

}  // namespace
}  // namespace framealloc::sim::test
