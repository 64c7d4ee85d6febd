// Published tree heads (docs/protocol.md "Tree heads"): sigild signs each tenant's C2SP checkpoint
// at least every --checkpoint-interval seconds, read here from the store itself; and `sigil
// audit checkpoint`, exactly as docs/cli.md gives it, verifies the head and that it extends the
// log this user accepted before, by a consistency proof, refusing one that does not.
#include <sqlite3.h>

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "core/digest.h"
#include "core/encoding.h"
#include "core/file_io.h"
#include "core/json.h"
#include "tests/integration/own_broker.h"

namespace sigil::integration {
namespace {

struct StoredHead {
  std::int64_t size = -1, time_ms = -1;
};

// The published head as the store holds it (read-only, beside the running broker).
StoredHead ReadStoredHead(const std::string& data_dir, const std::string& tenant) {
  StoredHead out;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2((data_dir + "/store.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return out;
  }
  sqlite3_busy_timeout(db, 2000);
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT size, time FROM tree_heads WHERE tenant=?", -1, &s, nullptr) == SQLITE_OK) {
    sqlite3_bind_text(s, 1, tenant.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(s) == SQLITE_ROW) out = {sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1)};
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST(TreeHeads, EachTenantsHeadIsRepublishedEveryIntervalEvenWhenTheLogIsIdle) {
  OwnBroker b;
  ASSERT_NO_FATAL_FAILURE(b.Start({"--checkpoint-interval", "1"}));
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  const StoredHead first = ReadStoredHead(b.data_dir(), "acme");
  ASSERT_GT(first.size, 0) << "no tree head published within 2.5 s at a 1 s interval";
  EXPECT_LT(NowMs() - first.time_ms, 2000) << "the published head is older than the interval allows";
  // Nothing is appended meanwhile: the same tree, signed again with a later time.
  std::this_thread::sleep_for(std::chrono::milliseconds(2000));
  const StoredHead second = ReadStoredHead(b.data_dir(), "acme");
  EXPECT_EQ(second.size, first.size);
  EXPECT_GT(second.time_ms, first.time_ms) << "an idle log's head was not re-published";
  EXPECT_LT(NowMs() - second.time_ms, 2000);
}

TEST(TreeHeads, AuditCheckpointVerifiesTheHeadAndThatTheLogOnlyGrew) {
  OwnBroker b;
  ASSERT_NO_FATAL_FAILURE(b.Start({"--checkpoint-interval", "0"}));
  // docs/cli.md: sigil audit checkpoint --tenant T
  auto first = b.Sigil({"audit", "checkpoint", "--tenant", "acme"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("signed"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("first tree head of this log accepted here"), std::string::npos) << first.out;

  // The log grows (an admin action is a record); the next head must extend the remembered one.
  ASSERT_EQ(b.Sigil({"refs", "add", "acme", "engines", std::string(64, 'b')}).exit_code, 0);
  auto grown = b.Sigil({"--json", "audit", "checkpoint", "--tenant", "acme"});
  ASSERT_EQ(grown.exit_code, 0) << grown.err;
  auto j = ParseJson(grown.out, "audit checkpoint --json");
  ASSERT_TRUE(j.has_value()) << grown.out;
  EXPECT_EQ(j->value("verified", false), true);
  EXPECT_NE(j->value("memory", "").find("consistency proof verified"), std::string::npos) << grown.out;
  const auto size = j->value("tree_size", std::uint64_t{0});
  EXPECT_NE(j->value("checkpoint", "").find("sigil-audit/acme\n" + std::to_string(size) + "\n"), std::string::npos)
      << "the note is a C2SP checkpoint of this tenant at that size";

  auto again = b.Sigil({"audit", "checkpoint", "--tenant", "acme"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("unchanged since accepted here"), std::string::npos) << again.out;

  // What this user accepted before is larger (e.g. the broker's store was restored from an old
  // backup): the head is refused, and the memory is left as it was.
  // The memory file of this broker's audit key (cli/audit_memory.cpp): state/audit/<first 16
  // bytes of SHA-256(key), hex>/<tenant>.json.
  const char* xdg = std::getenv("XDG_STATE_HOME");
  ASSERT_NE(xdg, nullptr) << "tests run with XDG_STATE_HOME set (scripts/test.sh)";
  auto pub_text = ReadTextFile(b.admin_dir() + "/audit.pub");
  ASSERT_TRUE(pub_text.has_value());
  auto pub_json = ParseJson(*pub_text, "audit.pub");
  ASSERT_TRUE(pub_json.has_value());
  auto pub = Base64UrlDecode(pub_json->value("public_key", ""));
  ASSERT_TRUE(pub.has_value());
  const auto digest = Sha256(*pub);
  const std::string memory_file =
      std::string(xdg) + "/sigil/audit/" + HexEncode(ByteSpan(digest.data(), 16)) + "/acme.json";
  auto text = ReadTextFile(memory_file, 4096);
  ASSERT_TRUE(text.has_value());
  auto memory = ParseJson(*text, memory_file);
  ASSERT_TRUE(memory.has_value());
  EXPECT_EQ(memory->value("size", std::uint64_t{0}), size) << "the accepted head was remembered";
  (*memory)["size"] = size + 5;
  ASSERT_TRUE(WriteFileAtomic(memory_file, AsBytes(memory->dump()), 0600).has_value());
  auto shrank = b.Sigil({"audit", "checkpoint", "--tenant", "acme"});
  EXPECT_EQ(shrank.exit_code, 4) << shrank.out << shrank.err;
  EXPECT_NE(shrank.err.find("log shrank"), std::string::npos) << shrank.err;

  // Same size, another root: a rewritten history.
  (*memory)["size"] = size;
  (*memory)["root"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  ASSERT_TRUE(WriteFileAtomic(memory_file, AsBytes(memory->dump()), 0600).has_value());
  auto rewritten = b.Sigil({"audit", "checkpoint", "--tenant", "acme"});
  EXPECT_EQ(rewritten.exit_code, 4) << rewritten.out << rewritten.err;
  EXPECT_NE(rewritten.err.find("history rewritten"), std::string::npos) << rewritten.err;

  // A smaller remembered size with a root that is not a prefix of this log: the consistency
  // proof from the broker cannot connect them.
  (*memory)["size"] = size - 1;
  ASSERT_TRUE(WriteFileAtomic(memory_file, AsBytes(memory->dump()), 0600).has_value());
  auto forked = b.Sigil({"audit", "checkpoint", "--tenant", "acme"});
  EXPECT_EQ(forked.exit_code, 4) << forked.out << forked.err;
  EXPECT_NE(forked.err.find("not an extension of the one this user accepted before"), std::string::npos) << forked.err;

  auto unknown = b.Sigil({"audit", "checkpoint", "--tenant", "nobody"});
  EXPECT_NE(unknown.exit_code, 0);
}

}  // namespace
}  // namespace sigil::integration
