#include "broker/api/admin_api.h"

#include <cstdio>

#include "attestation/tpm/signature.h"
#include "attestation/tpm/verifier.h"
#include "broker/api/admin_audit.h"
#include "broker/api/admin_certs_api.h"
#include "broker/audit/audit_wire.h"
#include "broker/keys/key_service.h"
#include "broker/tpm/tpm_seal_ak_public.h"
#include "core/encoding.h"
#include "core/hpke.h"
#include "core/ossl.h"
#include "policies/policy.h"

namespace sigil::broker {
namespace {

Result<KeyVersionRow> AddKeyVersion(const BrokerContext& ctx, const std::string& tenant, const std::string& name,
                                    const std::string& key_class, std::uint32_t version) {
  return ctx.keys->AddKeyVersion(tenant, name, key_class, version, UnixSeconds(ctx.now()));
}

// A key is usable for rotate/enable unless every version is destroyed; rotate also needs it
// enabled, so a disabled key is never silently extended with a fresh version.
struct KeyStatus {
  KeyVersionRow latest;
  bool any_disabled = false;
  bool all_destroyed = true;
  std::optional<KeyVersionRow> first_destroyed;
};

Result<KeyStatus> GetKeyStatus(const BrokerContext& ctx, const std::string& tenant, const std::string& key) {
  KeyStatus st;
  SIGIL_ASSIGN_OR_RETURN(st.latest, ctx.store->LatestKeyVersion(tenant, key));
  SIGIL_ASSIGN_OR_RETURN(auto rows, ctx.store->ListKeyVersions(tenant));
  for (const auto& r : rows) {
    if (r.name != key) continue;
    st.any_disabled |= r.state == "disabled";
    st.all_destroyed &= r.state == "destroyed";
    if (r.state == "destroyed" && !st.first_destroyed) st.first_destroyed = r;
  }
  return st;
}

Result<void> CheckKeyExtendable(const KeyStatus& st) {
  if (st.all_destroyed) return KeyUnusable(st.latest);
  if (st.any_disabled) {
    KeyVersionRow r = st.latest;
    r.state = "disabled";
    return KeyUnusable(r);
  }
  return Ok();
}

Json TpmAkJson(const TpmAkRow& r) {
  Json j{{"tenant", r.tenant}, {"id", r.id}, {"name", r.name}, {"created_at", r.created_at},
         {"ak", Base64UrlEncode(r.spki)}};
  if (!r.tpm_name.empty()) j["tpm_name"] = HexEncode(r.tpm_name);
  return j;
}

Result<std::string> AkLabel(const Json& body) {
  std::string name;
  if (body.contains("name")) {
    SIGIL_ASSIGN_OR_RETURN(name, GetString(body, "name", "request"));
  }
  if (name.size() > 128 || name.find_first_of("\r\n") != std::string::npos) {
    return Fail(Code::kInvalidArgument, "request.name: at most 128 characters, one line");
  }
  return name;
}

Result<Json> PutTpmAk(const BrokerContext& ctx, const RequestMeta& meta, const TpmAkRow& row) {
  SIGIL_RETURN_IF_ERROR(ctx.store->PutTpmAk(row));
  std::string how = row.tpm_name.empty() ? "" : ", TPM Name " + HexEncode(row.tpm_name);
  SIGIL_RETURN_IF_ERROR(AuditAdminAction(ctx, meta, row.tenant, "admin.tpm.ak.register", "", 0,
                              "registered TPM AK " + row.id + (row.name.empty() ? "" : " (" + row.name + ")") + how));
  return TpmAkJson(row);
}

// {"ak_public": base64url TPM2B_PUBLIC}: the SPKI and the TPM Name come from the public area.
Result<Json> RegisterTpmAkPublic(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant,
                                 const Json& body) {
  SIGIL_ASSIGN_OR_RETURN(std::string text, GetString(body, "ak_public", "request"));
  SIGIL_ASSIGN_OR_RETURN(std::string name, AkLabel(body));
  auto blob = Base64UrlDecode(text);
  if (!blob) return blob.error().Wrap("request.ak_public: expected base64url of a TPM2B_PUBLIC");
  auto ak = ParseAkPublic(*blob);
  if (!ak) return std::move(ak).error().Wrap("request.ak_public");
  return PutTpmAk(ctx, meta, TpmAkRow{tenant, attestation::tpm::AkFingerprint(ak->spki_der), name, ak->spki_der,
                                      UnixSeconds(ctx.now()), ak->name});
}

Json KeyJson(const KeyVersionRow& k) {
  return Json{{"tenant", k.tenant}, {"key", k.name}, {"class", k.key_class}, {"version", k.version},
              {"state", k.state}, {"created_at", k.created_at}};
}

}  // namespace

Result<Json> AdminCreateTenant(const BrokerContext& ctx, const RequestMeta& meta, const Json& body) {
  SIGIL_ASSIGN_OR_RETURN(std::string name, GetString(body, "name", "request"));
  SIGIL_RETURN_IF_ERROR(ValidateName(name, "tenant name"));
  std::string admin_csr;
  if (body.contains("admin_csr")) {
    SIGIL_ASSIGN_OR_RETURN(admin_csr, GetString(body, "admin_csr", "request"));
  }
  // The tenant and its log's genesis record are one store transaction: no tenant without it.
  // A key destruction that moves the erasure epoch meanwhile refuses the KEK; wrap it again.
  for (int attempt = 1;; ++attempt) {
    SIGIL_ASSIGN_OR_RETURN(WrappedTenantKek kek, ctx.keys->NewWrappedTenantKek(name));
    auto created = ctx.audit->CreateTenant(name, kek.blob, kek.erasure_epoch,
                                           GenesisEvent{meta.request_id, "admin:" + meta.admin_cn,
                                                        "tenant created with a fresh KEK", meta.client});
    if (created) break;
    if (attempt == 5 || !IsRekeyConflict(created.error())) {
      return std::move(created).error();
    }
    SIGIL_RETURN_IF_ERROR(ctx.keys->SyncErasureChain());
  }
  Json out{{"tenant", name}};
  // The tenant's first tenant-admin, from the tenant's own key (a CSR): from here on only its
  // tenant-admins manage its keys, policies and certificates (broker/api/admin_certs_api.h).
  if (!admin_csr.empty()) {
    auto cert = IssueFirstTenantAdmin(ctx, meta, name, admin_csr, body);
    if (!cert) {
      return cert.error().Wrap("tenant '" + name + "' was created, but its first tenant-admin certificate was not issued "
                               "(issue it with `sigil admin issue-cert --role tenant-admin --tenant " + name + "`)");
    }
    out["admin_certificate"] = (*cert)["certificate"];
    out["admin_serial"] = (*cert)["serial"];
    out["admin_not_after"] = (*cert)["not_after"];
  }
  return out;
}

Result<Json> AdminListTenants(const BrokerContext& ctx) {
  SIGIL_ASSIGN_OR_RETURN(auto names, ctx.store->ListTenants());
  Json out = Json::array();
  for (const auto& n : names) out.push_back(Json{{"tenant", n}});
  return Json{{"tenants", out}};
}

Result<Json> AdminCreateKey(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant, const Json& body) {
  SIGIL_ASSIGN_OR_RETURN(std::string name, GetString(body, "name", "request"));
  SIGIL_RETURN_IF_ERROR(ValidateName(name, "key name"));
  std::string key_class = "model-weights";
  if (body.contains("class")) {
    SIGIL_ASSIGN_OR_RETURN(key_class, GetString(body, "class", "request"));
  }
  if (key_class != "model-weights" && key_class != "dataset") {
    return Fail(Code::kInvalidArgument, "request.class: expected 'model-weights' or 'dataset'");
  }
  if (ctx.store->LatestKeyVersion(tenant, name)) {
    return Fail(Code::kAlreadyExists, "key '" + tenant + "/" + name + "' already exists; use rotate for a new version");
  }
  SIGIL_ASSIGN_OR_RETURN(KeyVersionRow row, AddKeyVersion(ctx, tenant, name, key_class, 1));
  SIGIL_RETURN_IF_ERROR(AuditAdminAction(ctx, meta, tenant, "admin.key.create", name, 1, "key created (" + key_class + ")"));
  return KeyJson(row);
}

Result<Json> AdminRotateKey(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant, const std::string& key) {
  SIGIL_ASSIGN_OR_RETURN(KeyStatus st, GetKeyStatus(ctx, tenant, key));
  SIGIL_RETURN_IF_ERROR(CheckKeyExtendable(st));
  const KeyVersionRow& latest = st.latest;
  SIGIL_ASSIGN_OR_RETURN(KeyVersionRow row, AddKeyVersion(ctx, tenant, key, latest.key_class, latest.version + 1));
  SIGIL_RETURN_IF_ERROR(AuditAdminAction(ctx, meta, tenant, "admin.key.rotate", key, row.version, "new key version"));
  return KeyJson(row);
}

Result<Json> AdminSetKeyEnabled(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant,
                                const std::string& key, bool enabled) {
  SIGIL_ASSIGN_OR_RETURN(KeyStatus st, GetKeyStatus(ctx, tenant, key));
  if (st.all_destroyed) return KeyUnusable(st.latest);
  SIGIL_ASSIGN_OR_RETURN(int changed, enabled ? ctx.store->SetKeyState(tenant, key, "disabled", "enabled")
                                              : ctx.store->SetKeyState(tenant, key, "enabled", "disabled"));
  const std::string action = enabled ? "admin.key.enable" : "admin.key.disable";
  SIGIL_RETURN_IF_ERROR(AuditAdminAction(ctx, meta, tenant, action, key, 0,
                              std::to_string(changed) + " version(s) " + (enabled ? "enabled" : "disabled")));
  return Json{{"tenant", tenant}, {"key", key}, {"state", enabled ? "enabled" : "disabled"}, {"changed", changed}};
}

Result<Json> AdminDestroyKey(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant,
                             const std::string& key, const Json& body) {
  std::string confirm;
  if (body.contains("confirm") && body["confirm"].is_string()) confirm = body["confirm"].get<std::string>();
  if (confirm != key) {
    return Fail(Code::kInvalidArgument, "request.confirm: destroying key material is irreversible; repeat the key "
                                        "name ('" + key + "') to confirm");
  }
  std::optional<std::uint32_t> version;
  if (body.contains("version")) {
    SIGIL_ASSIGN_OR_RETURN(std::int64_t v, GetInt(body, "version", "request"));
    if (v < 1 || v > 0xffffffffLL) return Fail(Code::kInvalidArgument, "request.version: out of range");
    version = static_cast<std::uint32_t>(v);
    SIGIL_ASSIGN_OR_RETURN(KeyVersionRow row, ctx.store->GetKeyVersion(tenant, key, *version));
    if (row.state == "destroyed") return KeyUnusable(row);
  } else {
    SIGIL_ASSIGN_OR_RETURN(KeyStatus st, GetKeyStatus(ctx, tenant, key));
    if (st.all_destroyed) return KeyUnusable(st.latest);
  }
  SIGIL_ASSIGN_OR_RETURN(int n, ctx.keys->DestroyKeyVersions(tenant, key, version, UnixSeconds(ctx.now())));
  SIGIL_RETURN_IF_ERROR(AuditAdminAction(ctx, meta, tenant, "admin.key.destroy", key, version ? *version : 0,
                              "key material of " + (version ? "version " + std::to_string(*version)
                                                            : std::to_string(n) + " version(s)") +
                                  " erased (irreversible)"));
  return Json{{"tenant", tenant}, {"key", key}, {"state", "destroyed"}, {"destroyed_versions", n}};
}

Result<Json> AdminImportKey(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant, const Json& body) {
  SIGIL_ASSIGN_OR_RETURN(std::string name, GetString(body, "name", "request"));
  SIGIL_RETURN_IF_ERROR(ValidateName(name, "key name"));
  SIGIL_ASSIGN_OR_RETURN(std::string sk_text, GetString(body, "private_key", "request"));
  auto sk_raw = Base64UrlDecode(sk_text);
  if (!sk_raw) return sk_raw.error().Wrap("request.private_key: expected base64url of a 32-byte X25519 private key");
  if (sk_raw->size() != 32) {
    OPENSSL_cleanse(sk_raw->data(), sk_raw->size());
    return Fail(Code::kInvalidArgument, "request.private_key: expected base64url of a 32-byte X25519 private key, got " +
                                            std::to_string(sk_raw->size()) + " bytes");
  }
  auto sk_copy = SecretBytes::CopyFrom(*sk_raw);
  OPENSSL_cleanse(sk_raw->data(), sk_raw->size());
  if (!sk_copy) return std::move(sk_copy).error();
  SecretBytes sk = std::move(*sk_copy);
  std::string key_class = "model-weights";
  std::uint32_t version = 1;
  if (auto st = GetKeyStatus(ctx, tenant, name); st) {
    SIGIL_RETURN_IF_ERROR(CheckKeyExtendable(*st));
    key_class = st->latest.key_class;
    version = st->latest.version + 1;
  } else if (st.error().code() != Code::kNotFound) {
    return std::move(st).error();
  }
  if (body.contains("class")) {
    SIGIL_ASSIGN_OR_RETURN(std::string c, GetString(body, "class", "request"));
    if (c != "model-weights" && c != "dataset") return Fail(Code::kInvalidArgument, "request.class: expected 'model-weights' or 'dataset'");
    if (version > 1 && c != key_class) return Fail(Code::kInvalidArgument, "request.class: key '" + name + "' is " + key_class);
    key_class = c;
  }
  SIGIL_ASSIGN_OR_RETURN(KeyVersionRow row, ctx.keys->AddKeyVersion(tenant, name, key_class, version, UnixSeconds(ctx.now()), &sk));
  SIGIL_RETURN_IF_ERROR(AuditAdminAction(ctx, meta, tenant, "admin.key.import", name, version,
                              "operator-supplied key material imported (public key " + Base64UrlEncode(row.public_key) + ")"));
  return KeyJson(row);
}

Result<Json> AdminListKeys(const BrokerContext& ctx, const std::string& tenant) {
  SIGIL_RETURN_IF_ERROR(ctx.store->GetTenantKek(tenant));
  SIGIL_ASSIGN_OR_RETURN(auto rows, ctx.store->ListKeyVersions(tenant));
  Json out = Json::array();
  for (const auto& r : rows) out.push_back(KeyJson(r));
  return Json{{"keys", out}};
}

Result<Json> AdminPublicKey(const BrokerContext& ctx, const std::string& tenant, const std::string& key) {
  SIGIL_ASSIGN_OR_RETURN(KeyVersionRow k, ctx.store->LatestKeyVersion(tenant, key));
  // Encrypting new artifacts to a destroyed version would make them undecryptable.
  if (k.state == "destroyed") return KeyUnusable(k);
  // The public half model owners encrypt to is derived from the wrapped private key (AEAD-bound
  // to the root key, tenant and version), never taken from its row alone: whoever can write the
  // store (a shared database widens that circle) could otherwise hand owners a key of their own
  // and decrypt every model encrypted afterwards.
  SIGIL_RETURN_IF_ERROR(ctx.keys->CheckedPublicKey(k));
  return Json{{"type", "sigil-public-key"}, {"tenant", tenant}, {"key", key}, {"version", k.version},
              {"suite", "X25519-HKDF-SHA256-AES-256-GCM"}, {"public_key", Base64UrlEncode(k.public_key)}};
}

Result<Json> AdminGetPolicy(const BrokerContext& ctx, const std::string& tenant) {
  SIGIL_ASSIGN_OR_RETURN(auto p, ctx.store->GetPolicy(tenant));
  return Json{{"tenant", tenant}, {"policy_version", p.version}, {"policy", p.text}};
}

Result<Json> AdminAddReference(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant, const Json& body) {
  SIGIL_RETURN_IF_ERROR(ctx.store->GetTenantKek(tenant));
  SIGIL_ASSIGN_OR_RETURN(std::string set, GetString(body, "set", "request"));
  SIGIL_ASSIGN_OR_RETURN(std::string value, GetString(body, "value", "request"));
  SIGIL_RETURN_IF_ERROR(ValidateName(set, "reference set name"));
  if (value.empty() || value.size() > 512) return Fail(Code::kInvalidArgument, "request.value: 1 to 512 characters");
  // Values are shown in listings and audit records: no control characters (UTF-8 is already
  // guaranteed by the JSON reader).
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) return Fail(Code::kInvalidArgument, "request.value: control characters are not allowed");
  }
  SIGIL_RETURN_IF_ERROR(ctx.store->AddReference(tenant, set, value));
  SIGIL_RETURN_IF_ERROR(AuditAdminAction(ctx, meta, tenant, "admin.refs.add", "", 0, "added to reference set '" + set + "': " + value));
  return Json{{"tenant", tenant}, {"set", set}, {"value", value}};
}

