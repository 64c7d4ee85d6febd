#include "broker/collateral/collateral_cache.h"

#include <cstdio>
#include <ctime>
#include <filesystem>

#include "core/log.h"
#include "core/rfc3339.h"

namespace sigil::broker {

CollateralCache::CollateralCache(CollateralCacheOptions options) : options_(std::move(options)) {
  if (!options_.warn) {
    options_.warn = [](const std::string& m) { log::Warning(m); };
  }
  Reload();
}

// Names, sizes and modification times of every file the snapshot reads: any import, removal or
// edit changes it (imports write new content-addressed names through an atomic rename).
std::string CollateralCache::Fingerprint() const {
  std::string fp;
  for (const char* rel : {"collateral", "trust/sev-snp", "trust/intel"}) {
    std::error_code ec;
    const std::string dir = options_.data_dir + "/" + rel;
    if (!std::filesystem::is_directory(dir, ec)) continue;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
      const auto size = e.file_size(ec);
      const auto mtime = e.last_write_time(ec).time_since_epoch().count();
      fp += e.path().filename().string() + ":" + std::to_string(size) + ":" +
            std::to_string(mtime) + "\n";
    }
  }
  return fp;
}

std::vector<std::string> CollateralCache::Reload() {
  std::vector<std::string> problems;
  std::string fp = Fingerprint();
  auto snap = CollateralSnapshot::Load(options_.data_dir, &problems);
  const TimePoint now = options_.now();
  std::vector<std::string> warnings;
  for (const std::string& p : problems) warnings.push_back("collateral store: ignoring " + p);
  for (const CollateralEntry& e : snap->entries()) {
    const std::string_view state = ExpiryState(e.not_after, now, options_.warn_window);
    if (state == "ok") continue;
    warnings.push_back("collateral " + e.file + " (" + std::string(KindName(e.kind)) + " '" +
                       e.summary + "') " + (state == "expired" ? "expired at " : "expires at ") +
                       FormatRfc3339Utc(e.not_after) + "; import a current one");
  }
  for (const std::string& w : warnings) options_.warn(w);
  std::lock_guard lock(mu_);
  snapshot_ = std::move(snap);
  fingerprint_ = std::move(fp);
  last_check_ = std::chrono::steady_clock::now();
  return warnings;
}

std::shared_ptr<const CollateralSnapshot> CollateralCache::Current() {
  {
    std::lock_guard lock(mu_);
    const auto t = std::chrono::steady_clock::now();
    if (t - last_check_ < options_.recheck) return snapshot_;
    last_check_ = t;
    if (Fingerprint() == fingerprint_) return snapshot_;
  }
  Reload();
  std::lock_guard lock(mu_);
  return snapshot_;
}

std::function<std::vector<X509Ptr>()> CollateralCache::SnpSource(
    std::shared_ptr<CollateralCache> cache) {
  return [cache] { return cache->Current()->SnpCertificates(); };
}

attestation::dcap::DcapCollateralSource CollateralCache::DcapSource(
    std::shared_ptr<CollateralCache> cache) {
  return [cache](attestation::dcap::DcapTee tee, const std::array<std::uint8_t, 6>& fmspc,
                 std::string_view ca) { return cache->Current()->DcapCollateral(tee, fmspc, ca); };
}

}  // namespace sigil::broker
