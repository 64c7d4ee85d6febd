// The store contract and the audit chain over it, against the backend under test (SQLite file
// or PostgreSQL database: store_harness.h), with tampering done on the raw rows.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "broker/audit/audit_chain.h"
#include "broker/audit/audit_log.h"
#include "broker/audit/audit_tree.h"
#include "broker/audit/checkpoint_note.h"
#include "broker/audit/merkle.h"
#include "broker/keys/key_wrap.h"
#include "broker/keys/root_key.h"
#include "core/ed25519.h"
#include "core/json.h"
#include "tests/support/matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/broker/audited_store_fixture.h"

namespace sigil::broker {
namespace {

class StoreTest : public AuditedStoreTest {
 protected:
  // n records after the tenant's genesis record (written first if the log has none).
  void AppendN(const std::string& tenant, int n) {
    if (auto rows = store_->ListAudit(tenant); rows && rows->empty()) StartLog(tenant);
    for (int i = 0; i < n; ++i) {
      AuditEvent ev{"req" + std::to_string(i), "admin:test", "admin.test", "k", 1, "ok", "reason", "", "127.0.0.1", "", ""};
      ASSERT_OK(audit_->Append(tenant, ev));
    }
  }

  AuditVerifyReport VerifyNow(const std::string& tenant) {
    auto rows = store_->ListAudit(tenant);
    auto cp = store_->GetCheckpoint(tenant);
    EXPECT_TRUE(rows.has_value() && cp.has_value());
    return VerifyAuditChain(tenant, *rows, *cp, pub_);
  }

