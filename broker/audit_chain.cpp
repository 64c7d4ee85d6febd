#include "broker/audit_chain.h"

#include "core/digest.h"
#include "core/ed25519.h"
#include "core/encoding.h"
#include "core/json.h"

namespace sigil::broker {

std::string ZeroHash() { return std::string(64, '0'); }

std::string ChainHash(const std::string& prev_hash_hex, const std::string& canonical_record) {
  auto prev = HexDecode(prev_hash_hex);
  Bytes buf = prev ? *prev : Bytes(32, 0);
  buf.insert(buf.end(), canonical_record.begin(), canonical_record.end());
  return HexEncode(Sha256(buf));
}

Bytes CheckpointMessage(const std::string& tenant, std::uint64_t seq, const std::string& head, std::int64_t time) {
  std::string m = "sigil/v1/checkpoint";
  m.push_back('\0');
  m += tenant;
  m.push_back('\0');
  m += std::to_string(seq);
  m.push_back('\0');
  m += head;
  m.push_back('\0');
  m += std::to_string(time);
  return ToBytes(m);
}

namespace {
AuditVerifyReport Bad(std::uint64_t records, std::optional<std::uint64_t> seq, std::string problem) {
  AuditVerifyReport r;
  r.records = records;
  r.first_bad_seq = seq;
  r.problem = std::move(problem);
  return r;
}

// Checks one stored row against the chain so far; returns the problem or "".
std::string CheckRow(const AuditRow& row, std::uint64_t expected_seq, const std::string& prev_hash,
                     const std::string& tenant) {
  auto parsed = ParseJson(row.record, "record");
  if (!parsed || !parsed->is_object()) return "record does not parse as JSON";
  const Json& j = *parsed;
  if (CanonicalJson(j) != row.record) return "record is not in canonical form (edited)";
  auto seq = GetInt(j, "seq", "record");
  if (!seq || *seq < 1 || static_cast<std::uint64_t>(*seq) != expected_seq || row.seq != expected_seq) {
    return "sequence number out of order (record deleted, inserted or reordered)";
  }
  auto t = GetString(j, "tenant", "record");
  if (!t || *t != tenant) return "record belongs to another tenant";
  auto prev = GetString(j, "prev", "record");
  if (!prev || *prev != prev_hash) return "previous-hash link broken (record deleted or reordered)";
  if (ChainHash(prev_hash, row.record) != row.hash) return "record hash mismatch (record edited)";
  return "";
}
}  // namespace

AuditVerifyReport VerifyAuditChain(const std::string& tenant, const std::vector<AuditRow>& rows,
                                   const std::optional<Checkpoint>& checkpoint, ByteSpan audit_public_key) {
  std::string prev = ZeroHash();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    std::uint64_t expected = i + 1;
    std::string problem = CheckRow(rows[i], expected, prev, tenant);
    if (!problem.empty()) return Bad(rows.size(), expected, problem);
    prev = rows[i].hash;
  }
  const std::uint64_t n = rows.size();
  if (!checkpoint) {
    if (n == 0) {
      AuditVerifyReport ok;
      ok.ok = true;
      return ok;
    }
    return Bad(n, std::nullopt, "no signed checkpoint for a non-empty log");
  }
  auto sig = Base64UrlDecode(checkpoint->signature);
  if (!sig || !Ed25519Verify(audit_public_key, CheckpointMessage(tenant, checkpoint->seq, checkpoint->head,
                                                                 checkpoint->time), *sig)) {
    return Bad(n, std::nullopt, "checkpoint signature does not verify with the pinned audit key");
  }
  if (checkpoint->seq > n) {
    return Bad(n, n + 1, "log truncated: signed checkpoint covers seq " + std::to_string(checkpoint->seq) +
                             " but the log ends at seq " + std::to_string(n));
  }
  if (checkpoint->seq < n) {
    return Bad(n, checkpoint->seq + 1, "records after the last signed checkpoint (seq " +
                                           std::to_string(checkpoint->seq) + ") were not written by the broker");
  }
  if (n > 0 && rows[n - 1].hash != checkpoint->head) {
    return Bad(n, std::nullopt, "chain head differs from the signed checkpoint (log rewritten)");
  }
  AuditVerifyReport ok;
  ok.ok = true;
  ok.records = n;
  return ok;
}

}  // namespace sigil::broker
