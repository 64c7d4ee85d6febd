// The per-tenant tamper-evident audit chain: record hashing, signed checkpoints, and offline
// verification (used by `sigil audit verify`, which trusts only the pinned audit public key).
// Record hash = SHA-256(previous hash || canonical JSON record); the first record's previous hash
// is 32 zero bytes. A checkpoint is an Ed25519 signature over (tenant, seq, head hash, time).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "broker/store/store.h"
#include "core/bytes.h"
#include "core/result.h"

namespace sigil::broker {

std::string ZeroHash();  // 64 hex zeros

// Record 1 of every tenant's log: written with the tenant, in the same store transaction
// (Store::CreateTenant), with its signed checkpoint. Verification requires it, so a log that
// does not start at the tenant's creation (or was started under another audit key) never
// verifies. Its fields are those of every record plus "audit_key_id" (AuditKeyId of the key
// that signs the log); docs/protocol.md "Audit chain".
inline constexpr char kGenesisAction[] = "tenant.genesis";
// hex SHA-256 of the raw 32-byte Ed25519 audit public key.
std::string AuditKeyId(ByteSpan audit_public_key);
// hex SHA-256(unhex(prev_hash) || record)
std::string ChainHash(const std::string& prev_hash_hex, const std::string& canonical_record);
Bytes CheckpointMessage(const std::string& tenant, std::uint64_t seq, const std::string& head, std::int64_t time);

struct AuditProblem {
  std::optional<std::uint64_t> seq;  // the record at fault, when one is
  std::string problem;               // what is wrong, in words (never raw record bytes)
};

struct AuditVerifyReport {
  bool ok = false;
  std::uint64_t records = 0;      // rows examined
  std::uint64_t bad_records = 0;  // distinct records named in `problems`
  std::vector<AuditProblem> problems;  // every problem found, in log order; empty iff ok
  // The first problem, for callers that report one line.
  std::optional<std::uint64_t> first_bad_seq;
  std::string problem;
};

// Adds a problem found outside the chain (an unreadable export line, an unreadable checkpoint),
// keeping ok, bad_records and the first-problem fields consistent.
void AddProblem(AuditVerifyReport& report, AuditProblem problem);

// Verifies the whole chain of `tenant` as the store returned it (storage order), and the
// checkpoint's signature by `audit_public_key`. Never fails: problems are in the report. A bad
// record does not end the check: each record is hashed over its exact stored bytes and linked
// to the stored hash of the one before, so one damaged record is named alone and every other
// record is still checked.
AuditVerifyReport VerifyAuditChain(const std::string& tenant, const std::vector<AuditRow>& rows,
                                   const std::optional<Checkpoint>& checkpoint, ByteSpan audit_public_key);

}  // namespace sigil::broker