  // Raw SQL on the store's tables, as an attacker with write access to the file or database would.
  void Tamper(const std::string& sql) { harness_.Tamper(sql); }
};

TEST_F(StoreTest, TenantsKeysPoliciesRefs) {
  const GenesisEvent by{"r1", "admin:test", "tenant created", "127.0.0.1"};
  EXPECT_OK(audit_->CreateTenant("acme", Bytes{1, 2, 3}, {}, by));
  EXPECT_CODE(audit_->CreateTenant("acme", Bytes{1}, {}, by), Code::kAlreadyExists);
  ASSERT_OK_AND_ASSIGN(Bytes kek, store_->GetTenantKek("acme"));
  EXPECT_EQ(kek, (Bytes{1, 2, 3}));
  EXPECT_CODE(store_->GetTenantKek("nope"), Code::kNotFound);
  KeyVersionRow k{"acme", "m", "model-weights", 1, "enabled", Bytes(32, 1), Bytes(60, 2), 5};
  EXPECT_OK(store_->PutKeyVersion(k, Bytes{1, 2, 3}));
  EXPECT_CODE(store_->PutKeyVersion(k, Bytes{1, 2, 3}), Code::kAlreadyExists);
  k.version = 2;
  EXPECT_OK(store_->PutKeyVersion(k, Bytes{1, 2, 3}));
  ASSERT_OK_AND_ASSIGN(KeyVersionRow latest, store_->LatestKeyVersion("acme", "m"));
  EXPECT_EQ(latest.version, 2u);
  EXPECT_CODE(store_->GetPolicy("acme"), Code::kNotFound);
  EXPECT_OK(store_->PutPolicy("acme", "{}"));
  EXPECT_OK(store_->PutPolicy("acme", "{\"v\":2}"));
  ASSERT_OK_AND_ASSIGN(auto pol, store_->GetPolicy("acme"));
  EXPECT_EQ(pol.version, 2);
  EXPECT_OK(store_->AddReference("acme", "engines", "ab"));
  EXPECT_OK(store_->AddReference("acme", "engines", "ab"));
  ASSERT_OK_AND_ASSIGN(auto refs, store_->ListReferences("acme"));
  EXPECT_EQ(refs["engines"].size(), 1u);
}

TEST_F(StoreTest, NoncesAreSingleUseAndExpire) {
  auto now = std::chrono::system_clock::now();
  Bytes n1(32, 1), n2(32, 2);
  EXPECT_OK(store_->PutNonce(n1, "acme", "dev", now + std::chrono::seconds(60), now, 16));
  EXPECT_CODE(store_->ConsumeNonce(n1, "other", "dev", now), Code::kNotFound);
  EXPECT_OK(store_->ConsumeNonce(n1, "acme", "dev", now));
  EXPECT_CODE(store_->ConsumeNonce(n1, "acme", "dev", now), Code::kReplay);
  EXPECT_OK(store_->PutNonce(n2, "acme", "dev", now + std::chrono::seconds(1), now, 16));
  EXPECT_CODE(store_->ConsumeNonce(n2, "acme", "dev", now + std::chrono::seconds(2)), Code::kExpired);
  EXPECT_CODE(store_->ConsumeNonce(n2, "acme", "dev", now), Code::kReplay);
}

TEST_F(StoreTest, OutstandingNoncesAreCappedPerTenantAndExpiredOnesPruned) {
  auto now = std::chrono::system_clock::now();
  for (std::uint8_t i = 0; i < 3; ++i) {
    EXPECT_OK(store_->PutNonce(Bytes(32, i), "acme", "dev", now + std::chrono::seconds(60), now, 3));
  }
  // The fourth outstanding nonce is refused for this tenant only.
  EXPECT_CODE(store_->PutNonce(Bytes(32, 9), "acme", "dev", now + std::chrono::seconds(60), now, 3), Code::kUnavailable);
  EXPECT_OK(store_->PutNonce(Bytes(32, 10), "other", "dev", now + std::chrono::seconds(60), now, 3));
  // Consuming one frees a slot.
  EXPECT_OK(store_->ConsumeNonce(Bytes(32, 0), "acme", "dev", now));
  EXPECT_OK(store_->PutNonce(Bytes(32, 11), "acme", "dev", now + std::chrono::seconds(60), now, 3));
  // Once they have expired (plus the grace period), they no longer count and are deleted.
  auto later = now + std::chrono::hours(1);
  for (std::uint8_t i = 20; i < 23; ++i) {
    EXPECT_OK(store_->PutNonce(Bytes(32, i), "acme", "dev", later + std::chrono::seconds(60), later, 3));
  }
  EXPECT_CODE(store_->ConsumeNonce(Bytes(32, 1), "acme", "dev", later), Code::kNotFound);
}

TEST_F(StoreTest, AuditChainVerifies) {
  AppendN("acme", 5);
  AppendN("other", 2);
  auto r = VerifyNow("acme");
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.records, 6u);  // genesis and five
}

TEST_F(StoreTest, EditedRecordIsNamed) {
  AppendN("acme", 5);
  Tamper("UPDATE audit SET record=replace(record,'\"decision\":\"ok\"','\"decision\":\"no\"') WHERE tenant='acme' AND seq=3");
  auto r = VerifyNow("acme");
  EXPECT_FALSE(r.ok);
  ASSERT_TRUE(r.first_bad_seq.has_value());
  EXPECT_EQ(*r.first_bad_seq, 3u) << r.problem;
}

TEST_F(StoreTest, DeletedRecordIsNamed) {
  AppendN("acme", 5);
  Tamper("DELETE FROM audit WHERE tenant='acme' AND seq=2");
  auto r = VerifyNow("acme");
  EXPECT_FALSE(r.ok);
  ASSERT_TRUE(r.first_bad_seq.has_value());
  EXPECT_EQ(*r.first_bad_seq, 2u) << r.problem;
}

TEST_F(StoreTest, ReorderedRecordsAreNamed) {
  AppendN("acme", 5);
  // Swap the contents of records 2 and 4 (keeping the seq column in place).
  Tamper("UPDATE audit SET record=(SELECT record FROM audit WHERE tenant='acme' AND seq=4), "
         "hash=(SELECT hash FROM audit WHERE tenant='acme' AND seq=4) WHERE tenant='acme' AND seq=2");
  auto r = VerifyNow("acme");
  EXPECT_FALSE(r.ok);
  ASSERT_TRUE(r.first_bad_seq.has_value());
  EXPECT_EQ(*r.first_bad_seq, 2u) << r.problem;
}

TEST_F(StoreTest, TruncationIsDetectedByTheSignedHead) {
  AppendN("acme", 5);
  Tamper("DELETE FROM audit WHERE tenant='acme' AND seq>=4");
  auto r = VerifyNow("acme");
  EXPECT_FALSE(r.ok);
  ASSERT_TRUE(r.first_bad_seq.has_value());
  EXPECT_EQ(*r.first_bad_seq, 4u) << r.problem;
}

// A tenant's log starts with the record of its creation: a log emptied together with its
// checkpoint (or one never written) does not verify as "nothing happened"; emptied without the
// checkpoint, it is named as truncated.
TEST_F(StoreTest, AnEmptiedLogDoesNotVerify) {
  AppendN("acme", 3);
  Tamper("DELETE FROM audit WHERE tenant='acme'");
  auto truncated = VerifyNow("acme");
  EXPECT_FALSE(truncated.ok);
  EXPECT_NE(truncated.problem.find("truncated"), std::string::npos) << truncated.problem;
  Tamper("DELETE FROM checkpoints WHERE tenant='acme'");
  auto emptied = VerifyNow("acme");
  EXPECT_FALSE(emptied.ok);
  EXPECT_NE(emptied.problem.find("empty log"), std::string::npos) << emptied.problem;
  auto never_written = VerifyNow("nobody");
  EXPECT_FALSE(never_written.ok);
}

TEST_F(StoreTest, ForgedCheckpointIsRefused) {
  AppendN("acme", 3);
  Tamper("UPDATE checkpoints SET time=time+1 WHERE tenant='acme'");
  auto r = VerifyNow("acme");
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.problem.find("signature"), std::string::npos);
}

