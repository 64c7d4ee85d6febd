#include "broker/tpm/tpm_enrol.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <tss2/tss2_mu.h>

#include <algorithm>
#include <filesystem>

#include "core/digest.h"
#include "core/encoding.h"
#include "core/file_io.h"

namespace sigil::broker {
namespace {

using X509StoreCtxPtr = CPtr<X509_STORE_CTX, X509_STORE_CTX_free>;

std::int64_t MillisOf(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool IsPem(ByteSpan b, std::string_view tag) {
  std::string_view s(reinterpret_cast<const char*>(b.data()), b.size());
  return s.find(std::string("-----BEGIN ") + std::string(tag) + "-----") != std::string_view::npos;
}

Result<Bytes> SpkiDer(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key, &der);
  if (len <= 0) return OpenSslError(Code::kInternal, "EK: cannot encode its SubjectPublicKeyInfo");
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

}  // namespace

Result<X509StorePtr> LoadEkCaDir(const std::string& dir) {
  X509StorePtr store(X509_STORE_new());
  if (!store) return OpenSslError(Code::kInternal, "X509_STORE_new");
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return store;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() != ".pem") continue;
    SIGIL_ASSIGN_OR_RETURN(Bytes pem, ReadFile(entry.path().string(), 1 << 20));
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    int n = 0;
    while (X509* raw = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
      X509Ptr cert(raw);
      if (X509_STORE_add_cert(store.get(), cert.get()) != 1) {
        return OpenSslError(Code::kInvalidArgument, "EK CA " + entry.path().string() + ": cannot add certificate");
      }
      ++n;
    }
    ERR_clear_error();  // the loop ends on "no start line"
    if (n == 0) return Fail(Code::kInvalidArgument, "EK CA " + entry.path().string() + ": no PEM certificate");
  }
  return store;
}

