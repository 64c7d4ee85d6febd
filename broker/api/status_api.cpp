#include "broker/api/status_api.h"

#include "attestation/verifier.h"
#include "broker/broker_metrics.h"
#include "broker/store/store.h"

namespace sigil::broker {

Result<Json> AdminStatus(const BrokerContext& ctx) {
  Json out = Json::object();
  auto ready = ctx.store->CheckReady();
  out["ready"] = ready.has_value();
  if (!ready) out["store_problem"] = ready.error().message();
  out["tee_types"] = ctx.verifiers != nullptr ? ctx.verifiers->Types() : std::vector<std::string>{};
  Json collateral = Json::array();
  if (ctx.metrics != nullptr) {
    const auto now = ctx.now();
    for (const auto& [tee, when] : ctx.metrics->SoonestCollateralExpiry()) {
      collateral.push_back(Json{{"tee", tee},
                                {"soonest_expiry", Rfc3339(when)},
                                {"seconds_left", std::chrono::duration_cast<std::chrono::seconds>(when - now).count()}});
    }
    if (const double open = ctx.metrics->OpenConnections(); open >= 0) out["open_connections"] = open;
  }
  out["collateral"] = collateral;
  SIGIL_ASSIGN_OR_RETURN(auto tenants, ctx.store->ListTenants());
  out["tenants"] = tenants.size();
  Json keys{{"enabled", 0}, {"disabled", 0}, {"destroyed", 0}};
  for (const auto& t : tenants) {
    SIGIL_ASSIGN_OR_RETURN(auto rows, ctx.store->ListKeyVersions(t));
    for (const auto& r : rows) {
      if (keys.contains(r.state)) keys[r.state] = keys[r.state].get<std::int64_t>() + 1;
    }
  }
  out["keys"] = keys;
  return out;
}

}  // namespace sigil::broker