// Concurrent appends share commits (group commit on SQLite): each caller's outcome is its own
// (a record whose maker fails is absent, its neighbours in the batch are not) and the chain stays
// one linear, verifiable sequence.
TEST_F(StoreTest, ConcurrentAppendsEachGetTheirOwnOutcomeAndOneChain) {
  constexpr int kThreads = 8, kEach = 25;
  StartLog("acme");
  std::atomic<int> ok{0}, refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const bool fail = (t * kEach + i) % 5 == 0;
        AuditEvent ev{"req", "admin:test", "admin.test", "k", 1, "ok", "", "", "", "", ""};
        Result<AuditRow> r = fail ? store_->AppendAudit("acme", [](const std::optional<AuditRow>&)
                                                                    -> Result<AuditRow> {
                                      return Fail(Code::kInternal, "this record cannot be made");
                                    }, PlaceholderCheckpoints())
                                  : audit_->Append("acme", ev);
        if (r) ++ok;
        else if (fail && r.error().code() == Code::kInternal) ++refused;
        else ADD_FAILURE() << r.error().message();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(refused.load(), kThreads * kEach / 5);
  EXPECT_EQ(ok.load(), kThreads * kEach - refused.load());
  auto r = VerifyNow("acme");
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.records, 1u + static_cast<std::uint64_t>(ok.load()));
}

