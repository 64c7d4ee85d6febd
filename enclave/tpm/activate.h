// TPM2_ActivateCredential (TCG TPM 2.0 Library Part 3 s.12.5) on the workload side of EK-based
// AK enrolment: the TPM decrypts the seed with the EK, checks the credential blob's HMAC over the
// AK's Name and returns the credential only if the AK (activateHandle) is loaded in this TPM.
#pragma once

#include <tss2/tss2_esys.h>

#include <functional>
#include <optional>
#include <string>

#include "core/bytes.h"
#include "core/json.h"
#include "core/result.h"
#include "core/secret_bytes.h"
#include "enclave/tpm/ak.h"
#include "enclave/tpm/esys.h"

namespace sigil::enclave::tpm {

// `credential_blob` is a marshalled TPM2B_ID_OBJECT, `encrypted_secret` a marshalled
// TPM2B_ENCRYPTED_SECRET (both as broker::MakeCredential and tpm2_makecredential produce them).
// `ak` is authorised with its (empty) password, `ek` with a PolicySecret(TPM_RH_ENDORSEMENT)
// policy session (EK profile policy A) that is flushed before returning. kInvalidArgument if
// the blobs do not parse; kVerificationFailed if the TPM refuses them (wrong EK, wrong AK Name,
// tampered blob: TPM_RC_INTEGRITY / TPM_RC_VALUE).
Result<SecretBytes> ActivateCredential(const EsysContext& ctx, ESYS_TR ak, ESYS_TR ek, ByteSpan credential_blob,
                                       ByteSpan encrypted_secret);

// The workload side of EK-based AK enrolment (docs/protocol.md "TPM AK enrolment by EK"):
// creates the RSA or ECC EK (ek.h), loads the AK (the primary of `kind`, or the persistent one at
// `ak_handle`), POSTs /v1/tpm/enrol/start, activates the credential and POSTs
// /v1/tpm/enrol/finish. `post(path, body)` sends a JSON request to the broker. `ek_cert`, if not
// empty, is sent instead of the EK public key (PEM or base64url DER certificate). Every transient
// handle is flushed. Returns the broker's finish answer ({tenant, id, tpm_name}).
struct EnrolOptions {
  std::string tcti;
  std::string tenant;
  AkKind kind = AkKind::kRsaSsaSha256;
  std::optional<TPM2_HANDLE> ak_handle;
  std::string ek_cert;
  bool ecc_ek = false;  // the P-256 EK (template L-2) instead of the RSA-2048 one (L-1)
};
using PostJson = std::function<Result<Json>(const std::string& path, const Json& body)>;
Result<Json> EnrolAkByEk(const EnrolOptions& options, const PostJson& post);

}  // namespace sigil::enclave::tpm
