// sigil audit query / export / verify --file against the real sigild. Own tenant "auditx" with a
// known mix of admin (ok), attest (allow) and replayed-attest (deny) records.
#include <ctime>
#include <set>

#include "core/digest.h"
#include "core/encoding.h"
#include "core/file_io.h"
#include "tests/integration/broker_fixture.h"
#include "tests/support/matchers.h"

namespace sigil::integration {
namespace {

constexpr const char* kTenant = "auditx";

testing::CommandResult Sigil(std::vector<std::string> args) { return BrokerEnv::Get().Sigil(std::move(args)); }

std::string Rfc3339Ms(std::int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    out.push_back(text.substr(pos, nl - pos));
    pos = nl == std::string::npos ? text.size() : nl + 1;
  }
  return out;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

class AuditExport : public ::testing::Test {
 protected:
  // Provisions auditx once per process (AuditExportTreeHead shares it).
  static void SetUpTestSuite() {
    static bool provisioned = false;
    if (provisioned) return;
    provisioned = true;
    testing::TempDir dir;
    const char* policy = R"({"version": 1, "rules": [{"name": "dev", "keys": ["k1"],
        "when": {"allOf": [{"claim": "tee", "equals": "dev"}]}}]})";
    ASSERT_TRUE(WriteFileAtomic(dir.File("p.json"), AsBytes(policy), 0644).has_value());
    for (auto args : std::vector<std::vector<std::string>>{
             {"tenant", "create", kTenant}, {"policy", "set", kTenant, dir.File("p.json")},
             {"key", "create", "auditx/k1"}, {"key", "create", "auditx/k2"}, {"key", "disable", "auditx/k1"},
             {"key", "enable", "auditx/k1"}}) {
      auto r = Sigil(args);
      ASSERT_EQ(r.exit_code, 0) << args[0] << " " << args[1] << ": " << r.err;
    }
    auto c = BrokerEnv::Get().Client();
    Workload w = Workload::Make();
    for (int i = 0; i < 2; ++i) {
      auto nonce = c->Challenge(kTenant, "dev");
      ASSERT_TRUE(nonce.has_value());
      Bytes ev = w.Evidence(*nonce, kMeasurementA, false);
      ASSERT_TRUE(c->Attest(kTenant, "dev", *nonce, ev, w.key.public_key).has_value());
      ASSERT_FALSE(c->Attest(kTenant, "dev", *nonce, ev, w.key.public_key).has_value());  // replay: deny
    }
  }

  static std::set<std::uint64_t> Seqs(const std::vector<Json>& recs) {
    std::set<std::uint64_t> s;
    for (const auto& r : recs) s.insert(r["seq"].get<std::uint64_t>());
    return s;
  }

  // Runs `sigil --json audit query --tenant auditx ARGS` and returns the records' seqs.
  static std::set<std::uint64_t> Query(std::vector<std::string> args, Json* response = nullptr) {
    args.insert(args.begin(), {"--json", "audit", "query", "--tenant", kTenant});
    auto r = Sigil(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto j = ParseJson(r.out, "query");
    std::set<std::uint64_t> s;
    if (!j) return s;
    for (const auto& rec : (*j)["records"]) s.insert(rec["seq"].get<std::uint64_t>());
    if (response) *response = *j;
    return s;
  }

  static std::string Export(const testing::TempDir& dir) {
    std::string path = dir.File("audit.jsonl");
    auto r = Sigil({"audit", "export", "--tenant", kTenant, "--out", path});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto text = ReadTextFile(path);
    return text ? *text : std::string();
  }

  static testing::CommandResult VerifyText(const testing::TempDir& dir, const std::string& text) {
    std::string path = dir.File("tampered.jsonl");
    EXPECT_TRUE(WriteFileAtomic(path, AsBytes(text), 0600).has_value());
    return Sigil({"audit", "verify", "--file", path});
  }
};

