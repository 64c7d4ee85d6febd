#include "broker/audit/audit_chain.h"

#include <algorithm>

#include "core/digest.h"
#include "core/ed25519.h"
#include "core/encoding.h"
#include "core/json.h"
#include "core/utf8.h"

namespace sigil::broker {

std::string ZeroHash() { return std::string(64, '0'); }

std::string ChainHash(const std::string& prev_hash_hex, const std::string& canonical_record) {
  auto prev = HexDecode(prev_hash_hex);
  Bytes buf = prev ? *prev : Bytes(32, 0);
  buf.insert(buf.end(), canonical_record.begin(), canonical_record.end());
  return HexEncode(Sha256(buf));
}

std::string AuditKeyId(ByteSpan audit_public_key) { return HexEncode(Sha256(audit_public_key)); }

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

bool IsHashHex(const std::string& h) {
  if (h.size() != 64) return false;
  for (char c : h) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Record 1 must be the tenant's genesis record, under the pinned audit key; no other may be one.
std::string CheckGenesis(const Json& record, std::uint64_t seq, const std::string& key_id) {
  auto action = GetString(record, "action", "record");
  const bool genesis = action && *action == kGenesisAction;
  if (seq != 1) {
    return genesis ? "a second genesis record (the log restarts here: records spliced or the tenant re-created)" : "";
  }
  if (!genesis) {
    const std::string what = action ? "'" + *action + "'" : "no action";
    std::string problem = "record 1 is not a genesis record (" + what +
                          "): a tenant's log starts with tenant.genesis, written with the tenant";
    if (action && *action == "admin.tenant.create") {
      problem += "; this log was started before genesis records existed and cannot be verified as complete";
    }
    return problem;
  }
  auto key = GetString(record, "audit_key_id", "record");
  if (!key || *key != key_id) return "genesis record names another audit key than the pinned one";
  return "";
}

// Checks one record at chain position `seq`. `prev` is the stored hash of the record before it,
// or nullopt when that is unknown (records missing before it, or an unreadable row): then only
// the record's own content and hash are checked. Returns the problem or "". The problem never
// quotes record bytes: it is printed to terminals and carried in JSON.
std::string CheckRecord(const AuditRow& row, std::uint64_t seq, const std::optional<std::string>& prev,
                        const std::string& tenant, const std::string& key_id) {
  if (!row.defect.empty()) return "unreadable: " + row.defect;
  if (auto bad = FindInvalidUtf8(row.record)) {
    return "record is not valid UTF-8 (byte " + std::to_string(*bad) + " of " + std::to_string(row.record.size()) +
           "): altered in storage";
  }
  auto parsed = ParseJson(row.record, "record");
  if (!parsed || !parsed->is_object()) return "record does not parse as a JSON object (edited or damaged)";
  const Json& j = *parsed;
  if (CanonicalJson(j) != row.record) return "record is not in canonical form (edited)";
  auto rec_seq = GetInt(j, "seq", "record");
  if (!rec_seq || *rec_seq < 1 || static_cast<std::uint64_t>(*rec_seq) != seq) {
    return "sequence number out of order (record deleted, inserted or reordered)";
  }
  auto t = GetString(j, "tenant", "record");
  if (!t || *t != tenant) return "record belongs to another tenant";
  auto rec_prev = GetString(j, "prev", "record");
  if (!rec_prev) return "record has no previous-hash link";
  if (prev && *rec_prev != *prev) return "previous-hash link broken (record deleted or reordered)";
  if (!IsHashHex(row.hash)) return "stored hash is not 64 lowercase hex digits (damaged)";
  if (ChainHash(*rec_prev, row.record) != row.hash) return "record hash mismatch (record edited)";
  return CheckGenesis(j, seq, key_id);
}

}  // namespace

void AddProblem(AuditVerifyReport& report, AuditProblem problem) {
  const bool new_record =
      problem.seq && std::none_of(report.problems.begin(), report.problems.end(),
                                  [&](const AuditProblem& p) { return p.seq == problem.seq; });
  if (new_record) ++report.bad_records;
  report.problems.push_back(std::move(problem));
  report.ok = false;
  report.first_bad_seq = report.problems.front().seq;
  report.problem = report.problems.front().problem;
}

AuditVerifyReport VerifyAuditChain(const std::string& tenant, const std::vector<AuditRow>& rows,
                                   const std::optional<Checkpoint>& checkpoint, ByteSpan audit_public_key) {
  AuditVerifyReport rep;
  const std::string key_id = AuditKeyId(audit_public_key);
  rep.records = rows.size();
  rep.ok = true;
  auto add = [&](std::optional<std::uint64_t> seq, std::string problem) {
    AddProblem(rep, AuditProblem{seq, std::move(problem)});
  };
  // The chain is followed through damage: each record is linked to the stored hash of the one
  // before it, so a record altered in place is named alone and the records after it still verify.
  std::uint64_t expected = 1;
  std::optional<std::string> prev = ZeroHash();
  for (const AuditRow& row : rows) {
    if (row.seq != 0 && row.seq < expected) {
      add(row.seq, "record seq " + std::to_string(row.seq) + " stored again after seq " + std::to_string(expected - 1) +
                       " (duplicated or reordered)");
      continue;  // not part of the chain being followed
    }
    if (row.seq > expected) {
      add(expected, row.seq == expected + 1
                        ? "record missing (deleted or reordered)"
                        : "records " + std::to_string(expected) + " to " + std::to_string(row.seq - 1) +
                              " missing (deleted or reordered)");
      expected = row.seq;
      prev.reset();
    }
    std::string problem = CheckRecord(row, expected, prev, tenant, key_id);
    if (!problem.empty()) add(expected, std::move(problem));
    prev = IsHashHex(row.hash) ? std::optional<std::string>(row.hash) : std::nullopt;
    ++expected;
  }
  const std::uint64_t last = expected - 1;
  if (!checkpoint) {
    if (!rows.empty()) add(std::nullopt, "no signed checkpoint for a non-empty log");
  } else if (auto sig = Base64UrlDecode(checkpoint->signature);
             !sig || !Ed25519Verify(audit_public_key,
                                    CheckpointMessage(tenant, checkpoint->seq, checkpoint->head, checkpoint->time), *sig)) {
    add(std::nullopt, "checkpoint signature does not verify with the pinned audit key");
  } else if (checkpoint->seq > last) {
    add(last + 1, "log truncated: signed checkpoint covers seq " + std::to_string(checkpoint->seq) +
                      " but the log ends at seq " + std::to_string(last));
  } else if (checkpoint->seq < last) {
    add(checkpoint->seq + 1, "records after the last signed checkpoint (seq " + std::to_string(checkpoint->seq) +
                                 ") were not written by the broker");
  } else if (last > 0 && (!prev || *prev != checkpoint->head)) {
    add(std::nullopt, "chain head differs from the signed checkpoint (log rewritten)");
  }
  // Creating a tenant writes its genesis record in the same transaction, so a tenant's log is
  // never empty: an empty one was emptied (with its checkpoint), and must not pass as "nothing
  // happened".
  if (rows.empty() && rep.ok) {
    add(std::nullopt, "empty log: a tenant's log starts with its genesis record, so this one was emptied");
  }
  return rep;
}

}  // namespace sigil::broker
