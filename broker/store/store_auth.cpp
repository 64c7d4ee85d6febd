#include "broker/store/store_auth.h"

#include <openssl/crypto.h>

#include <cstdio>

#include "core/digest.h"
#include "core/hkdf.h"
#include "core/log.h"

namespace sigil::broker {
namespace {

constexpr std::string_view kMacInfo = "sigil/store-row-mac/v1";
constexpr std::string_view kMacSalt = "sigil store rows";

// Length-prefixed fields (u32 big-endian length, then bytes), so no two rows share an encoding.
class Encoder {
 public:
  explicit Encoder(std::string_view kind) { Add(kind); }
  Encoder& Add(std::string_view s) { return Add(AsBytes(s)); }
  Encoder& Add(ByteSpan b) {
    const auto n = static_cast<std::uint32_t>(b.size());
    for (int shift = 24; shift >= 0; shift -= 8) out_.push_back(static_cast<std::uint8_t>(n >> shift));
    out_.insert(out_.end(), b.begin(), b.end());
    return *this;
  }
  Encoder& Add(std::int64_t v) { return Add(std::to_string(v)); }
  const Bytes& bytes() const { return out_; }

 private:
  Bytes out_;
};

Bytes KeyRowMessage(const KeyVersionRow& r) {
  return Encoder("key_version").Add(r.tenant).Add(r.name).Add(std::int64_t{r.version}).Add(r.key_class).Add(r.state)
      .Add(ByteSpan(r.public_key)).Add(ByteSpan(r.wrapped_private_key)).Add(r.created_at).Add(r.destroyed_at).bytes();
}
// A pending enrolment decides which AK a finish registers for which tenant, under which EK and
// secret, until when: all of it is tagged, the id included, so rows cannot be edited or swapped.
Bytes EnrolmentMessage(const TpmEnrolmentRow& r) {
  return Encoder("tpm_enrolment").Add(r.id).Add(r.tenant).Add(ByteSpan(r.ek)).Add(ByteSpan(r.ak_spki))
      .Add(ByteSpan(r.ak_name)).Add(ByteSpan(r.secret_hash)).Add(r.expires_ms).bytes();
}
// A version in force and a proposal are tagged apart, so that a store writer cannot put a
// proposal in force (or the reverse) by flipping its state.
Bytes PolicyMessage(const std::string& tenant, const PolicyRow& r) {
  return Encoder(r.active ? "policy" : "policy_proposal").Add(tenant).Add(r.version).Add(r.text).bytes();
}
Bytes ReferenceMessage(const std::string& tenant, const std::string& set, const std::string& value) {
  return Encoder("reference").Add(tenant).Add(set).Add(value).bytes();
}
Bytes AkMessage(const TpmAkRow& r) {
  return Encoder("tpm_ak").Add(r.tenant).Add(r.id).Add(r.name).Add(ByteSpan(r.spki)).Add(r.created_at)
      .Add(ByteSpan(r.tpm_name)).bytes();
}

Bytes AdminCertMessage(const AdminCertRow& r) {
  return Encoder("admin_cert").Add(r.serial).Add(r.role).Add(r.tenant).Add(r.not_after).Add(r.issued_at)
      .Add(r.revoked_at).Add(r.issued_by).bytes();
}

class RowMac {
 public:
  static Result<RowMac> Derive(const SecretBytes& root) {
    SIGIL_ASSIGN_OR_RETURN(SecretBytes prk, HkdfExtract(HkdfHash::kSha256, AsBytes(kMacSalt), root.Reveal(SecretAccess::Get())));
    SIGIL_ASSIGN_OR_RETURN(SecretBytes key, HkdfExpand(HkdfHash::kSha256, prk.Reveal(SecretAccess::Get()), AsBytes(kMacInfo), 32));
    return RowMac(std::move(key));
  }
  Bytes Tag(ByteSpan message) const {
    auto tag = HmacSha256(key_.Reveal(SecretAccess::Get()), message);
    return tag ? std::move(*tag) : Bytes{};  // empty never matches a stored tag: the row is refused
  }
  bool Check(ByteSpan message, ByteSpan tag) const {
    Bytes want = Tag(message);
    return !want.empty() && tag.size() == want.size() && CRYPTO_memcmp(want.data(), tag.data(), want.size()) == 0;
  }

