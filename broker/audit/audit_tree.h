// The Merkle view of a tenant's audit log (RFC 9162 tree: broker/audit/merkle.h) and the name
// its signed checkpoints carry (C2SP signed note: broker/audit/checkpoint_note.h). Shared by the
// broker, which serves checkpoints and proofs, and the CLI, which verifies them.
//
// Leaf i (0-based) is record seq i+1, its exact stored bytes: the same bytes the hash chain
// covers, so one record has one identity in both structures.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "broker/audit/merkle.h"
#include "broker/store/store.h"
#include "core/result.h"

namespace sigil::broker {

// "sigil-audit/<tenant>": the checkpoint's origin line and the key name it is signed under.
std::string AuditTreeOrigin(const std::string& tenant);

// The leaf hashes of records 1..size. kVerificationFailed if the rows are not exactly seq
// 1..size in order with readable contents (a damaged log has no trustworthy tree: `sigil audit
// verify` names the damage); kInvalidArgument if size exceeds the rows.
Result<std::vector<merkle::Hash>> AuditLeafHashes(const std::vector<AuditRow>& rows, std::uint64_t size);

// The tenants' trees kept between proofs (merkle::Tree per tenant), so that a proof over a log of
// n records costs O(log^2 n) hashes and reads from the store only the record it proves and the
// records appended since the last proof, instead of every record and O(n) hashes.
//
// Built from the store's own records (the first use of a tenant reads them all once) and
// extended from them; every use re-reads the newest record the tree already holds and starts
// over from the store if its bytes are no longer those the tree was built from (the store was
// restored or rewritten under the broker). A record altered in storage after it entered the tree
// keeps its original leaf hash here: its proof then fails at the verifier, which hashes the
// stored record it is given (damage is shown, never re-proved). The same refusals as
// AuditLeafHashes: records not exactly seq 1..size, or unreadable, give kVerificationFailed.
//
// Records this broker commits are handed over as they are committed (Observe, which AuditLog
// calls), so that a tree head or proof right after an append reads nothing from the store: a
// committed record extends a tree only if it is the next one and its chain hash links it to the
// tree's newest record (its `prev` is that record's chain hash), which is the same assurance the
// re-read gives; the first use after such an append skips the re-read, later uses read again.
// Thread-safe: one mutex; proofs of one broker are serialised (each is O(log^2 n) hashes).
class AuditTreeCache {
 public:
  explicit AuditTreeCache(Store& store) : store_(store) {}

  struct Inclusion {
    AuditRow record;                   // record `seq` as stored
    merkle::Hash root;                 // of the tree of `size` records
    std::vector<merkle::Hash> proof;   // PATH(seq - 1, D[size])
  };
  // The inclusion proof of record `seq` in the tree of the first `size` records, with the tree
  // grown to `head` records (the signed chain head's seq; size <= head).
  Result<Inclusion> InclusionProof(const std::string& tenant, std::uint64_t head, std::uint64_t seq,
                                   std::uint64_t size);
  struct Consistency {
    merkle::Hash root1, root2;
    std::vector<merkle::Hash> proof;   // PROOF(size1, D[size2])
  };
  Result<Consistency> ConsistencyProof(const std::string& tenant, std::uint64_t head, std::uint64_t size1,
                                       std::uint64_t size2);
  // Records just committed to the tenant's log, in seq order (AuditLog calls this after every
  // commit). Extends a tenant's tree that exists and ends right before them; anything else
  // (another broker appended in between, the log was replaced) is left for the next use to
  // resolve from the store. Never reads the store and never fails.
  void Observe(const std::string& tenant, const std::vector<AuditRow>& committed);
  // Drops every tree (tests; a broker never needs to).
  void ClearForTest();
  // How many records this cache has read from the store since it was made (tests).
  std::uint64_t RecordsReadForTest();

 private:
  // The tenant's tree, holding at least `head` records. Called with mu_ held.
  // `newest`, if given, receives record `head` when this call read it to grow the tree.
  Result<const merkle::Tree*> GrownTo(const std::string& tenant, std::uint64_t head,
                                      std::optional<AuditRow>* newest = nullptr);

  struct Entry {
    merkle::Tree tree;
    // The chain hash of record tree.size() as last read or committed; empty if not known.
    std::string newest_hash;
    // Record tree.size() as this broker committed it, until the first use after the commit.
    std::optional<AuditRow> committed;
  };
  Result<std::vector<AuditRow>> Read(const std::string& tenant, std::uint64_t after_seq, std::uint64_t count);

  Store& store_;
  std::mutex mu_;
  std::map<std::string, Entry> trees_;
  std::uint64_t records_read_ = 0;
};

}  // namespace sigil::broker
