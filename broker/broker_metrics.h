// sigild's metrics (docs/protocol.md "Metrics"): the families, registered once, what the request
// path records into them, and the scrape, which also reads the gauges that are only known at
// scrape time (open connections, store readiness, collateral expiry).
//
// Label values are bounded: routes are the patterns of the route table (or "unmatched"),
// statuses are HTTP codes, TEE types are registered verifiers, reasons are error code names, and
// tenants are recorded only once they are known to exist (an attest judged on its evidence, a
// release carrying a verified token), never as typed by an anonymous caller. The registry caps
// every metric at 10,000 label sets anyway (core/metrics.h).
// Thread-safety: all members are thread-safe; the Set*Source calls belong before serving starts.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "core/metrics.h"
#include "core/result.h"

namespace sigil::broker {

class CollateralCache;  // broker/collateral/collateral_cache.h
class Store;            // broker/store/store.h

class BrokerMetrics {
 public:
  BrokerMetrics();

  // One per answered request, by method and route pattern of the matched route, and status.
  void CountRequest(std::string_view method, std::string_view route, int status);
  // A token issued for evidence that verified (attest allowed).
  void CountAttestation(const std::string& tenant, const std::string& tee);
  // DEKs released (one per artifact of an allowed release).
  void CountReleases(const std::string& tenant, const std::string& tee, std::size_t artifacts);
  // A connection closed at accept for being over a bound ("max_connections", "per_address").
  void CountRefusedConnection(std::string_view reason);
  // A refused attest or release, by the code of the refusal ("policy_denied", ...).
  void CountRefusal(const std::string& tenant, const std::string& tee, std::string_view action, Code code);

  using Instant = std::chrono::steady_clock::time_point;
  static Instant Now() { return std::chrono::steady_clock::now(); }
  void ObserveVerification(const std::string& tee, Instant start);
  void ObservePolicyEvaluation(Instant start);
  void ObserveAuditCommit(std::string_view action, Instant start);

  // Read at every scrape: open connections (net::HttpsServer::open_connections) and the
  // collateral store. Unset: the gauge is left out.
  void SetConnectionSource(std::function<double()> open_connections);
  void SetCollateralSource(std::shared_ptr<CollateralCache> collateral);

  // The Prometheus text exposition (core/metrics_text.h), after refreshing the scrape-time
  // gauges: store readiness from `store` (null: not ready) and collateral expiry at `now`.
  std::string Scrape(Store* store, std::chrono::system_clock::time_point now);

  // Per TEE type, the soonest not-after among the stored collateral and trust anchors (empty
  // without a collateral source). Also shown by `sigil status`.
  std::map<std::string, std::chrono::system_clock::time_point> SoonestCollateralExpiry() const;
  // Open connections now (-1 without a connection source).
  double OpenConnections() const;

 private:
  metrics::Registry registry_;
  metrics::Family& requests_;
  metrics::Family& attestations_;
  metrics::Family& releases_;
  metrics::Family& refusals_;
  metrics::Family& verification_seconds_;
  metrics::Family& policy_seconds_;
  metrics::Family& audit_commit_seconds_;
  metrics::Family& open_connections_;
  metrics::Family& refused_connections_;
  metrics::Family& store_ready_;
  metrics::Family& collateral_expiry_;

  std::mutex scrape_mu_;  // one scrape at a time: the gauges are cleared and refilled
  mutable std::mutex sources_mu_;
  std::function<double()> connections_source_;
  std::shared_ptr<CollateralCache> collateral_;
};

}  // namespace sigil::broker
