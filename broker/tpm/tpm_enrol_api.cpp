#include "broker/tpm/tpm_enrol_api.h"

#include <openssl/pem.h>

#include <filesystem>

#include "attestation/tpm/verifier.h"
#include "broker/audit/audit_log.h"
#include "broker/audit/unauth_activity.h"
#include "broker/store/store.h"
#include "core/encoding.h"
#include "core/file_io.h"
#include "core/names.h"

namespace sigil::broker {
namespace {

// Writes one workload-side enrolment record to the tenant's audit log.
Result<void> AuditEnrol(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant,
                        const std::string& action, const std::string& decision, const std::string& reason) {
  AuditEvent ev{meta.request_id, "anonymous", action, "", 0, decision, reason, "", meta.client, "tpm", ""};
  if (auto r = ctx.audit->Append(tenant, ev); !r) return std::move(r).error();  // keeps the store's reason
  return Ok();
}

// Refusal with a deny record when the tenant exists (so unknown tenants cannot fill audit logs).
Result<Json> Deny(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant,
                  const std::string& action, Error e) {
  if (!tenant.empty() && ctx.store->GetTenantKek(tenant)) {
    SIGIL_RETURN_IF_ERROR(AuditEnrol(ctx, meta, tenant, action, "deny", e.message()));
  }
  return Unexpected<Error>(std::move(e));
}

// PEM text as is, else base64url DER.
Result<Bytes> KeyOrCertBytes(const std::string& text, const std::string& where) {
  if (text.rfind("-----BEGIN", 0) == 0) return Bytes(text.begin(), text.end());
  auto der = Base64UrlDecode(text);
  if (!der) return Fail(Code::kInvalidArgument, where + ": expected PEM, or base64url DER (" + der.error().message() + ")");
  return std::move(*der);
}

Result<std::vector<Bytes>> RegisteredEks(const TpmEnrolment& e, const std::string& tenant) {
  std::vector<Bytes> out;
  std::error_code ec;
  std::string dir = e.EkDir(tenant);
  if (!std::filesystem::is_directory(dir, ec)) return out;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() != ".pem") continue;
    SIGIL_ASSIGN_OR_RETURN(Bytes pem, ReadFile(entry.path().string(), 1 << 16));
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    EvpPkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
    unsigned char* der = nullptr;
    int len = key ? i2d_PUBKEY(key.get(), &der) : 0;
    if (len <= 0) return OpenSslError(Code::kInternal, "registered EK " + entry.path().string() + " does not parse");
    out.emplace_back(der, der + len);
    OPENSSL_free(der);
  }
  return out;
}

// Enrolment starts are unauthenticated and reach no decision (the finish does): they are counted
// in the tenant's per-interval summary (broker/audit/unauth_activity.h), never one record each.
Result<Json> CountStart(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant,
                        Result<Json> outcome) {
  if (ctx.unauth) {
    SIGIL_RETURN_IF_ERROR(ctx.unauth->Record(tenant, "tpm.enrol.start", outcome ? "ok" : "deny", meta.client, ctx.now()));
  }
  return outcome;
}

Result<TpmEnrolment*> Enrolment(const BrokerContext& ctx) {
  if (!ctx.tpm_enrol) return Fail(Code::kUnavailable, "TPM enrolment is not enabled on this broker");
  return ctx.tpm_enrol;
}

// The checks and credential of an enrolment start for an existing tenant.
Result<Json> StartEnrolment(const BrokerContext& ctx, TpmEnrolment& e, const std::string& tenant, const Json& body) {
  SIGIL_ASSIGN_OR_RETURN(std::string ek_text, GetString(body, "ek", "request"));
  SIGIL_ASSIGN_OR_RETURN(Bytes ek_bytes, KeyOrCertBytes(ek_text, "request.ek"));
  SIGIL_ASSIGN_OR_RETURN(std::string ak_text, GetString(body, "ak_public", "request"));
  auto ak_blob = Base64UrlDecode(ak_text);
  if (!ak_blob) return ak_blob.error().Wrap("request.ak_public: expected base64url of a TPM2B_PUBLIC");
  SIGIL_ASSIGN_OR_RETURN(std::vector<Bytes> registered, RegisteredEks(e, tenant));
  SIGIL_ASSIGN_OR_RETURN(auto ek, TrustedEk(ek_bytes, registered, e.ek_cas(), ctx.now()));
  auto ak = EnrollableAk(*ak_blob);
  if (!ak) return Unexpected<Error>(ak.error().Wrap("request.ak_public"));
  SIGIL_ASSIGN_OR_RETURN(auto started, e.pending().Start(*ctx.store, tenant, ek.get(), std::move(ek_bytes),
                                                         std::move(*ak), ctx.now()));
  return Json{{"enrolment_id", started.enrolment_id},
              {"credential_blob", Base64UrlEncode(started.credential.credential_blob)},
              {"encrypted_secret", Base64UrlEncode(started.credential.encrypted_secret)}};
}