TEST_F(AuditExport, QueryFiltersReturnExactlyTheMatchingRecords) {
  auto all = AuditRecords(kTenant);
  ASSERT_GE(all.size(), 10u);
  auto expect = [&](auto pred) {
    std::vector<Json> m;
    for (const auto& r : all) if (pred(r)) m.push_back(r);
    return Seqs(m);
  };
  auto deny = Query({"--decision", "deny"});
  EXPECT_EQ(deny.size(), 2u);
  EXPECT_EQ(deny, expect([](const Json& r) { return r.value("decision", "") == "deny"; }));
  EXPECT_EQ(Query({"--decision", "grant"}), expect([](const Json& r) { return r.value("decision", "") == "allow"; }));
  auto k1 = Query({"--key", "k1"});
  EXPECT_EQ(k1.size(), 3u);  // create, disable, enable
  EXPECT_EQ(k1, expect([](const Json& r) { return r.value("key", "") == "k1"; }));
  EXPECT_EQ(Query({"--key", "k1", "--decision", "deny"}).size(), 0u);

  const std::int64_t t_mid = all[all.size() / 2]["time_ms"].get<std::int64_t>();
  EXPECT_EQ(Query({"--since", Rfc3339Ms(t_mid)}), expect([&](const Json& r) { return r["time_ms"] >= t_mid; }));
  EXPECT_EQ(Query({"--until", Rfc3339Ms(t_mid)}), expect([&](const Json& r) { return r["time_ms"] <= t_mid; }));
  EXPECT_EQ(Query({"--since", Rfc3339Ms(t_mid), "--until", Rfc3339Ms(t_mid)}),
            expect([&](const Json& r) { return r["time_ms"] == t_mid; }));

  // Pagination: pages of 3 chained with --after cover the log exactly once.
  std::set<std::uint64_t> paged;
  std::uint64_t after = 0;
  for (int page = 0; page < 100; ++page) {
    Json resp;
    auto s = Query({"--limit", "3", "--after", std::to_string(after)}, &resp);
    EXPECT_LE(s.size(), 3u);
    for (auto x : s) EXPECT_TRUE(paged.insert(x).second) << "seq " << x << " returned twice";
    if (!resp.contains("next_after_seq")) break;
    after = resp["next_after_seq"].get<std::uint64_t>();
  }
  EXPECT_EQ(paged, Seqs(all));

  auto bad_time = Sigil({"audit", "query", "--tenant", kTenant, "--since", "yesterday"});
  EXPECT_EQ(bad_time.exit_code, 2);
  EXPECT_NE(bad_time.err.find("RFC 3339"), std::string::npos) << bad_time.err;
  auto unknown = Sigil({"audit", "query", "--tenant", "nosuchtenant"});
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.err.find("unknown tenant"), std::string::npos) << unknown.err;
}

