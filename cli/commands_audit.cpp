// sigil audit list|query|export|verify. Verification happens here, offline, against the audit
// public key pinned at init (ADMIN_DIR/audit.pub), so a compromised broker cannot vouch for its
// own log; `verify --file` checks an exported log without contacting the broker at all.
#include <cctype>
#include <ctime>

#include "broker/audit_chain.h"
#include "cli/commands.h"
#include "core/encoding.h"
#include "core/file_io.h"

namespace sigil::cli {
namespace {

void PrintRecords(const Json& j);

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

Result<Bytes> LoadAuditKey(const GlobalOptions& g, std::string key_file) {
  if (key_file.empty()) key_file = g.endpoint.admin_dir + "/audit.pub";
  SIGIL_ASSIGN_OR_RETURN(std::string kt, ReadTextFile(key_file));
  SIGIL_ASSIGN_OR_RETURN(Json kj, ParseJson(kt, key_file));
  SIGIL_ASSIGN_OR_RETURN(std::string ks, GetString(kj, "public_key", key_file));
  return Base64UrlDecode(ks);
}

std::optional<broker::Checkpoint> CheckpointFrom(const Json& c) {
  return broker::Checkpoint{c.value("seq", std::uint64_t{0}), c.value("head", ""), c.value("time", std::int64_t{0}),
                            c.value("signature", "")};
}

int PrintReport(const GlobalOptions& g, const std::string& tenant, const broker::AuditVerifyReport& report) {
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

int Verify(const GlobalOptions& g, const std::string& tenant, const std::string& key_file) {
  auto pub = LoadAuditKey(g, key_file);
  if (!pub) return ReportError(pub.error());
  auto client = AdminClient::Connect(g.endpoint);
  if (!client) return ReportError(client.error());
  auto r = (*client)->Call("GET", "/v1/admin/tenants/" + tenant + "/audit");
  if (!r) return ReportError(r.error());
  auto rows = RowsFrom(*r);
  if (!rows) return ReportError(rows.error());
  std::optional<broker::Checkpoint> cp;
  if (r->contains("checkpoint")) cp = CheckpointFrom((*r)["checkpoint"]);
  return PrintReport(g, tenant, broker::VerifyAuditChain(tenant, *rows, cp, *pub));
}

// Export file (JSON lines): a header {"type":"sigil-audit-export","format":1,"tenant":T}, one
// {"type":"record","seq","record","hash"} per record in chain order, then the latest signed
// {"type":"checkpoint",...}. Written atomically (temp file + rename).
int Export(const GlobalOptions& g, const std::string& tenant, const std::string& out_path) {
  auto client = AdminClient::Connect(g.endpoint);
  if (!client) return ReportError(client.error());
  auto r = (*client)->Call("GET", "/v1/admin/tenants/" + tenant + "/audit");
  if (!r) return ReportError(r.error());
  auto rows = RowsFrom(*r);
  if (!rows) return ReportError(rows.error());
  std::string text = Json{{"type", "sigil-audit-export"}, {"format", 1}, {"tenant", tenant}}.dump() + "\n";
  for (const auto& row : *rows) {
    text += Json{{"type", "record"}, {"seq", row.seq}, {"record", row.record}, {"hash", row.hash}}.dump() + "\n";
  }
  if (r->contains("checkpoint")) {
    Json c = (*r)["checkpoint"];
    c["type"] = "checkpoint";
    text += c.dump() + "\n";
  }
  if (auto w = WriteFileAtomic(out_path, AsBytes(text), 0600); !w) return ReportError(w.error());
  if (!g.json) std::printf("exported %zu records of tenant %s to %s\n", rows->size(), tenant.c_str(), out_path.c_str());
  else std::printf("%s\n", Json{{"tenant", tenant}, {"records", rows->size()}, {"out", out_path}}.dump(2).c_str());
  return 0;
}

// Offline: parses the export and runs the same chain verification. A line that does not parse
// (edited or truncated file) is reported as the record that would have come next.
int VerifyFile(const GlobalOptions& g, const std::string& path, const std::string& key_file) {
  auto pub = LoadAuditKey(g, key_file);
  if (!pub) return ReportError(pub.error());
  auto text = ReadTextFile(path);
  if (!text) return ReportError(text.error());
  std::string tenant;
  std::vector<broker::AuditRow> rows;
  std::optional<broker::Checkpoint> cp;
  std::size_t line_no = 0, pos = 0;
  auto bad = [&](const std::string& problem) {
    broker::AuditVerifyReport rep;
    rep.records = rows.size();
    rep.first_bad_seq = rows.size() + 1;
    rep.problem = path + " line " + std::to_string(line_no) + ": " + problem;
    return PrintReport(g, tenant, rep);
  };
  while (pos < text->size()) {
    std::size_t nl = text->find('\n', pos);
    std::string line = text->substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text->size() : nl + 1;
    ++line_no;
    if (line.empty()) continue;
    auto j = ParseJson(line, "line");
    if (!j || !j->is_object()) return bad("not valid JSON (file edited or truncated)");
    std::string type = j->value("type", "");
    if (line_no == 1) {
      if (type != "sigil-audit-export" || j->value("format", 0) != 1 || !(*j)["tenant"].is_string()) {
        return ReportError(Error(Code::kInvalidArgument, path + ": not a sigil audit export (format 1)"));
      }
      tenant = (*j)["tenant"].get<std::string>();
    } else if (type == "record" && !cp) {
      auto seq = GetInt(*j, "seq", "record");
      auto rec = GetString(*j, "record", "record");
      auto hash = GetString(*j, "hash", "record");
      if (!seq || *seq < 0 || !rec || !hash) return bad("record line lacks seq, record or hash");
      rows.push_back({static_cast<std::uint64_t>(*seq), *rec, *hash});
    } else if (type == "checkpoint" && !cp) {
      cp = CheckpointFrom(*j);
    } else {
      return bad("unexpected line (type '" + type + "')");
    }
  }
  if (tenant.empty()) return ReportError(Error(Code::kInvalidArgument, path + ": empty export"));
  return PrintReport(g, tenant, broker::VerifyAuditChain(tenant, rows, cp, *pub));
}

// RFC 3339 date-time (e.g. 2026-11-22T08:00:00Z, 2026-11-22T09:00:00.250+01:00) -> Unix ms.
Result<std::int64_t> ParseRfc3339Ms(const std::string& s, const char* flag) {
  auto fail = [&] {
    return Fail(Code::kInvalidArgument, std::string(flag) + ": expected RFC 3339 time like 2026-01-31T12:00:00Z, got '" +
                                            s + "'");
  };
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                  &tm.tm_sec, &consumed) != 6 || consumed != 19) {
    return fail();
  }
  if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60) {
    return fail();
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  std::size_t i = 19;
  std::int64_t ms = 0;
  if (i < s.size() && s[i] == '.') {
    std::int64_t scale = 100;
    for (++i; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i) {
      ms += (s[i] - '0') * scale;
      scale /= 10;
    }
  }
  std::int64_t offset_s = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z') && i + 1 == s.size()) {
  } else if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
    int hh = 0, mm = 0;
    if (std::sscanf(s.c_str() + i + 1, "%2d:%2d", &hh, &mm) != 2 || hh > 23 || mm > 59) return fail();
    offset_s = (s[i] == '+' ? 1 : -1) * (hh * 3600 + mm * 60);
  } else {
    return fail();
  }
  return (static_cast<std::int64_t>(timegm(&tm)) - offset_s) * 1000 + ms;
}