// The EK's file, after checking the id strictly: it becomes part of a path.
Result<std::string> EkFile(const TpmEnrolment& e, const std::string& tenant, const std::string& id) {
  SIGIL_RETURN_IF_ERROR(attestation::tpm::ValidateFingerprint(id, "TPM EK id"));
  return e.EkDir(tenant) + "/" + id + ".pem";
}

}  // namespace

Result<std::unique_ptr<TpmEnrolment>> TpmEnrolment::Open(const std::string& data_dir) {
  SIGIL_ASSIGN_OR_RETURN(X509StorePtr cas, LoadEkCaDir(data_dir + "/trust/tpm-ek-ca"));
  return std::unique_ptr<TpmEnrolment>(new TpmEnrolment(data_dir, std::move(cas)));
}

std::string TpmEnrolment::EkDir(const std::string& tenant) const { return data_dir_ + "/trust/tpm-eks/" + tenant; }

Result<Json> HandleTpmEnrolStart(const BrokerContext& ctx, const RequestMeta& meta, const Json& body) {
  SIGIL_ASSIGN_OR_RETURN(TpmEnrolment * e, Enrolment(ctx));
  SIGIL_ASSIGN_OR_RETURN(std::string tenant, GetString(body, "tenant", "request"));
  SIGIL_RETURN_IF_ERROR(ValidateName(tenant, "request.tenant"));
  SIGIL_RETURN_IF_ERROR(ctx.store->GetTenantKek(tenant));
  return CountStart(ctx, meta, tenant, StartEnrolment(ctx, *e, tenant, body));
}

Result<Json> HandleTpmEnrolFinish(const BrokerContext& ctx, const RequestMeta& meta, const Json& body) {
  SIGIL_ASSIGN_OR_RETURN(TpmEnrolment * e, Enrolment(ctx));
  SIGIL_ASSIGN_OR_RETURN(std::string id, GetString(body, "enrolment_id", "request"));
  SIGIL_ASSIGN_OR_RETURN(std::string secret_text, GetString(body, "secret", "request"));
  auto secret = Base64UrlDecode(secret_text);
  if (!secret) return secret.error().Wrap("request.secret");
  std::string tenant;
  const std::string action = "tpm.enrol.finish";
  // Trust in the EK is checked again (it may have been removed since the start), and the AK is
  // stored before a removal can slip in between (ek_trust_mutex).
  auto still_trusted = [&ctx, e](const std::string& t, ByteSpan ek) -> Result<void> {
    SIGIL_ASSIGN_OR_RETURN(std::vector<Bytes> registered, RegisteredEks(*e, t));
    SIGIL_RETURN_IF_ERROR(TrustedEk(ek, registered, e->ek_cas(), ctx.now()));
    return Ok();
  };
  std::unique_lock<std::mutex> trust_lock(e->ek_trust_mutex());
  auto done = e->pending().Finish(*ctx.store, id, *secret, ctx.now(), still_trusted, &tenant);
  if (!done) {
    trust_lock.unlock();
    return Deny(ctx, meta, tenant, action, done.error());
  }
  TpmAkRow row{done->tenant, attestation::tpm::AkFingerprint(done->ak.spki_der), "ek-enrolled", done->ak.spki_der,
               UnixSeconds(ctx.now()), done->ak.name};
  auto put = ctx.store->PutTpmAk(row);
  trust_lock.unlock();
  if (!put) return Deny(ctx, meta, tenant, action, put.error());
  SIGIL_RETURN_IF_ERROR(AuditEnrol(ctx, meta, tenant, action, "allow",
                                   "enrolled TPM AK " + row.id + " by EK credential activation, TPM Name " +
                                       HexEncode(row.tpm_name)));
  return Json{{"tenant", row.tenant}, {"id", row.id}, {"tpm_name", HexEncode(row.tpm_name)}};
}

