// Writes audit events to a tenant's chain. Append() returns only after the record and a signed
// checkpoint covering it are committed to the store (one checkpoint per tenant per commit, over
// its newest record: store.h); callers release nothing if it fails (fail closed).
// Thread-safety: safe to call concurrently (the store serialises appends per database).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "broker/audit/audit_tree.h"
#include "broker/audit/merkle.h"
#include "broker/store/store.h"
#include "core/ed25519.h"
#include "core/secret_bytes.h"

namespace sigil::broker {

struct AuditEvent {
  std::string request_id;
  std::string actor;      // "admin:<cn>" or "workload:<claims digest>" or "anonymous"
  std::string action;     // challenge | attest | release | admin.tenant.create | ...
  std::string key;        // tenant-relative key name, if any
  std::int64_t version = 0;
  std::string decision;   // allow | deny | ok | error
  std::string reason;     // why (for denials: the precise check, may name policy values)
  std::string evidence_digest;
  std::string client;
  std::string tee;        // TEE type, if any ("dev" is flagged insecure in every record)
  std::string detail;     // optional extra (policy trace, ...)
  // Allowed releases only: what the release receipt states beyond the fields above, so that a
  // receipt is re-derived from its record alone (broker/audit/release_receipt.h).
  std::string artifact_id;
  std::string measurement;        // the workload's "measurement" claim, if it has one
  std::int64_t policy_version = 0;
  std::string signer;             // the owner key id of a signed artifact (protocol::OwnerKeyId)
};

// Who created a tenant, for its genesis record (record 1 of its log).
struct GenesisEvent {
  std::string request_id;
  std::string actor;   // "admin:<cn>"
  std::string reason;  // e.g. "tenant created with a fresh KEK"
  std::string client;
};

class AuditLog {
 public:
  // `signer` is the broker's audit key (expanded once: it signs a checkpoint with every commit).
  AuditLog(Store& store, Ed25519Signer signer, std::function<std::int64_t()> now_millis);
  // Creates the tenant (its wrapped KEK) and its log's genesis record (action tenant.genesis,
  // seq 1, naming the audit key: audit_chain.h) with the signed checkpoint over it, in one store
  // transaction (Store::CreateTenant). kAlreadyExists if the tenant exists; kUnavailable (with
  // the store's reason) if it cannot be written, and then neither exists.
  Result<AuditRow> CreateTenant(const std::string& tenant, ByteSpan wrapped_kek, ByteSpan erasure_epoch,
                                const GenesisEvent& event);
  Result<AuditRow> Append(const std::string& tenant, const AuditEvent& event);
  // Consumes a challenge nonce and appends the event `event_for` builds, in one transaction
  // (Store::ConsumeNonceAndAppendAudit): `event_for` learns why the nonce was unusable, if it
  // was, and so does `nonce_error`.
  Result<AuditRow> AppendUsingNonce(const std::string& tenant, const Store::NonceUse& use,
                                    const std::function<AuditEvent(const Error* nonce_error)>& event_for,
                                    std::optional<Error>* nonce_error);
  // Appends a release's records, one per released artifact, in one transaction with its gate
  // (Store::AppendRelease; the gate's window ends at the records' time): if the gate refuses,
  // the record `refused_event` builds is appended instead and *refusal says why. kUnavailable if
  // nothing could be written.
  Result<std::vector<AuditRow>> AppendRelease(const std::string& tenant, ReleaseGate gate,
                                              const std::vector<AuditEvent>& allowed,
                                              const std::function<AuditEvent(const Error& refusal)>& refused_event,
                                              std::optional<Error>* refusal);
  // A C2SP signed checkpoint (broker/audit/checkpoint_note.h) of the tenant's Merkle tree
  // (broker/audit/audit_tree.h) at `size` with `root`, signed with the audit key under
  // AuditTreeOrigin(tenant), dated now.
  Result<std::string> SignTreeHead(const std::string& tenant, std::uint64_t size, const merkle::Hash& root) const;
  // Publishes the tenant's tree head: a SignTreeHead note over the whole log (the size of its
  // signed chain head), stored as its published head (Store::PutTreeHead, which never goes
  // back); returns the head stored afterwards (another broker's, if it published a newer one).
  // kNotFound for a tenant without records.
  Result<TreeHead> IssueTreeHead(const std::string& tenant);
  // The published head if it covers the whole log and is younger than `max_age`, else a newly
  // issued one (IssueTreeHead): what GET .../audit/checkpoint answers.
  Result<TreeHead> FreshTreeHead(const std::string& tenant, std::chrono::milliseconds max_age);
  // The release receipt of `release_record` (an allowed release record as committed: Append's
  // result), a signed note under the audit key (broker/audit/release_receipt.h). Deterministic:
  // the same record always gives the same bytes, so a receipt fetched later equals the one sent
  // with the release.
  Result<std::string> SignReceipt(const AuditRow& release_record) const;
  // The tenants' Merkle trees kept between proofs (audit_tree.h), over this log's store.
  AuditTreeCache& trees() { return trees_; }

 private:
  Store& store_;
  Ed25519Signer signer_;
  std::function<std::int64_t()> now_millis_;
  AuditTreeCache trees_{store_};
};

}  // namespace sigil::broker
