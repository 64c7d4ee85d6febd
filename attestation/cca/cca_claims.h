// Normalised claims of a verified CCA token (README.md lists them). Thread-safety: pure.
#pragma once

#include "attestation/cca/platform_claims.h"
#include "attestation/cca/realm_claims.h"
#include "attestation/claims.h"

namespace sigil::attestation::cca {

// tee "cca", debug (lifecycle not secured), measurement (hex RIM), cca.realm.*, cca.platform.*.
Claims CcaClaims(const PlatformClaims& platform, const RealmClaims& realm);

}  // namespace sigil::attestation::cca
