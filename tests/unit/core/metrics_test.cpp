// The metrics registry and its Prometheus text form: exact output, label escaping, cumulative
// histogram buckets with _sum and _count, the per-family cap on label sets, and Prometheus's own
// parser (promtool check metrics, Debian package prometheus) accepting hostile label values.
#include "core/metrics.h"

#include <gtest/gtest.h>

#include <thread>

#include "core/file_io.h"
#include "core/metrics_text.h"
#include "tests/support/matchers.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace sigil::metrics {
namespace {

// The lines of `text` that start with `prefix`.
std::string Lines(const std::string& text, const std::string& prefix) {
  std::string out;
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    if (text.compare(at, prefix.size(), prefix) == 0) out += text.substr(at, end - at + 1);
    at = end + 1;
  }
  return out;
}

TEST(MetricsText, CountersAndGaugesInTheExpositionFormat) {
  Registry r;
  Family& c = r.Counter("sigil_test_total", "Things counted.\nSecond line \\ here", {"tenant", "code"});
  Family& g = r.Gauge("sigil_test_gauge", "A gauge");
  c.Add({"acme", "200"});
  c.Add({"acme", "200"}, 2);
  c.Add({"bob", "403"});
  c.Add({"bob", "403"}, -5);  // ignored: counters only go up
  g.Set({}, -1.5);
  const std::string text = RenderText(r.Snapshot());
  EXPECT_EQ(Lines(text, "# HELP sigil_test_total"),
            "# HELP sigil_test_total Things counted.\\nSecond line \\\\ here\n");
  EXPECT_EQ(Lines(text, "# TYPE sigil_test"), "# TYPE sigil_test_total counter\n# TYPE sigil_test_gauge gauge\n");
  EXPECT_EQ(Lines(text, "sigil_test_total{"),
            "sigil_test_total{tenant=\"acme\",code=\"200\"} 3\nsigil_test_total{tenant=\"bob\",code=\"403\"} 1\n");
  EXPECT_EQ(Lines(text, "sigil_test_gauge "), "sigil_test_gauge -1.5\n");
  // The drop counter is always there, so an alert on it can be written before the first drop.
  EXPECT_EQ(Lines(text, "# TYPE sigil_metrics_series_dropped_total"),
            "# TYPE sigil_metrics_series_dropped_total counter\n");
}