TEST_F(AuditExport, ExportVerifiesOfflineAndNamesTheFirstTamperedRecord) {
  testing::TempDir dir;
  std::string text = Export(dir);
  auto lines = Lines(text);
  const std::size_t n = AuditRecords(kTenant).size();
  ASSERT_GE(n, 6u);
  ASSERT_EQ(lines.size(), n + 3) << "header + records + checkpoint + tlog-checkpoint";
  auto ok = Sigil({"audit", "verify", "--file", dir.File("audit.jsonl")});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("OK (" + std::to_string(n) + " records"), std::string::npos) << ok.out;

  // Line i (1-based, after the header) holds seq i.
  auto expect_bad_at = [&](const std::vector<std::string>& ls, int seq, const char* what) {
    auto r = VerifyText(dir, Join(ls));
    EXPECT_EQ(r.exit_code, 4) << what << ": " << r.out << r.err;
    EXPECT_NE(r.out.find("FAILED at seq " + std::to_string(seq) + ":"), std::string::npos) << what << ": " << r.out;
  };
  {  // edit: change the reason of seq 3 (still valid JSON)
    auto ls = lines;
    auto j = ParseJson(ls[3], "line");
    ASSERT_TRUE(j.has_value());
    auto rec = ParseJson((*j)["record"].get<std::string>(), "record");
    ASSERT_TRUE(rec.has_value());
    (*rec)["reason"] = "nothing to see here";
    (*j)["record"] = CanonicalJson(*rec);
    ls[3] = j->dump();
    expect_bad_at(ls, 3, "edit");
  }
  {  // delete seq 3
    auto ls = lines;
    ls.erase(ls.begin() + 3);
    expect_bad_at(ls, 3, "delete");
  }
  {  // reorder seq 3 and 4
    auto ls = lines;
    std::swap(ls[3], ls[4]);
    expect_bad_at(ls, 3, "reorder");
  }
  {  // truncate mid-record: the file ends inside seq 4's line
    std::size_t cut = 0;
    for (int i = 0; i < 4; ++i) cut += lines[i].size() + 1;
    cut += lines[4].size() / 2;
    auto r = VerifyText(dir, text.substr(0, cut));
    EXPECT_EQ(r.exit_code, 4);
    EXPECT_NE(r.out.find("FAILED at seq 4:"), std::string::npos) << r.out;
  }
  {  // drop the newest record, keeping the checkpoint: the signed head names what is missing
    auto ls = lines;
    ls.erase(ls.begin() + static_cast<std::ptrdiff_t>(n));
    expect_bad_at(ls, static_cast<int>(n), "tail delete");
  }
  {  // without its genesis record (seq 1, tenant.genesis), the log does not verify (the chain
     // names it missing; a well-chained log without genesis is refused by VerifyAuditChain,
     // StoreTest.ALogWithoutGenesisDoesNotVerify, which needs the audit key to forge one)
    auto ls = lines;
    ls.erase(ls.begin() + 1);
    auto r = VerifyText(dir, Join(ls));
    EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
    EXPECT_NE(r.out.find("FAILED at seq 1:"), std::string::npos) << r.out;
  }
  {  // the export of another tenant's log does not verify as this one's
    auto ls = lines;
    ls[0] = Json{{"type", "sigil-audit-export"}, {"format", 1}, {"tenant", "acme"}}.dump();
    expect_bad_at(ls, 1, "retargeted");
  }
}

