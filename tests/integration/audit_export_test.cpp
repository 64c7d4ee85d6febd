// sigil audit query / export / verify --file against the real sigild. Own tenant "auditx" with a
// known mix of admin (ok), attest (allow) and replayed-attest (deny) records.
#include <ctime>
#include <set>

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
  static void SetUpTestSuite() {
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
  ASSERT_EQ(lines.size(), n + 2) << "header + records + checkpoint";
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

}  // namespace
}  // namespace sigil::integration
