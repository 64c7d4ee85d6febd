// sigil audit list|verify. Verification happens here, offline, against the audit public key
// pinned at init (ADMIN_DIR/audit.pub), so a compromised broker cannot vouch for its own log.
#include "broker/audit_chain.h"
#include "cli/commands.h"
#include "core/encoding.h"
#include "core/file_io.h"

namespace sigil::cli {
namespace {

Result<std::vector<broker::AuditRow>> RowsFrom(const Json& j) {
  std::vector<broker::AuditRow> rows;
  if (!j.contains("records") || !j["records"].is_array()) return Fail(Code::kInternal, "broker response has no records");
  for (const auto& r : j["records"]) {
    SIGIL_ASSIGN_OR_RETURN(std::int64_t seq, GetInt(r, "seq", "record"));
    SIGIL_ASSIGN_OR_RETURN(std::string rec, GetString(r, "record", "record"));
    SIGIL_ASSIGN_OR_RETURN(std::string hash, GetString(r, "hash", "record"));
    rows.push_back({static_cast<std::uint64_t>(seq), rec, hash});
  }
  return rows;
}

int Verify(const GlobalOptions& g, const std::string& tenant, std::string key_file) {
  if (key_file.empty()) key_file = g.endpoint.admin_dir + "/audit.pub";
  auto kt = ReadTextFile(key_file);
  if (!kt) return ReportError(kt.error());
  auto kj = ParseJson(*kt, key_file);
  if (!kj) return ReportError(kj.error());
  auto ks = GetString(*kj, "public_key", key_file);
  if (!ks) return ReportError(ks.error());
  auto pub = Base64UrlDecode(*ks);
  if (!pub) return ReportError(pub.error());
  auto client = AdminClient::Connect(g.endpoint);
  if (!client) return ReportError(client.error());
  auto r = (*client)->Call("GET", "/v1/admin/tenants/" + tenant + "/audit");
  if (!r) return ReportError(r.error());
  auto rows = RowsFrom(*r);
  if (!rows) return ReportError(rows.error());
  std::optional<broker::Checkpoint> cp;
  if (r->contains("checkpoint")) {
    const Json& c = (*r)["checkpoint"];
    cp = broker::Checkpoint{c.value("seq", std::uint64_t{0}), c.value("head", ""), c.value("time", std::int64_t{0}),
                            c.value("signature", "")};
  }
  auto report = broker::VerifyAuditChain(tenant, *rows, cp, *pub);
  if (g.json) {
    Json out{{"tenant", tenant}, {"ok", report.ok}, {"records", report.records}};
    if (!report.ok) {
      out["problem"] = report.problem;
      if (report.first_bad_seq) out["first_bad_seq"] = *report.first_bad_seq;
    }
    std::printf("%s\n", out.dump(2).c_str());
  } else if (report.ok) {
    std::printf("audit verify: OK (%llu records, signed head verified)\n", static_cast<unsigned long long>(report.records));
  } else if (report.first_bad_seq) {
    std::printf("audit verify: FAILED at seq %llu: %s\n", static_cast<unsigned long long>(*report.first_bad_seq),
                report.problem.c_str());
  } else {
    std::printf("audit verify: FAILED: %s\n", report.problem.c_str());
  }
  return report.ok ? 0 : 4;
}

void PrintRecords(const Json& j) {
  for (const auto& r : j["records"]) {
    auto rec = ParseJson(r["record"].get<std::string>(), "record");
    if (!rec) continue;
    const Json& x = *rec;
    std::printf("%4lld  %-22s %-6s %-18s %s%s\n", static_cast<long long>(x.value("seq", 0)),
                x.value("action", "").c_str(), x.value("decision", "").c_str(),
                (x.value("key", "") + (x.contains("version") ? " v" + std::to_string(x.value("version", 0)) : "")).c_str(),
                x.value("reason", "").c_str(), x.value("insecure_dev_tee", false) ? "  [INSECURE dev TEE]" : "");
  }
}

}  // namespace

void AddAuditCommands(CLI::App& app, GlobalOptions& g, std::vector<Command>& out) {
  auto* audit = app.add_subcommand("audit", "review and verify a tenant's audit log");
  audit->require_subcommand(1);
  auto tenant = std::make_shared<std::string>();
  auto key_file = std::make_shared<std::string>();
  auto* list = audit->add_subcommand("list", "print a tenant's audit records");
  list->add_option("TENANT", *tenant)->required();
  out.push_back({list, [&g, tenant] {
    return AdminCall(g, "GET", "/v1/admin/tenants/" + *tenant + "/audit", Json(), PrintRecords);
  }});
  auto* verify = audit->add_subcommand("verify", "verify the hash chain and signed head; names the first bad record");
  verify->add_option("TENANT", *tenant)->required();
  verify->add_option("--audit-key", *key_file, "pinned audit public key (default ADMIN_DIR/audit.pub)");
  out.push_back({verify, [&g, tenant, key_file] { return Verify(g, *tenant, *key_file); }});
}

}  // namespace sigil::cli
