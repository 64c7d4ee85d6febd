// The running broker's view of its collateral store (collateral_store.h): loaded at start,
// re-read when a file in DATA/collateral/ or DATA/trust/{sev-snp,intel}/ changes (checked at most
// once per `recheck` interval, on use), and the source of collateral for requests that carry
// none. Each (re)load logs one warning per item that expires within the warning window
// (sigild.json "collateral_warn_days", default 30) or has expired. Never touches the network.
// Thread-safety: all members are thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "attestation/dcap/verifier.h"
#include "broker/collateral/collateral_store.h"

namespace sigil::broker {

struct CollateralCacheOptions {
  std::string data_dir;
  std::chrono::seconds warn_window = std::chrono::hours(24 * 30);
  std::chrono::milliseconds recheck = std::chrono::seconds(2);
  std::function<TimePoint()> now = [] { return std::chrono::system_clock::now(); };
  // Where warnings go (default: stderr, "sigild: WARNING: ...").
  std::function<void(const std::string&)> warn;
};

class CollateralCache {
 public:
  explicit CollateralCache(CollateralCacheOptions options);

  // The current snapshot, re-read first if the files changed since the last look.
  std::shared_ptr<const CollateralSnapshot> Current();
  // Re-reads unconditionally (admin reload) and returns the warnings it logged.
  std::vector<std::string> Reload();

  // Sources for the verifiers (SnpConfig::cert_source, DcapConfig::collateral_source); the
  // returned functions share ownership of the cache.
  static std::function<std::vector<X509Ptr>()> SnpSource(std::shared_ptr<CollateralCache> cache);
  static attestation::dcap::DcapCollateralSource DcapSource(std::shared_ptr<CollateralCache> cache);

 private:
  std::string Fingerprint() const;

  CollateralCacheOptions options_;
  std::mutex mu_;
  std::shared_ptr<const CollateralSnapshot> snapshot_;
  std::string fingerprint_;
  std::chrono::steady_clock::time_point last_check_{};
};

}  // namespace sigil::broker
