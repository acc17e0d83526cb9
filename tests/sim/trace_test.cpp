// The trace grammar: what each line means, and that every malformed line is
// rejected with its line number before anything runs.
#include <gtest/gtest.h>

#include "simulator.hpp"
#include "test_util.hpp"
#include "trace.hpp"

namespace framealloc::sim::test {
namespace {

std::vector<Op> parse_ok(const std::string& text) {
    std::vector<Op> ops;
    TraceError error;
    EXPECT_TRUE(parse_trace(text, ops, error)) << "line " << error.line << ": " << error.message;
    return ops;
}

TraceError parse_bad(const std::string& text) {
    std::vector<Op> ops;
    TraceError error;
    EXPECT_FALSE(parse_trace(text, ops, error)) << text;
    return error;
}

TEST(SimTrace, NumbersTakeHexDecimalAndBinaryUnits) {
    std::uint64_t v = 0;
    bool unit = false;
    ASSERT_TRUE(parse_number("4096", v, unit));
    EXPECT_EQ(v, 4096U);
    EXPECT_FALSE(unit);
    ASSERT_TRUE(parse_number("0xFEE00000", v, unit));
    EXPECT_EQ(v, 0xFEE00000U);
    ASSERT_TRUE(parse_number("64K", v, unit));
    EXPECT_EQ(v, 64U * 1024);
    EXPECT_TRUE(unit);
    ASSERT_TRUE(parse_number("4G", v, unit));
    EXPECT_EQ(v, 4ULL << 30);
    ASSERT_TRUE(parse_number("2t", v, unit));
    EXPECT_EQ(v, 2ULL << 40);
    EXPECT_FALSE(parse_number("", v, unit));
    EXPECT_FALSE(parse_number("0x", v, unit));
    EXPECT_FALSE(parse_number("12Q", v, unit));
    EXPECT_FALSE(parse_number("99999999999999999999", v, unit));
    EXPECT_FALSE(parse_number("16777216T", v, unit)) << "2^64 bytes overflows";
}

TEST(SimTrace, LinesBecomeOperations) {
    const std::vector<Op> ops = parse_ok(
        "# a comment line\n"
        "\n"
        "heap\n"
        "alloc 16 align=16 below=4G boundary=64K id=dma cpu=3   # trailing comment\n"
        "alloc-at 0xfee00000 1 id=lapic\n"
        "alloc-huge 2 id=hp\n"
        "alloc 8K\n"
        "free dma\n");
    ASSERT_EQ(ops.size(), 6U) << "an explicit heap line means none is added";
    EXPECT_EQ(ops[0].kind, OpKind::kMoveToHeap);
    EXPECT_EQ(ops[1].kind, OpKind::kAlloc);
    EXPECT_EQ(ops[1].count, 16U);
    EXPECT_EQ(ops[1].align, 16U);
    EXPECT_EQ(ops[1].below, 4ULL << 30);
    EXPECT_EQ(ops[1].boundary, 16U) << "64 KiB is 16 frames";
    EXPECT_EQ(ops[1].cpu, 3U);
    EXPECT_EQ(ops[2].kind, OpKind::kAllocAt);
    EXPECT_EQ(ops[2].at, 0xfee00000U);
    EXPECT_EQ(ops[3].kind, OpKind::kAllocHuge);
    EXPECT_EQ(ops[3].count, 2U);
    EXPECT_EQ(ops[4].count, 2U) << "8K is two frames";
    EXPECT_EQ(ops[4].id, kAnonymous);
    EXPECT_EQ(ops[5].kind, OpKind::kFree);
    EXPECT_EQ(ops[5].id, ops[1].id);
    EXPECT_NE(ops[1].id, ops[2].id);
}

TEST(SimTrace, WithoutAHeapLineTheHeapIsUpFromTheStart) {
    const std::vector<Op> ops = parse_ok("alloc 1\n");
    ASSERT_EQ(ops.size(), 2U);
    EXPECT_EQ(ops[0].kind, OpKind::kMoveToHeap);
}

TEST(SimTrace, NamesCanBeReusedAfterAFree) {
    const std::vector<Op> ops = parse_ok("alloc 1 id=a\nfree a\nalloc 2 id=a\nfree a\n");
    ASSERT_EQ(ops.size(), 5U);
    EXPECT_EQ(ops[4].id, ops[3].id);
    EXPECT_NE(ops[3].id, ops[1].id);
}

TEST(SimTrace, MalformedLinesReportTheirLineNumber) {
    struct Case {
        const char* text;
        std::size_t line;
        const char* mentions;
    };
    const Case cases[] = {
        {"alloc 1\nallocate 4\n", 2, "allocate"},
        {"alloc\n", 1, "count"},
        {"# c\n\nalloc zero\n", 3, "zero"},
        {"alloc 0\n", 1, "at least 1"},
        {"alloc 3 align=3\n", 1, "power of two"},
        {"alloc 32 boundary=16\n", 1, "boundary"},
        {"alloc 1 colour=red\n", 1, "colour"},
        {"alloc 1 id\n", 1, "key=value"},
        {"alloc 1 cpu=99\n", 1, "cpu"},
        {"alloc 6K\n", 1, "whole number of frames"},
        {"alloc-at 0x1000\n", 1, "address and a count"},
        {"alloc-at nowhere 1\n", 1, "nowhere"},
        {"alloc-huge 1M\n", 1, "whole number"},
        {"alloc 1 id=x\nalloc 1 id=x\n", 2, "still allocated"},
        {"alloc 1 id=x\nfree y\n", 2, "'y'"},
        {"alloc 1 id=x\nfree x\nfree x\n", 3, "not allocated"},
        {"free\n", 1, "name"},
        {"alloc-at 0x1000 1 align=2\n", 1, "align"},
    };
    for (const Case& c : cases) {
        const TraceError e = parse_bad(c.text);
        EXPECT_EQ(e.line, c.line) << c.text;
        EXPECT_NE(e.message.find(c.mentions), std::string::npos) << c.text << " -> " << e.message;
    }
}

TEST(SimTrace, CommandLineNamesFileAndLineOfAMalformedTrace) {
    ScratchDir dir;
    const auto trace = dir.file("bad.trace");
    write_text(trace, "alloc 1 id=a\nfree a\nalloc -3\n");
    const CommandResult r = run_cli({"run", "--trace", trace.string(), "--no-svg"});
    EXPECT_EQ(r.code, kExitUsage);
    EXPECT_NE(r.err.find(trace.string() + ":3:"), std::string::npos) << r.err;
}

TEST(SimTrace, MissingTraceFileIsAnError) {
    const CommandResult r = run_cli({"run", "--trace", "/nonexistent/t.trace", "--no-svg"});
    EXPECT_EQ(r.code, kExitUsage);
    EXPECT_NE(r.err.find("/nonexistent/t.trace"), std::string::npos);
}

TEST(SimTrace, ReplayPlacesWhatTheTraceAsksFor) {
    std::vector<Op> ops = parse_ok(
        "alloc 16 align=16 below=4G boundary=64K id=dma\n"
        "alloc-at 0x200000 4 id=fixed\n"
        "alloc-at 0xe0000000 16 id=bar\n"  // in the PCI hole: a new reserved region
        "alloc-huge 2 id=hp\n"
        "alloc 1 id=gone\n"
        "free gone\n");
    Simulator sim(builtin_map());
    std::string error;
    ASSERT_TRUE(sim.init(error)) << error;
    TraceSource source("t", std::move(ops));
    const RunReport report = sim.run(source, 1000);
    EXPECT_EQ(report.failures, 0U);
    EXPECT_TRUE(report.check_ok) << report.check_message;
    EXPECT_TRUE(report.conserved) << report.conservation_message;
    const auto held = sim.held();
    ASSERT_EQ(held.size(), 4U);
    bool saw_fixed = false;
    bool saw_bar = false;
    bool saw_huge = false;
    bool saw_dma = false;
    for (const auto& h : held) {
        const std::uint64_t n = h.frames.size();
        if (h.frames.first == 0x200) {
            saw_fixed = n == 4 && h.pool == Pool::kGeneral;
        } else if (h.frames.first == 0xe0000) {
            saw_bar = n == 16 && h.pool == Pool::kReserved;
        } else if (n == 1024) {
            saw_huge = h.frames.first % 512 == 0;
        } else if (n == 16) {
            saw_dma = h.frames.first % 16 == 0 && (h.frames.last + 1) * 4096 <= (4ULL << 30);
        }
    }
    EXPECT_TRUE(saw_fixed);
    EXPECT_TRUE(saw_bar);
    EXPECT_TRUE(saw_huge);
    EXPECT_TRUE(saw_dma);
}

TEST(SimTrace, FreeOfAFailedAllocationIsCountedNotFatal) {
    // 0x9f000 is reserved (EBDA) in the built-in map and 0x9e000 is free:
    // asking for both at once must fail, so the later free has nothing to do.
    std::vector<Op> ops = parse_ok("alloc-at 0x9e000 2 id=x\nfree x\n");
    Simulator sim(builtin_map());
    std::string error;
    ASSERT_TRUE(sim.init(error)) << error;
    TraceSource source("t", std::move(ops));
    const RunReport report = sim.run(source, 100);
    EXPECT_EQ(report.failures, 1U);
    EXPECT_EQ(report.frees_skipped, 1U);
    EXPECT_TRUE(report.check_ok);
}

}  // namespace
}  // namespace framealloc::sim::test
