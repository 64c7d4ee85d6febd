// A damaged audit store against the real binaries: sigild writes records, is stopped, one byte
// of one stored record is flipped in store.db (SQLite's integrity check does not notice), and
// sigild is restarted. Listing, querying, exporting and verifying (online and offline) must all
// answer, the broker must stay up (/healthz), and verification must name exactly that record
// while still checking every other one. Before the fix the first listing killed sigild
// (serialising the record threw on invalid UTF-8).
// A second tenant holds a record whose key name carries a newline and a terminal escape, as
// stored by an older broker: `sigil audit list` must print it on one line, escaped, while
// `--json` keeps the exact string.
// Its own binary and broker: the test stops sigild and edits its store between runs.
#include <sqlite3.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/encoding.h"
#include "core/file_io.h"
#include "core/json.h"
#include "core/utf8.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace sigil::integration {
namespace {

using testing::CommandResult;

constexpr const char* kForgedKey = "a\n2026-12-01T00:00:00Z  release allow model v1 \x1b[2K";

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    out.push_back(text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos));
    pos = nl == std::string::npos ? text.size() : nl + 1;
  }
  return out;
}

std::size_t Count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

class AuditDamageBroker : public ::testing::Test {
 protected:
  std::string Data() const { return dir_.File("broker"); }

  void Start() {
    std::string port_file = dir_.File("port" + std::to_string(++starts_));
    sigild_ = std::make_unique<testing::BackgroundProcess>(
        std::vector<std::string>{testing::BinPath("sigild"), "serve", "--data-dir", Data(), "--port-file", port_file},
        dir_.File("sigild.log"));
    std::string port = testing::WaitForFile(port_file, 20);
    ASSERT_FALSE(port.empty()) << "sigild did not start: " << ReadTextFile(dir_.File("sigild.log")).value_or("");
    url_ = "https://127.0.0.1:" + port.substr(0, port.find('\n'));
  }

  void Stop() {
    ASSERT_TRUE(sigild_);
    EXPECT_EQ(sigild_->Stop(), 0) << "sigild did not shut down cleanly";
    sigild_.reset();
  }

  CommandResult Sigil(std::vector<std::string> args) const {
    args.insert(args.begin(), {testing::BinPath("sigil"), "--admin-dir", Data() + "/admin", "--broker", url_});
    return testing::Run(args);
  }

  bool Healthy() const {
    auto hz = testing::Run({"/usr/bin/curl", "-sS", "--max-time", "10", "--cacert", Data() + "/admin/ca.pem",
                            url_ + "/healthz"});
    return hz.exit_code == 0 && hz.out == R"({"status":"ok"})";
  }

  // The stored record text of tenant/seq, read and written through a second connection to the
  // stopped broker's store, as someone with the file would.
  std::string ReadRecord(const std::string& tenant, int seq) {
    std::string out;
    WithStmt("SELECT record FROM audit WHERE tenant=?1 AND seq=?2", tenant, seq, "", [&](sqlite3_stmt* st) {
      EXPECT_EQ(sqlite3_step(st), SQLITE_ROW);
      const unsigned char* t = sqlite3_column_text(st, 0);
      out.assign(reinterpret_cast<const char*>(t), static_cast<std::size_t>(sqlite3_column_bytes(st, 0)));
    });
    return out;
  }
  void WriteRecord(const std::string& tenant, int seq, const std::string& bytes) {
    WithStmt("UPDATE audit SET record=?3 WHERE tenant=?1 AND seq=?2", tenant, seq, bytes,
             [&](sqlite3_stmt* st) { EXPECT_EQ(sqlite3_step(st), SQLITE_DONE); });
  }

