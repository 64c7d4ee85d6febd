#include "broker/broker_metrics.h"

#include <map>
#include <vector>

#include "broker/collateral/collateral_cache.h"
#include "broker/store/store.h"
#include "core/metrics_text.h"

namespace sigil::broker {
namespace {

double SecondsSince(BrokerMetrics::Instant start) {
  return std::chrono::duration<double>(BrokerMetrics::Now() - start).count();
}

// The TEE types one piece of collateral serves: AMD's serve SEV-SNP; Intel's TCB info and QE
// identity name theirs; the rest of Intel's (root, CAs, PCK certificates, CRLs) serve both.
std::vector<std::string_view> TeesOf(const CollateralItem& item) {
  if (IsAmd(item.kind)) return {"sev-snp"};
  if (item.kind == CollateralKind::kCrl && item.id.find("Intel") == std::string::npos) return {"sev-snp"};
  if (item.kind == CollateralKind::kIntelTcbInfo || item.kind == CollateralKind::kIntelQeIdentity) {
    if (item.id == "TDX" || item.id == "TD_QE") return {"tdx"};
    if (item.id == "SGX" || item.id == "QE") return {"sgx"};
  }
  return {"tdx", "sgx"};
}

}  // namespace

BrokerMetrics::BrokerMetrics()
    : requests_(registry_.Counter("sigil_http_requests_total",
                                  "HTTP requests answered, by method and route pattern (\"unmatched\" for none) and status",
                                  {"method", "route", "code"})),
      attestations_(registry_.Counter("sigil_attestations_total",
                                      "Attestation tokens issued for evidence that verified", {"tenant", "tee"})),
      releases_(registry_.Counter("sigil_releases_total",
                                  "DEKs released to attested workloads (one per artifact), after their audit records "
                                  "were committed",
                                  {"tenant", "tee"})),
      refusals_(registry_.Counter("sigil_refusals_total",
                                  "Attests and releases refused (and audited), by action and error code",
                                  {"tenant", "tee", "action", "reason"})),
      verification_seconds_(registry_.Histogram("sigil_verification_seconds",
                                                "Time to verify evidence (signatures, chains, binding, collateral)",
                                                {"tee"}, metrics::LatencyBuckets())),
      policy_seconds_(registry_.Histogram("sigil_policy_evaluation_seconds",
                                          "Time to evaluate a tenant policy for one released key", {},
                                          metrics::LatencyBuckets())),
      audit_commit_seconds_(registry_.Histogram("sigil_audit_commit_seconds",
                                                "Time to commit the audit records of an attest or a release durably",
                                                {"action"}, metrics::LatencyBuckets())),
      open_connections_(registry_.Gauge("sigil_open_connections", "Client connections open now")),
      refused_connections_(registry_.Counter("sigil_refused_connections_total",
                                             "Connections closed at accept, before TLS, for being over a bound: "
                                             "open connections in all (max_connections) or from one address "
                                             "(per_address)",
                                             {"reason"})),
      store_ready_(registry_.Gauge("sigil_store_ready",
                                   "1 if a release could be recorded now (the /readyz check), else 0")),
      collateral_expiry_(registry_.Gauge("sigil_collateral_expiry_seconds",
                                         "Seconds until the soonest expiry among the stored collateral and trust "
                                         "anchors of a TEE type (negative: already expired)",
                                         {"tee"})) {
  // Both reasons from the start, at 0: a dashboard's rate() sees the first refusal as one.
  for (const char* reason : {"max_connections", "per_address"}) refused_connections_.Add({reason}, 0);
}

void BrokerMetrics::CountRequest(std::string_view method, std::string_view route, int status) {
  requests_.Add({std::string(method), std::string(route), std::to_string(status)});
}

void BrokerMetrics::CountRefusedConnection(std::string_view reason) {
  refused_connections_.Add({std::string(reason)});
}

void BrokerMetrics::CountAttestation(const std::string& tenant, const std::string& tee) {
  attestations_.Add({tenant, tee});
}

void BrokerMetrics::CountReleases(const std::string& tenant, const std::string& tee, std::size_t artifacts) {
  releases_.Add({tenant, tee}, static_cast<double>(artifacts));
}

void BrokerMetrics::CountRefusal(const std::string& tenant, const std::string& tee, std::string_view action,
                                 Code code) {
  refusals_.Add({tenant, tee, std::string(action), std::string(CodeName(code))});
}

void BrokerMetrics::ObserveVerification(const std::string& tee, Instant start) {
  verification_seconds_.Observe({tee}, SecondsSince(start));
}

void BrokerMetrics::ObservePolicyEvaluation(Instant start) { policy_seconds_.Observe({}, SecondsSince(start)); }

void BrokerMetrics::ObserveAuditCommit(std::string_view action, Instant start) {
  audit_commit_seconds_.Observe({std::string(action)}, SecondsSince(start));
}

void BrokerMetrics::SetConnectionSource(std::function<double()> open_connections) {
  std::lock_guard lock(sources_mu_);
  connections_source_ = std::move(open_connections);
}

void BrokerMetrics::SetCollateralSource(std::shared_ptr<CollateralCache> collateral) {
  std::lock_guard lock(sources_mu_);
  collateral_ = std::move(collateral);
}

std::string BrokerMetrics::Scrape(Store* store, std::chrono::system_clock::time_point now) {
  std::lock_guard scrape(scrape_mu_);
  if (const double open = OpenConnections(); open >= 0) open_connections_.Set({}, open);
  store_ready_.Set({}, store != nullptr && store->CheckReady() ? 1 : 0);
  collateral_expiry_.Clear();  // refilled from the collateral source (none: the gauge is left out)
  for (const auto& [tee, when] : SoonestCollateralExpiry()) {
    collateral_expiry_.Set({tee}, std::chrono::duration<double>(when - now).count());
  }
  return metrics::RenderText(registry_.Snapshot());
}

double BrokerMetrics::OpenConnections() const {
  std::function<double()> connections;
  {
    std::lock_guard lock(sources_mu_);
    connections = connections_source_;
  }
  return connections ? connections() : -1;
}

std::map<std::string, std::chrono::system_clock::time_point> BrokerMetrics::SoonestCollateralExpiry() const {
  std::shared_ptr<CollateralCache> collateral;
  {
    std::lock_guard lock(sources_mu_);
    collateral = collateral_;
  }
  std::map<std::string, std::chrono::system_clock::time_point> soonest;
  if (!collateral) return soonest;
  auto snapshot = collateral->Current();
  for (const auto* items : {&snapshot->items(), &snapshot->anchors()}) {
    for (const CollateralItem& item : *items) {
      for (std::string_view tee : TeesOf(item)) {
        auto [it, fresh] = soonest.emplace(std::string(tee), item.not_after);
        if (!fresh && item.not_after < it->second) it->second = item.not_after;
      }
    }
  }
  return soonest;
}

}  // namespace sigil::broker
