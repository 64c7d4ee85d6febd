// sigil policy set|get|validate|test (diff: commands_policy_diff.cpp).
#include "cli/commands.h"
#include "cli/policy_files.h"
#include "core/file_io.h"
#include "core/names.h"
#include "core/text.h"
#include "policies/policy.h"

namespace sigil::cli {
namespace {

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

// A claims file, read exactly as the broker reads the claims of a token: ParseJson (duplicate
// keys, invalid UTF-8 refused) then Claims::FromJson (int64 only).
Result<attestation::Claims> LoadClaimsFile(const std::string& path) {
  SIGIL_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path, kMaxInputFile));
  SIGIL_ASSIGN_OR_RETURN(Json j, ParseJson(text, path));
  return attestation::Claims::FromJson(j, path);
}

// Evaluates a policy file offline against a claims file (flat JSON object) and prints each
// clause's verdict; exit 0 if allowed, 4 if denied. Same parser, claims reader and evaluator as
// the broker, so the verdict is the broker's for the same claims and reference sets.
int Test(const std::string& file, const std::string& claims_file, const std::string& key, const std::string& refs_file) {
  auto p = LoadPolicyFile(file);
  if (!p) return ReportError(p.error());
  if (auto k = ValidateName(key, "--key"); !k) return ReportError(k.error());
  auto claims = LoadClaimsFile(claims_file);
  if (!claims) return ReportError(claims.error());
  policy::MapReferenceSets refs;
  if (!refs_file.empty()) {
    auto r = LoadReferenceFile(refs_file);
    if (!r) return ReportError(r.error());
    refs = std::move(*r);
  }
  for (const std::string& set : p->second.ReferenceSetNames()) {
    if (!refs.Exists(set)) {
      std::fprintf(stderr, "sigil: warning: reference set '%s' is not in the reference file; in_reference over it is false\n",
                   set.c_str());
    }
  }
  policy::Decision d = policy::Evaluate(p->second, *claims, key, refs);
  std::printf("%s\n%s: %s\n", policy::Explain(d).c_str(), d.allow ? "ALLOW" : "DENY", d.reason.c_str());
  // The rule's memory, which only the broker's store can apply: the verdict holds while it does.
  for (const policy::ReleaseLimit& l : d.limits) {
    std::printf("limit: at most %lld releases of key '%s' per %lld s%s%s (counted by the broker)\n",
                static_cast<long long>(l.max), key.c_str(), static_cast<long long>(l.per_seconds),
                l.per_claim.empty() ? "" : " per ", l.per_claim.c_str());
  }
  if (d.single_use_token) std::printf("single_use_token: the release spends the token\n");
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
                     [tenant](const Json& j) {
                       const long long version = j.value("policy_version", std::int64_t{0});
                       if (j.value("state", "active") == "proposed") {
                         std::printf("policy version %lld proposed: in force once %lld approver(s) sign it "
                                     "(sigil policy approve %s %lld FILE --key KEY)\n",
                                     version, static_cast<long long>(j.value("approvals_required", std::int64_t{0})),
                                     tenant->c_str(), version);
                       } else {
                         std::printf("policy version %lld installed\n", version);
                       }
                       std::fflush(stdout);  // the warnings follow the line they qualify
                       // Older brokers send no warnings; each is escaped, it comes from the network.
                       if (auto w = j.find("warnings"); w != j.end() && w->is_array()) {
                         for (const Json& x : *w) {
                           if (x.is_string()) {
                             std::fprintf(stderr, "sigil: warning: %s\n",
                                          EscapeForDisplay(x.get_ref<const std::string&>(), 512).c_str());
                           }
                         }
                       }
                     });
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
  AddPolicyDiffCommand(*pol, g, out);
  AddPolicyApprovalCommands(*pol, g, out);
}

}  // namespace sigil::cli