Result<Json> AdminListReferences(const BrokerContext& ctx, const std::string& tenant) {
  SIGIL_RETURN_IF_ERROR(ctx.store->GetTenantKek(tenant));
  SIGIL_ASSIGN_OR_RETURN(auto refs, ctx.store->ListReferences(tenant));
  Json out = Json::object();
  for (const auto& [set, values] : refs) out[set] = Json(std::vector<std::string>(values.begin(), values.end()));
  return Json{{"tenant", tenant}, {"sets", out}};
}

Result<Json> AdminGetAudit(const BrokerContext& ctx, const std::string& tenant) {
  SIGIL_RETURN_IF_ERROR(ctx.store->GetTenantKek(tenant));
  // A consistent snapshot while others append (here or at other brokers of a fleet): the
  // checkpoint first, then the records, of which those appended after that checkpoint are left
  // for the next listing. Records only ever get added, so every record up to the checkpoint is
  // there; read the other way round, a newer checkpoint could cover records not listed and
  // `sigil audit verify` would fail on a sound log.
  SIGIL_ASSIGN_OR_RETURN(auto cp, ctx.store->GetCheckpoint(tenant));
  SIGIL_ASSIGN_OR_RETURN(auto rows, ctx.store->ListAudit(tenant));
  // Rows travel byte-exact (broker/audit/audit_wire.h): a damaged record is listed, not fatal.
  Json records = Json::array();
  for (const auto& r : rows) {
    if (cp && r.seq > cp->seq) continue;  // newer than the snapshot (rows with an unreadable seq, 0, stay)
    records.push_back(AuditRowToJson(r));
  }
  Json out{{"tenant", tenant}, {"records", records}};
  if (cp) out["checkpoint"] = CheckpointToJson(*cp);
  return out;
}

