// sigil audit list|query|export|verify. Verification happens here, offline, against the audit
// public key pinned at init (ADMIN_DIR/audit.pub), so a compromised broker cannot vouch for its
// own log; `verify --file` checks an exported log without contacting the broker at all.
#include <cctype>
#include <ctime>

#include "broker/audit/audit_chain.h"
#include "broker/audit/audit_tree.h"
#include "broker/audit/audit_wire.h"
#include "broker/audit/checkpoint_note.h"
#include "broker/audit/merkle.h"
#include "cli/audit_memory.h"
#include "cli/commands.h"
#include "core/encoding.h"
#include "core/file_io.h"
#include "core/text.h"
#include "core/utf8.h"

namespace sigil::cli {
namespace {

namespace merkle = broker::merkle;
namespace tlog = broker::tlog;

void PrintRecords(const Json& j);

// How much of a field `sigil audit list` shows (escaped; longer values end in "...").
constexpr std::size_t kShowShort = 64, kShowKey = 128, kShowReason = 1000, kShowDamaged = 120;

// The broker's records, each read through broker/audit/audit_wire.h. An element that cannot be read
// becomes a defective row (named by verification at its place in the chain), never an error for
// the whole listing.
Result<std::vector<broker::AuditRow>> RowsFrom(const Json& j) {
  std::vector<broker::AuditRow> rows;
  if (!j.contains("records") || !j["records"].is_array()) return Fail(Code::kInternal, "broker response has no records");
  for (const auto& r : j["records"]) {
    auto row = broker::AuditRowFromJson(r);
    if (row) {
      rows.push_back(std::move(*row));
    } else {
      broker::AuditRow bad;
      bad.defect = "the broker sent an unreadable row (" + row.error().message() + ")";
      rows.push_back(std::move(bad));
    }
  }
  return rows;
}


// Every problem is printed, one line each, then a summary; exit 4 if there was any.
// `tree_head` (verify --file only): what was found of the export's signed tree head, for --json
// ("verified", "absent", "refused") and, when verified, the line printed after OK.
struct TreeHeadStatus {
  std::string state;  // empty: not an export
  std::string line;
};

int PrintReport(const GlobalOptions& g, const std::string& tenant, const broker::AuditVerifyReport& report,
                const std::string& history, const TreeHeadStatus& tree_head = {}, Json* json_out = nullptr) {
  if (g.json) {
    Json out{{"tenant", tenant}, {"ok", report.ok}, {"records", report.records}};
    if (!history.empty()) out["history"] = history;
    if (!tree_head.state.empty()) out["tree_head"] = tree_head.state;
    if (!report.ok) {
      out["bad_records"] = report.bad_records;
      Json problems = Json::array();
      for (const auto& p : report.problems) {
        Json pj{{"problem", p.problem}};
        if (p.seq) pj["seq"] = *p.seq;
        problems.push_back(std::move(pj));
      }
      out["problems"] = std::move(problems);
      out["problem"] = report.problem;
      if (report.first_bad_seq) out["first_bad_seq"] = *report.first_bad_seq;
    }
    if (json_out != nullptr && report.ok) {
      *json_out = std::move(out);  // the caller adds to it and prints it
    } else {
      std::printf("%s\n", out.dump(2, ' ', false, Json::error_handler_t::replace).c_str());
    }
  } else if (report.ok) {
    std::printf("audit verify: OK (%llu records, signed head verified)\n", static_cast<unsigned long long>(report.records));
    if (!tree_head.line.empty()) std::printf("audit verify: %s\n", tree_head.line.c_str());
    if (!history.empty()) std::printf("audit verify: %s\n", history.c_str());
  } else {
    for (const auto& p : report.problems) {
      const std::string text = EscapeForDisplay(p.problem, kShowReason);
      if (p.seq) {
        std::printf("audit verify: FAILED at seq %llu: %s\n", static_cast<unsigned long long>(*p.seq), text.c_str());
      } else {
        std::printf("audit verify: FAILED: %s\n", text.c_str());
      }
    }
    std::printf("audit verify: tenant %s: %llu records checked, %llu bad, %zu problems (listed above)\n",
                EscapeForDisplay(tenant, kShowKey).c_str(), static_cast<unsigned long long>(report.records),
                static_cast<unsigned long long>(report.bad_records), report.problems.size());
  }
  return report.ok ? 0 : 4;
}

// The checkpoint of a listing or export line; an unreadable one is a problem of the report.
std::optional<broker::Checkpoint> CheckpointFrom(const Json& c, std::vector<broker::AuditProblem>& problems) {
  auto cp = broker::CheckpointFromJson(c);
  if (cp) return *cp;
  problems.push_back({std::nullopt, "signed checkpoint unreadable (" + cp.error().message() + ")"});
  return std::nullopt;
}

// The chain check, then (if it passed) the check against the log this user accepted before
// (cli/audit_memory.h), then the report.
int VerifyAndReport(const GlobalOptions& g, const std::string& tenant, const std::vector<broker::AuditRow>& rows,
                    const std::optional<broker::Checkpoint>& cp, ByteSpan pub, std::vector<broker::AuditProblem> extra,
                    const TreeHeadStatus& tree_head = {}, Json* json_out = nullptr) {
  auto report = broker::VerifyAuditChain(tenant, rows, cp, pub);
  for (auto& p : extra) broker::AddProblem(report, std::move(p));
  std::string history;
  if (report.ok) {
    if (auto m = CheckAgainstMemory(pub, tenant, rows, report, &history); !m) {
      return ReportError(m.error().Wrap("audit verify: the record of logs accepted before"));
    }
  }
  return PrintReport(g, tenant, report, history, tree_head, json_out);
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
  std::vector<broker::AuditProblem> extra;
  std::optional<broker::Checkpoint> cp;
  if (r->contains("checkpoint")) cp = CheckpointFrom((*r)["checkpoint"], extra);
  return VerifyAndReport(g, tenant, *rows, cp, *pub, std::move(extra));
}

// Export file (JSON lines): a header {"type":"sigil-audit-export","format":1,"tenant":T}, one
// {"type":"record",...} per record in chain order (broker/audit/audit_wire.h: "record" or, for stored
// bytes that are not UTF-8, "record_b64"), then the latest signed {"type":"checkpoint",...}, then
// {"type":"tlog-checkpoint","note":N}: the broker's C2SP checkpoint note (docs/protocol.md "Audit
// proofs") for a tree of exactly the exported records, from the proof endpoint (an inclusion
// proof of seq 1 at size = the number of records; the proof itself is not kept). Readers of
// format 1 that predate the line skip nothing they need; the format number is unchanged.
// Written atomically (temp file + rename). A damaged log exports too: that is how it is checked
// (the broker signs no tree head over it, so that export has no tlog-checkpoint line; a warning
// says so).
int Export(const GlobalOptions& g, const std::string& tenant, const std::string& out_path) {
  auto client = AdminClient::Connect(g.endpoint);
  if (!client) return ReportError(client.error());
  auto r = (*client)->Call("GET", "/v1/admin/tenants/" + tenant + "/audit");
  if (!r) return ReportError(r.error());
  auto rows = RowsFrom(*r);
  if (!rows) return ReportError(rows.error());
  std::string text = Json{{"type", "sigil-audit-export"}, {"format", 1}, {"tenant", tenant}}.dump() + "\n";
  for (const auto& row : *rows) {
    Json line = broker::AuditRowToJson(row);
    line["type"] = "record";
    text += line.dump() + "\n";
  }
  if (r->contains("checkpoint") && (*r)["checkpoint"].is_object()) {
    Json c = (*r)["checkpoint"];
    c["type"] = "checkpoint";
    text += c.dump() + "\n";
    Json body{{"seq", 1}, {"size", rows->size()}};
    auto p = (*client)->Call("POST", "/v1/admin/tenants/" + tenant + "/audit/proof", body);
    if (p && p->contains("checkpoint") && (*p)["checkpoint"].is_string() && p->contains("tree_size") &&
        (*p)["tree_size"].is_number_unsigned() && (*p)["tree_size"].get<std::uint64_t>() == rows->size()) {
      text += Json{{"type", "tlog-checkpoint"}, {"note", (*p)["checkpoint"]}}.dump() + "\n";
    } else {
      std::fprintf(stderr, "sigil: warning: no signed tree head for %zu records (%s); the export holds the chain checkpoint only\n",
                   rows->size(), p ? "the broker's answer is for another size"
                                   : EscapeForDisplay(p.error().message(), kShowReason).c_str());
    }
  }
  if (auto w = WriteFileAtomic(out_path, AsBytes(text), 0600); !w) return ReportError(w.error());
  if (!g.json) std::printf("exported %zu records of tenant %s to %s\n", rows->size(), tenant.c_str(), out_path.c_str());
  else std::printf("%s\n", Json{{"tenant", tenant}, {"records", rows->size()}, {"out", out_path}}.dump(2).c_str());
  return 0;
}

// The export's signed tree head: the note must open with the pinned audit key under the name
// `sigil-audit/<tenant>` and state a tree of exactly the exported records: its size their number,
// its root the RFC 9162 root over their stored bytes (leaf i = record i's bytes, as the chain
// hashes them). Each failure is a problem of the report; the checkpoint is returned if all pass.
std::optional<tlog::Checkpoint> CheckTreeHead(const std::string& tenant, const std::string& note,
                                              const std::vector<broker::AuditRow>& rows, ByteSpan pub,
                                              std::vector<broker::AuditProblem>& problems) {
  const std::string origin = broker::AuditTreeOrigin(tenant);
  auto refuse = [&](const std::string& why) {
    problems.push_back({std::nullopt, "signed tree head (tlog-checkpoint) " + why});
    return std::nullopt;
  };
  auto key = tlog::MakeVerifierKey(origin, pub);
  if (!key) return refuse("not checked: " + key.error().message());
  auto cp = tlog::OpenCheckpoint(note, *key, origin);
  if (!cp) {
    // A note of another log names it on its first line (unverified: shown only to say why).
    const std::string first = note.substr(0, note.find('\n'));
    if (first != origin) {
      return refuse("is for another log ('" + EscapeForDisplay(first, kShowKey) + "'), not tenant " +
                    EscapeForDisplay(tenant, kShowKey) + "'s (" + EscapeForDisplay(origin, kShowKey) + ")");
    }
    return refuse("has no valid signature by the pinned audit key (" + EscapeForDisplay(cp.error().message(), kShowReason) + ")");
  }
  if (cp->size != rows.size()) {
    return refuse("is for " + std::to_string(cp->size) + " records, but the export holds " + std::to_string(rows.size()));
  }
  std::vector<merkle::Hash> leaves;
  leaves.reserve(rows.size());
  for (const auto& row : rows) {
    if (!row.defect.empty()) return refuse("root not checked: the export has an unreadable record line");
    leaves.push_back(merkle::LeafHash(AsBytes(row.record)));
  }
  const merkle::Hash root = merkle::Root(leaves);
  if (root != cp->root) {
    return refuse("root " + Base64Encode(ByteSpan(cp->root.data(), cp->root.size())) +
                  " is not the Merkle root of the exported records (" + Base64Encode(ByteSpan(root.data(), root.size())) + ")");
  }
  return *cp;
}

// Offline: parses the export and runs the same chain verification, then checks the signed tree
// head (CheckTreeHead). A line that does not parse (edited or truncated file) takes the place of
// the record that would have come next and is named as that record; checking carries on with
// the lines after it. With `seq` (not 0), a verified export also proves record `seq` in the tree
// the note signs (merkle::InclusionProof, checked with VerifyInclusion) and prints the proof.
int VerifyFile(const GlobalOptions& g, const std::string& path, const std::string& key_file, std::uint64_t seq) {
  auto pub = LoadAuditKey(g, key_file);
  if (!pub) return ReportError(pub.error());
  auto text = ReadTextFile(path);
  if (!text) return ReportError(text.error());
  std::string tenant;
  std::vector<broker::AuditRow> rows;
  std::vector<broker::AuditProblem> extra;
  std::optional<broker::Checkpoint> cp;
  std::optional<std::string> note;
  bool seen_checkpoint = false, seen_note = false;
  std::size_t line_no = 0, pos = 0;
  auto where = [&] { return "line " + std::to_string(line_no) + " of the export"; };
  auto unreadable = [&](const std::string& why) {
    broker::AuditRow bad;
    bad.defect = where() + " " + why;
    rows.push_back(std::move(bad));
  };
  while (pos < text->size()) {
    std::size_t nl = text->find('\n', pos);
    std::string line = text->substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text->size() : nl + 1;
    ++line_no;
    if (line.empty()) continue;
    auto j = ParseJson(line, "line");
    if (line_no == 1) {
      if (j && j->is_object()) {
        auto type = GetString(*j, "type", "header");
        auto format = GetInt(*j, "format", "header");
        auto t = GetString(*j, "tenant", "header");
        if (type && *type == "sigil-audit-export" && format && *format == 1 && t) tenant = *t;
      }
      if (tenant.empty()) return ReportError(Error(Code::kInvalidArgument, path + ": not a sigil audit export (format 1)"));
      continue;
    }
    if (!j || !j->is_object()) {
      if (seen_checkpoint) {
        extra.push_back({std::nullopt, where() + " (after the checkpoint) is not valid JSON"});
      } else {
        unreadable("is not valid JSON (file edited or truncated)");
      }
      continue;
    }
    auto type = GetString(*j, "type", "line");
    if (type && *type == "record" && !seen_checkpoint) {
      auto row = broker::AuditRowFromJson(*j);
      if (row) {
        rows.push_back(std::move(*row));
      } else {
        unreadable("is not a readable record (" + row.error().message() + ")");
      }
    } else if (type && *type == "checkpoint" && !seen_checkpoint) {
      seen_checkpoint = true;
      cp = CheckpointFrom(*j, extra);
    } else if (type && *type == "tlog-checkpoint" && seen_checkpoint && !seen_note) {
      seen_note = true;
      auto n = GetString(*j, "note", "tlog-checkpoint line");
      if (n) note = *n;
      else extra.push_back({std::nullopt, where() + ": signed tree head (tlog-checkpoint) has no note"});
    } else {
      extra.push_back({std::nullopt, where() + ": unexpected line (type '" +
                                         (type ? EscapeForDisplay(*type, kShowShort) : std::string("?")) + "')"});
    }
  }
  if (tenant.empty()) return ReportError(Error(Code::kInvalidArgument, path + ": empty export"));
  if (seq > rows.size()) {
    return ReportError(Error(Code::kInvalidArgument, "--seq " + std::to_string(seq) + ": the export holds " +
                                                         std::to_string(rows.size()) + " records"));
  }
  TreeHeadStatus tree_head;
  std::optional<tlog::Checkpoint> head;
  if (note) {
    head = CheckTreeHead(tenant, *note, rows, *pub, extra);
    tree_head.state = head ? "verified" : "refused";
    if (head) {
      tree_head.line = "signed tree head verified: " + std::to_string(head->size) + " records, root " +
                       Base64Encode(ByteSpan(head->root.data(), head->root.size())) + " (C2SP checkpoint of " +
                       EscapeForDisplay(broker::AuditTreeOrigin(tenant), kShowKey) + ")";
    }
  } else if (!seen_note) {
    tree_head.state = "absent";
    std::fprintf(stderr, "sigil: warning: %s has no signed tree head (tlog-checkpoint line, written by exports since "
                         "issue 13): the chain was checked, the Merkle tree head was not\n", path.c_str());
    if (seq != 0) {
      return ReportError(Error(Code::kVerificationFailed, "--seq: no signed tree head in the export to prove record " +
                                                              std::to_string(seq) + " against"));
    }
  } else {
    tree_head.state = "refused";
  }
  Json json_out;
  Json* json_target = seq != 0 && g.json ? &json_out : nullptr;
  const int rc = VerifyAndReport(g, tenant, rows, cp, *pub, std::move(extra), tree_head, json_target);
  if (rc != 0 || seq == 0 || !head) return rc;
  // Record `seq` in the signed tree: leaves are the verified records' bytes.
  std::vector<merkle::Hash> leaves;
  leaves.reserve(rows.size());
  for (const auto& row : rows) leaves.push_back(merkle::LeafHash(AsBytes(row.record)));
  const std::size_t index = static_cast<std::size_t>(seq - 1);
  auto proof = merkle::InclusionProof(leaves, index);
  if (!proof) return ReportError(proof.error());
  if (auto v = merkle::VerifyInclusion(index, head->size, leaves[index], *proof, head->root); !v) {
    return ReportError(v.error().Wrap("audit verify: inclusion proof of record " + std::to_string(seq)));
  }
  if (g.json) {
    Json hashes = Json::array();
    for (const auto& h : *proof) hashes.push_back(Base64Encode(ByteSpan(h.data(), h.size())));
    json_out["tree_size"] = head->size;
    json_out["checkpoint"] = *note;
    json_out["seq"] = seq;
    json_out["leaf_index"] = seq - 1;
    json_out["record"] = broker::AuditRowToJson(rows[index]);
    json_out["proof"] = std::move(hashes);
    json_out["verified"] = true;
    std::printf("%s\n", json_out.dump(2, ' ', false, Json::error_handler_t::replace).c_str());
  } else {
    std::printf("audit verify: record %llu is in the log of %s at size %llu (inclusion proof of %zu hashes verified "
                "against the signed tree head)\n",
                static_cast<unsigned long long>(seq), EscapeForDisplay(tenant, kShowKey).c_str(),
                static_cast<unsigned long long>(head->size), proof->size());
  }
  return 0;
}

}  // namespace

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

namespace {

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
    if (j.contains("next_after_seq") && j["next_after_seq"].is_number_unsigned()) {
      std::printf("(more records: repeat with --after %llu)\n",
                  static_cast<unsigned long long>(j["next_after_seq"].get<std::uint64_t>()));
    }
  });
}

