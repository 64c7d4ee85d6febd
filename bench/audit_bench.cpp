// bench/run audit: the transparency log's costs, in one run on one SQLite store.
//  1. Appends: the plain hash chain (AuditLog::Append: record + signed chain checkpoint, one
//     durable commit each) against the same append plus the Merkle tree grown over it from the
//     store (AuditTreeCache) and a signed C2SP checkpoint of the new tree: the worst case, a tree
//     head per record. Interleaved in blocks so drift hits both alike.
//  2. A log of --records records (default 1,000,000): genesis through AuditLog::CreateTenant, the
//     rest bulk-inserted with the real record shape and chain, the chain checkpoint signed by the
//     same key. Inclusion proofs as the proof API makes them (AuditTreeCache: proof, root, the
//     record read, and the signed checkpoint note), after the one-time build of the tree; the
//     O(n) computation (all records read, all leaves hashed, PATH) once, for comparison.
//  3. Verifying the bundle: VerifyAuditChain over every record (what `sigil audit verify` does)
//     plus the Merkle root over them, in seconds per million records.
// Last line: audit: append_ratio_vs_chain=R inclusion_proof_us=P verify_bundle_s_per_million=V
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "broker/audit/audit_chain.h"
#include "broker/audit/audit_log.h"
#include "broker/audit/audit_tree.h"
#include "broker/audit/merkle.h"
#include "broker/store/store_open.h"
#include "core/ed25519.h"
#include "core/encoding.h"
#include "core/json.h"

using namespace sigil;
using namespace sigil::broker;
using Clock = std::chrono::steady_clock;

namespace {

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "sigil-bench-audit: %s\n", what.c_str());
  std::exit(1);
}

template <typename T>
T Must(Result<T> r, const char* what) {
  if (!r) Die(std::string(what) + ": " + r.error().message());
  return std::move(*r);
}

void Must(Result<void> r, const char* what) {
  if (!r) Die(std::string(what) + ": " + r.error().message());
}

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

AuditEvent Release(int i) {
  return AuditEvent{"req" + std::to_string(i), "workload:3f1c", "release", "model", 1, "allow",
                    "policy allowed", std::string(64, 'e'), "10.0.0.7", "sev-snp", ""};
}

void Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) Die(std::string("sqlite: ") + (err ? err : "?"));
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t records = 1000000;
  int appends = 1000;
  int proofs = 2000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--records")) records = std::strtoull(argv[i + 1], nullptr, 10);
    if (!std::strcmp(argv[i], "--appends")) appends = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--proofs")) proofs = std::atoi(argv[i + 1]);
  }
  char dir_template[] = "/tmp/sigil-bench-audit-XXXXXX";
  if (!mkdtemp(dir_template)) Die("mkdtemp");
  const std::string dir = dir_template;
  const std::string path = dir + "/store.db";
  auto store = Must(OpenStore(StoreLocation{StoreBackend::kSqlite, path}, StoreOpen::kCreate), "open store");
  auto kp = Must(Ed25519Generate(), "key");
  const Bytes pub = kp.public_key;
  auto seed_copy = Must(SecretBytes::CopyFrom(kp.seed.Reveal(SecretAccess::Get())), "seed");
  AuditLog log(*store, Must(Ed25519Signer::FromSeed(kp.seed.Reveal(SecretAccess::Get())), "audit key"), NowMs);

  // 1. Appends.
  GenesisEvent by{"bench", "admin:bench", "tenant created", "127.0.0.1"};
  Must(log.CreateTenant("chain", Bytes{1}, {}, by), "create chain");
  Must(log.CreateTenant("tree", Bytes{1}, {}, by), "create tree");
  AuditTreeCache& trees = log.trees();  // fed by the appends, as in the broker
  double chain_s = 0, tree_s = 0;
  constexpr int kBlock = 50;
  for (int done = 0; done < appends; done += kBlock) {
    auto t0 = Clock::now();
    for (int i = done; i < done + kBlock; ++i) Must(log.Append("chain", Release(i)), "append");
    auto t1 = Clock::now();
    for (int i = done; i < done + kBlock; ++i) {
      AuditRow row = Must(log.Append("tree", Release(i)), "append");
      auto proved = Must(trees.InclusionProof("tree", row.seq, row.seq, row.seq), "grow tree");
      Must(log.SignTreeHead("tree", row.seq, proved.root), "sign tree head");
    }
    auto t2 = Clock::now();
    chain_s += Seconds(t1 - t0);
    tree_s += Seconds(t2 - t1);
  }
  const double ratio = tree_s / chain_s;
  std::printf("appends: %d each; chain %.1f us/append, chain+tree+checkpoint %.1f us/append, ratio %.3f\n", appends,
              chain_s / appends * 1e6, tree_s / appends * 1e6, ratio);

  // 2. A log of `records` records.
  auto tb = Clock::now();
  AuditRow genesis = Must(log.CreateTenant("big", Bytes{1}, {}, by), "create big");
  {
    sqlite3* db = nullptr;
    if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) Die("sqlite open");
    Exec(db, "BEGIN");
    sqlite3_stmt* ins = nullptr;
    if (sqlite3_prepare_v2(db, "INSERT INTO audit(tenant, seq, record, hash) VALUES('big',?,?,?)", -1, &ins, nullptr) !=
        SQLITE_OK) {
      Die("prepare");
    }
    std::string prev = genesis.hash;
    const std::int64_t t = NowMs();
    for (std::uint64_t seq = 2; seq <= records; ++seq) {
      Json j{{"seq", seq}, {"time_ms", t + static_cast<std::int64_t>(seq)}, {"tenant", "big"},
             {"request_id", "req" + std::to_string(seq)}, {"actor", "workload:3f1c"}, {"action", "release"},
             {"decision", "allow"}, {"reason", "policy allowed"}, {"client", "10.0.0.7"}, {"key", "model"},
             {"version", 1}, {"evidence_digest", std::string(64, 'e')}, {"tee", "sev-snp"}, {"prev", prev}};
      std::string rec = CanonicalJson(j);
      std::string hash = ChainHash(prev, rec);
      sqlite3_bind_int64(ins, 1, static_cast<sqlite3_int64>(seq));
      sqlite3_bind_text(ins, 2, rec.data(), static_cast<int>(rec.size()), SQLITE_TRANSIENT);
      sqlite3_bind_text(ins, 3, hash.data(), static_cast<int>(hash.size()), SQLITE_TRANSIENT);
      if (sqlite3_step(ins) != SQLITE_DONE) Die("insert");
      sqlite3_reset(ins);
      prev = std::move(hash);
    }
    sqlite3_finalize(ins);
    const std::int64_t when = NowMs();
    Bytes sig = Must(Ed25519Sign(seed_copy, CheckpointMessage("big", records, prev, when)), "sign checkpoint");
    const std::string sql = "UPDATE checkpoints SET seq=" + std::to_string(records) + ", head='" + prev +
                            "', time=" + std::to_string(when) + ", signature='" + Base64UrlEncode(sig) +
                            "' WHERE tenant='big'";
    Exec(db, sql.c_str());
    Exec(db, "COMMIT");
    sqlite3_close(db);
  }
  std::printf("log: %llu records written in %.1f s\n", static_cast<unsigned long long>(records), Seconds(Clock::now() - tb));

  auto head = Must(store->GetCheckpoint("big"), "checkpoint");
  if (!head || head->seq != records) Die("checkpoint not at the log's size");
  auto tc = Clock::now();
  auto first = Must(trees.InclusionProof("big", records, 1, records), "first proof");
  std::printf("tree: built once from the store in %.2f s (%llu leaves)\n", Seconds(Clock::now() - tc),
              static_cast<unsigned long long>(records));
  std::mt19937_64 rng(42);
  std::vector<std::uint64_t> seqs(static_cast<std::size_t>(proofs));
  for (auto& s : seqs) s = 1 + rng() % records;
  double proof_only = 0, note_s = 0;
  for (std::uint64_t seq : seqs) {
    auto p0 = Clock::now();
    auto proved = Must(trees.InclusionProof("big", records, seq, records), "proof");
    auto p1 = Clock::now();
    Must(log.SignTreeHead("big", records, proved.root), "note");
    auto p2 = Clock::now();
    proof_only += Seconds(p1 - p0);
    note_s += Seconds(p2 - p1);
    if (proved.record.seq != seq) Die("wrong record");
  }
  const double proof_us = (proof_only + note_s) / proofs * 1e6;
  std::printf("inclusion proofs (%d random seqs, %llu records): %.1f us each = proof+record read %.1f us + signed "
              "checkpoint note %.1f us\n",
              proofs, static_cast<unsigned long long>(records), proof_us, proof_only / proofs * 1e6,
              note_s / proofs * 1e6);

  // The O(n) computation the API used before the cache: every record read, every leaf hashed.
  auto l0 = Clock::now();
  auto rows = Must(store->ListAudit("big"), "list");
  auto l1 = Clock::now();
  auto leaves = Must(AuditLeafHashes(rows, records), "leaves");
  auto slow = Must(merkle::InclusionProof(leaves, seqs[0] - 1), "slow proof");
  auto l2 = Clock::now();
  auto fast = Must(trees.InclusionProof("big", records, seqs[0], records), "proof");
  if (fast.proof != slow) Die("cached proof differs from the O(n) one");
  std::printf("O(n) proof (before the cache): %.2f s = read all %.2f s + hash all %.2f s\n", Seconds(l2 - l0),
              Seconds(l1 - l0), Seconds(l2 - l1));
  auto root = Must(trees.InclusionProof("big", records, 1, records), "root").root;
  double verify_incl_us = 0;
  for (std::uint64_t seq : std::vector<std::uint64_t>(seqs.begin(), seqs.begin() + std::min(proofs, 200))) {
    auto proved = Must(trees.InclusionProof("big", records, seq, records), "proof");
    auto v0 = Clock::now();
    Must(merkle::VerifyInclusion(seq - 1, records, merkle::LeafHash(AsBytes(proved.record.record)), proved.proof, root),
         "verify inclusion");
    verify_incl_us += Seconds(Clock::now() - v0) * 1e6;
  }
  std::printf("inclusion proof verification: %.1f us each\n", verify_incl_us / std::min(proofs, 200));
  (void)first;

  // 3. The bundle: the whole chain and its signed head, and the Merkle root over it.
  auto v0 = Clock::now();
  AuditVerifyReport rep = VerifyAuditChain("big", rows, head, pub);
  auto v1 = Clock::now();
  merkle::Frontier f;
  for (const auto& r : rows) Must(f.Append(merkle::LeafHash(AsBytes(r.record))), "frontier");
  auto v2 = Clock::now();
  if (!rep.ok) Die("bundle does not verify: " + rep.problem);
  if (f.Root() != root) Die("bundle root differs");
  const double per_million = Seconds(v2 - v0) / (static_cast<double>(records) / 1e6);
  std::printf("bundle verify: chain %.2f s + Merkle root %.2f s for %llu records\n", Seconds(v1 - v0), Seconds(v2 - v1),
              static_cast<unsigned long long>(records));
  std::string rm = "rm -rf '" + dir + "'";
  if (std::system(rm.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", dir.c_str());
  std::printf("audit: append_ratio_vs_chain=%.2f inclusion_proof_us=%.0f verify_bundle_s_per_million=%.2f\n", ratio,
              proof_us, per_million);
  return 0;
}
