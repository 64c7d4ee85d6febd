// Normalised claims of a verified PSA token (README.md lists them). Thread-safety: pure.
#pragma once

#include <string>
#include <vector>

#include "attestation/cca/platform_claims.h"
#include "attestation/claims.h"

namespace sigil::attestation::cca {

// The `measurement` claim of a PSA token: lower-case hex of
//   SHA-256( for each software component, in token order: u32be(len(mv)) || mv )
// where mv is the component's measurement-value (2). One value over the whole booted image set,
// order-sensitive, unambiguous (length-prefixed). No components (no-sw-measurements): SHA-256("").
std::string MeasurementDigest(const std::vector<SwComponent>& sw);

// tee "psa", debug (lifecycle not secured), measurement, psa.* (the boot seed is not reported:
// it changes every boot and only serves to correlate tokens).
Claims PsaClaims(const PlatformClaims& token);

}  // namespace sigil::attestation::cca