struct QueryOptions {
  std::string tenant, since, until, decision, key;
  std::int64_t limit = 100, after = 0;
};

int Query(const GlobalOptions& g, const QueryOptions& o) {
  Json body{{"limit", o.limit}, {"after_seq", o.after}};
  if (!o.since.empty()) {
    auto ms = ParseRfc3339Ms(o.since, "--since");
    if (!ms) return ReportError(ms.error());
    body["since_ms"] = *ms;
  }
  if (!o.until.empty()) {
    auto ms = ParseRfc3339Ms(o.until, "--until");
    if (!ms) return ReportError(ms.error());
    body["until_ms"] = *ms;
  }
  if (!o.decision.empty()) body["decision"] = o.decision == "grant" ? std::string("allow") : o.decision;
  if (!o.key.empty()) body["key"] = o.key;
  return AdminCall(g, "POST", "/v1/admin/tenants/" + o.tenant + "/audit/query", body, [](const Json& j) {
    PrintRecords(j);
    if (j.contains("next_after_seq")) {
      std::printf("(more records: repeat with --after %llu)\n",
                  static_cast<unsigned long long>(j["next_after_seq"].get<std::uint64_t>()));
    }
  });
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
  auto file = std::make_shared<std::string>();
  verify->add_option("TENANT", *tenant, "verify the broker's live log of this tenant");
  verify->add_option("--file", *file, "verify an exported log offline instead (sigil audit export)");
  verify->add_option("--audit-key", *key_file, "pinned audit public key (default ADMIN_DIR/audit.pub)");
  out.push_back({verify, [&g, tenant, key_file, file] {
    if (!file->empty()) return VerifyFile(g, *file, *key_file);
    if (tenant->empty()) return ReportError(Error(Code::kInvalidArgument, "give TENANT or --file FILE"));
    return Verify(g, *tenant, *key_file);
  }});

  auto q = std::make_shared<QueryOptions>();
  auto* query = audit->add_subcommand("query", "filter a tenant's audit records on the broker (paginated)");
  query->add_option("--tenant", q->tenant, "tenant")->required();
  query->add_option("--since", q->since, "RFC 3339 time: records at or after it");
  query->add_option("--until", q->until, "RFC 3339 time: records at or before it");
  query->add_option("--decision", q->decision, "grant (= allow), deny, ok, error")
      ->check(CLI::IsMember({"grant", "allow", "deny", "ok", "error"}));
  query->add_option("--key", q->key, "tenant-relative key name");
  query->add_option("--limit", q->limit, "page size, 1..1000")->capture_default_str()->check(CLI::Range(1, 1000));
  query->add_option("--after", q->after, "continue after this seq (printed at the end of a full page)");
  out.push_back({query, [&g, q] { return Query(g, *q); }});

  auto out_path = std::make_shared<std::string>();
  auto export_tenant = std::make_shared<std::string>();
  auto* exp = audit->add_subcommand("export", "write every record with its chain hash and the signed checkpoint");
  exp->add_option("--tenant", *export_tenant, "tenant")->required();
  exp->add_option("--out", *out_path, "output file (JSON lines, written atomically)")->required();
  out.push_back({exp, [&g, export_tenant, out_path] { return Export(g, *export_tenant, *out_path); }});
}

}  // namespace sigil::cli