Result<EvpPkeyPtr> TrustedEk(ByteSpan ek, const std::vector<Bytes>& registered, X509_STORE* ek_cas,
                             std::chrono::system_clock::time_point now) {
  X509Ptr cert;
  EvpPkeyPtr key;
  BioPtr bio(BIO_new_mem_buf(ek.data(), static_cast<int>(ek.size())));
  if (IsPem(ek, "CERTIFICATE")) {
    cert.reset(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  } else if (IsPem(ek, "PUBLIC KEY")) {
    key.reset(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  } else {
    const unsigned char* p = ek.data();
    cert.reset(d2i_X509(nullptr, &p, static_cast<long>(ek.size())));
    if (!cert || p != ek.data() + ek.size()) {
      cert.reset();
      p = ek.data();
      key.reset(d2i_PUBKEY(nullptr, &p, static_cast<long>(ek.size())));
      if (key && p != ek.data() + ek.size()) key.reset();
    }
  }
  ERR_clear_error();
  if (cert) key.reset(X509_get_pubkey(cert.get()));
  if (!key) {
    return Fail(Code::kInvalidArgument, "ek: expected a PEM/DER SubjectPublicKeyInfo or X.509 EK certificate");
  }
  SIGIL_ASSIGN_OR_RETURN(Bytes spki, SpkiDer(key.get()));
  for (const Bytes& r : registered) {
    if (r == spki) return key;
  }
  if (!cert) return Fail(Code::kPermissionDenied, "ek: this EK public key is not registered for the tenant");
  if (!ek_cas) return Fail(Code::kPermissionDenied, "ek: certificate given but no EK CA is configured");
  // TCG EK Credential Profile s.3.2: an EK certificate with an empty subject carries a critical
  // subjectAltName (TPM manufacturer, model, version as a directoryName); OpenSSL handles SAN,
  // so the default rule (refuse any *unhandled* critical extension) stays on. The EK's
  // keyUsage is keyEncipherment only, which X509_verify_cert does not check for the leaf
  // without a purpose, as intended: the EK never signs.
  X509StoreCtxPtr sctx(X509_STORE_CTX_new());
  if (!sctx || X509_STORE_CTX_init(sctx.get(), ek_cas, cert.get(), nullptr) != 1) {
    return OpenSslError(Code::kInternal, "EK certificate: X509_STORE_CTX_init");
  }
  X509_STORE_CTX_set_time(sctx.get(), 0, std::chrono::system_clock::to_time_t(now));
  if (X509_verify_cert(sctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(sctx.get());
    ERR_clear_error();
    return Fail(Code::kPermissionDenied, std::string("ek: certificate does not chain to a configured EK CA (") +
                                             X509_verify_cert_error_string(err) + ")");
  }
  return key;
}

Result<AkPublic> EnrollableAk(ByteSpan ak_public) {
  TPM2B_PUBLIC pub{};
  size_t off = 0;
  if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(ak_public.data(), ak_public.size(), &off, &pub) == TSS2_RC_SUCCESS &&
      off == ak_public.size()) {
    const TPMA_OBJECT a = pub.publicArea.objectAttributes;
    if (!(a & TPMA_OBJECT_USERWITHAUTH)) {
      return Fail(Code::kInvalidArgument, "AK public area (TPM2B_PUBLIC): userWithAuth is not set");
    }
    // ActivateCredential authorises activateHandle in the ADMIN role (Part 3 s.12.5). With
    // adminWithPolicy clear that needs the object's authValue, which a public-only object
    // (TPM2_LoadExternal of a forged public area claiming fixedTPM) does not have; with it set,
    // a forged authPolicy could be satisfiable. So it must be clear.
    if (a & TPMA_OBJECT_ADMINWITHPOLICY) {
      return Fail(Code::kInvalidArgument, "AK public area (TPM2B_PUBLIC): adminWithPolicy must be clear");
    }
  }
  return ParseAkPublic(ak_public);  // restricted signing, fixedTPM, fixedParent, sensitiveDataOrigin
}

Result<PendingEnrolments::Started> PendingEnrolments::Start(Store& store, const std::string& tenant, EVP_PKEY* ek,
                                                            Bytes ek_presented, AkPublic ak,
                                                            std::chrono::system_clock::time_point now) {
  SIGIL_ASSIGN_OR_RETURN(SecretBytes secret, SecretBytes::Random(32));
  SIGIL_ASSIGN_OR_RETURN(MadeCredential made, MakeCredential(ek, ak.name, secret));
  std::uint8_t id[16];
  if (RAND_bytes(id, sizeof id) != 1) return OpenSslError(Code::kInternal, "enrolment id");
  // The hash suffices: the secret is 32 random bytes, so it cannot be recovered from its
  // SHA-256, and whoever reads the store learns nothing that finishes the enrolment.
  const Sha256Digest hash = Sha256(secret.Reveal(SecretAccess::Get()));
  TpmEnrolmentRow row{HexEncode(id), tenant, std::move(ek_presented), std::move(ak.spki_der), std::move(ak.name),
                      Bytes(hash.begin(), hash.end()), MillisOf(now + ttl_), {}};
  SIGIL_RETURN_IF_ERROR(store.PutTpmEnrolment(row, now, kMaxPerTenant));
  return Started{std::move(row.id), std::move(made)};
}

Result<PendingEnrolments::Finished> PendingEnrolments::Finish(Store& store, const std::string& enrolment_id,
                                                              ByteSpan secret, std::chrono::system_clock::time_point now,
                                                              const EkStillTrusted& still_trusted,
                                                              std::string* tenant_out) {
  // Ids are 32 hex characters; anything else was never issued (and is not sent to the store).
  if (enrolment_id.size() != 32 || !IsLowerHex(enrolment_id)) {
    return Fail(Code::kNotFound, "enrolment " + enrolment_id.substr(0, 64) + " is unknown or already used");
  }
  // Single use, whatever the outcome: taken (deleted) before any check.
  SIGIL_ASSIGN_OR_RETURN(TpmEnrolmentRow p, store.TakeTpmEnrolment(enrolment_id));
  if (tenant_out) *tenant_out = p.tenant;
  if (MillisOf(now) > p.expires_ms) return Fail(Code::kExpired, "enrolment " + enrolment_id + " expired");
  if (auto trusted = still_trusted(p.tenant, p.ek); !trusted) {
    return trusted.error().Wrap("enrolment " + enrolment_id + ": its EK is no longer trusted for tenant '" + p.tenant + "'");
  }
  if (!ConstantTimeEqual(Sha256(secret), p.secret_hash)) {
    return Fail(Code::kVerificationFailed,
                "enrolment " + enrolment_id + ": wrong secret (the AK is not in the TPM holding that EK)");
  }
  return Finished{p.tenant, AkPublic{std::move(p.ak_spki), std::move(p.ak_name)}};
}

}  // namespace sigil::broker