std::string StringField(const Json& x, const char* name) {
  auto it = x.find(name);
  return it != x.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// One line per record, every field escaped (core/text.h): a name or reason holding a newline,
// NUL or terminal escape is shown as \xNN and cannot print a line that looks like another
// record. A record that is damaged is shown as such, with an escaped excerpt of its bytes.
void PrintRecords(const Json& j) {
  if (!j.contains("records") || !j["records"].is_array()) return;
  for (const auto& r : j["records"]) {
    auto row = broker::AuditRowFromJson(r);
    if (!row) {
      std::printf("   ?  UNREADABLE row from the broker: %s\n", EscapeForDisplay(row.error().message(), kShowReason).c_str());
      continue;
    }
    const std::string seq = row->seq != 0 ? std::to_string(row->seq) : "?";
    std::string damage = row->defect;
    std::optional<Json> rec;
    if (damage.empty() && !IsValidUtf8(row->record)) damage = "not valid UTF-8";
    if (damage.empty()) {
      auto parsed = ParseJson(row->record, "record");
      if (parsed && parsed->is_object()) rec = std::move(*parsed);
      else damage = "not a JSON object";
    }
    if (!rec) {
      std::printf("%4s  DAMAGED record (%s; run sigil audit verify): %s\n", seq.c_str(),
                  EscapeForDisplay(damage, kShowReason).c_str(), EscapeForDisplay(row->record, kShowDamaged).c_str());
      continue;
    }
    const Json& x = *rec;
    std::string key = EscapeForDisplay(StringField(x, "key"), kShowKey);
    if (x.contains("version") && x["version"].is_number_integer()) {
      key += " v" + std::to_string(x["version"].get<std::int64_t>());
    }
    const bool dev = x.contains("insecure_dev_tee") && x["insecure_dev_tee"].is_boolean() &&
                     x["insecure_dev_tee"].get<bool>();
    std::printf("%4s  %-22s %-6s %-18s %s%s\n", seq.c_str(), EscapeForDisplay(StringField(x, "action"), kShowShort).c_str(),
                EscapeForDisplay(StringField(x, "decision"), kShowShort).c_str(), key.c_str(),
                EscapeForDisplay(StringField(x, "reason"), kShowReason).c_str(), dev ? "  [INSECURE dev TEE]" : "");
  }
}

}  // namespace

