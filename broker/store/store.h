// The broker's persistent state behind one interface, so the embedded SQLite store and a shared
// PostgreSQL store are interchangeable. All blobs holding key material are already wrapped
// (AES-256-GCM under the tenant KEK or the root key) before they reach the store.
// Thread-safety: implementations are safe to call from several threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"

namespace sigil::broker {

using TimePoint = std::chrono::system_clock::time_point;

// Whether opening a store may create it. Only `sigild init` creates one: every other path
// (serve, join, recover-root-key) refuses a missing store rather than start on an empty one.
enum class StoreOpen {
  kExisting,  // the store (SQLite file, PostgreSQL schema) must already exist
  kCreate,    // sigild init (and tests): create it if it does not exist
};

struct KeyVersionRow {
  std::string tenant;
  std::string name;
  std::string key_class;  // "model-weights" | "dataset"
  std::uint32_t version = 0;
  std::string state;      // "enabled" | "disabled" | "destroyed" (wrapped_private_key then empty)
  Bytes public_key;
  Bytes wrapped_private_key;
  std::int64_t created_at = 0;
  std::int64_t destroyed_at = 0;  // unix seconds; 0 unless destroyed
  Bytes mac;  // the row's authentication tag (store_auth.h); backends store it, never judge it
};

// One version of a tenant's policy. A version is either in force (active: stored so, or
// activated once its approvals were complete) or a proposal waiting for approvals (policy.md
// "Approvals"); the newest active version is the tenant's policy.
struct PolicyRow {
  std::string text;
  std::int64_t version = 0;
  Bytes mac;
  bool active = true;
};

// One approval of a proposed policy version: the approver's key (its SPKI SHA-256, hex) and its
// signature over the approval message (broker/api/policy_approval.h). Carries no authority by
// itself: the broker re-verifies every signature against the approvers of the policy in force
// before it counts one, so rows need no tag.
struct PolicyApprovalRow {
  std::int64_t version = 0;
  std::string approver;  // lowercase hex SHA-256 of the approver's DER SPKI
  Bytes public_key;      // DER SPKI
  Bytes signature;
  std::int64_t time_ms = 0;
};

// One reference value of a tenant's named set.
struct ReferenceRow {
  std::string set;
  std::string value;
  Bytes mac;
};

// Computes the authentication tag of a row as it will be stored (store_auth.h). A backend calls
// it inside the write's transaction, once the row's final content (version, state) is known.
using KeyRowMac = std::function<Bytes(const KeyVersionRow&)>;
using PolicyRowMac = std::function<Bytes(const std::string& tenant, const PolicyRow&)>;

// One stored audit record, exactly as read back. The store never judges the bytes (a damaged
// record must still be listed, exported and named by verification), except that a row it cannot
// read as written (a column of the wrong type) says so in `defect`.
struct AuditRow {
  std::uint64_t seq = 0;  // 0 when the stored seq is unreadable (see defect)
  std::string record;     // canonical JSON as written; any bytes if damaged
  std::string hash;       // hex SHA-256(prev hash || record)
  std::string defect;     // empty, or why the row is not as the broker wrote it
};

// A tenant's genesis record could not be written (Store::CreateTenant): kAlreadyExists is kept
// for the tenant itself, so a conflict on the audit rows (records left under the name, a
// constraint) says "unavailable" with its cause.
inline Error GenesisNotWritten(const Error& e) {
  if (e.code() != Code::kAlreadyExists) return e;
  return Error(Code::kUnavailable, "genesis record not written: " + e.message());
}

// Why a key version cannot be used, for release (workload_api) and admin refusals alike. The
// message starts with a stable tag, "key_disabled:" or "key_destroyed:", that clients, tests and
// audit readers match on (docs/protocol.md); the code says the same (kKeyDestroyed, HTTP 410;
// kKeyDisabled, HTTP 403), so clients need not parse the message.
inline Error KeyUnusable(const KeyVersionRow& k) {
  const std::string what = "key '" + k.tenant + "/" + k.name + "' version " + std::to_string(k.version);
  if (k.state == "destroyed") return Error(Code::kKeyDestroyed, "key_destroyed: " + what + " was destroyed; its key material is gone");
  return Error(Code::kKeyDisabled, "key_disabled: " + what + " is disabled (sigil key enable to re-enable)");
}

// One move of the erasure epoch (broker/keys/erasure_chain.h): the store's epoch record and
// every tenant KEK replaced, and for a key destruction the destroyed key's tenant's other live
// versions re-wrapped under its fresh KEK. A store applies it in one transaction and only if
// nothing it replaces changed since it was read (compare-and-swap on every blob, on the epoch
// record, and on the set of tenants and of the tenant's live versions); otherwise it writes
// nothing and fails with kUnavailable and kRekeyConflictTag, and the caller reads again.
struct RekeyPlan {
  Bytes epoch_from;  // meta "erasure.epoch" as read; empty: the store has none yet
  Bytes epoch_to;
  struct Kek {
    std::string tenant;
    Bytes from, to;
  };
  std::vector<Kek> keks;  // every tenant, exactly
  struct Version {
    Bytes from;         // wrapped private key as read
    KeyVersionRow to;   // the row with the re-wrapped key (tag recomputed by the store layer)
  };
  // With `destroy`: every live version of destroy->tenant that the destruction leaves, exactly.
  std::vector<Version> versions;
  struct Destroy {
    std::string tenant, name;
    std::optional<std::uint32_t> version;  // none: every version of the key
    std::int64_t now = 0;
  };
  std::optional<Destroy> destroy;
};
inline constexpr const char* kRekeyConflictTag = "rekey_conflict: ";
inline Error RekeyConflict(const std::string& what) {
  return Error(Code::kUnavailable, std::string(kRekeyConflictTag) + what + " changed while the erasure epoch moved; "
                                       "read it again");
}
// Also when wrapped by another layer's context (AuditLog prefixes its own).
inline bool IsRekeyConflict(const Error& e) {
  return e.code() == Code::kUnavailable && e.message().find(kRekeyConflictTag) != std::string::npos;
}
// The meta rows of the erasure chain: the fleet's epoch record and the passphrase-sealed copy
// of the chain that `sigild join` reads (a destruction deletes the copy: it would open the
// store copies the destruction shreds).
inline constexpr const char* kErasureEpochMeta = "erasure.epoch";
inline constexpr const char* kErasureChainShareMeta = "erasure_chain.shared";

// Server-side audit filter (`sigil audit query`). Empty / unset fields match everything. A
// record whose JSON the store cannot read matches every filter (damage is shown, never hidden),
// and rows whose seq is unreadable come first on the first page (after_seq == 0).
struct AuditQuery {
  std::optional<std::int64_t> since_ms;  // record time_ms >= since_ms
  std::optional<std::int64_t> until_ms;  // record time_ms <= until_ms
  std::string decision;                  // exact record "decision" ("allow", "deny", "ok", ...)
  std::string key;                       // exact tenant-relative key name
  std::uint64_t after_seq = 0;           // pagination: only records with seq > after_seq
  std::uint32_t limit = 100;             // at most this many rows, in seq order
};

struct Checkpoint {
  std::uint64_t seq = 0;
  std::string head;       // hex hash of record `seq`
  std::int64_t time = 0;
  std::string signature;  // base64url Ed25519 over CheckpointMessage()
};

// A tenant's published tree head: a C2SP signed checkpoint note (broker/audit/checkpoint_note.h)
// over the tenant's Merkle tree at `size`, issued periodically and on demand (AuditLog::IssueTreeHead).
struct TreeHead {
  std::uint64_t size = 0;
  std::int64_t time_ms = 0;  // the note's own `time` extension, Unix milliseconds
  std::string note;          // the signed note text, exactly as served
};

// A TPM attestation key registered for one tenant (`sigil tpm register-ak`).
struct TpmAkRow {
  std::string tenant;
  std::string id;    // hex SHA-256 of `spki`: the AK's fingerprint
  std::string name;  // operator's label, may be empty
  Bytes spki;        // DER SubjectPublicKeyInfo
  std::int64_t created_at = 0;
  Bytes tpm_name;    // the AK's TPM Name if registered by its TPM2B_PUBLIC, else empty
  Bytes mac;         // the row's authentication tag (store_auth.h)
};

// An EK-based TPM AK enrolment started and not yet finished (broker/tpm/tpm_enrol.h): what its
// finish checks. Kept in the store so a restart does not lose it and any broker of a fleet can
// finish it. It carries authority (finishing it registers `ak_spki` for `tenant`), so it is
// tagged (store_auth.h).
struct TpmEnrolmentRow {
  std::string id;      // 32 hex characters, random
  std::string tenant;
  Bytes ek;            // the EK as presented at the start (SPKI or certificate), asked again at the finish
  Bytes ak_spki;       // the AK to register: DER SubjectPublicKeyInfo...
  Bytes ak_name;       // ...and the TPM Name the credential was made for
  Bytes secret_hash;   // SHA-256 of the credential's secret; the secret itself is never stored
  std::int64_t expires_ms = 0;  // unix milliseconds
  Bytes mac;           // the row's authentication tag (store_auth.h)
};

// An admin certificate the broker issued (broker/keys/admin_certs.h): only registered, unrevoked
// certificates are accepted on the admin API, so revocation takes effect on the next request.
struct AdminCertRow {
  std::string serial;  // lower-case hex, as broker/http/principal.h reads it from a certificate
  std::string role;    // "operator" | "tenant-admin" | "auditor"
  std::string tenant;  // empty for the operator
  std::int64_t not_after = 0;   // unix seconds
  std::int64_t issued_at = 0;
  std::int64_t revoked_at = 0;  // 0 unless revoked
  std::string issued_by;        // the issuing principal (broker/http/principal.h Describe), "sigild init"
  Bytes mac;  // the row's authentication tag (store_auth.h)
};
using AdminCertRowMac = std::function<Bytes(const AdminCertRow&)>;

// The last accepted TPMS_CLOCK_INFO of one AK (attestation/tpm/replay_guard.h semantics).
struct TpmClockRow {
  std::uint32_t reset_count = 0;
  std::uint32_t restart_count = 0;
  std::uint64_t clock = 0;
};

// What a release must satisfy when its records are committed: the allowing rules' memory
// (policies/model.h ReleaseLimit, Rule::single_use_token), built by broker/api/release_gate.h.
// The store checks and counts it in the transaction that appends the release's audit records,
// under the tenant's append order, so it holds across brokers sharing one store.
struct ReleaseCounter {
  std::string id;              // names one sliding window: key, window length, per-claim and its value
  std::int64_t window_ms = 0;  // releases counted within (now - window_ms, now]
  std::int64_t max = 0;        // at most this many counted releases in the window...
  std::int64_t uses = 0;       // ...including this release's (a batch may release one key twice)
  std::string what;            // for the refusal, e.g. "at most 2 releases of key 'k' per 3600 s"
};
struct ReleaseGate {
  std::string token_id;              // the token (or KBS session) this release is made with
  bool spend_token = false;          // a single-use rule allowed it: the token is spent
  std::int64_t token_expires_ms = 0; // a spent token is remembered until then
  std::vector<ReleaseCounter> counters;
  std::int64_t now_ms = 0;
};
// The stable tags that start a gate's refusal message (docs/protocol.md): a reached limit is
// kPolicyDenied "release_limit: ...", a spent token kReplay "token_spent: ...".
inline constexpr const char* kReleaseLimitTag = "release_limit: ";
inline constexpr const char* kTokenSpentTag = "token_spent: ";

class Store {
 public:
  virtual ~Store() = default;

