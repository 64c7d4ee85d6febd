#include "broker/audit/audit_log.h"

#include "broker/audit/audit_chain.h"
#include "broker/audit/audit_tree.h"
#include "broker/audit/checkpoint_note.h"
#include "broker/audit/release_receipt.h"
#include "core/ed25519.h"
#include "core/encoding.h"
#include "core/json.h"

namespace sigil::broker {

AuditLog::AuditLog(Store& store, Ed25519Signer signer, std::function<std::int64_t()> now_millis)
    : store_(store), signer_(std::move(signer)), now_millis_(std::move(now_millis)) {}

namespace {

// A C2SP signed checkpoint of the tenant's tree, dated `time_ms`, under AuditTreeOrigin(tenant).
Result<std::string> SignTreeHeadAt(const Ed25519Signer& key, const std::string& tenant, std::uint64_t size,
                                   const merkle::Hash& root, std::int64_t time_ms) {
  const std::string origin = AuditTreeOrigin(tenant);
  SIGIL_ASSIGN_OR_RETURN(std::string text, tlog::CheckpointText(tlog::Checkpoint{origin, size, root, time_ms}));
  return tlog::SignNote(text, origin, key);
}

// The record for `e` on top of `head`.
Result<AuditRow> MakeRecord(const std::string& tenant, const AuditEvent& e, std::int64_t now,
                            const std::optional<AuditRow>& head) {
  Json j;
  j["seq"] = head ? head->seq + 1 : 1;
  j["time_ms"] = now;
  j["tenant"] = tenant;
  j["request_id"] = e.request_id;
  j["actor"] = e.actor;
  j["action"] = e.action;
  j["decision"] = e.decision;
  j["reason"] = e.reason;
  j["client"] = e.client;
  if (!e.key.empty()) j["key"] = e.key;
  if (e.version != 0) j["version"] = e.version;
  if (!e.evidence_digest.empty()) j["evidence_digest"] = e.evidence_digest;
  if (!e.tee.empty()) j["tee"] = e.tee;
  // The development TEE proves nothing; every record touching it says so.
  if (e.tee == "dev") j["insecure_dev_tee"] = true;
  if (!e.detail.empty()) j["detail"] = e.detail;
  if (!e.artifact_id.empty()) j["artifact_id"] = e.artifact_id;
  if (!e.measurement.empty()) j["measurement"] = e.measurement;
  if (e.policy_version != 0) j["policy_version"] = e.policy_version;
  if (!e.signer.empty()) j["signer"] = e.signer;
  j["prev"] = head ? head->hash : ZeroHash();
  AuditRow row;
  row.seq = j["seq"].get<std::uint64_t>();
  row.record = CanonicalJson(j);
  row.hash = ChainHash(j["prev"].get<std::string>(), row.record);
  return row;
}

// The signed checkpoint over `newest`, the tenant's newest record in a commit.
Result<Checkpoint> SignCheckpoint(const Ed25519Signer& key, const std::string& tenant, const AuditRow& newest,
                                  std::int64_t now) {
  Checkpoint cp{newest.seq, newest.hash, now, ""};
  const Bytes sig = key.Sign(CheckpointMessage(tenant, cp.seq, cp.head, cp.time));
  cp.signature = Base64UrlEncode(sig);
  return cp;
}

}  // namespace

Result<AuditRow> AuditLog::CreateTenant(const std::string& tenant, ByteSpan wrapped_kek, ByteSpan erasure_epoch,
                                        const GenesisEvent& e) {
  const std::string key_id = AuditKeyId(signer_.public_key());
  const std::int64_t now = now_millis_();
  auto genesis = [&](const std::optional<AuditRow>& head) -> Result<AuditRow> {
    // A log left behind by an earlier tenant of this name would put genesis after other records.
    if (head) {
      return Fail(Code::kAlreadyExists, "tenant '" + tenant + "' already has audit records; a genesis record must be the first");
    }
    Json j{{"seq", 1}, {"time_ms", now}, {"tenant", tenant}, {"request_id", e.request_id}, {"actor", e.actor},
           {"action", kGenesisAction}, {"decision", "ok"}, {"reason", e.reason}, {"client", e.client},
           {"audit_key_id", key_id}, {"prev", ZeroHash()}};
    AuditRow row;
    row.seq = 1;
    row.record = CanonicalJson(j);
    row.hash = ChainHash(ZeroHash(), row.record);
    return row;
  };
  auto r = store_.CreateTenant(tenant, wrapped_kek, erasure_epoch, genesis,
                               [&](const AuditRow& newest) { return SignCheckpoint(signer_, tenant, newest, now); });
  if (!r && r.error().code() != Code::kAlreadyExists) {
    return Fail(Code::kUnavailable, "audit log unavailable: " + r.error().message());
  }
  return r;
}

Result<AuditRow> AuditLog::Append(const std::string& tenant, const AuditEvent& e) {
  const std::int64_t now = now_millis_();
  auto r = store_.AppendAudit(
      tenant, [&](const std::optional<AuditRow>& head) { return MakeRecord(tenant, e, now, head); },
      [&](const AuditRow& newest) { return SignCheckpoint(signer_, tenant, newest, now); });
  if (!r) return Fail(Code::kUnavailable, "audit log unavailable: " + r.error().message());
  trees_.Observe(tenant, {*r});
  return r;
}

Result<AuditRow> AuditLog::AppendUsingNonce(const std::string& tenant, const Store::NonceUse& use,
                                            const std::function<AuditEvent(const Error* nonce_error)>& event_for,
                                            std::optional<Error>* nonce_error) {
  const std::int64_t now = now_millis_();
  auto r = store_.ConsumeNonceAndAppendAudit(
      tenant, use,
      [&](const std::optional<AuditRow>& head, const Error* why) { return MakeRecord(tenant, event_for(why), now, head); },
      [&](const AuditRow& newest) { return SignCheckpoint(signer_, tenant, newest, now); }, nonce_error);
  if (!r) return Fail(Code::kUnavailable, "audit log unavailable: " + r.error().message());
  trees_.Observe(tenant, {*r});
  return r;
}

Result<std::vector<AuditRow>> AuditLog::AppendRelease(const std::string& tenant, ReleaseGate gate,
                                                     const std::vector<AuditEvent>& allowed,
                                                     const std::function<AuditEvent(const Error& refusal)>& refused_event,
                                                     std::optional<Error>* refusal) {
  const std::int64_t now = now_millis_();
  gate.now_ms = now;  // the window ends at the time the records carry
  std::vector<Store::AuditMaker> makers;
  makers.reserve(allowed.size());
  for (const AuditEvent& e : allowed) {
    makers.push_back([&tenant, &e, now](const std::optional<AuditRow>& head) { return MakeRecord(tenant, e, now, head); });
  }
  auto r = store_.AppendRelease(
      tenant, gate, makers,
      [&](const std::optional<AuditRow>& head, const Error& why) { return MakeRecord(tenant, refused_event(why), now, head); },
      [&](const AuditRow& newest) { return SignCheckpoint(signer_, tenant, newest, now); }, refusal);
  if (!r) return Fail(Code::kUnavailable, "audit log unavailable: " + r.error().message());
  trees_.Observe(tenant, *r);
  return r;
}

Result<std::string> AuditLog::SignTreeHead(const std::string& tenant, std::uint64_t size, const merkle::Hash& root) const {
  return SignTreeHeadAt(signer_, tenant, size, root, now_millis_());
}

Result<TreeHead> AuditLog::IssueTreeHead(const std::string& tenant) {
  SIGIL_ASSIGN_OR_RETURN(auto chain, store_.GetCheckpoint(tenant));
  if (!chain) return Fail(Code::kNotFound, "tenant '" + tenant + "' has no audit records");
  // The root of the whole tree as the signed chain head stands (its records, not any appended
  // since): the tree is the cached one (audit_tree.h), grown by the new records only.
  SIGIL_ASSIGN_OR_RETURN(auto proved, trees_.InclusionProof(tenant, chain->seq, 1, chain->seq));
  TreeHead head{chain->seq, now_millis_(), ""};
  SIGIL_ASSIGN_OR_RETURN(head.note, SignTreeHeadAt(signer_, tenant, head.size, proved.root, head.time_ms));
  SIGIL_RETURN_IF_ERROR(store_.PutTreeHead(tenant, head));
  SIGIL_ASSIGN_OR_RETURN(auto stored, store_.GetTreeHead(tenant));
  return stored ? *stored : head;
}

Result<TreeHead> AuditLog::FreshTreeHead(const std::string& tenant, std::chrono::milliseconds max_age) {
  SIGIL_ASSIGN_OR_RETURN(auto chain, store_.GetCheckpoint(tenant));
  if (!chain) return Fail(Code::kNotFound, "tenant '" + tenant + "' has no audit records");
  SIGIL_ASSIGN_OR_RETURN(auto published, store_.GetTreeHead(tenant));
  if (published && published->size >= chain->seq && now_millis_() - published->time_ms < max_age.count()) {
    return *published;
  }
  return IssueTreeHead(tenant);
}

Result<std::string> AuditLog::SignReceipt(const AuditRow& release_record) const {
  SIGIL_ASSIGN_OR_RETURN(receipt::Receipt r, receipt::FromRecord(release_record));
  return receipt::Sign(r, signer_);
}

}  // namespace sigil::broker