Result<Bytes> LoadAuditKey(const GlobalOptions& g, std::string key_file) {
  if (key_file.empty()) key_file = g.endpoint.admin_dir + "/audit.pub";
  SIGIL_ASSIGN_OR_RETURN(std::string kt, ReadTextFile(key_file));
  SIGIL_ASSIGN_OR_RETURN(Json kj, ParseJson(kt, key_file));
  SIGIL_ASSIGN_OR_RETURN(std::string ks, GetString(kj, "public_key", key_file));
  return Base64UrlDecode(ks);
}

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
  auto verify_seq = std::make_shared<std::uint64_t>(0);
  verify->add_option("TENANT", *tenant, "verify the broker's live log of this tenant");
  verify->add_option("--file", *file, "verify an exported log offline instead (sigil audit export)");
  auto* seq_opt = verify->add_option("--seq", *verify_seq,
                                     "with --file: also prove record N in the export's signed tree head (inclusion proof)");
  verify->add_option("--audit-key", *key_file, "pinned audit public key (default ADMIN_DIR/audit.pub)");
  out.push_back({verify, [&g, tenant, key_file, file, verify_seq, seq_opt] {
    if (seq_opt->count() > 0 && (file->empty() || *verify_seq == 0)) {
      return ReportError(Error(Code::kInvalidArgument, "--seq N (N >= 1) goes with --file FILE"));
    }
    if (!file->empty()) return VerifyFile(g, *file, *key_file, *verify_seq);
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
  auto* exp = audit->add_subcommand("export",
                                    "write every record with its chain hash, the signed checkpoint and the signed tree head");
  exp->add_option("--tenant", *export_tenant, "tenant")->required();
  exp->add_option("--out", *out_path, "output file (JSON lines, written atomically)")->required();
  out.push_back({exp, [&g, export_tenant, out_path] { return Export(g, *export_tenant, *out_path); }});
  AddAuditProofCommand(*audit, g, out);
  AddAuditCheckpointCommand(*audit, g, out);
  AddAuditReceiptCommands(*audit, g, out);
}

}  // namespace sigil::cli
