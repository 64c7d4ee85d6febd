// sigil policy diff OLD NEW --tenant T: replays the tenant's last recorded release decisions,
// with the claims its log recorded for each workload, against two policy files, and lists every
// decision that would change (allow -> deny and back). What to check before `policy set`.
#include "broker/audit/audit_wire.h"
#include "cli/commands.h"
#include "cli/policy_files.h"
#include "cli/terminal_text.h"
#include "core/digest.h"
#include "core/encoding.h"

namespace sigil::cli {
namespace {

struct DiffArgs {
  std::string old_file, new_file, tenant, refs_file;
  std::int64_t last = 100;
  bool check = false;
};

// The actor the broker writes for a workload: "workload:" + the first 16 hex digits of
// SHA-256(canonical claims JSON) (broker/api/workload_api.cpp).
std::string WorkloadActor(const attestation::Claims& claims) {
  return "workload:" + HexEncode(Sha256(AsBytes(CanonicalJson(claims.ToJson())))).substr(0, 16);
}

struct RecordedDecision {
  std::uint64_t seq = 0;
  std::string key, actor, decision;
};

struct Replay {
  std::map<std::string, attestation::Claims> claims_by_actor;  // from "attest" allow records
  std::vector<RecordedDecision> decisions;                      // "release" records with a key
  std::size_t unreadable = 0;
};

// Reads the listing: damaged rows are counted, never guessed at. Claims count only if they hash
// to the actor they are recorded under, so a record cannot lend its claims to another workload.
Replay ReadLog(const Json& listing) {
  Replay out;
  if (!listing.contains("records") || !listing["records"].is_array()) return out;
  for (const Json& r : listing["records"]) {
    auto row = broker::AuditRowFromJson(r);
    if (!row || !row->defect.empty()) {
      ++out.unreadable;
      continue;
    }
    auto rec = ParseJson(row->record, "audit record");
    if (!rec || !rec->is_object()) {
      ++out.unreadable;
      continue;
    }
    const Json& j = *rec;
    auto str = [&j](const char* name) {
      auto it = j.find(name);
      return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    const std::string action = str("action"), decision = str("decision"), actor = str("actor");
    if (action == "attest" && decision == "allow") {
      auto detail = ParseJson(str("detail"), "attest record detail");
      if (!detail) continue;
      auto claims = attestation::Claims::FromJson(*detail, "attest record detail");
      if (claims && WorkloadActor(*claims) == actor) out.claims_by_actor[actor] = std::move(*claims);
    } else if (action == "release" && !str("key").empty() && (decision == "allow" || decision == "deny")) {
      out.decisions.push_back({row->seq, str("key"), actor, decision});
    }
  }
  return out;
}

Json DecisionJson(const policy::Decision& d) {
  Json j{{"allow", d.allow}};
  if (d.allow) j["rule"] = d.rule;
  else j["reason"] = d.reason;
  return j;
}

int Diff(const GlobalOptions& g, const DiffArgs& a) {
  if (a.last < 1 || a.last > 100000) return ReportError(Error(Code::kInvalidArgument, "--last: 1 to 100000"));
  auto old_policy = LoadPolicyFile(a.old_file);
  if (!old_policy) return ReportError(old_policy.error());
  auto new_policy = LoadPolicyFile(a.new_file);
  if (!new_policy) return ReportError(new_policy.error());
  auto client = AdminClient::Connect(g.endpoint);
  if (!client) return ReportError(client.error());
  policy::MapReferenceSets refs;
  if (!a.refs_file.empty()) {
    auto r = LoadReferenceFile(a.refs_file);
    if (!r) return ReportError(r.error());
    refs = std::move(*r);
  } else {
    auto r = (*client)->Call("GET", "/v1/admin/tenants/" + a.tenant + "/refs");
    if (!r) return ReportError(r.error());
    auto sets = ReferenceSetsFromJson(r->value("sets", Json::object()), "the tenant's reference sets");
    if (!sets) return ReportError(sets.error());
    refs = std::move(*sets);
  }
  auto listing = (*client)->Call("GET", "/v1/admin/tenants/" + a.tenant + "/audit");
  if (!listing) return ReportError(listing.error());
  Replay log = ReadLog(*listing);

  const std::size_t first = log.decisions.size() > static_cast<std::size_t>(a.last)
                                ? log.decisions.size() - static_cast<std::size_t>(a.last) : 0;
  std::size_t replayed = 0, no_claims = 0, to_deny = 0, to_allow = 0;
  Json changes = Json::array();
  for (std::size_t i = first; i < log.decisions.size(); ++i) {
    const RecordedDecision& d = log.decisions[i];
    auto claims = log.claims_by_actor.find(d.actor);
    if (claims == log.claims_by_actor.end()) {
      ++no_claims;
      continue;
    }
    ++replayed;
    policy::Decision before = policy::Evaluate(old_policy->second, claims->second, d.key, refs);
    policy::Decision after = policy::Evaluate(new_policy->second, claims->second, d.key, refs);
    if (before.allow == after.allow) continue;
    (after.allow ? to_allow : to_deny) += 1;
    changes.push_back(Json{{"seq", d.seq}, {"key", d.key}, {"workload", d.actor}, {"recorded", d.decision},
                           {"old", DecisionJson(before)}, {"new", DecisionJson(after)}});
  }
  if (g.json) {
    Json out{{"tenant", a.tenant}, {"replayed", replayed}, {"skipped_no_claims", no_claims},
             {"unreadable_records", log.unreadable}, {"allow_to_deny", to_deny}, {"deny_to_allow", to_allow},
             {"changes", changes}};
    std::printf("%s\n", out.dump(2, ' ', false, Json::error_handler_t::replace).c_str());
  } else {
    for (const Json& c : changes) {
      const bool now_allows = c["new"]["allow"].get<bool>();
      std::printf("seq %llu  key %s  %s  %s -> %s  (%s)\n", static_cast<unsigned long long>(c["seq"].get<std::uint64_t>()),
                  ForTerminal(c["key"].get<std::string>()).c_str(), ForTerminal(c["workload"].get<std::string>()).c_str(),
                  now_allows ? "deny" : "allow", now_allows ? "allow" : "deny",
                  now_allows ? ("new: rule '" + ForTerminal(c["new"]["rule"].get<std::string>()) + "'").c_str()
                             : ("new: " + ForTerminal(c["new"]["reason"].get<std::string>())).c_str());
    }
    std::printf("policy diff: tenant %s: %zu decisions replayed, %zu allow -> deny, %zu deny -> allow",
                ForTerminal(a.tenant).c_str(), replayed, to_deny, to_allow);
    if (no_claims > 0) std::printf(", %zu skipped (no recorded claims)", no_claims);
    if (log.unreadable > 0) std::printf(", %zu unreadable records (run sigil audit verify)", log.unreadable);
    std::printf("\n");
  }
  return a.check && !changes.empty() ? 4 : 0;
}

}  // namespace

void AddPolicyDiffCommand(CLI::App& policy_app, GlobalOptions& g, std::vector<Command>& out) {
  auto a = std::make_shared<DiffArgs>();
  auto* diff = policy_app.add_subcommand(
      "diff", "replay the tenant's last recorded release decisions against two policy files; list what changes");
  diff->add_option("OLD", a->old_file, "policy file (e.g. the output of `sigil policy get T`)")->required();
  diff->add_option("NEW", a->new_file, "policy file")->required();
  diff->add_option("--tenant", a->tenant, "tenant whose audit log holds the decisions")->required();
  diff->add_option("--last", a->last, "how many of the latest release decisions to replay (default 100)");
  diff->add_option("--refs", a->refs_file, "reference sets file {\"set\": [values]} (default: the tenant's, from the broker)");
  diff->add_flag("--check", a->check, "exit 4 if any decision would change");
  out.push_back({diff, [&g, a] { return Diff(g, *a); }});
}

}  // namespace sigil::cli