 private:
  explicit RowMac(SecretBytes key) : key_(std::move(key)) {}
  SecretBytes key_;
};

Error Alarm(const std::string& what) {
  log::Write(log::Level::kAlarm, what + " failed its authentication: it was written or changed outside the broker "
                                        "(by someone with write access to the store); it is refused");
  return Error(Code::kVerificationFailed, "ALARM: " + what + " failed its authentication (the store was edited outside "
                                          "the broker); refusing to use it");
}

std::string KeyWhat(const KeyVersionRow& r) {
  return "key '" + r.tenant + "/" + r.name + "' version " + std::to_string(r.version);
}

class AuthenticatedStore final : public Store {
 public:
  AuthenticatedStore(std::unique_ptr<Store> inner, RowMac mac) : inner_(std::move(inner)), mac_(std::move(mac)) {}

  Result<AuditRow> CreateTenant(const std::string& t, ByteSpan kek, ByteSpan epoch, const AuditMaker& genesis,
                                const CheckpointSigner& sign) override {
    return inner_->CreateTenant(t, kek, epoch, genesis, sign);
  }
  Result<Bytes> GetTenantKek(const std::string& t) override { return inner_->GetTenantKek(t); }
  Result<std::vector<std::string>> ListTenants() override { return inner_->ListTenants(); }

  Result<void> PutKeyVersion(const KeyVersionRow& row, ByteSpan wrapped_kek) override {
    KeyVersionRow tagged = row;
    tagged.mac = mac_.Tag(KeyRowMessage(row));
    return inner_->PutKeyVersion(tagged, wrapped_kek);
  }
  Result<KeyVersionRow> GetKeyVersion(const std::string& t, const std::string& n, std::uint32_t v) override {
    SIGIL_ASSIGN_OR_RETURN(KeyVersionRow row, inner_->GetKeyVersion(t, n, v));
    SIGIL_RETURN_IF_ERROR(CheckKey(row));
    return row;
  }
  Result<KeyVersionRow> LatestKeyVersion(const std::string& t, const std::string& n) override {
    SIGIL_ASSIGN_OR_RETURN(KeyVersionRow row, inner_->LatestKeyVersion(t, n));
    SIGIL_RETURN_IF_ERROR(CheckKey(row));
    return row;
  }
  Result<std::vector<KeyVersionRow>> ListKeyVersions(const std::string& t) override {
    SIGIL_ASSIGN_OR_RETURN(auto rows, inner_->ListKeyVersions(t));
    for (const auto& r : rows) SIGIL_RETURN_IF_ERROR(CheckKey(r));
    return rows;
  }
  Result<int> SetKeyState(const std::string& t, const std::string& n, const std::string& from, const std::string& to,
                          const KeyRowMac&) override {
    // The rows are re-tagged as changed; each is checked first so a forged row is not blessed.
    SIGIL_RETURN_IF_ERROR(CheckKeyRows(t, n));
    return inner_->SetKeyState(t, n, from, to, TagKey());
  }
  Result<int> DestroyKeyMaterial(const std::string& t, const std::string& n, std::optional<std::uint32_t> v,
                                 std::int64_t now, const KeyRowMac&) override {
    SIGIL_RETURN_IF_ERROR(CheckKeyRows(t, n));
    return inner_->DestroyKeyMaterial(t, n, v, now, TagKey());
  }
  // The re-wrapped rows were read through this layer (checked) and are tagged as written.
  Result<int> Rekey(const RekeyPlan& plan, const KeyRowMac&) override {
    if (plan.destroy) SIGIL_RETURN_IF_ERROR(CheckKeyRows(plan.destroy->tenant, plan.destroy->name));
    return inner_->Rekey(plan, TagKey());
  }