  // Builds an audit record on the tenant's current head (none for an empty log).
  using AuditMaker = std::function<Result<AuditRow>(const std::optional<AuditRow>& head)>;
  // Signs the checkpoint over the newest record a commit appended to a tenant's log.
  using CheckpointSigner = std::function<Result<Checkpoint>(const AuditRow& newest)>;

  // Creates the tenant and starts its audit log, in one transaction: the tenant row, record 1
  // (`genesis` is called with no head and must build it; AuditLog::CreateTenant writes the
  // tenant.genesis record) and the checkpoint `sign` makes over it. Either all three are
  // committed or none is, so no tenant exists without the record that starts its log.
  // kAlreadyExists if the tenant exists; a `genesis` or `sign` failure writes nothing.
  // `erasure_epoch` is the epoch record the KEK was wrapped for (RekeyPlan): the tenant is
  // created only while the store's record is still exactly that (empty: none), else
  // kUnavailable with kRekeyConflictTag, so no KEK is stored under an epoch already retired.
  virtual Result<AuditRow> CreateTenant(const std::string& tenant, ByteSpan wrapped_kek, ByteSpan erasure_epoch,
                                        const AuditMaker& genesis, const CheckpointSigner& sign) = 0;
  virtual Result<Bytes> GetTenantKek(const std::string& tenant) = 0;                      // kNotFound
  virtual Result<std::vector<std::string>> ListTenants() = 0;