Result<Json> AdminRegisterTpmEk(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant,
                                const Json& body) {
  SIGIL_ASSIGN_OR_RETURN(TpmEnrolment * e, Enrolment(ctx));
  SIGIL_RETURN_IF_ERROR(ValidateName(tenant, "tenant"));
  SIGIL_RETURN_IF_ERROR(ctx.store->GetTenantKek(tenant));
  SIGIL_ASSIGN_OR_RETURN(std::string text, GetString(body, "ek", "request"));
  SIGIL_ASSIGN_OR_RETURN(Bytes bytes, KeyOrCertBytes(text, "request.ek"));
  // TrustedEk's parser; registering is what makes it trusted, so pass the key itself.
  BioPtr bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
  EvpPkeyPtr key;
  if (text.rfind("-----BEGIN PUBLIC KEY", 0) == 0) {
    key.reset(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  } else if (text.rfind("-----BEGIN CERTIFICATE", 0) == 0) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (cert) key.reset(X509_get_pubkey(cert.get()));
  } else {
    const unsigned char* p = bytes.data();
    key.reset(d2i_PUBKEY(nullptr, &p, static_cast<long>(bytes.size())));
  }
  if (!key) return OpenSslError(Code::kInvalidArgument, "request.ek: not a PEM/DER public key or PEM certificate");
  // What MakeCredential supports (EK profile templates L-1 and L-2).
  const bool rsa = EVP_PKEY_is_a(key.get(), "RSA") && EVP_PKEY_get_bits(key.get()) == 2048;
  const bool p256 = EVP_PKEY_is_a(key.get(), "EC") && EVP_PKEY_get_bits(key.get()) == 256;
  if (!rsa && !p256) {
    return Fail(Code::kInvalidArgument, "request.ek: only RSA-2048 and NIST P-256 endorsement keys are supported");
  }
  BioPtr out(BIO_new(BIO_s_mem()));
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key.get(), &der);
  if (len <= 0 || PEM_write_bio_PUBKEY(out.get(), key.get()) != 1) {
    OPENSSL_free(der);
    return OpenSslError(Code::kInternal, "request.ek: cannot encode");
  }
  std::string id = attestation::tpm::AkFingerprint(ByteSpan(der, static_cast<std::size_t>(len)));
  OPENSSL_free(der);
  char* pem = nullptr;
  long pem_len = BIO_get_mem_data(out.get(), &pem);
  std::error_code ec;
  std::filesystem::create_directories(e->EkDir(tenant), ec);
  if (ec) return Fail(Code::kUnavailable, "cannot create " + e->EkDir(tenant) + ": " + ec.message());
  SIGIL_RETURN_IF_ERROR(WriteFileAtomic(e->EkDir(tenant) + "/" + id + ".pem",
                                        ByteSpan(reinterpret_cast<const std::uint8_t*>(pem), pem_len), 0644));
  AuditEvent ev{meta.request_id, "admin:" + meta.admin_cn, "admin.tpm.ek.register", "", 0, "ok",
                "registered TPM EK " + id, "", meta.client, "", ""};
  if (auto r = ctx.audit->Append(tenant, ev); !r) return std::move(r).error();
  return Json{{"tenant", tenant}, {"id", id}};
}

Result<Json> AdminListTpmEks(const BrokerContext& ctx, const std::string& tenant) {
  SIGIL_ASSIGN_OR_RETURN(TpmEnrolment * e, Enrolment(ctx));
  SIGIL_RETURN_IF_ERROR(ValidateName(tenant, "tenant"));
  SIGIL_RETURN_IF_ERROR(ctx.store->GetTenantKek(tenant));
  SIGIL_ASSIGN_OR_RETURN(std::vector<Bytes> eks, RegisteredEks(*e, tenant));
  Json ids = Json::array();
  for (const Bytes& der : eks) ids.push_back(attestation::tpm::AkFingerprint(der));
  return Json{{"tenant", tenant}, {"eks", ids}};
}

Result<Json> AdminRemoveTpmEk(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant,
                              const std::string& id) {
  SIGIL_ASSIGN_OR_RETURN(TpmEnrolment * e, Enrolment(ctx));
  SIGIL_RETURN_IF_ERROR(ValidateName(tenant, "tenant"));
  SIGIL_RETURN_IF_ERROR(ctx.store->GetTenantKek(tenant));
  SIGIL_ASSIGN_OR_RETURN(std::string file, EkFile(*e, tenant, id));
  {
    std::lock_guard<std::mutex> lock(e->ek_trust_mutex());
    std::error_code ec;
    const bool removed = std::filesystem::remove(file, ec);
    if (ec) return Fail(Code::kUnavailable, "cannot remove " + file + ": " + ec.message());
    if (!removed) return Fail(Code::kNotFound, "tenant '" + tenant + "' has no registered TPM EK " + id);
  }
  AuditEvent ev{meta.request_id, "admin:" + meta.admin_cn, "admin.tpm.ek.remove", "", 0, "ok",
                "removed TPM EK " + id, "", meta.client, "", ""};
  if (auto r = ctx.audit->Append(tenant, ev); !r) return std::move(r).error();
  return Json{{"tenant", tenant}, {"id", id}, {"removed", true}};
}

}  // namespace sigil::broker