Result<Json> AdminQueryAudit(const BrokerContext& ctx, const std::string& tenant, const Json& body) {
  SIGIL_RETURN_IF_ERROR(ctx.store->GetTenantKek(tenant));
  AuditQuery q;
  if (body.contains("since_ms")) {
    SIGIL_ASSIGN_OR_RETURN(q.since_ms, GetInt(body, "since_ms", "request"));
  }
  if (body.contains("until_ms")) {
    SIGIL_ASSIGN_OR_RETURN(q.until_ms, GetInt(body, "until_ms", "request"));
  }
  if (body.contains("decision")) {
    SIGIL_ASSIGN_OR_RETURN(q.decision, GetString(body, "decision", "request"));
  }
  if (body.contains("key")) {
    SIGIL_ASSIGN_OR_RETURN(q.key, GetString(body, "key", "request"));
  }
  if (body.contains("after_seq")) {
    SIGIL_ASSIGN_OR_RETURN(std::int64_t a, GetInt(body, "after_seq", "request"));
    if (a < 0) return Fail(Code::kInvalidArgument, "request.after_seq: must be >= 0");
    q.after_seq = static_cast<std::uint64_t>(a);
  }
  if (body.contains("limit")) {
    SIGIL_ASSIGN_OR_RETURN(std::int64_t l, GetInt(body, "limit", "request"));
    if (l < 1 || l > 1000) return Fail(Code::kInvalidArgument, "request.limit: 1 to 1000");
    q.limit = static_cast<std::uint32_t>(l);
  }
  SIGIL_ASSIGN_OR_RETURN(auto rows, ctx.store->QueryAudit(tenant, q));
  Json records = Json::array();
  std::uint64_t last_seq = 0, paged = 0;
  for (const auto& r : rows) {
    records.push_back(AuditRowToJson(r));
    if (r.seq != 0) {  // rows with an unreadable seq come extra, first (AuditQuery)
      last_seq = r.seq;
      ++paged;
    }
  }
  Json out{{"tenant", tenant}, {"records", records}};
  if (paged == q.limit) out["next_after_seq"] = last_seq;
  return out;
}