  // kAlreadyExists. `wrapped_kek` is the tenant KEK blob the private key was wrapped under: the
  // row is stored only while the tenant's KEK is still that blob (else kUnavailable with
  // kRekeyConflictTag: a destruction gave the tenant a new KEK meanwhile).
  virtual Result<void> PutKeyVersion(const KeyVersionRow& row, ByteSpan wrapped_kek) = 0;
  virtual Result<KeyVersionRow> GetKeyVersion(const std::string& tenant, const std::string& name,
                                              std::uint32_t version) = 0;  // kNotFound
  // Highest version of a key; kNotFound if the key does not exist.
  virtual Result<KeyVersionRow> LatestKeyVersion(const std::string& tenant, const std::string& name) = 0;
  virtual Result<std::vector<KeyVersionRow>> ListKeyVersions(const std::string& tenant) = 0;
  // Sets state `to` on every version of the key currently in state `from` (with the tag
  // `mac_for` gives the changed row, if set); returns how many versions changed (0 is not an
  // error: the caller decides).
  virtual Result<int> SetKeyState(const std::string& tenant, const std::string& name, const std::string& from,
                                  const std::string& to, const KeyRowMac& mac_for = nullptr) = 0;
  // Irreversibly erases the wrapped private key of `version` (or of every version): the blob is
  // emptied and the state set to "destroyed" in one transaction, and the backend then removes
  // the old copies it controls (docs/architecture.md says what each backend can and cannot
  // erase). Name, version, class, public key and timestamps remain. Returns the number of
  // versions destroyed (already destroyed ones are not counted).
  // The broker destroys through Rekey (with `destroy`), which also moves the erasure epoch;
  // this alone leaves older copies of the store able to open the version.
  virtual Result<int> DestroyKeyMaterial(const std::string& tenant, const std::string& name,
                                         std::optional<std::uint32_t> version, std::int64_t now,
                                         const KeyRowMac& mac_for = nullptr) = 0;