// Appends that share a commit share one checkpoint signature (SQLite group commit: the first
// append's signer holds its batch while seven more queue behind it, and they commit as one);
// PostgreSQL commits each append alone and signs each. Either way the stored checkpoint covers
// the newest record.
TEST_F(StoreTest, OneCheckpointSignaturePerCommitCoveringTheNewestRecord) {
  std::atomic<int> signatures{0};
  std::mutex mu;
  std::condition_variable cv;
  bool first_signing = false, release = false;
  auto make = [](const std::optional<AuditRow>& head) -> Result<AuditRow> {
    const std::uint64_t seq = head ? head->seq + 1 : 1;
    return AuditRow{seq, "{\"seq\":" + std::to_string(seq) + "}", std::string(63, '0') + std::to_string(seq % 10), ""};
  };
  auto counted = PlaceholderCheckpoints();
  Store::CheckpointSigner sign = [&](const AuditRow& newest) -> Result<Checkpoint> {
    if (signatures.fetch_add(1) == 0) {
      std::unique_lock lock(mu);
      first_signing = true;
      cv.notify_all();
      cv.wait(lock, [&] { return release; });
    }
    return counted(newest);
  };
  std::thread first([&] { EXPECT_OK(store_->AppendAudit("acme", make, sign)); });
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return first_signing; });
  }
  constexpr int kQueued = 7;
  std::vector<std::thread> queued;
  for (int i = 0; i < kQueued; ++i) queued.emplace_back([&] { EXPECT_OK(store_->AppendAudit("acme", make, sign)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // they queue (SQLite) or wait for the chain lock
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  first.join();
  for (auto& t : queued) t.join();
  ASSERT_OK_AND_ASSIGN(auto rows, store_->ListAudit("acme"));
  ASSERT_EQ(rows.size(), 1u + kQueued);
  ASSERT_OK_AND_ASSIGN(auto cp, store_->GetCheckpoint("acme"));
  ASSERT_TRUE(cp.has_value());
  EXPECT_EQ(cp->seq, rows.back().seq);
  EXPECT_EQ(cp->head, rows.back().hash);
  if (harness_.backend() == StoreBackend::kSqlite) {
    EXPECT_EQ(signatures.load(), 2) << "the seven queued appends should have shared one commit and one signature";
  } else {
    EXPECT_EQ(signatures.load(), 1 + kQueued);
  }
}

// A read does not wait for a commit in progress: while an append is held inside its commit (its
// checkpoint signer blocks), tenant, key, policy, reference and meta reads still answer. SQLite
// reads go through their own connections (sqlite_db.h ReaderPool), not the writer's lock, which
// is held through the commit's fsync; PostgreSQL reads take another pooled connection.
TEST_F(StoreTest, ReadsDoNotWaitForACommitInProgress) {
  StartLog("acme");
  ASSERT_OK(store_->PutKeyVersion(KeyVersionRow{"acme", "m", "model-weights", 1, "enabled", Bytes(32, 1), Bytes(60, 2), 5}, Bytes{1}));
  ASSERT_OK(store_->PutPolicy("acme", R"({"version": 1, "rules": []})"));
  ASSERT_OK(store_->PutMeta("probe", Bytes{7}));
  std::mutex mu;
  std::condition_variable cv;
  bool signing = false, release = false;
  auto make = [](const std::optional<AuditRow>& head) -> Result<AuditRow> {
    const std::uint64_t seq = head ? head->seq + 1 : 1;
    return AuditRow{seq, "{\"seq\":" + std::to_string(seq) + "}", std::string(64, 'b'), ""};
  };
  auto placeholder = PlaceholderCheckpoints();
  Store::CheckpointSigner sign = [&](const AuditRow& newest) -> Result<Checkpoint> {
    std::unique_lock lock(mu);
    signing = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
    return placeholder(newest);
  };
  std::thread writer([&] { EXPECT_OK(store_->AppendAudit("acme", make, sign)); });
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return signing; });
  }
  auto reads = std::async(std::launch::async, [&] {
    return store_->GetTenantKek("acme").has_value() && store_->GetKeyVersion("acme", "m", 1).has_value() &&
           store_->GetPolicy("acme").has_value() && store_->ListReferenceRows("acme").has_value() &&
           store_->GetMeta("probe").has_value();
  });
  const bool answered = reads.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  writer.join();
  EXPECT_TRUE(answered) << "the reads waited for the commit in progress";
  EXPECT_TRUE(reads.get());
}

