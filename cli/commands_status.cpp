// `sigil status`: the broker's health, store, TEE types, collateral expiry and key counts
// (GET /v1/admin/status). Exit 0 when the broker is ready, 3 when it is not (the store cannot
// record a release now), so scripts and probes can use it.
#include <cstdio>

#include "cli/commands.h"
#include "cli/terminal_text.h"

namespace sigil::cli {

void AddStatusCommand(CLI::App& app, GlobalOptions& g, std::vector<Command>& out) {
  auto* status = app.add_subcommand("status", "the broker's health, store, TEE types, collateral expiry, key counts");
  out.push_back({status, [&g] {
    bool ready = false;
    const int rc = AdminCall(g, "GET", "/v1/admin/status", Json(), [&ready](const Json& j) {
      ready = j.value("ready", false);
      if (ready) {
        std::printf("broker: ready\n");
      } else {
        std::printf("broker: NOT READY: %s\n", ForTerminal(j.value("store_problem", "")).c_str());
      }
      std::string tees;
      for (const auto& t : j["tee_types"]) tees += (tees.empty() ? "" : ", ") + ForTerminal(t.get<std::string>());
      std::printf("tee types: %s\n", tees.empty() ? "(none)" : tees.c_str());
      for (const auto& c : j["collateral"]) {
        const auto left = c.value("seconds_left", std::int64_t{0});
        std::printf("collateral %s: soonest expiry %s (%s)\n", ForTerminal(c.value("tee", "")).c_str(),
                    ForTerminal(c.value("soonest_expiry", "")).c_str(),
                    left <= 0 ? "EXPIRED" : ("in " + std::to_string(left / 86400) + " days").c_str());
      }
      if (j["collateral"].empty()) std::printf("collateral: none stored\n");
      if (j.contains("open_connections")) std::printf("open connections: %.0f\n", j["open_connections"].get<double>());
      const Json& k = j["keys"];
      std::printf("tenants: %lld; key versions: %lld enabled, %lld disabled, %lld destroyed\n",
                  static_cast<long long>(j.value("tenants", 0)), static_cast<long long>(k.value("enabled", 0)),
                  static_cast<long long>(k.value("disabled", 0)), static_cast<long long>(k.value("destroyed", 0)));
    });
    if (rc != 0 || g.json) return rc;
    return ready ? 0 : 3;
  }});
}

}  // namespace sigil::cli