  // Applies `plan` (RekeyPlan) in one transaction; returns the number of versions destroyed.
  // Then, like DestroyKeyMaterial, removes the old copies the backend controls.
  virtual Result<int> Rekey(const RekeyPlan& plan, const KeyRowMac& mac_for = nullptr) = 0;

  // Stores `text` as the tenant's next policy version (tagged by `mac_for` once the version is
  // known, if set).
  virtual Result<void> PutPolicy(const std::string& tenant, const std::string& text,
                                 const PolicyRowMac& mac_for = nullptr) = 0;
  // The newest active policy version; kNotFound if the tenant has none.
  virtual Result<PolicyRow> GetPolicy(const std::string& tenant) = 0;
  // Stores `text` as the tenant's next version, not in force until ActivatePolicy; returns its
  // version.
  virtual Result<std::int64_t> ProposePolicy(const std::string& tenant, const std::string& text,
                                             const PolicyRowMac& mac_for = nullptr) = 0;
  // Any version, active or proposed; kNotFound if it does not exist.
  virtual Result<PolicyRow> GetPolicyVersion(const std::string& tenant, std::int64_t version) = 0;
  // Puts proposed `version` in force (re-tagged as active). kAlreadyExists if it is not a
  // proposal or a newer version is already in force (a proposal overtaken by a later policy
  // never goes back in force); kNotFound if it does not exist. Atomic with concurrent calls.
  virtual Result<void> ActivatePolicy(const std::string& tenant, std::int64_t version,
                                      const PolicyRowMac& mac_for = nullptr) = 0;
  // kAlreadyExists if this approver already approved this version.
  virtual Result<void> AddPolicyApproval(const std::string& tenant, const PolicyApprovalRow& row) = 0;
  virtual Result<std::vector<PolicyApprovalRow>> ListPolicyApprovals(const std::string& tenant,
                                                                     std::int64_t version) = 0;