// `sigil audit verify` remembers the last log it accepted per audit key and tenant
// ($XDG_STATE_HOME/sigil) and refuses one that does not extend it: an older export after a newer
// one (what restoring an older store shows), and a history that differs from what was accepted.
TEST_F(AuditExport, VerifyRemembersTheLogItAcceptedAndRefusesOneThatDoesNotExtendIt) {
  testing::TempDir dir, state;
  const std::string env = "XDG_STATE_HOME=" + state.path();
  auto sigil = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {testing::BinPath("sigil"), "--admin-dir", BrokerEnv::Get().admin_dir(), "--broker",
                               BrokerEnv::Get().url()});
    return testing::Run(args, {env});
  };
  const std::string older = dir.File("older.jsonl"), newer = dir.File("newer.jsonl");
  ASSERT_EQ(sigil({"audit", "export", "--tenant", kTenant, "--out", older}).exit_code, 0);
  auto first = sigil({"audit", "verify", "--file", older});
  EXPECT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_NE(first.out.find("first verification of this log here"), std::string::npos) << first.out;

  ASSERT_EQ(sigil({"key", "create", "auditx/memory-k"}).exit_code, 0);
  ASSERT_EQ(sigil({"audit", "export", "--tenant", kTenant, "--out", newer}).exit_code, 0);
  auto grown = sigil({"audit", "verify", "--file", newer});
  EXPECT_EQ(grown.exit_code, 0) << grown.out << grown.err;
  EXPECT_NE(grown.out.find("extends the log verified here before"), std::string::npos) << grown.out;
  auto live = sigil({"audit", "verify", kTenant});
  EXPECT_EQ(live.exit_code, 0) << live.out << live.err;

  // The older export verifies on its own (chain and signed head), but not after the newer one.
  auto rolled_back = sigil({"audit", "verify", "--file", older});
  EXPECT_EQ(rolled_back.exit_code, 4) << rolled_back.out << rolled_back.err;
  EXPECT_NE(rolled_back.out.find("log shrank"), std::string::npos) << rolled_back.out;
  auto elsewhere = testing::Run({testing::BinPath("sigil"), "--admin-dir", BrokerEnv::Get().admin_dir(), "audit", "verify",
                                 "--file", older},
                                {"XDG_STATE_HOME=" + dir.File("fresh-state")});
  EXPECT_EQ(elsewhere.exit_code, 0) << "a verifier that never saw the newer log accepts the older one: " << elsewhere.out;

  // What was accepted is a root over the first N records: a different history of the same length
  // is refused. (Forging one needs the audit key; here the remembered root is changed instead.)
  std::string memory_file;
  for (const auto& d : {state.path() + "/sigil/audit"}) {
    auto ls = testing::Run({"/usr/bin/find", d, "-name", std::string(kTenant) + ".json"});
    memory_file = ls.out.substr(0, ls.out.find('\n'));
  }
  ASSERT_FALSE(memory_file.empty());
  auto memory = ParseJson(ReadTextFile(memory_file).value_or(""), "memory");
  ASSERT_TRUE(memory.has_value());
  (*memory)["root"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  ASSERT_TRUE(WriteFileAtomic(memory_file, AsBytes(memory->dump()), 0600).has_value());
  auto rewritten = sigil({"audit", "verify", "--file", newer});
  EXPECT_EQ(rewritten.exit_code, 4) << rewritten.out;
  EXPECT_NE(rewritten.out.find("history rewritten"), std::string::npos) << rewritten.out;
}

// Issue 13: the export carries the broker's C2SP checkpoint note (signed tree head) for exactly the
// exported records, and `sigil audit verify --file` checks it against the pinned audit key: the
// key name sigil-audit/<tenant>, the size = the number of records, the root = the RFC 9162 root
// over their stored bytes. Each edited bundle is refused for its own reason (exit 4), and the
// note is checked again by the independent Python verifier (audit_proof_verify.py export).
class AuditExportTreeHead : public AuditExport {
 protected:
  static constexpr char kPython[] = "/usr/bin/python3";  // Debian's, with python3-cryptography

  // `sigil` with its own state directory, so what other tests accepted does not interfere.
  static testing::CommandResult Run(const testing::TempDir& state, std::vector<std::string> args) {
    args.insert(args.begin(), {testing::BinPath("sigil"), "--admin-dir", BrokerEnv::Get().admin_dir(), "--broker",
                               BrokerEnv::Get().url()});
    return testing::Run(args, {"XDG_STATE_HOME=" + state.path()});
  }

  static testing::CommandResult Python(const char* mode, const std::string& file) {
    return testing::Run({kPython, std::string(SIGIL_SOURCE_DIR) + "/tests/integration/audit_proof_verify.py", mode,
                         file, BrokerEnv::Get().admin_dir() + "/audit.pub"});
  }

  static Json Note(const std::string& line) {
    auto j = ParseJson(line, "tlog-checkpoint line");
    EXPECT_TRUE(j.has_value()) << line;
    return j ? *j : Json();
  }

  // The note of a tlog-checkpoint line with text line `index` (0 origin, 1 size, 2 root) replaced.
  static std::string WithNoteLine(const std::string& line, std::size_t index, const std::string& value) {
    Json j = Note(line);
    std::string note = j["note"].get<std::string>();
    std::size_t pos = 0;
    for (std::size_t i = 0; i < index; ++i) pos = note.find('\n', pos) + 1;
    note.replace(pos, note.find('\n', pos) - pos, value);
    j["note"] = note;
    return j.dump();
  }
};