  Result<void> PutPolicy(const std::string& t, const std::string& text, const PolicyRowMac&) override {
    return inner_->PutPolicy(t, text, TagPolicy());
  }
  Result<PolicyRow> GetPolicy(const std::string& t) override {
    SIGIL_ASSIGN_OR_RETURN(PolicyRow row, inner_->GetPolicy(t));
    return CheckPolicy(t, std::move(row));
  }
  Result<std::int64_t> ProposePolicy(const std::string& t, const std::string& text, const PolicyRowMac&) override {
    return inner_->ProposePolicy(t, text, TagPolicy());
  }
  Result<PolicyRow> GetPolicyVersion(const std::string& t, std::int64_t version) override {
    SIGIL_ASSIGN_OR_RETURN(PolicyRow row, inner_->GetPolicyVersion(t, version));
    return CheckPolicy(t, std::move(row));
  }
  Result<void> ActivatePolicy(const std::string& t, std::int64_t version, const PolicyRowMac&) override {
    // The proposal must be the one the broker stored before it is re-tagged as in force: checked
    // here for a clear error, and again on the row the activating transaction read (a row
    // edited in between gets a tag that never verifies, so it is refused, never used).
    SIGIL_RETURN_IF_ERROR(GetPolicyVersion(t, version));
    return inner_->ActivatePolicy(t, version, [this](const std::string& tenant, const PolicyRow& row) {
      PolicyRow as_proposed = row;
      as_proposed.active = false;
      if (!mac_.Check(PolicyMessage(tenant, as_proposed), row.mac)) return Bytes{};
      return mac_.Tag(PolicyMessage(tenant, row));
    });
  }
  Result<void> AddPolicyApproval(const std::string& t, const PolicyApprovalRow& row) override {
    return inner_->AddPolicyApproval(t, row);
  }
  Result<std::vector<PolicyApprovalRow>> ListPolicyApprovals(const std::string& t, std::int64_t version) override {
    return inner_->ListPolicyApprovals(t, version);
  }

  Result<void> AddReference(const std::string& t, const std::string& set, const std::string& value, ByteSpan) override {
    return inner_->AddReference(t, set, value, mac_.Tag(ReferenceMessage(t, set, value)));
  }
  Result<std::vector<ReferenceRow>> ListReferenceRows(const std::string& t) override {
    SIGIL_ASSIGN_OR_RETURN(auto rows, inner_->ListReferenceRows(t));
    for (const auto& r : rows) {
      if (!mac_.Check(ReferenceMessage(t, r.set, r.value), r.mac)) {
        return Alarm("reference value in set '" + r.set + "' of tenant '" + t + "'");
      }
    }
    return rows;
  }

  Result<void> PutNonce(ByteSpan nonce, const std::string& t, const std::string& tee, TimePoint exp, TimePoint now,
                        std::size_t max) override {
    return inner_->PutNonce(nonce, t, tee, exp, now, max);
  }
  Result<void> ConsumeNonce(ByteSpan nonce, const std::string& t, const std::string& tee, TimePoint now) override {
    return inner_->ConsumeNonce(nonce, t, tee, now);
  }
  // Audit records carry their own hash chain and signed checkpoint (audit_chain.h).
  Result<AuditRow> AppendAudit(const std::string& t, const AuditMaker& make, const CheckpointSigner& sign) override {
    return inner_->AppendAudit(t, make, sign);
  }
  Result<AuditRow> ConsumeNonceAndAppendAudit(const std::string& t, const NonceUse& use, const ConsumingAuditMaker& make,
                                              const CheckpointSigner& sign, std::optional<Error>* consume_error) override {
    return inner_->ConsumeNonceAndAppendAudit(t, use, make, sign, consume_error);
  }
  // Use counters and spent tokens carry no authority: a writer could reset a counter (or forget
  // a spent token) to allow a release the policy limits, but only for workloads the policy
  // already admits, and every counted release keeps its signed audit record (threat-model.md).
  Result<std::vector<AuditRow>> AppendRelease(const std::string& t, const ReleaseGate& gate,
                                              const std::vector<AuditMaker>& allow, const RefusalAuditMaker& deny,
                                              const CheckpointSigner& sign, std::optional<Error>* refused) override {
    return inner_->AppendRelease(t, gate, allow, deny, sign, refused);
  }
  Result<std::vector<AuditRow>> ListAudit(const std::string& t) override { return inner_->ListAudit(t); }
  Result<std::vector<AuditRow>> QueryAudit(const std::string& t, const AuditQuery& q) override {
    return inner_->QueryAudit(t, q);
  }
  Result<std::optional<Checkpoint>> GetCheckpoint(const std::string& t) override { return inner_->GetCheckpoint(t); }
  // Tree heads carry their own signature under the audit key, checked by whoever reads them.
  Result<void> PutTreeHead(const std::string& t, const TreeHead& h) override { return inner_->PutTreeHead(t, h); }
  Result<std::optional<TreeHead>> GetTreeHead(const std::string& t) override { return inner_->GetTreeHead(t); }