TEST_F(StoreTest, AppendFailsClosedWhenTheStoreRefusesWrites) {
  AppendN("acme", 1);
  if (harness_.backend() == StoreBackend::kPostgres) {
    Tamper("CREATE FUNCTION fail_audit() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk full' USING ERRCODE = '53100'; END $$ "
           "LANGUAGE plpgsql; CREATE TRIGGER fail_audit BEFORE INSERT ON audit FOR EACH ROW EXECUTE FUNCTION fail_audit();");
  } else {
    Tamper("CREATE TRIGGER fail_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(FAIL, 'disk full'); END;");
  }
  AuditEvent ev{"r", "a", "release", "k", 1, "allow", "x", "", "", "", ""};
  EXPECT_CODE(audit_->Append("acme", ev), Code::kUnavailable);
  auto r = VerifyNow("acme");
  EXPECT_TRUE(r.ok) << r.problem;  // nothing partial was written
  EXPECT_EQ(r.records, 2u);
  // Nor is a tenant created without its genesis record: the tenant row goes back with it.
  EXPECT_CODE(audit_->CreateTenant("bob", Bytes{2}, {}, GenesisEvent{"r", "admin:test", "created", ""}), Code::kUnavailable);
  EXPECT_CODE(store_->GetTenantKek("bob"), Code::kNotFound);
  ASSERT_OK_AND_ASSIGN(auto bob, store_->ListAudit("bob"));
  EXPECT_TRUE(bob.empty());
}

// Record 1 of a tenant's log is its genesis record, written with the tenant row and the signed
// checkpoint over it in one transaction.
TEST_F(StoreTest, CreatingATenantWritesItsSignedGenesisRecord) {
  ASSERT_OK_AND_ASSIGN(AuditRow g, audit_->CreateTenant("acme", Bytes{7}, {}, GenesisEvent{"req-1", "admin:alice", "tenant created", "10.0.0.1"}));
  EXPECT_EQ(g.seq, 1u);
  ASSERT_OK_AND_ASSIGN(Json j, ParseJson(g.record, "record"));
  EXPECT_EQ(j["action"], "tenant.genesis");
  EXPECT_EQ(j["tenant"], "acme");
  EXPECT_EQ(j["actor"], "admin:alice");
  EXPECT_EQ(j["audit_key_id"], AuditKeyId(pub_));
  EXPECT_EQ(j["prev"], ZeroHash());
  EXPECT_EQ(j["time_ms"], clock_);
  ASSERT_OK_AND_ASSIGN(auto cp, store_->GetCheckpoint("acme"));
  ASSERT_TRUE(cp.has_value());
  EXPECT_EQ(cp->seq, 1u);
  EXPECT_EQ(cp->head, g.hash);
  auto r = VerifyNow("acme");
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.records, 1u);
}