TEST_F(AuditExportTreeHead, ExportCarriesTheSignedTreeHeadAndVerifyRefusesEachEdit) {
  testing::TempDir dir, state;
  const std::string path = dir.File("audit.jsonl");
  auto exp = Run(state, {"audit", "export", "--tenant", kTenant, "--out", path});
  ASSERT_EQ(exp.exit_code, 0) << exp.out << exp.err;
  EXPECT_EQ(exp.err, "");
  const std::string text = ReadTextFile(path).value_or("");
  const auto lines = Lines(text);
  ASSERT_GE(lines.size(), 6u);
  const std::size_t n = lines.size() - 3;  // header, records, checkpoint, tlog-checkpoint
  const Json last = Note(lines.back());
  ASSERT_EQ(last.value("type", ""), "tlog-checkpoint") << lines.back();
  const std::string note = last.value("note", "");
  EXPECT_EQ(note.rfind("sigil-audit/auditx\n" + std::to_string(n) + "\n", 0), 0u) << note;
  EXPECT_EQ(Note(lines[n + 1]).value("type", ""), "checkpoint");

  auto ok = Run(state, {"audit", "verify", "--file", path});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("signed tree head verified: " + std::to_string(n) + " records, root "), std::string::npos)
      << ok.out;
  auto ok_json = Run(state, {"--json", "audit", "verify", "--file", path, "--audit-key",
                             BrokerEnv::Get().admin_dir() + "/audit.pub"});
  EXPECT_EQ(ok_json.exit_code, 0) << ok_json.out << ok_json.err;
  EXPECT_EQ(ParseJson(ok_json.out, "verify").value_or(Json())["tree_head"], "verified") << ok_json.out;
  auto py = Python("export", path);
  EXPECT_EQ(py.exit_code, 0) << "python verifier refused (is python3-cryptography installed?): " << py.out << py.err;
  EXPECT_EQ(py.out, "OK\n");

  // Each edit: sigil exits 4 naming `why`, and the Python verifier refuses it too (`python`).
  int k = 0;
  auto expect_refused = [&](const std::vector<std::string>& ls, const std::string& why, const char* what,
                            bool python = true) {
    const std::string file = dir.File("edited-" + std::to_string(++k) + ".jsonl");
    ASSERT_TRUE(WriteFileAtomic(file, AsBytes(Join(ls)), 0600).has_value());
    auto r = Run(state, {"audit", "verify", "--file", file});
    EXPECT_EQ(r.exit_code, 4) << what << ": " << r.out << r.err;
    EXPECT_NE(r.out.find("FAILED: signed tree head (tlog-checkpoint) " + why), std::string::npos) << what << ": " << r.out;
    auto j = Run(state, {"--json", "audit", "verify", "--file", file});
    EXPECT_EQ(j.exit_code, 4) << what;
    EXPECT_EQ(ParseJson(j.out, "verify").value_or(Json())["tree_head"], "refused") << what << ": " << j.out;
    if (python) {
      auto p = Python("export", file);
      EXPECT_EQ(p.exit_code, 1) << what << ": the independent verifier accepted it: " << p.out << p.err;
    }
  };
  const std::string tlog_line = lines.back();
  {  // the note's root changed: its signature no longer verifies
    auto ls = lines;
    std::string r = note.substr(note.find('\n', note.find('\n') + 1) + 1, 44);
    r[0] = r[0] == 'A' ? 'B' : 'A';
    ls.back() = WithNoteLine(tlog_line, 2, r);
    expect_refused(ls, "has no valid signature by the pinned audit key", "root edited");
  }
  {  // the note's size changed (to the number of records it now claims)
    auto ls = lines;
    ls.back() = WithNoteLine(tlog_line, 1, std::to_string(n + 1));
    expect_refused(ls, "has no valid signature by the pinned audit key", "size edited");
  }
  {  // one character of the signature changed
    auto ls = lines;
    Json j = Note(tlog_line);
    std::string edited = note;
    const std::size_t at = edited.size() - 10;
    edited[at] = edited[at] == 'A' ? 'B' : 'A';
    j["note"] = edited;
    ls.back() = j.dump();
    expect_refused(ls, "has no valid signature by the pinned audit key", "signature edited");
  }
  {  // acme's note (valid, signed by the same key) in auditx's export
    const std::string acme = dir.File("acme.jsonl");
    ASSERT_EQ(Run(state, {"audit", "export", "--tenant", "acme", "--out", acme}).exit_code, 0);
    auto ls = lines;
    ls.back() = Lines(ReadTextFile(acme).value_or("")).back();
    expect_refused(ls, "is for another log ('sigil-audit/acme'), not tenant auditx's (sigil-audit/auditx)",
                   "another tenant's note");
  }
  {  // the newest record dropped: the chain names it, the note is for one record more
    auto ls = lines;
    ls.erase(ls.begin() + static_cast<std::ptrdiff_t>(n));
    expect_refused(ls, "is for " + std::to_string(n) + " records, but the export holds " + std::to_string(n - 1),
                   "record dropped");
  }
  {  // a forged record appended, correctly chained: the note is for one record fewer
    auto ls = lines;
    Json prev = Note(ls[n]);
    auto rec = ParseJson(prev["record"].get<std::string>(), "record");
    ASSERT_TRUE(rec.has_value());
    (*rec)["seq"] = n + 1;
    (*rec)["prev"] = prev["hash"];
    (*rec)["reason"] = "forged";
    const std::string bytes = CanonicalJson(*rec);
    Bytes input = HexDecode(prev["hash"].get<std::string>()).value_or(Bytes());
    input.insert(input.end(), bytes.begin(), bytes.end());
    const auto h = Sha256(input);
    Json forged{{"type", "record"}, {"seq", n + 1}, {"record", bytes}, {"hash", HexEncode(ByteSpan(h.data(), h.size()))}};
    ls.insert(ls.begin() + static_cast<std::ptrdiff_t>(n + 1), forged.dump());
    expect_refused(ls, "is for " + std::to_string(n) + " records, but the export holds " + std::to_string(n + 1),
                   "record appended");
  }
  {  // a record edited: the (genuine) note's root is not the root of these records
    auto ls = lines;
    Json j = Note(ls[2]);
    auto rec = ParseJson(j["record"].get<std::string>(), "record");
    ASSERT_TRUE(rec.has_value());
    (*rec)["reason"] = "nothing to see here";
    j["record"] = CanonicalJson(*rec);
    ls[2] = j.dump();
    expect_refused(ls, "root ", "record edited");
    const std::string file = dir.File("edited-" + std::to_string(k) + ".jsonl");
    auto r = Run(state, {"audit", "verify", "--file", file});
    EXPECT_NE(r.out.find("is not the Merkle root of the exported records"), std::string::npos) << r.out;
  }
  {  // an older note of this log (validly signed, one record fewer) in a newer export
    ASSERT_EQ(Run(state, {"key", "create", "auditx/treehead-k"}).exit_code, 0);
    const std::string newer = dir.File("newer.jsonl");
    ASSERT_EQ(Run(state, {"audit", "export", "--tenant", kTenant, "--out", newer}).exit_code, 0);
    auto ls = Lines(ReadTextFile(newer).value_or(""));
    ASSERT_EQ(ls.size(), lines.size() + 1);
    ls.back() = tlog_line;
    expect_refused(ls, "is for " + std::to_string(n) + " records, but the export holds " + std::to_string(n + 1),
                   "older note");
  }
  {  // an export without the line (written before issue 13) verifies, with a warning
    auto ls = lines;
    ls.pop_back();
    const std::string file = dir.File("format1.jsonl");
    ASSERT_TRUE(WriteFileAtomic(file, AsBytes(Join(ls)), 0600).has_value());
    testing::TempDir fresh;
    auto r = Run(fresh, {"audit", "verify", "--file", file});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("audit verify: OK (" + std::to_string(n) + " records"), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("sigil: warning: " + file + " has no signed tree head"), std::string::npos) << r.err;
    auto j = Run(fresh, {"--json", "audit", "verify", "--file", file});
    EXPECT_EQ(j.exit_code, 0) << j.out << j.err;
    EXPECT_EQ(ParseJson(j.out, "verify").value_or(Json())["tree_head"], "absent") << j.out;
    auto seq = Run(fresh, {"audit", "verify", "--file", file, "--seq", "1"});
    EXPECT_EQ(seq.exit_code, 4) << seq.out << seq.err;
    EXPECT_NE(seq.err.find("no signed tree head in the export"), std::string::npos) << seq.err;
  }
}

