#include "broker/audit/audit_tree.h"

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

}  // namespace sigil::broker
