// A damaged audit store (bytes altered in store.db, SQLite's integrity check does not notice)
// must not stop listing, querying or verifying: every row is read back exactly, travels as JSON
// that serialises (broker/audit/audit_wire.h), and verification names each bad record and checks the
// rest. Tampering goes through a second SQLite connection, as an attacker with the file would.
#include <sqlite3.h>

#include <gtest/gtest.h>

#include <set>

#include "broker/audit/audit_chain.h"
#include "broker/audit/audit_log.h"
#include "broker/audit/audit_wire.h"
#include "broker/store/sqlite_store.h"
#include "core/ed25519.h"
#include "core/utf8.h"
#include "tests/support/matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/broker/audited_store_fixture.h"

namespace sigil::broker {
namespace {

class AuditDamage : public AuditedStoreTest {
 protected:
  void SetUp() override {
    AuditedStoreTest::SetUp();
    StartLog("acme");  // record 1
    for (int i = 1; i < 6; ++i) {
      AuditEvent ev{"req" + std::to_string(i), "admin:test", "admin.test", "k", 1, "ok", "reason", "", "127.0.0.1", "", ""};
      ASSERT_OK(audit_->Append("acme", ev));
    }
  }

  // Runs `sql` with `?1` bound to `bytes` (exact, as TEXT) on a second connection.
  void Exec(const std::string& sql, const std::string& bytes = "") {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(harness_.location().target.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    if (sqlite3_bind_parameter_count(st) > 0) {
      sqlite3_bind_text(st, 1, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
    }
    EXPECT_EQ(sqlite3_step(st), SQLITE_DONE) << sqlite3_errmsg(db);
    sqlite3_finalize(st);
    sqlite3_close(db);
  }

  std::string Record(std::uint64_t seq) {
    auto rows = store_->ListAudit("acme");
    EXPECT_TRUE(rows.has_value());
    return rows && seq <= rows->size() ? (*rows)[seq - 1].record : std::string();
  }

  // One bit flipped: the 'e' (0x65) of "reason" becomes 0xE5, a UTF-8 lead byte with no
  // continuation bytes after it.
  void FlipToInvalidUtf8(std::uint64_t seq) {
    std::string rec = Record(seq);
    auto at = rec.find("\"reason\":\"reason\"");
    ASSERT_NE(at, std::string::npos) << rec;
    rec[at + 11] = static_cast<char>(0xE5);
    ASSERT_FALSE(IsValidUtf8(rec));
    Exec("UPDATE audit SET record=?1 WHERE tenant='acme' AND seq=" + std::to_string(seq), rec);
  }

  AuditVerifyReport Verify() {
    auto rows = store_->ListAudit("acme");
    auto cp = store_->GetCheckpoint("acme");
    EXPECT_TRUE(rows.has_value() && cp.has_value());
    return VerifyAuditChain("acme", *rows, *cp, pub_);
  }

  // What a client sees: every row through the wire format and back.
  std::vector<AuditRow> OverTheWire(const std::vector<AuditRow>& rows) {
    std::vector<AuditRow> out;
    for (const auto& r : rows) {
      // dump() throws on invalid UTF-8 (the original crash); this must not.
      std::string text = AuditRowToJson(r).dump();
      auto back = ParseJson(text, "wire");
      EXPECT_TRUE(back.has_value());
      auto row = AuditRowFromJson(*back);
      EXPECT_TRUE(row.has_value()) << text;
      if (row) out.push_back(*row);
    }
    return out;
  }

};

TEST_F(AuditDamage, InvalidUtf8RecordTravelsExactlyAndIsNamedAlone) {
  FlipToInvalidUtf8(3);
  ASSERT_OK_AND_ASSIGN(auto rows, store_->ListAudit("acme"));
  ASSERT_EQ(rows.size(), 6u);
  Json wire = AuditRowToJson(rows[2]);
  EXPECT_FALSE(wire.contains("record"));
  EXPECT_TRUE(wire.contains("record_b64"));
  EXPECT_TRUE(AuditRowToJson(rows[1]).contains("record"));  // undamaged rows are unchanged
  auto back = OverTheWire(rows);
  ASSERT_EQ(back.size(), 6u);
  for (std::size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(back[i].record, rows[i].record) << i;  // byte-exact
    EXPECT_EQ(back[i].hash, rows[i].hash) << i;
    EXPECT_EQ(back[i].seq, rows[i].seq) << i;
  }
  ASSERT_OK_AND_ASSIGN(auto cp, store_->GetCheckpoint("acme"));
  for (const auto& r : {rows, back}) {
    auto rep = VerifyAuditChain("acme", r, cp, pub_);
    EXPECT_FALSE(rep.ok);
    EXPECT_EQ(rep.records, 6u);
    EXPECT_EQ(rep.bad_records, 1u);
    ASSERT_EQ(rep.problems.size(), 1u) << rep.problems.back().problem;
    EXPECT_EQ(rep.problems[0].seq, std::optional<std::uint64_t>(3));
    EXPECT_NE(rep.problems[0].problem.find("not valid UTF-8"), std::string::npos) << rep.problems[0].problem;
    EXPECT_TRUE(IsValidUtf8(rep.problems[0].problem));
  }
  // The broker still appends after it (the chain continues from the stored hash).
  ASSERT_OK(audit_->Append("acme", AuditEvent{"r", "a", "release", "k", 1, "allow", "x", "", "", "", ""}));
  auto rep = Verify();
  ASSERT_EQ(rep.problems.size(), 1u);
  EXPECT_EQ(rep.records, 7u);
}

TEST_F(AuditDamage, EveryDamagedRecordIsNamedAndTheRestStillVerify) {
  FlipToInvalidUtf8(2);
  FlipToInvalidUtf8(5);
  auto rep = Verify();
  EXPECT_FALSE(rep.ok);
  EXPECT_EQ(rep.bad_records, 2u);
  ASSERT_EQ(rep.problems.size(), 2u);
  EXPECT_EQ(rep.problems[0].seq, std::optional<std::uint64_t>(2));
  EXPECT_EQ(rep.problems[1].seq, std::optional<std::uint64_t>(5));
  EXPECT_EQ(rep.first_bad_seq, std::optional<std::uint64_t>(2));
}

TEST_F(AuditDamage, WrongColumnTypesAreNamedNotFatal) {
  Exec("UPDATE audit SET seq='x3' WHERE tenant='acme' AND seq=3");  // seq column now TEXT
  Exec("UPDATE audit SET hash=CAST(hash AS BLOB) WHERE tenant='acme' AND seq=5");
  ASSERT_OK_AND_ASSIGN(auto rows, store_->ListAudit("acme"));
  ASSERT_EQ(rows.size(), 6u);
  EXPECT_EQ(rows[2].seq, 0u);
  EXPECT_NE(rows[2].defect.find("seq is text"), std::string::npos) << rows[2].defect;
  EXPECT_NE(rows[4].defect.find("hash is a blob"), std::string::npos) << rows[4].defect;
  auto back = OverTheWire(rows);
  ASSERT_EQ(back.size(), 6u);
  EXPECT_EQ(back[2].defect, rows[2].defect);
  auto rep = Verify();
  EXPECT_FALSE(rep.ok);
  ASSERT_EQ(rep.problems.size(), 2u);
  EXPECT_EQ(rep.problems[0].seq, std::optional<std::uint64_t>(3));
  EXPECT_NE(rep.problems[0].problem.find("unreadable: stored seq is text"), std::string::npos);
  EXPECT_EQ(rep.problems[1].seq, std::optional<std::uint64_t>(5));

  // Queries: the unreadable-seq row comes once, first on the first page; pagination still ends.
  AuditQuery q;
  q.limit = 2;
  ASSERT_OK_AND_ASSIGN(auto page, store_->QueryAudit("acme", q));
  ASSERT_EQ(page.size(), 3u);
  EXPECT_EQ(page[0].seq, 0u);
  EXPECT_EQ(page[1].seq, 1u);
  q.after_seq = 2;
  ASSERT_OK_AND_ASSIGN(page, store_->QueryAudit("acme", q));
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].seq, 4u);

