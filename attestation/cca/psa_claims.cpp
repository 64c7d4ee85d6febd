// attestation/cca/psa_claims.h
#include "attestation/cca/psa_claims.h"

#include "attestation/cca/lifecycle.h"
#include "core/digest.h"
#include "core/encoding.h"

namespace sigil::attestation::cca {

std::string MeasurementDigest(const std::vector<SwComponent>& sw) {
  Bytes input;
  for (const SwComponent& c : sw) {
    AppendU32(input, static_cast<std::uint32_t>(c.measurement.size()));
    input.insert(input.end(), c.measurement.begin(), c.measurement.end());
  }
  const Sha256Digest d = Sha256(input);
  return HexEncode(d);
}

Claims PsaClaims(const PlatformClaims& token) {
  Claims c;
  c.Set("tee", std::string("psa"));
  c.Set("debug", !IsSecuredLifecycle(token.lifecycle));
  c.Set("measurement", MeasurementDigest(token.sw));
  c.Set("psa.profile", token.profile);
  c.Set("psa.instance_id", HexEncode(token.instance_id));
  c.Set("psa.implementation_id", HexEncode(token.implementation_id));
  c.Set("psa.lifecycle", token.lifecycle);
  c.Set("psa.lifecycle_state", std::string(LifecycleStateName(token.lifecycle).value_or("")));
  if (token.client_id) c.Set("psa.client_id", *token.client_id);
  if (token.certification_reference) c.Set("psa.certification_reference", *token.certification_reference);
  if (token.verification_service) c.Set("psa.verification_service", *token.verification_service);
  AddSwComponentClaims(c, "psa.", token.sw);
  return c;
}

}  // namespace sigil::attestation::cca