  Result<void> PutTpmEnrolment(const TpmEnrolmentRow& row, TimePoint now, std::size_t max) override {
    TpmEnrolmentRow tagged = row;
    tagged.mac = mac_.Tag(EnrolmentMessage(row));
    return inner_->PutTpmEnrolment(tagged, now, max);
  }
  // The row is consumed before its tag is checked: a forged one is gone after its one refusal.
  Result<TpmEnrolmentRow> TakeTpmEnrolment(const std::string& id) override {
    SIGIL_ASSIGN_OR_RETURN(TpmEnrolmentRow row, inner_->TakeTpmEnrolment(id));
    if (row.id != id || !mac_.Check(EnrolmentMessage(row), row.mac)) {
      return Alarm("pending TPM enrolment " + id + " of tenant '" + row.tenant + "'");
    }
    return row;
  }

  Result<void> PutTpmAk(const TpmAkRow& row) override {
    TpmAkRow tagged = row;
    tagged.mac = mac_.Tag(AkMessage(row));
    return inner_->PutTpmAk(tagged);
  }
  Result<std::vector<TpmAkRow>> ListTpmAks(const std::string& t) override {
    SIGIL_ASSIGN_OR_RETURN(auto rows, inner_->ListTpmAks(t));
    for (const auto& r : rows) {
      if (!mac_.Check(AkMessage(r), r.mac)) return Alarm("TPM AK " + r.id + " of tenant '" + t + "'");
    }
    return rows;
  }
  Result<void> DeleteTpmAk(const std::string& t, const std::string& id) override { return inner_->DeleteTpmAk(t, id); }
  // Replay state: a writer could only make the broker refuse quotes (or accept a replayed one,
  // which still needs a fresh nonce bound into the quote), not grant anything.
  Result<void> AdvanceTpmClock(const std::string& ak, const TpmClockRow& s) override { return inner_->AdvanceTpmClock(ak, s); }

  Result<void> CheckReady() override { return inner_->CheckReady(); }
  Result<void> ProbeWrite() override { return inner_->ProbeWrite(); }
  // Admin certificates carry authority: a row edited in the store (a revocation undone, a role or
  // tenant changed) is refused with an alarm, and so is the certificate it describes.
  Result<void> PutAdminCert(const AdminCertRow& row) override {
    AdminCertRow tagged = row;
    tagged.mac = mac_.Tag(AdminCertMessage(row));
    return inner_->PutAdminCert(tagged);
  }
  Result<AdminCertRow> GetAdminCert(const std::string& serial) override {
    SIGIL_ASSIGN_OR_RETURN(AdminCertRow r, inner_->GetAdminCert(serial));
    if (!mac_.Check(AdminCertMessage(r), r.mac)) return Alarm("admin certificate " + serial);
    return r;
  }
  Result<std::vector<AdminCertRow>> ListAdminCerts(const std::string& t) override {
    SIGIL_ASSIGN_OR_RETURN(auto rows, inner_->ListAdminCerts(t));
    for (const auto& r : rows) {
      if (!mac_.Check(AdminCertMessage(r), r.mac)) return Alarm("admin certificate " + r.serial);
    }
    return rows;
  }
  Result<void> RevokeAdminCert(const std::string& serial, std::int64_t when, const AdminCertRowMac&) override {
    return inner_->RevokeAdminCert(serial, when, [this](const AdminCertRow& r) { return mac_.Tag(AdminCertMessage(r)); });
  }
  Result<void> PutMeta(const std::string& k, ByteSpan v) override { return inner_->PutMeta(k, v); }
  Result<Bytes> GetMeta(const std::string& k) override { return inner_->GetMeta(k); }

