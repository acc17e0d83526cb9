// The seeded differential run of the unit suite: framealloc against the
// reference model for at least 10^6 operations (FRAMEALLOC_DIFF_OPS, spread
// over several seeds), with check() and the full stats comparison after
// every single operation.
#include <gtest/gtest.h>

#include "differential.hpp"

namespace framealloc::reliability {
namespace {

constexpr std::uint64_t kSeeds = 8;

class Differential : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(Differential, AgreesWithReferenceModelAfterEveryOperation) {
    PrngSource source(0xf7a3e000ULL + GetParam());
    DiffOptions options;
    options.max_ops = FRAMEALLOC_DIFF_OPS / kSeeds;
    options.check_every = 1;
    const DiffResult r = run_differential(source, options);
    ASSERT_TRUE(r.ok) << "seed " << GetParam() << ": " << r.failure;
    EXPECT_EQ(r.ops, options.max_ops);
    EXPECT_GT(r.allocations, r.ops / 20);
    EXPECT_GT(r.refusals, 0U);
    EXPECT_GT(r.heap_episodes, 0U);
    RecordProperty("episodes", static_cast<int>(r.episodes));
}

INSTANTIATE_TEST_SUITE_P(Seeds, Differential, ::testing::Range<std::uint64_t>(0, kSeeds));

TEST(DifferentialBytes, ShortAndEmptyInputsAreHandled) {
    // The fuzzer's byte source: empty, tiny and patterned inputs.
    for (std::size_t len : {0, 1, 7, 64, 1000}) {
        std::vector<std::uint8_t> bytes(len);
        for (std::size_t i = 0; i < len; ++i) {
            bytes[i] = static_cast<std::uint8_t>(i * 37 + len);
        }
        ByteSource source(bytes.data(), bytes.size());
        const DiffResult r = run_differential(source, DiffOptions{});
        ASSERT_TRUE(r.ok) << r.failure;
    }
}

}  // namespace
}  // namespace framealloc::reliability
