// The "tpm" mode of the root key file (root_key.h): the root key sealed to a TPM 2.0
// (tpm_seal.h). The file is JSON, written atomically 0600:
//   {"type": "sigil-root-key", "mode": "tpm", "version": 1,
//    "srk": "owner/ecc-p256"          (the primary the object is sealed under, re-created each time)
//    "tcti": "swtpm:host=...,port=..." (default TCTI for `sigild serve`; --tpm-tcti overrides),
//    "pcrs": "sha256:0,7", "policy_digest": "<hex SHA-256>", "password": false,
//    "public": b64url(TPM2B_PUBLIC), "private": b64url(TPM2B_PRIVATE)}
// Nothing here is secret: the private area is encrypted by the TPM under the SRK.
#pragma once

#include <string>

#include "broker/keys/root_key.h"
#include "broker/tpm/tpm_seal.h"
#include "core/json.h"
#include "core/result.h"
#include "core/secret_bytes.h"

namespace sigil::broker {

inline constexpr int kTpmRootKeyVersion = 1;

// Opens the TPM at spec.tcti and seals `root` to spec.pcrs' current values.
Result<Json> SealRootKey(const SecretBytes& root, const TpmSealSpec& spec);

// The fields of a "tpm" root key file, checked and decoded but not yet given to a TPM.
struct TpmRootKeyFile {
  std::string tcti;       // default TCTI recorded at seal time
  std::string pcrs_text;  // as written in the file, for messages
  SealedObject sealed;
};

// Parses the file's JSON (untrusted until the TPM accepts the sealed object): version, srk, hex
// policy digest, base64url public/private areas, PCR selection. kInvalidArgument naming `path`.
Result<TpmRootKeyFile> ParseTpmRootKeyFile(const Json& file, const std::string& path);

// Unseals the root key described by `file` (read from `path`, for messages). When the PCRs
// changed, kVerificationFailed whose message names the PCRs and the recovery command
// (`sigild recover-root-key`, docs/threat-model.md "Root key protection").
Result<SecretBytes> UnsealRootKey(const Json& file, const std::string& path, const RootKeyUnlock& unlock);

}  // namespace sigil::broker
