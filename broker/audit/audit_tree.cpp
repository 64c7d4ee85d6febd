#include "broker/audit/audit_tree.h"

#include <algorithm>
#include <cstdint>

#include "broker/audit/audit_chain.h"

namespace sigil::broker {

std::string AuditTreeOrigin(const std::string& tenant) { return "sigil-audit/" + tenant; }

Result<std::vector<merkle::Hash>> AuditLeafHashes(const std::vector<AuditRow>& rows, std::uint64_t size) {
  if (size > rows.size()) {
    return Fail(Code::kInvalidArgument, "tree size " + std::to_string(size) + " exceeds the log's " +
                                            std::to_string(rows.size()) + " records");
  }
  std::vector<merkle::Hash> leaves;
  leaves.reserve(static_cast<std::size_t>(size));
  for (std::uint64_t i = 0; i < size; ++i) {
    const AuditRow& row = rows[static_cast<std::size_t>(i)];
    if (row.seq != i + 1 || !row.defect.empty()) {
      return Fail(Code::kVerificationFailed, "the audit log is damaged at position " + std::to_string(i + 1) +
                                                 "; no proof can be made over it (run sigil audit verify)");
    }
    leaves.push_back(merkle::LeafHash(AsBytes(row.record)));
  }
  return leaves;
}

namespace {

Unexpected<Error> Damaged(std::uint64_t seq) {
  return Fail(Code::kVerificationFailed, "the audit log is damaged at position " + std::to_string(seq) +
                                             "; no proof can be made over it (run sigil audit verify)");
}

}  // namespace

// Records after_seq+1 .. after_seq+count as the store returns them (seq order).
Result<std::vector<AuditRow>> AuditTreeCache::Read(const std::string& tenant, std::uint64_t after_seq,
                                                   std::uint64_t count) {
  AuditQuery q;
  q.after_seq = after_seq;
  q.limit = static_cast<std::uint32_t>(std::min<std::uint64_t>(count, UINT32_MAX));
  SIGIL_ASSIGN_OR_RETURN(auto rows, store_.QueryAudit(tenant, q));
  records_read_ += rows.size();
  return rows;
}

Result<const merkle::Tree*> AuditTreeCache::GrownTo(const std::string& tenant, std::uint64_t head,
                                                    std::optional<AuditRow>* newest) {
  Entry& entry = trees_[tenant];
  merkle::Tree& tree = entry.tree;
  // A record this broker committed and linked to the tree (Observe) is as current as a re-read;
  // only the first use after the commit relies on it.
  std::optional<AuditRow> committed = std::move(entry.committed);
  entry.committed.reset();
  const bool fresh = committed && committed->seq == tree.size() && head >= tree.size();
  if (tree.size() > 0 && !fresh) {
    // The newest record the tree holds (or record `head`, if the log is now shorter) must still be
    // the bytes the tree was built from; if not, the store changed under us: start over.
    const std::uint64_t check = std::min(tree.size(), head);
    SIGIL_ASSIGN_OR_RETURN(auto rows, Read(tenant, check - 1, 1));
    if (rows.size() != 1 || rows[0].seq != check || !rows[0].defect.empty() ||
        merkle::LeafHash(AsBytes(rows[0].record)) != tree.Leaf(check - 1)) {
      entry = Entry();
    } else if (check == tree.size()) {
      entry.newest_hash = rows[0].hash;
    }
  }
  if (fresh && newest != nullptr && head == tree.size()) *newest = std::move(*committed);
  while (tree.size() < head) {
    constexpr std::uint64_t kBatch = 65536;
    const std::uint64_t from = tree.size();
    SIGIL_ASSIGN_OR_RETURN(auto rows, Read(tenant, from, std::min(kBatch, head - from)));
    if (rows.empty()) return Damaged(from + 1);
    for (const AuditRow& row : rows) {
      if (row.seq != tree.size() + 1 || !row.defect.empty()) {
        entry = Entry();  // never keep a tree over a log with a hole
        return Damaged(from + 1);
      }
      tree.Append(merkle::LeafHash(AsBytes(row.record)));
      entry.newest_hash = row.hash;
      if (tree.size() == head) {
        if (newest != nullptr) *newest = row;  // read and checked just now: a proof of it needs no re-read
        break;
      }
    }
  }
  return &tree;
}

void AuditTreeCache::Observe(const std::string& tenant, const std::vector<AuditRow>& committed) {
  std::lock_guard lock(mu_);
  auto it = trees_.find(tenant);
  if (it == trees_.end() || it->second.tree.size() == 0) return;  // built on first use, from the store
  Entry& entry = it->second;
  for (const AuditRow& row : committed) {
    const bool next = row.seq == entry.tree.size() + 1 && !entry.newest_hash.empty() &&
                      ChainHash(entry.newest_hash, row.record) == row.hash;
    if (!next) {
      entry.committed.reset();  // the next use re-reads the store and resolves it
      return;
    }
    entry.tree.Append(merkle::LeafHash(AsBytes(row.record)));
    entry.newest_hash = row.hash;
    entry.committed = row;
  }
}

Result<AuditTreeCache::Inclusion> AuditTreeCache::InclusionProof(const std::string& tenant, std::uint64_t head,
                                                                 std::uint64_t seq, std::uint64_t size) {
  std::lock_guard lock(mu_);
  std::optional<AuditRow> newest;
  SIGIL_ASSIGN_OR_RETURN(const merkle::Tree* tree, GrownTo(tenant, head, &newest));
  Inclusion out;
  SIGIL_ASSIGN_OR_RETURN(out.proof, tree->InclusionProof(seq - 1, size));
  SIGIL_ASSIGN_OR_RETURN(out.root, tree->Root(size));
  if (newest && newest->seq == seq) {
    out.record = std::move(*newest);
    return out;
  }
  SIGIL_ASSIGN_OR_RETURN(auto rows, Read(tenant, seq - 1, 1));
  if (rows.size() != 1 || rows[0].seq != seq) return Damaged(seq);
  out.record = std::move(rows[0]);
  return out;
}

Result<AuditTreeCache::Consistency> AuditTreeCache::ConsistencyProof(const std::string& tenant, std::uint64_t head,
                                                                     std::uint64_t size1, std::uint64_t size2) {
  std::lock_guard lock(mu_);
  SIGIL_ASSIGN_OR_RETURN(const merkle::Tree* tree, GrownTo(tenant, head));
  Consistency out;
  SIGIL_ASSIGN_OR_RETURN(out.proof, tree->ConsistencyProof(size1, size2));
  SIGIL_ASSIGN_OR_RETURN(out.root1, tree->Root(size1));
  SIGIL_ASSIGN_OR_RETURN(out.root2, tree->Root(size2));
  return out;
}

void AuditTreeCache::ClearForTest() {
  std::lock_guard lock(mu_);
  trees_.clear();
}

std::uint64_t AuditTreeCache::RecordsReadForTest() {
  std::lock_guard lock(mu_);
  return records_read_;
}

}  // namespace sigil::broker
