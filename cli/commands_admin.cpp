// sigil tenant / key / refs commands: thin wrappers over the admin API.
#include "cli/commands.h"

namespace sigil::cli {
namespace {
std::string TenantPath(const std::string& t) { return "/v1/admin/tenants/" + t; }

// "tenant/name" -> {tenant, name}
bool SplitKey(const std::string& full, std::string& tenant, std::string& name) {
  auto slash = full.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == full.size()) {
    std::fprintf(stderr, "sigil: error: key must be written TENANT/NAME (got '%s')\n", full.c_str());
    return false;
  }
  tenant = full.substr(0, slash);
  name = full.substr(slash + 1);
  return true;
}
}  // namespace

void AddTenantCommands(CLI::App& app, GlobalOptions& g, std::vector<Command>& out) {
  auto* tenant = app.add_subcommand("tenant", "manage tenants");
  tenant->require_subcommand(1);
  auto name = std::make_shared<std::string>();
  auto* create = tenant->add_subcommand("create", "create a tenant (with a fresh KEK)");
  create->add_option("NAME", *name)->required();
  out.push_back({create, [&g, name] {
    return AdminCall(g, "POST", "/v1/admin/tenants", Json{{"name", *name}},
                     [](const Json& j) { std::printf("created tenant %s\n", j["tenant"].get<std::string>().c_str()); });
  }});
  auto* list = tenant->add_subcommand("list", "list tenants");
  out.push_back({list, [&g] {
    return AdminCall(g, "GET", "/v1/admin/tenants", Json(), [](const Json& j) {
      for (const auto& t : j["tenants"]) std::printf("%s\n", t["tenant"].get<std::string>().c_str());
    });
  }});
}

void AddKeyCommands(CLI::App& app, GlobalOptions& g, std::vector<Command>& out) {
  auto* key = app.add_subcommand("key", "manage model-weight and dataset keys");
  key->require_subcommand(1);
  auto full = std::make_shared<std::string>();
  auto cls = std::make_shared<std::string>("model-weights");
  auto* create = key->add_subcommand("create", "create a key (X25519 HPKE key pair, version 1)");
  create->add_option("TENANT/NAME", *full)->required();
  create->add_option("--class", *cls, "model-weights or dataset")->capture_default_str();
  auto print_key = [](const Json& j) {
    std::printf("%s/%s v%d (%s, %s)\n", j["tenant"].get<std::string>().c_str(), j["key"].get<std::string>().c_str(),
                j["version"].get<int>(), j["class"].get<std::string>().c_str(), j["state"].get<std::string>().c_str());
  };
  out.push_back({create, [&g, full, cls, print_key] {
    std::string t, n;
    if (!SplitKey(*full, t, n)) return 2;
    return AdminCall(g, "POST", TenantPath(t) + "/keys", Json{{"name", n}, {"class", *cls}}, print_key);
  }});
  auto* rotate = key->add_subcommand("rotate", "add a new version of a key");
  rotate->add_option("TENANT/NAME", *full)->required();
  out.push_back({rotate, [&g, full, print_key] {
    std::string t, n;
    if (!SplitKey(*full, t, n)) return 2;
    return AdminCall(g, "POST", TenantPath(t) + "/keys/" + n + "/rotate", Json::object(), print_key);
  }});
  auto tenant = std::make_shared<std::string>();
  auto* list = key->add_subcommand("list", "list a tenant's keys and versions");
  list->add_option("TENANT", *tenant)->required();
  out.push_back({list, [&g, tenant, print_key] {
    return AdminCall(g, "GET", TenantPath(*tenant) + "/keys", Json(), [print_key](const Json& j) {
      for (const auto& k : j["keys"]) print_key(k);
    });
  }});
  auto* pub = key->add_subcommand("public", "print the recipient file for offline encryption (newest version)");
  pub->add_option("TENANT/NAME", *full)->required();
  out.push_back({pub, [&g, full] {
    std::string t, n;
    if (!SplitKey(*full, t, n)) return 2;
    GlobalOptions raw = g;
    raw.json = true;  // the recipient file is JSON either way
    return AdminCall(raw, "GET", TenantPath(t) + "/keys/" + n + "/public", Json(), [](const Json&) {});
  }});

  auto* refs = app.add_subcommand("refs", "manage reference values (approved measurements, ...)");
  refs->require_subcommand(1);
  auto set = std::make_shared<std::string>();
  auto value = std::make_shared<std::string>();
  auto* add = refs->add_subcommand("add", "add a value to a tenant's named reference set");
  add->add_option("TENANT", *tenant)->required();
  add->add_option("SET", *set)->required();
  add->add_option("VALUE", *value)->required();
  out.push_back({add, [&g, tenant, set, value] {
    return AdminCall(g, "POST", TenantPath(*tenant) + "/refs", Json{{"set", *set}, {"value", *value}}, [](const Json& j) {
      std::printf("added %s to %s\n", j["value"].get<std::string>().c_str(), j["set"].get<std::string>().c_str());
    });
  }});
  auto* rlist = refs->add_subcommand("list", "list a tenant's reference sets");
  rlist->add_option("TENANT", *tenant)->required();
  out.push_back({rlist, [&g, tenant] {
    return AdminCall(g, "GET", TenantPath(*tenant) + "/refs", Json(), [](const Json& j) {
      for (auto it = j["sets"].begin(); it != j["sets"].end(); ++it) {
        for (const auto& v : it.value()) std::printf("%s\t%s\n", it.key().c_str(), v.get<std::string>().c_str());
      }
    });
  }});
}

}  // namespace sigil::cli