  template <typename F>
  void WithStmt(const char* sql, const std::string& tenant, int seq, const std::string& bytes, F f) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(Data().append("/store.db").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, sql, -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_bind_text(st, 1, tenant.data(), static_cast<int>(tenant.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, seq);
    if (sqlite3_bind_parameter_count(st) >= 3) {
      sqlite3_bind_text(st, 3, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
    }
    f(st);
    sqlite3_finalize(st);
    sqlite3_close(db);
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::BackgroundProcess> sigild_;
  std::string url_;
  int starts_ = 0;
};

TEST_F(AuditDamageBroker, OneFlippedByteIsNamedAndTheBrokerKeepsServing) {
  auto init = testing::Run({testing::BinPath("sigild"), "init", "--data-dir", Data(), "--dev-root-key", "--dev-tee",
                            "--listen", "127.0.0.1:0"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  ASSERT_NO_FATAL_FAILURE(Start());
  for (auto args : std::vector<std::vector<std::string>>{{"tenant", "create", "acme"},
                                                         {"key", "create", "acme/k1"},
                                                         {"key", "create", "acme/k2"},
                                                         {"key", "create", "acme/k3"},
                                                         {"key", "disable", "acme/k1"},
                                                         {"tenant", "create", "forge"},
                                                         {"key", "create", "forge/a"}}) {
    auto r = Sigil(args);
    ASSERT_EQ(r.exit_code, 0) << args[0] << " " << args[1] << ": " << r.err;
  }
  auto before = Sigil({"audit", "verify", "acme"});
  ASSERT_EQ(before.exit_code, 0) << before.out << before.err;
  const std::size_t n = Lines(Sigil({"audit", "list", "acme"}).out).size();
  ASSERT_EQ(n, 6u);  // genesis, the first tenant-admin certificate, 3 keys, a disable
  ASSERT_NO_FATAL_FAILURE(Stop());

  // One bit: the high bit of the first character of seq 3's reason. Every ASCII letter with
  // its high bit set is a UTF-8 lead byte without continuation bytes (or never valid).
  std::string rec = ReadRecord("acme", 3);
  auto at = rec.find("\"reason\":\"");
  ASSERT_NE(at, std::string::npos) << rec;
  std::string damaged = rec;
  damaged[at + 10] = static_cast<char>(static_cast<unsigned char>(damaged[at + 10]) | 0x80);
  ASSERT_FALSE(IsValidUtf8(damaged));
  WriteRecord("acme", 3, damaged);
  // A record an older broker could store: a key name with a newline and a terminal escape.
  auto forged = ParseJson(ReadRecord("forge", 3), "record");
  ASSERT_TRUE(forged.has_value());
  (*forged)["key"] = kForgedKey;
  (*forged)["reason"] = "created \x1b[2K\r";
  WriteRecord("forge", 3, CanonicalJson(*forged));
  ASSERT_NO_FATAL_FAILURE(Start());

  // list: every record, the damaged one shown as such; the broker is still up.
  auto list = Sigil({"audit", "list", "acme"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  auto lines = Lines(list.out);
  EXPECT_EQ(lines.size(), n) << list.out;
  EXPECT_EQ(Count(list.out, "DAMAGED"), 1u) << list.out;
  EXPECT_NE(list.out.find("   3  DAMAGED record (not valid UTF-8"), std::string::npos) << list.out;
  EXPECT_TRUE(IsValidUtf8(list.out));
  EXPECT_TRUE(Healthy());

  // --json list: the exact stored bytes, as base64, for that record only.
  auto json_list = Sigil({"--json", "audit", "list", "acme"});
  ASSERT_EQ(json_list.exit_code, 0) << json_list.err;
  auto j = ParseJson(json_list.out, "list");
  ASSERT_TRUE(j.has_value()) << json_list.out;
  ASSERT_EQ((*j)["records"].size(), n);
  for (const auto& r : (*j)["records"]) {
    if (r["seq"] == 3) {
      ASSERT_TRUE(r.contains("record_b64")) << r.dump();
      auto bytes = Base64Decode(r["record_b64"].get<std::string>());
      ASSERT_TRUE(bytes.has_value());
      EXPECT_EQ(std::string(bytes->begin(), bytes->end()), damaged);
    } else {
      EXPECT_TRUE(r.contains("record")) << r.dump();
    }
  }

  // query, with and without filters: answered, the damaged record among the results.
  for (std::vector<std::string> filter : {std::vector<std::string>{}, {"--decision", "ok"}, {"--limit", "2"}}) {
    filter.insert(filter.begin(), {"--json", "audit", "query", "--tenant", "acme"});
    auto q = Sigil(filter);
    EXPECT_EQ(q.exit_code, 0) << q.err;
    EXPECT_TRUE(ParseJson(q.out, "query").has_value()) << q.out;
  }
  auto q = Sigil({"audit", "query", "--tenant", "acme"});
  EXPECT_EQ(q.exit_code, 0) << q.err;
  EXPECT_NE(q.out.find("   3  DAMAGED record"), std::string::npos) << q.out;
  EXPECT_TRUE(Healthy());

  // verify online: names exactly seq 3, checks all records, exit 4.
  auto verify = Sigil({"audit", "verify", "acme"});
  EXPECT_EQ(verify.exit_code, 4) << verify.out << verify.err;
  EXPECT_EQ(Count(verify.out, "FAILED at seq"), 1u) << verify.out;
  EXPECT_NE(verify.out.find("FAILED at seq 3: record is not valid UTF-8"), std::string::npos) << verify.out;
  EXPECT_NE(verify.out.find("tenant acme: 6 records checked, 1 bad"), std::string::npos) << verify.out;
  auto vjson = Sigil({"--json", "audit", "verify", "acme"});
  auto vj = ParseJson(vjson.out, "verify");
  ASSERT_TRUE(vj.has_value()) << vjson.out;
  EXPECT_EQ((*vj)["records"], 6);
  EXPECT_EQ((*vj)["bad_records"], 1);
  ASSERT_EQ((*vj)["problems"].size(), 1u);
  EXPECT_EQ((*vj)["problems"][0]["seq"], 3);

  // export and verify offline: same verdict, from the exact bytes in the file.
  std::string out = dir_.File("acme.jsonl");
  auto exp = Sigil({"audit", "export", "--tenant", "acme", "--out", out});
  ASSERT_EQ(exp.exit_code, 0) << exp.err;
  auto offline = Sigil({"audit", "verify", "--file", out});
  EXPECT_EQ(offline.exit_code, 4) << offline.out << offline.err;
  EXPECT_EQ(Count(offline.out, "FAILED at seq"), 1u) << offline.out;
  EXPECT_NE(offline.out.find("FAILED at seq 3: record is not valid UTF-8"), std::string::npos) << offline.out;
  EXPECT_NE(offline.out.find("tenant acme: 6 records checked, 1 bad"), std::string::npos) << offline.out;
  EXPECT_TRUE(Healthy());
  {  // an export line that is no longer JSON (seq 1) is named in its place; checking goes on
    auto text = ReadTextFile(out);
    ASSERT_TRUE(text.has_value());
    auto ls = Lines(*text);
    // header, records, checkpoint, tlog-checkpoint: the broker's tree head states the stored
    // bytes (the damaged record's too, which the chain names), so it matches the records here
    ASSERT_EQ(ls.size(), n + 3);
    ls[1] = ls[1].substr(0, ls[1].size() / 2);
    std::string edited;
    for (const auto& l : ls) edited += l + "\n";
    ASSERT_TRUE(WriteFileAtomic(dir_.File("edited.jsonl"), AsBytes(edited), 0600).has_value());
    auto v = Sigil({"audit", "verify", "--file", dir_.File("edited.jsonl")});
    EXPECT_EQ(v.exit_code, 4) << v.out << v.err;
    EXPECT_EQ(Count(v.out, "FAILED at seq"), 2u) << v.out;
    EXPECT_NE(v.out.find("FAILED at seq 1: unreadable: line 2 of the export is not valid JSON"), std::string::npos)
        << v.out;
    EXPECT_NE(v.out.find("FAILED at seq 3: record is not valid UTF-8"), std::string::npos) << v.out;
    EXPECT_NE(v.out.find("tenant acme: 6 records checked, 2 bad"), std::string::npos) << v.out;
  }

  // The broker still writes audit records, chained after the damaged one.
  auto more = Sigil({"key", "create", "acme/k4"});
  EXPECT_EQ(more.exit_code, 0) << more.err;
  auto after = Sigil({"audit", "verify", "acme"});
  EXPECT_EQ(Count(after.out, "FAILED at seq"), 1u) << after.out;
  EXPECT_NE(after.out.find("tenant acme: 7 records checked, 1 bad"), std::string::npos) << after.out;

  // Display escaping: the forged name stays on its record's line, escaped; no line of the
  // listing begins like a record the broker did not write.
  auto flist = Sigil({"audit", "list", "forge"});
  ASSERT_EQ(flist.exit_code, 0) << flist.err;
  auto flines = Lines(flist.out);
  EXPECT_EQ(flines.size(), 3u) << flist.out;
  EXPECT_EQ(flist.out.find('\x1b'), std::string::npos);
  EXPECT_EQ(flist.out.find('\r'), std::string::npos);
  for (const auto& l : flines) EXPECT_EQ(l.rfind("2026-", 0), std::string::npos) << l;
  EXPECT_NE(flist.out.find(R"(a\x0a2026-12-01T00:00:00Z  release allow model v1 \x1b[2K)"), std::string::npos)
      << flist.out;
  EXPECT_NE(flist.out.find(R"(created \x1b[2K\x0d)"), std::string::npos) << flist.out;
  // --json stays exact: the same name, byte for byte.
  auto fjson = Sigil({"--json", "audit", "list", "forge"});
  auto fj = ParseJson(fjson.out, "list");
  ASSERT_TRUE(fj.has_value()) << fjson.out;
  auto frec = ParseJson((*fj)["records"][2]["record"].get<std::string>(), "record");
  ASSERT_TRUE(frec.has_value());
  EXPECT_EQ((*frec)["key"], kForgedKey);
  EXPECT_TRUE(Healthy());
  ASSERT_NO_FATAL_FAILURE(Stop());
}

}  // namespace
}  // namespace sigil::integration