// `audit verify --file FILE --seq N`: the inclusion proof of record N in the tree the export's note
// signs, computed and verified locally; its --json form is checked by the independent verifier.
TEST_F(AuditExportTreeHead, VerifyFileProvesOneRecordAgainstTheSignedTreeHead) {
  testing::TempDir dir, state;
  const std::string path = dir.File("audit.jsonl");
  ASSERT_EQ(Run(state, {"audit", "export", "--tenant", kTenant, "--out", path}).exit_code, 0);
  const std::size_t n = Lines(ReadTextFile(path).value_or("")).size() - 3;
  ASSERT_GE(n, 6u);
  for (std::size_t seq : {std::size_t{1}, std::size_t{3}, n}) {
    const std::string s = std::to_string(seq);
    auto human = Run(state, {"audit", "verify", "--file", path, "--seq", s});
    EXPECT_EQ(human.exit_code, 0) << human.out << human.err;
    EXPECT_NE(human.out.find("audit verify: record " + s + " is in the log of auditx at size " + std::to_string(n)),
              std::string::npos) << human.out;
    auto json = Run(state, {"--json", "audit", "verify", "--file", path, "--seq", s});
    EXPECT_EQ(json.exit_code, 0) << json.out << json.err;
    auto j = ParseJson(json.out, "verify --seq --json");
    ASSERT_TRUE(j.has_value()) << json.out;
    EXPECT_EQ((*j)["seq"], seq);
    EXPECT_EQ((*j)["tree_size"], n);
    EXPECT_EQ((*j)["verified"], true);
    EXPECT_EQ((*j)["ok"], true);
    const std::string proof = dir.File("proof-" + s + ".json");
    ASSERT_TRUE(WriteFileAtomic(proof, AsBytes(json.out), 0600).has_value());
    auto py = Python("inclusion", proof);
    EXPECT_EQ(py.exit_code, 0) << py.out << py.err;
    // The proof does not stand for another record: the independent verifier refuses it then.
    Json other = *j;
    other["record"] = Json{{"seq", seq}, {"record", "{}"}, {"hash", (*j)["record"]["hash"]}};
    ASSERT_TRUE(WriteFileAtomic(proof, AsBytes(other.dump()), 0600).has_value());
    EXPECT_EQ(Python("inclusion", proof).exit_code, 1);
  }
  auto beyond = Run(state, {"audit", "verify", "--file", path, "--seq", std::to_string(n + 1)});
  EXPECT_EQ(beyond.exit_code, 2) << beyond.out << beyond.err;
  EXPECT_NE(beyond.err.find("the export holds " + std::to_string(n) + " records"), std::string::npos) << beyond.err;
  auto no_file = Run(state, {"audit", "verify", kTenant, "--seq", "1"});
  EXPECT_EQ(no_file.exit_code, 2) << no_file.out << no_file.err;
}

}  // namespace
}  // namespace sigil::integration