Result<Json> AdminRegisterTpmAk(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant,
                                const Json& body) {
  SIGIL_RETURN_IF_ERROR(ctx.store->GetTenantKek(tenant));
  if (body.contains("ak_public")) return RegisterTpmAkPublic(ctx, meta, tenant, body);
  SIGIL_ASSIGN_OR_RETURN(std::string ak_text, GetString(body, "ak", "request"));
  SIGIL_ASSIGN_OR_RETURN(std::string name, AkLabel(body));
  Bytes spki;
  if (ak_text.rfind("-----BEGIN", 0) == 0) {
    spki = Bytes(ak_text.begin(), ak_text.end());
  } else {
    auto der = Base64UrlDecode(ak_text);
    if (!der) {
      return der.error().Wrap("request.ak: expected PEM or base64url DER SubjectPublicKeyInfo");
    }
    spki = std::move(*der);
  }
  // The verifier's own loader: only keys it would accept (RSA >= 2048, EC P-256/P-384).
  auto key = attestation::tpm::LoadAk(spki, Code::kInvalidArgument);
  if (!key) return std::move(key).error().Wrap("request.ak");
  SIGIL_ASSIGN_OR_RETURN(Bytes der, attestation::tpm::AkDer(**key));
  return PutTpmAk(ctx, meta, TpmAkRow{tenant, attestation::tpm::AkFingerprint(der), name, der, UnixSeconds(ctx.now()), {}});
}

Result<Json> AdminListTpmAks(const BrokerContext& ctx, const std::string& tenant) {
  SIGIL_RETURN_IF_ERROR(ctx.store->GetTenantKek(tenant));
  SIGIL_ASSIGN_OR_RETURN(auto rows, ctx.store->ListTpmAks(tenant));
  Json out = Json::array();
  for (const auto& r : rows) out.push_back(TpmAkJson(r));
  return Json{{"tenant", tenant}, {"aks", out}};
}

Result<Json> AdminRemoveTpmAk(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant,
                              const std::string& id) {
  SIGIL_RETURN_IF_ERROR(ctx.store->GetTenantKek(tenant));
  SIGIL_RETURN_IF_ERROR(ctx.store->DeleteTpmAk(tenant, id));
  SIGIL_RETURN_IF_ERROR(AuditAdminAction(ctx, meta, tenant, "admin.tpm.ak.remove", "", 0, "removed TPM AK " + id));
  return Json{{"tenant", tenant}, {"id", id}, {"removed", true}};
}

}  // namespace sigil::broker