// Whatever part fails (the record, its checkpoint's signature, or the tenant row itself),
// neither the tenant nor any record is left behind: no tenant without a genesis record.
TEST_F(StoreTest, TenantAndGenesisAreOneTransaction) {
  auto good = [](const std::optional<AuditRow>&) -> Result<AuditRow> {
    return AuditRow{1, R"({"action":"tenant.genesis"})", std::string(64, '0'), ""};
  };
  auto bad_record = [](const std::optional<AuditRow>&) -> Result<AuditRow> {
    return Fail(Code::kInternal, "no record");
  };
  Store::CheckpointSigner bad_sign = [](const AuditRow&) -> Result<Checkpoint> {
    return Fail(Code::kInternal, "no signature");
  };
  EXPECT_CODE(store_->CreateTenant("t1", Bytes{1}, {}, bad_record, PlaceholderCheckpoints()), Code::kInternal);
  EXPECT_CODE(store_->CreateTenant("t1", Bytes{1}, {}, good, bad_sign), Code::kInternal);
  EXPECT_CODE(store_->GetTenantKek("t1"), Code::kNotFound);
  ASSERT_OK_AND_ASSIGN(auto rows, store_->ListAudit("t1"));
  EXPECT_TRUE(rows.empty());
  ASSERT_OK_AND_ASSIGN(auto cp, store_->GetCheckpoint("t1"));
  EXPECT_FALSE(cp.has_value());
  // A second creation of an existing tenant writes no record either.
  ASSERT_OK(store_->CreateTenant("t1", Bytes{1}, {}, good, PlaceholderCheckpoints()));
  EXPECT_CODE(store_->CreateTenant("t1", Bytes{2}, {}, good, PlaceholderCheckpoints()), Code::kAlreadyExists);
  ASSERT_OK_AND_ASSIGN(rows, store_->ListAudit("t1"));
  EXPECT_EQ(rows.size(), 1u);
  // Records left under a tenant name (no tenant row) are not silently continued by a genesis.
  AuditEvent ev{"r", "admin:test", "admin.test", "", 0, "ok", "", "", "", "", ""};
  ASSERT_OK(audit_->Append("t2", ev));
  EXPECT_CODE(audit_->CreateTenant("t2", Bytes{1}, {}, GenesisEvent{"r", "admin:test", "created", ""}), Code::kUnavailable);
  EXPECT_CODE(store_->GetTenantKek("t2"), Code::kNotFound);
}

// A log that does not start with the tenant's genesis record does not verify, whatever else is
// intact: one written without it, and one started before genesis records existed.
TEST_F(StoreTest, ALogWithoutGenesisDoesNotVerify) {
  AuditEvent ev{"r", "admin:test", "admin.test", "k", 1, "ok", "", "", "", "", ""};
  ASSERT_OK(audit_->Append("nogenesis", ev));
  ASSERT_OK(audit_->Append("nogenesis", ev));
  auto r = VerifyNow("nogenesis");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, std::optional<std::uint64_t>(1));
  EXPECT_NE(r.problem.find("not a genesis record"), std::string::npos) << r.problem;
  AuditEvent legacy{"r", "admin:alice", "admin.tenant.create", "", 0, "ok", "tenant created", "", "", "", ""};
  ASSERT_OK(audit_->Append("legacy", legacy));
  r = VerifyNow("legacy");
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.problem.find("started before genesis records"), std::string::npos) << r.problem;
  // A genesis record further down the log (a log spliced onto another) is named too.
  StartLog("acme");
  AuditEvent again{"r", "admin:test", "tenant.genesis", "", 0, "ok", "", "", "", "", ""};
  ASSERT_OK(audit_->Append("acme", again));
  r = VerifyNow("acme");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, std::optional<std::uint64_t>(2));
  EXPECT_NE(r.problem.find("second genesis"), std::string::npos) << r.problem;
}