  // Adds a value to a set (or re-tags it if present).
  virtual Result<void> AddReference(const std::string& tenant, const std::string& set, const std::string& value,
                                    ByteSpan mac = {}) = 0;
  virtual Result<std::vector<ReferenceRow>> ListReferenceRows(const std::string& tenant) = 0;
  // ListReferenceRows as sets by name.
  Result<std::map<std::string, std::set<std::string>>> ListReferences(const std::string& tenant) {
    SIGIL_ASSIGN_OR_RETURN(std::vector<ReferenceRow> rows, ListReferenceRows(tenant));
    std::map<std::string, std::set<std::string>> out;
    for (auto& r : rows) out[std::move(r.set)].insert(std::move(r.value));
    return out;
  }

  // Records a fresh challenge nonce. Prunes nonces expired more than a grace period before `now`,
  // and refuses (kUnavailable) when the tenant already has `max_outstanding` unused, unexpired
  // nonces: an anonymous client cannot grow the store without bound.
  virtual Result<void> PutNonce(ByteSpan nonce, const std::string& tenant, const std::string& tee,
                                TimePoint expires_at, TimePoint now, std::size_t max_outstanding) = 0;
  // Marks the nonce used. kNotFound (never issued, or for another tenant/tee), kReplay (already
  // used), kExpired. A nonce is consumed even when it turns out to be expired.
  virtual Result<void> ConsumeNonce(ByteSpan nonce, const std::string& tenant, const std::string& tee,
                                    TimePoint now) = 0;

  // Appends one audit record atomically: `make` receives the current head (if any) and returns the
  // new row. Durable (on stable storage) before return; on any failure nothing is written.
  // Checkpoints: each commit stores one checkpoint per tenant it appended to, signed by `sign`
  // over that tenant's newest record in the commit (the SQLite store commits concurrent appends
  // together, so one signature covers the batch), so the stored checkpoint always covers the
  // stored head.
  virtual Result<AuditRow> AppendAudit(const std::string& tenant, const AuditMaker& make,
                                       const CheckpointSigner& sign) = 0;
  // Consumes a challenge nonce (ConsumeNonce's semantics) and appends the attest's audit record
  // in one transaction, so a nonce is never used without its record nor recorded unused: of
  // brokers racing on one nonce exactly one commits it as used. `make` is told why the nonce
  // could not be used (kNotFound, kReplay, kExpired; nullptr if it was) and writes the record
  // accordingly; `consume_error` receives that reason too. Store failures abort both.
  struct NonceUse {
    ByteSpan nonce;
    std::string tee;
    TimePoint now;
  };
  using ConsumingAuditMaker =
      std::function<Result<AuditRow>(const std::optional<AuditRow>& head, const Error* consume_error)>;
  virtual Result<AuditRow> ConsumeNonceAndAppendAudit(const std::string& tenant, const NonceUse& use,
                                                      const ConsumingAuditMaker& make, const CheckpointSigner& sign,
                                                      std::optional<Error>* consume_error) = 0;
  // Appends a release's audit records in one transaction with its gate: refused (kReplay,
  // kTokenSpentTag) if a single-use release spent `gate.token_id`, refused (kPolicyDenied,
  // kReleaseLimitTag) if a counter would pass its max; otherwise the records `allow` build (one
  // per released artifact, in order, each on the previous) are appended, each counter counts
  // its uses and the token is spent if `gate.spend_token`. On a refusal the single record `deny`
  // builds for it is appended instead, nothing is counted, and *refused says why. Store failures
  // write nothing. Returns the appended rows.
  using RefusalAuditMaker = std::function<Result<AuditRow>(const std::optional<AuditRow>& head, const Error& refusal)>;
  virtual Result<std::vector<AuditRow>> AppendRelease(const std::string& tenant, const ReleaseGate& gate,
                                                      const std::vector<AuditMaker>& allow,
                                                      const RefusalAuditMaker& deny, const CheckpointSigner& sign,
                                                      std::optional<Error>* refused) = 0;
  virtual Result<std::vector<AuditRow>> ListAudit(const std::string& tenant) = 0;
  virtual Result<std::vector<AuditRow>> QueryAudit(const std::string& tenant, const AuditQuery& q) = 0;
  virtual Result<std::optional<Checkpoint>> GetCheckpoint(const std::string& tenant) = 0;
  // The tenant's published tree head. PutTreeHead stores `head` only if no head is stored, or
  // the stored one is for a smaller tree, or for the same tree and older: a published head never
  // goes back, whichever of several brokers signs last. Ok either way (the caller re-reads).
  virtual Result<void> PutTreeHead(const std::string& tenant, const TreeHead& head) = 0;
  virtual Result<std::optional<TreeHead>> GetTreeHead(const std::string& tenant) = 0;

