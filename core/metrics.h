// A small metrics registry for Prometheus scrapes: counters, gauges and histograms with fixed
// buckets, each a named family of series told apart by label values. Rendering to the text
// exposition format is metrics_text.h's job; this file only keeps the numbers.
//
// Memory is bounded whatever the label values: a family holds at most `max_series` label sets
// (default 10,000). An update that would add one more is dropped and counted instead, in
// sigil_metrics_series_dropped_total{metric="NAME"} (one series per family, so bounded too).
// Label values are arbitrary bytes; escaping is the renderer's job.
//
// Families are registered at start-up with names and label names chosen by the program; a bad
// name or a wrong number of label values is a bug (SIGIL_CHECK), never input.
// Thread-safety: every member of Family and Registry is thread-safe; references to families stay
// valid for the registry's lifetime.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace sigil::metrics {

enum class Type { kCounter, kGauge, kHistogram };

using LabelValues = std::vector<std::string>;

// One series as read at scrape time. Histograms: `buckets` are cumulative counts, one per upper
// bound of the family (the +Inf bucket is `count`).
struct SeriesSnapshot {
  LabelValues labels;
  double value = 0;  // counters and gauges
  std::vector<std::uint64_t> buckets;
  double sum = 0;
  std::uint64_t count = 0;
};

struct FamilySnapshot {
  std::string name;
  std::string help;
  Type type = Type::kCounter;
  std::vector<std::string> label_names;
  std::vector<double> bounds;  // histograms: upper bounds, strictly increasing, finite
  std::vector<SeriesSnapshot> series;  // ordered by label values
};

class Family {
 public:
  // Counters: adds n >= 0 (an increase; counters never go down).
  void Add(const LabelValues& labels, double n = 1);
  // Gauges: sets the value.
  void Set(const LabelValues& labels, double value);
  // Gauges whose series are recomputed at every scrape: drops all series first.
  void Clear();
  // Histograms: counts one observation (e.g. a latency in seconds).
  void Observe(const LabelValues& labels, double value);

  FamilySnapshot Snapshot() const;
  std::string_view name() const { return name_; }

 private:
  friend class Registry;
  struct Series {
    double value = 0;
    std::vector<std::uint64_t> bucket_counts;  // per bucket, not cumulative
    double sum = 0;
    std::uint64_t count = 0;
  };
  Family(std::string name, std::string help, Type type, std::vector<std::string> label_names,
         std::vector<double> bounds, std::size_t max_series, Family* dropped);
  // The series for `labels`, created if there is room; nullptr (and the drop counted) if not.
  // Call with mu_ held.
  Series* FindLocked(const LabelValues& labels);

  const std::string name_;
  const std::string help_;
  const Type type_;
  const std::vector<std::string> label_names_;
  const std::vector<double> bounds_;
  const std::size_t max_series_;
  Family* const dropped_;  // sigil_metrics_series_dropped_total; null for that family itself
  mutable std::mutex mu_;
  std::map<LabelValues, Series> series_;
};

class Registry {
 public:
  static constexpr std::size_t kDefaultMaxSeries = 10000;
  explicit Registry(std::size_t max_series_per_family = kDefaultMaxSeries);
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Names match [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* and not "le" or
  // "__*"; a name is registered once. Counter names end in "_total".
  Family& Counter(std::string name, std::string help, std::vector<std::string> label_names = {});
  Family& Gauge(std::string name, std::string help, std::vector<std::string> label_names = {});
  // `bounds`: the buckets' upper bounds, finite and strictly increasing (+Inf is implicit).
  Family& Histogram(std::string name, std::string help, std::vector<std::string> label_names,
                    std::vector<double> bounds);

  // Every family in registration order (the drop counter first).
  std::vector<FamilySnapshot> Snapshot() const;

 private:
  Family& Add(std::string name, std::string help, Type type, std::vector<std::string> label_names,
              std::vector<double> bounds);

  const std::size_t max_series_;
  mutable std::mutex mu_;
  std::deque<std::unique_ptr<Family>> families_;
  Family* dropped_ = nullptr;
};

// Upper bounds for request-path latencies in seconds: 0.5 ms to 10 s.
std::vector<double> LatencyBuckets();

}  // namespace sigil::metrics
