#include "core/metrics.h"

#include <algorithm>
#include <cmath>

#include "core/result.h"

namespace sigil::metrics {
namespace {

bool IsNameChar(char c, bool first, bool colon) {
  const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
  return alpha || (!first && c >= '0' && c <= '9');
}

bool ValidName(std::string_view s, bool colon) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!IsNameChar(s[i], i == 0, colon)) return false;
  }
  return true;
}

}  // namespace

Family::Family(std::string name, std::string help, Type type, std::vector<std::string> label_names,
               std::vector<double> bounds, std::size_t max_series, Family* dropped)
    : name_(std::move(name)), help_(std::move(help)), type_(type), label_names_(std::move(label_names)),
      bounds_(std::move(bounds)), max_series_(max_series), dropped_(dropped) {}

Family::Series* Family::FindLocked(const LabelValues& labels) {
  SIGIL_CHECK(labels.size() == label_names_.size());
  auto it = series_.find(labels);
  if (it != series_.end()) return &it->second;
  if (series_.size() >= max_series_) {
    if (dropped_ != nullptr) dropped_->Add({name_});
    return nullptr;
  }
  Series s;
  if (type_ == Type::kHistogram) s.bucket_counts.assign(bounds_.size(), 0);
  return &series_.emplace(labels, std::move(s)).first->second;
}

void Family::Add(const LabelValues& labels, double n) {
  SIGIL_CHECK(type_ == Type::kCounter);
  if (!(n >= 0)) return;  // a counter only goes up (NaN is not an increase either)
  std::lock_guard lock(mu_);
  if (Series* s = FindLocked(labels)) s->value += n;
}

void Family::Set(const LabelValues& labels, double value) {
  SIGIL_CHECK(type_ == Type::kGauge);
  std::lock_guard lock(mu_);
  if (Series* s = FindLocked(labels)) s->value = value;
}

void Family::Clear() {
  SIGIL_CHECK(type_ == Type::kGauge);
  std::lock_guard lock(mu_);
  series_.clear();
}

void Family::Observe(const LabelValues& labels, double value) {
  SIGIL_CHECK(type_ == Type::kHistogram);
  if (std::isnan(value)) return;
  std::lock_guard lock(mu_);
  Series* s = FindLocked(labels);
  if (s == nullptr) return;
  // The first bucket whose upper bound holds the value (le is inclusive); past the last: +Inf only.
  const auto at = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  if (static_cast<std::size_t>(at) < bounds_.size()) ++s->bucket_counts[static_cast<std::size_t>(at)];
  s->sum += value;
  ++s->count;
}

FamilySnapshot Family::Snapshot() const {
  FamilySnapshot out{name_, help_, type_, label_names_, bounds_, {}};
  std::lock_guard lock(mu_);
  out.series.reserve(series_.size());
  for (const auto& [labels, s] : series_) {
    SeriesSnapshot snap{labels, s.value, {}, s.sum, s.count};
    std::uint64_t running = 0;
    for (std::uint64_t c : s.bucket_counts) {
      running += c;
      snap.buckets.push_back(running);
    }
    out.series.push_back(std::move(snap));
  }
  return out;
}

Registry::Registry(std::size_t max_series_per_family) : max_series_(max_series_per_family) {
  // One series per registered family at most, so this counter is bounded by the program itself.
  dropped_ = &Add("sigil_metrics_series_dropped_total",
                  "Updates dropped because their metric already had the maximum number of label sets",
                  Type::kCounter, {"metric"}, {});
}

Family& Registry::Counter(std::string name, std::string help, std::vector<std::string> label_names) {
  SIGIL_CHECK(name.size() > 6 && name.compare(name.size() - 6, 6, "_total") == 0);
  return Add(std::move(name), std::move(help), Type::kCounter, std::move(label_names), {});
}

Family& Registry::Gauge(std::string name, std::string help, std::vector<std::string> label_names) {
  return Add(std::move(name), std::move(help), Type::kGauge, std::move(label_names), {});
}

Family& Registry::Histogram(std::string name, std::string help, std::vector<std::string> label_names,
                            std::vector<double> bounds) {
  SIGIL_CHECK(!bounds.empty());
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    SIGIL_CHECK(std::isfinite(bounds[i]));
    SIGIL_CHECK(i == 0 || bounds[i - 1] < bounds[i]);
  }
  return Add(std::move(name), std::move(help), Type::kHistogram, std::move(label_names), std::move(bounds));
}

Family& Registry::Add(std::string name, std::string help, Type type, std::vector<std::string> label_names,
                      std::vector<double> bounds) {
  SIGIL_CHECK(ValidName(name, /*colon=*/true));
  for (const auto& l : label_names) {
    SIGIL_CHECK(ValidName(l, /*colon=*/false) && l != "le" && l.rfind("__", 0) != 0);
  }
  std::lock_guard lock(mu_);
  for (const auto& f : families_) SIGIL_CHECK(f->name() != name);
  // The drop counter has one series per family, so it needs no cap (and counts into nothing).
  const bool is_drop_counter = dropped_ == nullptr;
  families_.push_back(std::unique_ptr<Family>(new Family(std::move(name), std::move(help), type, std::move(label_names),
                                                         std::move(bounds), is_drop_counter ? SIZE_MAX : max_series_,
                                                         dropped_)));
  return *families_.back();
}

std::vector<FamilySnapshot> Registry::Snapshot() const {
  std::vector<const Family*> families;
  {
    std::lock_guard lock(mu_);
    for (const auto& f : families_) families.push_back(f.get());
  }
  std::vector<FamilySnapshot> out;
  out.reserve(families.size());
  for (const Family* f : families) out.push_back(f->Snapshot());
  return out;
}

std::vector<double> LatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

}  // namespace sigil::metrics
