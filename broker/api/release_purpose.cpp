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
  if (mode && *mode == attestation::kModeSealedMemory) return summary;
  std::string why = mode ? "the evidence proves workload.mode '" + *mode + "'"
                         : "the evidence does not prove a workload.mode";
  return Fail(Code::kPermissionDenied,
              "purpose: a model-weights key is released only to a sealed in-memory load "
              "(workload.mode 'sealed-memory': sigil-load run or the C API); " + why);
}

}  // namespace sigil::broker