 private:
  PolicyRowMac TagPolicy() const {
    return [this](const std::string& tenant, const PolicyRow& row) { return mac_.Tag(PolicyMessage(tenant, row)); };
  }
  Result<PolicyRow> CheckPolicy(const std::string& t, PolicyRow row) const {
    if (!mac_.Check(PolicyMessage(t, row), row.mac)) {
      return Alarm("policy version " + std::to_string(row.version) + " of tenant '" + t + "'");
    }
    return row;
  }
  Result<void> CheckKey(const KeyVersionRow& r) const {
    if (!mac_.Check(KeyRowMessage(r), r.mac)) return Alarm(KeyWhat(r));
    return Ok();
  }
  Result<void> CheckKeyRows(const std::string& t, const std::string& n) {
    SIGIL_ASSIGN_OR_RETURN(auto rows, inner_->ListKeyVersions(t));
    for (const auto& r : rows) {
      if (r.name == n) SIGIL_RETURN_IF_ERROR(CheckKey(r));
    }
    return Ok();
  }
  KeyRowMac TagKey() const {
    return [this](const KeyVersionRow& row) { return mac_.Tag(KeyRowMessage(row)); };
  }

  std::unique_ptr<Store> inner_;
  RowMac mac_;
};

}  // namespace

Result<std::unique_ptr<Store>> AuthenticateStore(std::unique_ptr<Store> backend, const SecretBytes& root_key) {
  SIGIL_ASSIGN_OR_RETURN(RowMac mac, RowMac::Derive(root_key));
  return std::unique_ptr<Store>(new AuthenticatedStore(std::move(backend), std::move(mac)));
}

Result<int> TagExistingRows(Store& backend, const SecretBytes& root_key) {
  SIGIL_ASSIGN_OR_RETURN(RowMac mac, RowMac::Derive(root_key));
  int tagged = 0;
  SIGIL_ASSIGN_OR_RETURN(std::vector<std::string> tenants, backend.ListTenants());
  for (const std::string& t : tenants) {
    SIGIL_ASSIGN_OR_RETURN(auto keys, backend.ListKeyVersions(t));
    std::set<std::pair<std::string, std::string>> key_states;
    for (const auto& k : keys) {
      if (k.mac.empty()) key_states.insert({k.name, k.state});
    }
    auto tag_key = [&](const KeyVersionRow& row) { return mac.Tag(KeyRowMessage(row)); };
    for (const auto& [name, state] : key_states) {
      SIGIL_ASSIGN_OR_RETURN(int n, backend.SetKeyState(t, name, state, state, tag_key));
      tagged += n;
    }
    if (auto policy = backend.GetPolicy(t); policy && policy->mac.empty()) {
      // Re-stored as the next version, tagged: GetPolicy reads the newest only.
      SIGIL_RETURN_IF_ERROR(backend.PutPolicy(t, policy->text, [&](const std::string& tenant, const PolicyRow& row) {
        return mac.Tag(PolicyMessage(tenant, row));
      }));
      ++tagged;
    }
    SIGIL_ASSIGN_OR_RETURN(auto refs, backend.ListReferenceRows(t));
    for (const auto& r : refs) {
      if (!r.mac.empty()) continue;
      SIGIL_RETURN_IF_ERROR(backend.AddReference(t, r.set, r.value, mac.Tag(ReferenceMessage(t, r.set, r.value))));
      ++tagged;
    }
    SIGIL_ASSIGN_OR_RETURN(auto aks, backend.ListTpmAks(t));
    for (auto ak : aks) {
      if (!ak.mac.empty()) continue;
      SIGIL_RETURN_IF_ERROR(backend.DeleteTpmAk(t, ak.id));
      ak.mac = mac.Tag(AkMessage(ak));
      SIGIL_RETURN_IF_ERROR(backend.PutTpmAk(ak));
      ++tagged;
    }
  }
  return tagged;
}

}  // namespace sigil::broker
