// Release receipts (docs/protocol.md "Release receipts"): for every artifact a release hands out,
// a statement signed with the broker's audit key of what was released to whom, and where the
// release's audit record sits in the tenant's Merkle tree. With an inclusion proof against a
// later signed checkpoint (broker/audit/audit_tree.h) it shows, offline, that the release is in
// the log every auditor of the tenant sees.
//
// A receipt is a C2SP signed note (broker/audit/checkpoint_note.h) under the key name
// "sigil-audit/<tenant>", the name the tenant's checkpoints are signed under, so one verifier key
// opens both. Its text is exactly these 14 (or 15) lines, in this order, each "<name> <value>":
//   sigil/v1/release-receipt          (first line, alone: what this text is)
//   tenant <tenant>                   key <key name>          version <key version>
//   artifact <artifact id>            tee <TEE type>
//   measurement <claim, or "-" when the workload's claims have none>
//   evidence <hex SHA-256 of the evidence>                    policy <policy version>
//   request <request id>              time <unix ms of the record>
//   seq <record seq>                  leaf_index <seq - 1>
//   leaf <standard base64 of the RFC 9162 leaf hash SHA-256(0x00 || record bytes)>
//   signer <owner key id>             (15th line, only for an artifact the model owner signed:
//                                      loader/FORMAT.md "Signature trailer"; absent if unsigned)
// Values are 1..1024 bytes of printable ASCII without spaces (0x21..0x7e); numbers are decimal
// without leading zeros. The second line is never a decimal number, so a receipt never parses as
// a checkpoint (whose second line is the tree size), nor a checkpoint as a receipt.
//
// Every field is taken from the release's audit record, which holds them all: one record per
// artifact (so no receipt shares its record with another artifact). A receipt is re-derived from
// its record at any time (`sigil audit receipts`), and Ed25519 being deterministic, the
// re-derived receipt is byte-identical to the one the release response carried.
//
// Pure functions of their arguments; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "broker/audit/checkpoint_note.h"
#include "broker/audit/merkle.h"
#include "broker/store/store.h"
#include "core/bytes.h"
#include "core/result.h"
#include "core/secret_bytes.h"

namespace sigil::broker::receipt {

inline constexpr char kHeader[] = "sigil/v1/release-receipt";
inline constexpr char kNoMeasurement[] = "-";
inline constexpr std::size_t kMaxValueSize = 1024;

struct Receipt {
  std::string tenant, key;
  std::uint32_t version = 0;
  std::string artifact_id, tee;
  std::string measurement;  // kNoMeasurement if none
  std::string evidence_digest;
  std::int64_t policy_version = 0;
  std::string request_id;
  std::int64_t time_ms = 0;
  std::uint64_t seq = 0;   // leaf index = seq - 1
  merkle::Hash leaf{};     // merkle::LeafHash(record bytes)
  std::string signer;      // the owner key id of a signed artifact; empty if it was unsigned

  bool operator==(const Receipt&) const = default;
};

// The receipt of an allowed release record as stored (its exact bytes: the leaf is their hash).
// kInvalidArgument, naming what is missing, if the record is not an allowed release or lacks a
// receipt field (release records written before receipts existed have no artifact_id).
Result<Receipt> FromRecord(const AuditRow& record);

// The 14-line text above. kInvalidArgument if a value is empty, too long, or has a byte outside
// 0x21..0x7e, or seq is 0.
Result<std::string> Text(const Receipt& r);
// Parses exactly what Text writes (and nothing else: every line, in order, canonical numbers,
// leaf_index = seq - 1, canonical base64 of 32 bytes), with kInvalidArgument naming the line.
Result<Receipt> ParseText(std::string_view text);

// The signed note: Text(r) signed under AuditTreeOrigin(r.tenant) with the audit key.
Result<std::string> Sign(const Receipt& r, const Ed25519Signer& audit_key);

// Verifies a signed receipt with the audit public key and returns it. The tenant (hence the key
// name) is read from the note's text before its signature is checked; nothing of it is trusted
// until OpenNote has verified it. kInvalidArgument for a note that is not a receipt;
// kVerificationFailed for a signature that does not verify with `audit_public_key`.
Result<Receipt> Open(std::string_view note, ByteSpan audit_public_key);

// Checks that `record` (as stored) is the record `r` states: its leaf hash equals r.leaf, and the
// receipt re-derived from it equals r. kVerificationFailed naming the first differing field.
Result<void> MatchesRecord(const Receipt& r, const AuditRow& record);

}  // namespace sigil::broker::receipt