// The cached trees (audit_tree.h) prove what the O(n) computation over all stored records
// proves, as the log grows, and start over when the records they were built from change.
TEST_F(StoreTest, CachedTreeProofsEqualTheLinearOnesAndFollowTheStore) {
  AppendN("acme", 20);
  AuditTreeCache cache(*store_);
  auto check_all = [&](std::uint64_t head) {
    ASSERT_OK_AND_ASSIGN(auto rows, store_->ListAudit("acme"));
    ASSERT_OK_AND_ASSIGN(auto leaves, AuditLeafHashes(rows, head));
    for (std::uint64_t size = 1; size <= head; ++size) {
      const auto prefix = std::span<const merkle::Hash>(leaves).first(static_cast<std::size_t>(size));
      for (std::uint64_t seq = 1; seq <= size; ++seq) {
        ASSERT_OK_AND_ASSIGN(auto got, cache.InclusionProof("acme", head, seq, size));
        ASSERT_OK_AND_ASSIGN(auto want, merkle::InclusionProof(prefix, seq - 1));
        ASSERT_EQ(got.proof, want) << seq << " in " << size;
        ASSERT_EQ(got.root, merkle::Root(prefix));
        ASSERT_EQ(got.record.record, rows[static_cast<std::size_t>(seq - 1)].record);
        ASSERT_OK_AND_ASSIGN(auto c, cache.ConsistencyProof("acme", head, seq, size));
        ASSERT_OK_AND_ASSIGN(auto want_c, merkle::ConsistencyProof(prefix, seq));
        ASSERT_EQ(c.proof, want_c);
      }
    }
  };
  check_all(21);
  AppendN("acme", 13);
  check_all(34);
  // The newest record the tree holds is rewritten under it: the tree is rebuilt from the store.
  Tamper("UPDATE audit SET record='{\"edited\":1}' WHERE tenant='acme' AND seq=34");
  check_all(34);
  // A hole in the log: the deleted record has no proof; a tree built now (a restarted broker)
  // gives none at all, as over the full listing. A tree built before keeps the leaves it read
  // (the records the signed roots cover): `sigil audit verify` names the hole.
  Tamper("DELETE FROM audit WHERE tenant='acme' AND seq=5");
  EXPECT_CODE(cache.InclusionProof("acme", 34, 5, 34), Code::kVerificationFailed);
  AuditTreeCache fresh(*store_);
  EXPECT_CODE(fresh.InclusionProof("acme", 34, 1, 34), Code::kVerificationFailed);
}

// The broker's own appends extend its trees as they commit (AuditTreeCache::Observe): a proof
// of the record just appended reads nothing from the store, and is still the proof over the
// stored log; appends by another writer, or a log replaced under the broker, fall back to reading.
TEST_F(StoreTest, CommittedRecordsExtendTheTreeWithoutReadingTheStore) {
  AppendN("acme", 3);  // genesis + 3
  AuditTreeCache& cache = audit_->trees();
  auto expect_linear = [&](std::uint64_t seq, std::uint64_t size) {
    ASSERT_OK_AND_ASSIGN(auto rows, store_->ListAudit("acme"));
    ASSERT_OK_AND_ASSIGN(auto leaves, AuditLeafHashes(rows, size));
    ASSERT_OK_AND_ASSIGN(auto got, cache.InclusionProof("acme", size, seq, size));
    ASSERT_OK_AND_ASSIGN(auto want, merkle::InclusionProof(leaves, seq - 1));
    EXPECT_EQ(got.proof, want) << seq << " in " << size;
    EXPECT_EQ(got.root, merkle::Root(leaves));
    EXPECT_EQ(got.record.record, rows[static_cast<std::size_t>(seq - 1)].record);
  };
  expect_linear(4, 4);
  const std::uint64_t built = cache.RecordsReadForTest();
  EXPECT_GE(built, 4u) << "the first use reads the log";

  AppendN("acme", 1);
  ASSERT_OK_AND_ASSIGN(auto proved, cache.InclusionProof("acme", 5, 5, 5));
  EXPECT_EQ(cache.RecordsReadForTest(), built) << "the record just committed is proved without a read";
  ASSERT_OK_AND_ASSIGN(auto rows, store_->ListAudit("acme"));
  ASSERT_OK_AND_ASSIGN(auto leaves, AuditLeafHashes(rows, 5));
  EXPECT_EQ(proved.root, merkle::Root(leaves));
  EXPECT_EQ(proved.record.record, rows[4].record);
  expect_linear(5, 5);
  EXPECT_GT(cache.RecordsReadForTest(), built) << "only the first use after a commit skips the re-read";

  // Another writer appends in between: this broker's next commit does not link to its tree.
  ASSERT_OK_AND_ASSIGN(Ed25519KeyPair other_kp, Ed25519Generate());
  ASSERT_OK_AND_ASSIGN(Ed25519Signer other_key, Ed25519Signer::FromSeed(other_kp.seed.Reveal(SecretAccess::Get())));
  AuditLog other(*store_, std::move(other_key), [this] { return ++clock_; });
  AuditEvent ev{"x", "admin:other", "admin.test", "k", 1, "ok", "reason", "", "127.0.0.1", "", ""};
  ASSERT_OK(other.Append("acme", ev));
  AppendN("acme", 1);
  expect_linear(7, 7);
  expect_linear(6, 7);

  // The log is replaced under the broker (an older store restored): the records after 4 are gone
  // and a different record 5 is committed; the tree follows the store, not its memory.
  AppendN("acme", 1);
  Tamper("DELETE FROM audit WHERE tenant='acme' AND seq>4");
  AppendN("acme", 1);
  ASSERT_OK_AND_ASSIGN(auto now_rows, store_->ListAudit("acme"));
  ASSERT_EQ(now_rows.size(), 5u);
  expect_linear(5, 5);
  expect_linear(2, 5);
}

}  // namespace
}  // namespace sigil::broker