TEST(MetricsText, LabelValuesEscapeBackslashQuoteAndNewline) {
  EXPECT_EQ(EscapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(EscapeLabelValue("plain-name_1.x"), "plain-name_1.x");
  Registry r;
  r.Counter("x_total", "x", {"v"}).Add({"say \"hi\"\\\n} 9"});
  EXPECT_NE(RenderText(r.Snapshot()).find("x_total{v=\"say \\\"hi\\\"\\\\\\n} 9\"} 1\n"), std::string::npos)
      << RenderText(r.Snapshot());
}

TEST(MetricsText, NumbersReadBackExactly) {
  EXPECT_EQ(FormatNumber(0), "0");
  EXPECT_EQ(FormatNumber(42), "42");
  EXPECT_EQ(FormatNumber(0.005), "0.005");
  EXPECT_EQ(FormatNumber(2.5), "2.5");
  EXPECT_EQ(FormatNumber(1.0 / 0.0), "+Inf");
  EXPECT_EQ(FormatNumber(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(FormatNumber(0.0 / 0.0), "NaN");
}

TEST(MetricsText, HistogramBucketsAreCumulativeWithSumAndCount) {
  Registry r;
  Family& h = r.Histogram("sigil_lat_seconds", "Latency", {"tee"}, {0.1, 1, 10});
  for (double v : {0.05, 0.1, 0.5, 2.0, 20.0}) h.Observe({"dev"}, v);  // 0.1 is in le="0.1"
  const std::string text = RenderText(r.Snapshot());
  EXPECT_EQ(Lines(text, "sigil_lat_seconds"),
            "sigil_lat_seconds_bucket{tee=\"dev\",le=\"0.1\"} 2\n"
            "sigil_lat_seconds_bucket{tee=\"dev\",le=\"1\"} 3\n"
            "sigil_lat_seconds_bucket{tee=\"dev\",le=\"10\"} 4\n"
            "sigil_lat_seconds_bucket{tee=\"dev\",le=\"+Inf\"} 5\n"
            "sigil_lat_seconds_sum{tee=\"dev\"} 22.65\n"
            "sigil_lat_seconds_count{tee=\"dev\"} 5\n");
  EXPECT_EQ(Lines(text, "# TYPE sigil_lat"), "# TYPE sigil_lat_seconds histogram\n");
  // Without labels, le is the only one.
  Registry r2;
  r2.Histogram("h_seconds", "h", {}, {1}).Observe({}, 0.5);
  EXPECT_NE(RenderText(r2.Snapshot()).find("h_seconds_bucket{le=\"1\"} 1\nh_seconds_bucket{le=\"+Inf\"} 1\n"),
            std::string::npos);
}

TEST(Metrics, LabelSetsPerMetricAreCappedAndTheOverflowIsCounted) {
  Registry r(/*max_series_per_family=*/3);
  Family& c = r.Counter("sigil_refusals_total", "r", {"tenant"});
  Family& g = r.Gauge("sigil_g", "g", {"k"});
  for (int i = 0; i < 1000; ++i) c.Add({"tenant" + std::to_string(i)});
  c.Add({"tenant1"});  // an existing label set still counts
  for (int i = 0; i < 5; ++i) g.Set({std::to_string(i)}, i);
  auto snap = r.Snapshot();
  ASSERT_EQ(snap.size(), 3u);
  EXPECT_EQ(snap[1].series.size(), 3u);
  EXPECT_EQ(snap[1].series[1].labels[0], "tenant1");
  EXPECT_EQ(snap[1].series[1].value, 2);
  EXPECT_EQ(snap[2].series.size(), 3u);
  const std::string text = RenderText(snap);
  EXPECT_NE(text.find("sigil_metrics_series_dropped_total{metric=\"sigil_refusals_total\"} 997\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("sigil_metrics_series_dropped_total{metric=\"sigil_g\"} 2\n"), std::string::npos) << text;
  // A cleared gauge has room again.
  g.Clear();
  g.Set({"new"}, 1);
  EXPECT_EQ(r.Snapshot()[2].series.size(), 1u);
}

TEST(Metrics, DefaultCapIsTenThousandLabelSets) {
  Registry r;
  Family& c = r.Counter("many_total", "m", {"tenant"});
  for (int i = 0; i < 10005; ++i) c.Add({std::to_string(i)});
  auto snap = r.Snapshot();
  EXPECT_EQ(snap[1].series.size(), Registry::kDefaultMaxSeries);
  ASSERT_EQ(snap[0].series.size(), 1u);
  EXPECT_EQ(snap[0].series[0].value, 5);
}

TEST(Metrics, ConcurrentUpdatesAreAllCounted) {
  Registry r;
  Family& c = r.Counter("c_total", "c", {"t"});
  Family& h = r.Histogram("h_seconds", "h", {"t"}, LatencyBuckets());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10000; ++i) {
        c.Add({std::to_string(i % 7)});
        h.Observe({std::to_string(t)}, 0.001);
      }
    });
  }
  for (auto& t : threads) t.join();
  double total = 0;
  std::uint64_t observed = 0;
  // (One snapshot kept alive: a range-for over a member of a temporary reads freed memory.)
  const auto snapshot = r.Snapshot();
  for (const auto& s : snapshot[1].series) total += s.value;
  for (const auto& s : snapshot[2].series) observed += s.count;
  EXPECT_EQ(total, 40000);
  EXPECT_EQ(observed, 40000u);
}

// Prometheus's own parser must accept what we write, hostile label values included. promtool is
// a required test tool (scripts/setup.sh installs Debian's prometheus package): missing, it fails.
TEST(MetricsText, PromtoolAcceptsTheOutput) {
  Registry r;
  r.Counter("sigil_http_requests_total", "HTTP requests.", {"route", "code"}).Add({"/a\\b\"c\nd", "200"});
  r.Gauge("sigil_open_connections", "Open connections.").Set({}, 3);
  r.Histogram("sigil_verification_seconds", "Verification latency.", {"tee"}, LatencyBuckets()).Observe({"dev"}, 0.02);
  testing::TempDir dir;
  ASSERT_OK(WriteFileAtomic(dir.File("m.txt"), AsBytes(RenderText(r.Snapshot())), 0644));
  auto run = testing::Run({"/bin/sh", "-c", "exec promtool check metrics < \"$0\"", dir.File("m.txt")});
  EXPECT_EQ(run.exit_code, 0) << "promtool check metrics failed (is Debian's prometheus package installed? "
                                 "scripts/setup.sh): "
                              << run.out << run.err;
  EXPECT_EQ(run.out + run.err, "") << "promtool reports lint problems";
}

}  // namespace
}  // namespace sigil::metrics
