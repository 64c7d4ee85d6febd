// EK-based AK enrolment, broker side, independent of HTTP (TCG TPM 2.0 Library
// Part 1 s.24 "Credential Protection"; the flow of the TCG "TPM 2.0 Keys for Device Identity and
// Attestation" s.6 "Identity Provisioning" with the broker as the CA):
//   Start:  the EK must be trusted for the tenant (a registered EK public key, or an EK
//           certificate chaining to a configured EK CA); the AK public area must be a restricted
//           signing key with fixedTPM | fixedParent | sensitiveDataOrigin | userWithAuth, not
//           adminWithPolicy. A fresh
//           32-byte secret is wrapped with MakeCredential(EK, AK Name) and kept (its hash) as a
//           pending enrolment in the store: single use, expiring after `ttl`.
//   Finish: the EK must still be trusted (an EK registration removed since the start ends every
//           enrolment started with it); the secret returned by the workload
//           (TPM2_ActivateCredential output) is compared, hashed, in constant time; the pending
//           entry is consumed whatever the outcome, at whichever broker finishes it. Success
//           proves the AK is loaded in the TPM that holds the EK's private key.
// Thread-safe.
#pragma once

#include <openssl/x509.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "broker/store/store.h"
#include "broker/tpm/tpm_credential.h"
#include "broker/tpm/tpm_seal_ak_public.h"
#include "core/bytes.h"
#include "core/ossl.h"
#include "core/result.h"
#include "core/secret_bytes.h"

namespace sigil::broker {

// The EK as the workload presents it: PEM or DER SubjectPublicKeyInfo, or PEM or DER X.509 EK
// certificate. `registered` are the tenant's registered EK SPKIs (DER); `ek_cas` the configured
// EK CA certificates (may be null). A certificate is accepted if it chains to `ek_cas` at `now`
// (X509_verify_cert) or its key is registered; a bare key only if registered.
// kPermissionDenied naming why otherwise; kInvalidArgument if `ek` does not parse.
Result<EvpPkeyPtr> TrustedEk(ByteSpan ek, const std::vector<Bytes>& registered, X509_STORE* ek_cas,
                             std::chrono::system_clock::time_point now);

// Loads a directory of PEM CA certificates (DATA/trust/tpm-ek-ca/*.pem) into a store; an absent
// directory gives an empty store. kInvalidArgument naming a file that does not parse.
Result<X509StorePtr> LoadEkCaDir(const std::string& dir);

// Parses `ak_public` (marshalled TPM2B_PUBLIC) with ParseAkPublic and additionally requires
// userWithAuth and a clear adminWithPolicy (see the .cpp: a public-only object must not be able
// to pass ActivateCredential's ADMIN authorisation).
Result<AkPublic> EnrollableAk(ByteSpan ak_public);

// The pending enrolments, kept in the store (Store::PutTpmEnrolment): a restart does not lose
// them, and any broker sharing the store can finish one (exactly one does, whoever races).
// What is stored is what the finish checks: tenant, EK as presented, AK, the SHA-256 of the
// secret (never the secret: a reader of the store must not be able to finish an enrolment for
// a TPM it does not hold) and expiry; the row is tagged as an authority row (store_auth.h).
// Thread-safe (holds only the ttl; the store is thread-safe).
class PendingEnrolments {
 public:
  // At most this many unexpired pending enrolments per tenant: the start is unauthenticated.
  static constexpr std::size_t kMaxPerTenant = 4096;

  explicit PendingEnrolments(std::chrono::seconds ttl = std::chrono::minutes(5)) : ttl_(ttl) {}

  struct Started {
    std::string enrolment_id;  // 32 hex characters, random
    MadeCredential credential;
  };
  // `ek` from TrustedEk, `ek_presented` the bytes it was made from (kept, so Finish can ask
  // whether that EK is still trusted), `ak` from EnrollableAk. The store's errors, among them
  // kUnavailable when the tenant has kMaxPerTenant pending.
  Result<Started> Start(Store& store, const std::string& tenant, EVP_PKEY* ek, Bytes ek_presented, AkPublic ak,
                        std::chrono::system_clock::time_point now);

  struct Finished {
    std::string tenant;
    AkPublic ak;
  };
  // Whether the EK an enrolment was started with (as presented) is still trusted for the
  // tenant now; its error is Finish's refusal. Trust is asked again at the finish because it can
  // be withdrawn meanwhile (DELETE /v1/admin/tenants/T/tpm-eks/ID).
  using EkStillTrusted = std::function<Result<void>(const std::string& tenant, ByteSpan ek_presented)>;
  // Consumes the enrolment whatever the outcome. kNotFound for an unknown or already used id
  // (the tenant is then unknown), kVerificationFailed (ALARM) for a stored row whose tag fails,
  // kExpired after the ttl, `still_trusted`'s error if the EK is no longer trusted,
  // kVerificationFailed for a wrong secret; the last three report the tenant in `tenant_out`
  // so the caller can write a deny audit record.
  Result<Finished> Finish(Store& store, const std::string& enrolment_id, ByteSpan secret,
                          std::chrono::system_clock::time_point now, const EkStillTrusted& still_trusted,
                          std::string* tenant_out);

 private:
  std::chrono::seconds ttl_;
};

}  // namespace sigil::broker