  // Appending continues after the highest readable seq instead of colliding with seq 1.
  ASSERT_OK(audit_->Append("acme", AuditEvent{"r", "a", "release", "k", 1, "allow", "x", "", "", "", ""}));
  ASSERT_OK_AND_ASSIGN(rows, store_->ListAudit("acme"));
  EXPECT_EQ(rows.back().seq, 7u);
}

TEST_F(AuditDamage, TruncatedHashAndNonJsonRecordAreNamedAndQueriesStillAnswer) {
  Exec("UPDATE audit SET hash=substr(hash,1,20) WHERE tenant='acme' AND seq=2");
  std::string rec = Record(4);
  Exec("UPDATE audit SET record=?1 WHERE tenant='acme' AND seq=4", rec.substr(0, rec.size() / 2));
  auto rep = Verify();
  EXPECT_FALSE(rep.ok);
  std::set<std::uint64_t> named;
  for (const auto& p : rep.problems) {
    if (p.seq) named.insert(*p.seq);
  }
  // 3's link to 2 cannot be checked against a truncated hash; 3 itself is intact and not named.
  EXPECT_EQ(named, (std::set<std::uint64_t>{2, 4}));
  EXPECT_EQ(rep.records, 6u);
  // json_extract on text that is not JSON is an SQL error; a filtered query must still answer,
  // showing the damaged record rather than hiding it.
  AuditQuery q;
  q.decision = "ok";
  ASSERT_OK_AND_ASSIGN(auto page, store_->QueryAudit("acme", q));
  EXPECT_EQ(page.size(), 6u);
  q.decision = "deny";
  ASSERT_OK_AND_ASSIGN(page, store_->QueryAudit("acme", q));
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0].seq, 4u);
}

