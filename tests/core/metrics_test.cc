// The Prometheus text exposition (strata/core/metrics.h): every line is a well-formed HELP,
// TYPE or sample line, families are grouped, labels escaped, bad names refused.
#include "strata/core/metrics.h"

#include <string>

#include "gtest/gtest.h"
#include "strata/testing/metrics_check.h"

namespace strata::metrics {

using testing::exposition_problems;

namespace {

TEST(Metrics, ExpositionIsWellFormedAndGroupedByFamily) {
  Snapshot a;
  a.counter("log_syncs_total", "fdatasyncs", 12);
  a.gauge("log_last_index", "last index", 18446744073709551614.0);
  Snapshot b;
  b.counter("log_syncs_total", "fdatasyncs", 3);
  b.gauge("log_last_index", "last index", 0.5);
  Exporter out;
  ASSERT_TRUE(out.add(a, {{"store", "raft-log"}, {"path", "/var/lib/a \"b\"\\c\nd"}}).ok());
  ASSERT_TRUE(out.add(b).ok());
  const std::string text = out.text();
  EXPECT_EQ(exposition_problems(text), "") << text;
  EXPECT_NE(text.find("# TYPE strata_log_syncs_total counter\n"), std::string::npos) << text;
  EXPECT_NE(
      text.find(
          "strata_log_syncs_total{store=\"raft-log\",path=\"/var/lib/a \\\"b\\\"\\\\c\\nd\"} 12\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("strata_log_syncs_total 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("strata_log_last_index 0.5\n"), std::string::npos) << text;
}

TEST(Metrics, BadNamesAndDisagreeingFamiliesAreRefused) {
  Snapshot bad;
  bad.counter("bad-name", "x", 1);
  Exporter out;
  EXPECT_TRUE(out.add(bad).is_invalid_argument());
  Snapshot ok;
  ok.counter("x_total", "x", 1);
  EXPECT_TRUE(out.add(ok, {{"bad-label", "v"}}).is_invalid_argument());
  EXPECT_TRUE(out.add(ok, {{"__reserved", "v"}}).is_invalid_argument());
  ASSERT_TRUE(out.add(ok).ok());
  Snapshot other;
  other.gauge("x_total", "x", 1);
  EXPECT_TRUE(out.add(other).is_invalid_argument());
  EXPECT_FALSE(valid_name(""));
  EXPECT_TRUE(valid_name("a:b_c9"));
}

TEST(Metrics, TheCheckerCatchesMalformedText) {
  EXPECT_NE(exposition_problems("strata_x{a=\"unterminated} 1\n"), "");
  EXPECT_NE(exposition_problems("# TYPE strata_x counter\nstrata_y 1\n"), "");
  EXPECT_NE(exposition_problems("# TYPE strata_x counter\nstrata_x one\n"), "");
}

}  // namespace
}  // namespace strata::metrics
