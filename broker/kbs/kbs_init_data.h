// KBS init-data (RCAR 0.4.0 "init-data": {"format": "toml", "body": TOML text}) as Trustee's
// attestation service binds it: the digest of the body's bytes, with the hash the TOML's own
// `algorithm` names, must equal the TEE field the host set at launch and the hardware signed:
//   tdx      MRCONFIGID (48 bytes; a shorter digest is zero-padded, a longer one truncated)
//   sev-snp  HOST_DATA (32 bytes; same rule)
//   cca      the realm personalization value (64 bytes, compared exactly: SHA-512 only)
// Trustee only warns and skips the check for TEEs without such a field; Sigil refuses the
// attestation instead, so no policy can believe init-data was bound when nothing bound it.
#pragma once

#include <string>

#include "attestation/claims.h"
#include "core/bytes.h"
#include "core/json.h"
#include "core/result.h"

namespace sigil::broker {

// Largest init-data body accepted (bytes): real init-data (policy, aa.toml, cdh.toml) is a few KiB.
inline constexpr std::size_t kMaxInitDataBytes = 64 * 1024;

struct KbsInitData {
  std::string body;       // the TOML text, exactly as sent (the digest is over these bytes)
  std::string algorithm;  // "sha256", "sha384" or "sha512", from the TOML
  Bytes digest;           // algorithm(body)
};

// Checks the shape of the request's "init-data" value and parses its TOML (version, algorithm,
// an optional [data] table of strings). Errors are kInvalidArgument naming the member.
Result<KbsInitData> ParseKbsInitData(const Json& init_data);

// Checks the digest against the field of `sigil_tee`'s verified claims (see above) and, on
// success, records it as the claim "kbs.init_data_digest" (hex) for policies and the EAR.
// kVerificationFailed when the field differs; kInvalidArgument when the TEE has no such field.
Result<void> BindKbsInitData(const KbsInitData& init_data, const std::string& sigil_tee, attestation::Claims& claims);

}  // namespace sigil::broker