namespace sigil::broker {
namespace {

// Published tree heads (AuditLog::IssueTreeHead / FreshTreeHead, Store::PutTreeHead): a signed
// C2SP checkpoint over the whole log, kept per tenant, which never goes back whichever writer
// comes last.
TEST_F(StoreTest, TreeHeadsCoverTheWholeLogAndNeverGoBack) {
  AppendN("acme", 4);  // genesis + 4
  EXPECT_CODE(audit_->IssueTreeHead("nobody"), Code::kNotFound);
  ASSERT_OK_AND_ASSIGN(auto none, store_->GetTreeHead("acme"));
  EXPECT_FALSE(none.has_value());

  ASSERT_OK_AND_ASSIGN(TreeHead first, audit_->IssueTreeHead("acme"));
  EXPECT_EQ(first.size, 5u);
  ASSERT_OK_AND_ASSIGN(auto key, tlog::MakeVerifierKey(AuditTreeOrigin("acme"), pub_));
  ASSERT_OK_AND_ASSIGN(tlog::Checkpoint cp, tlog::OpenCheckpoint(first.note, key, key.name));
  EXPECT_EQ(cp.size, 5u);
  EXPECT_EQ(cp.time_ms, first.time_ms);
  ASSERT_OK_AND_ASSIGN(auto rows, store_->ListAudit("acme"));
  ASSERT_OK_AND_ASSIGN(auto leaves, AuditLeafHashes(rows, rows.size()));
  EXPECT_EQ(cp.root, merkle::Root(leaves)) << "the note's root is the Merkle root of the stored records";

  // Fresh enough: the published head is answered as it is; stale or smaller: a new one.
  ASSERT_OK_AND_ASSIGN(TreeHead same, audit_->FreshTreeHead("acme", std::chrono::hours(1)));
  EXPECT_EQ(same.note, first.note);
  ASSERT_OK_AND_ASSIGN(TreeHead newer, audit_->FreshTreeHead("acme", std::chrono::milliseconds(0)));
  EXPECT_EQ(newer.size, 5u);
  EXPECT_GT(newer.time_ms, first.time_ms);
  AppendN("acme", 2);
  ASSERT_OK_AND_ASSIGN(TreeHead grown, audit_->FreshTreeHead("acme", std::chrono::hours(1)));
  EXPECT_EQ(grown.size, 7u) << "a head that does not cover the whole log is never answered";

  // An older or smaller head written later (a slow broker) does not replace the newer one.
  EXPECT_OK(store_->PutTreeHead("acme", first));
  EXPECT_OK(store_->PutTreeHead("acme", TreeHead{7, grown.time_ms - 1, "older"}));
  ASSERT_OK_AND_ASSIGN(auto kept, store_->GetTreeHead("acme"));
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->note, grown.note);
  EXPECT_OK(store_->PutTreeHead("acme", TreeHead{7, grown.time_ms + 5, "later"}));
  EXPECT_EQ(store_->GetTreeHead("acme")->value().note, "later");
}

}  // namespace
}  // namespace sigil::broker