  virtual Result<void> PutTpmAk(const TpmAkRow& row) = 0;  // kAlreadyExists (same tenant and id)
  virtual Result<std::vector<TpmAkRow>> ListTpmAks(const std::string& tenant) = 0;
  virtual Result<void> DeleteTpmAk(const std::string& tenant, const std::string& id) = 0;  // kNotFound
  // Durable TPM replay state per AK (`ak`: its fingerprint). Stores `state` if it is strictly
  // newer, in (reset_count, restart_count, clock) order, than the stored one (or none is
  // stored); otherwise kReplay and nothing changes. Atomic with respect to concurrent calls.
  virtual Result<void> AdvanceTpmClock(const std::string& ak, const TpmClockRow& state) = 0;

  // Stores a started TPM enrolment. Prunes enrolments expired more than a grace period before
  // `now` (within it a late finish still hears "expired"), and refuses (kUnavailable) when the
  // tenant already has `max_outstanding` unexpired ones: starting is unauthenticated, so a
  // client cannot grow the store without bound. kAlreadyExists for an id already stored.
  virtual Result<void> PutTpmEnrolment(const TpmEnrolmentRow& row, TimePoint now, std::size_t max_outstanding) = 0;
  // Removes the enrolment and returns it, in one atomic step: of brokers racing to finish one
  // enrolment exactly one gets the row, the others kNotFound, as for an id never issued. An
  // expired row is returned too (the caller refuses it); it is consumed either way.
  virtual Result<TpmEnrolmentRow> TakeTpmEnrolment(const std::string& id) = 0;

  // Readiness (GET /readyz): Ok when a release could be recorded now; else kUnavailable saying
  // why: the store is damaged (then nothing else works either: fail closed), the last write or
  // write probe failed (disk full, read-only file system, I/O error, database unreachable) and
  // no write has succeeded since, or the storage is nearly full. Cheap; probes itself when
  // nobody has called ProbeWrite for a while.
  virtual Result<void> CheckReady() = 0;
  // One durable write of the same kind as an audit append (committed, not rolled back), whose
  // outcome CheckReady reports until the next write. sigild calls it every few seconds.
  virtual Result<void> ProbeWrite() = 0;

  // Admin certificates (AdminCertRow). PutAdminCert: kAlreadyExists for a known serial.
  // ListAdminCerts: a tenant's certificates ("" lists the operators'). RevokeAdminCert sets
  // revoked_at once (re-tagged by `mac_for`); kNotFound for an unknown serial; Ok if already revoked.
  virtual Result<void> PutAdminCert(const AdminCertRow& row) = 0;
  virtual Result<AdminCertRow> GetAdminCert(const std::string& serial) = 0;  // kNotFound
  virtual Result<std::vector<AdminCertRow>> ListAdminCerts(const std::string& tenant) = 0;
  virtual Result<void> RevokeAdminCert(const std::string& serial, std::int64_t when, const AdminCertRowMac& mac_for) = 0;

  virtual Result<void> PutMeta(const std::string& key, ByteSpan value) = 0;
  virtual Result<Bytes> GetMeta(const std::string& key) = 0;  // kNotFound
};

}  // namespace sigil::broker
