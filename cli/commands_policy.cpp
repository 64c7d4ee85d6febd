// sigil policy set|get|validate|test.
#include "cli/commands.h"
#include "core/file_io.h"
#include "policies/policy.h"

namespace sigil::cli {
namespace {

Result<std::pair<std::string, policy::Policy>> LoadPolicyFile(const std::string& path) {
  SIGIL_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path, 1 << 20));
  SIGIL_ASSIGN_OR_RETURN(policy::Policy p, policy::ParsePolicy(text, path));
  return std::make_pair(std::move(text), std::move(p));
}

int Validate(const std::vector<std::string>& files) {
  int rc = 0;
  for (const auto& f : files) {
    auto r = LoadPolicyFile(f);
    if (!r) {
      std::fprintf(stderr, "%s\n", r.error().message().c_str());
      rc = 2;
    } else {
      std::printf("%s: OK\n", f.c_str());
    }
  }
  return rc;
}

// Evaluates a policy file offline against a claims file (flat JSON object) and prints each
// clause's verdict; exit 0 if allowed, 4 if denied.
int Test(const std::string& file, const std::string& claims_file, const std::string& key, const std::string& refs_file) {
  auto p = LoadPolicyFile(file);
  if (!p) return ReportError(p.error());
  auto ct = ReadTextFile(claims_file);
  if (!ct) return ReportError(ct.error());
  auto cj = ParseJson(*ct, claims_file);
  if (!cj) return ReportError(cj.error());
  auto claims = attestation::Claims::FromJson(*cj, claims_file);
  if (!claims) return ReportError(claims.error());
  policy::MapReferenceSets refs;
  if (!refs_file.empty()) {
    auto rt = ReadTextFile(refs_file);
    if (!rt) return ReportError(rt.error());
    auto rj = ParseJson(*rt, refs_file);
    if (!rj || !rj->is_object()) return ReportError(Error(Code::kInvalidArgument, refs_file + ": expected {\"set\": [values]}"));
    for (auto it = rj->begin(); it != rj->end(); ++it) {
      if (!it.value().is_array()) return ReportError(Error(Code::kInvalidArgument, refs_file + ": " + it.key() + " must be an array"));
      for (const auto& v : it.value()) if (v.is_string()) refs.Add(it.key(), v.get<std::string>());
    }
  }
  policy::Decision d = policy::Evaluate(p->second, *claims, key, refs);
  std::printf("%s\n%s: %s\n", policy::Explain(d).c_str(), d.allow ? "ALLOW" : "DENY", d.reason.c_str());
  return d.allow ? 0 : 4;
}

}  // namespace

void AddPolicyCommands(CLI::App& app, GlobalOptions& g, std::vector<Command>& out) {
  auto* pol = app.add_subcommand("policy", "manage and test tenant policies");
  pol->require_subcommand(1);
  auto tenant = std::make_shared<std::string>();
  auto file = std::make_shared<std::string>();
  auto* set = pol->add_subcommand("set", "validate a policy file locally, then install it for a tenant");
  set->add_option("TENANT", *tenant)->required();
  set->add_option("FILE", *file)->required()->check(CLI::ExistingFile);
  out.push_back({set, [&g, tenant, file] {
    auto p = LoadPolicyFile(*file);
    if (!p) return ReportError(p.error());
    return AdminCall(g, "PUT", "/v1/admin/tenants/" + *tenant + "/policy", Json{{"policy", p->first}, {"source", *file}},
                     [](const Json& j) { std::printf("policy version %d installed\n", j["policy_version"].get<int>()); });
  }});
  auto* get = pol->add_subcommand("get", "print a tenant's current policy");
  get->add_option("TENANT", *tenant)->required();
  out.push_back({get, [&g, tenant] {
    return AdminCall(g, "GET", "/v1/admin/tenants/" + *tenant + "/policy", Json(),
                     [](const Json& j) { std::printf("%s", j["policy"].get<std::string>().c_str()); });
  }});
  auto files = std::make_shared<std::vector<std::string>>();
  auto* val = pol->add_subcommand("validate", "check policy files offline; errors name file, JSON path and problem");
  val->add_option("FILES", *files)->required();
  out.push_back({val, [files] { return Validate(*files); }});
  auto claims = std::make_shared<std::string>();
  auto key = std::make_shared<std::string>();
  auto refs = std::make_shared<std::string>();
  auto* test = pol->add_subcommand("test", "dry-run: evaluate a policy file against a claims file for one key");
  test->add_option("FILE", *file)->required();
  test->add_option("--claims", *claims, "flat JSON object of claims")->required();
  test->add_option("--key", *key, "key name within the tenant")->required();
  test->add_option("--refs", *refs, "JSON object of reference sets {\"set\": [values]}");
  out.push_back({test, [file, claims, key, refs] { return Test(*file, *claims, *key, *refs); }});
}

}  // namespace sigil::cli
