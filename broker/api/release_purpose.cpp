#include "broker/api/release_purpose.h"

#include "attestation/purpose.h"

namespace sigil::broker {

Result<std::string> CheckReleasePurpose(std::string_view key_class, const attestation::Claims& claims) {
  // Only a string claim counts: the verifiers emit workload.mode as a string, and a claim of
  // another type is not a proof of anything.
  std::optional<std::string> mode = claims.GetString("workload.mode");
  const std::string summary = "workload.mode=" + (mode ? *mode : std::string("unproven"));
  if (key_class == kKeyClassDataset) return summary;
  if (key_class != kKeyClassModelWeights) {
    return Fail(Code::kPermissionDenied, "key class '" + std::string(key_class) + "' has no release rule");
  }
  // A rewrap writes only ciphertext: the plaintext never leaves locked memory, chunk by chunk.
  if (mode && (*mode == attestation::kModeSealedMemory || *mode == attestation::kModeRewrap)) return summary;
  std::string why = mode ? "the evidence proves workload.mode '" + *mode + "'"
                         : "the evidence does not prove a workload.mode";
  return Fail(Code::kPermissionDenied,
              "purpose: a model-weights key is released only to a sealed in-memory load "
              "(workload.mode 'sealed-memory': sigil-load run or the C API) or a rewrap "
              "(workload.mode 'rewrap': sigil-load rewrap); " + why);
}

Result<void> CheckRewrapRequest(const attestation::Claims& claims, bool asked) {
  std::optional<std::string> mode = claims.GetString("workload.mode");
  const bool rewrap_mode = mode && *mode == attestation::kModeRewrap;
  if (asked && !rewrap_mode) {
    return Fail(Code::kPermissionDenied,
                "rewrap: only a workload whose evidence proves workload.mode 'rewrap' (sigil-load rewrap) may ask "
                "for the DEK sealed to another key version; this one proves " +
                    (mode ? "workload.mode '" + *mode + "'" : std::string("no workload.mode")));
  }
  if (!asked && rewrap_mode) {
    return Fail(Code::kPermissionDenied,
                "rewrap: a workload in workload.mode 'rewrap' is released a DEK only together with its reseal to "
                "the key's newest version (artifact member \"rewrap\": true)");
  }
  return Ok();
}

}  // namespace sigil::broker