TEST(AuditWire, FieldsThatAreNotUtf8TravelAsBase64AndMalformedRowsAreErrors) {
  AuditRow r{7, std::string("{\"a\":\"\xff\"}"), std::string("ab\x80", 3), ""};
  Json j = AuditRowToJson(r);
  EXPECT_TRUE(j.contains("record_b64") && j.contains("hash_b64"));
  ASSERT_OK_AND_ASSIGN(AuditRow back, AuditRowFromJson(ParseJson(j.dump(), "w").value()));
  EXPECT_EQ(back.record, r.record);
  EXPECT_EQ(back.hash, r.hash);
  EXPECT_CODE(AuditRowFromJson(Json{{"seq", "1"}, {"record", "{}"}, {"hash", "h"}}), Code::kInvalidArgument);
  EXPECT_CODE(AuditRowFromJson(Json{{"seq", 1}, {"record_b64", "!!"}, {"hash", "h"}}), Code::kInvalidArgument);
  EXPECT_CODE(AuditRowFromJson(Json{{"seq", 1}, {"record", "{}"}, {"record_b64", ""}, {"hash", "h"}}),
              Code::kInvalidArgument);
  EXPECT_CODE(AuditRowFromJson(Json::array()), Code::kInvalidArgument);
  Checkpoint cp{3, std::string("\xfe", 1), 9, "sig"};
  ASSERT_OK_AND_ASSIGN(Checkpoint cp2, CheckpointFromJson(ParseJson(CheckpointToJson(cp).dump(), "w").value()));
  EXPECT_EQ(cp2.head, cp.head);
  EXPECT_EQ(cp2.signature, "sig");
}

}  // namespace
}  // namespace sigil::broker
