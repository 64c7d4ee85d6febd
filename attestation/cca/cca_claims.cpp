// attestation/cca/cca_claims.h
#include "attestation/cca/cca_claims.h"

#include <string>

#include "attestation/cca/lifecycle.h"
#include "core/encoding.h"

namespace sigil::attestation::cca {

Claims CcaClaims(const PlatformClaims& platform, const RealmClaims& realm) {
  Claims c;
  c.Set("tee", std::string("cca"));
  // Any state but secured leaves the platform's root of trust open to debug or provisioning.
  c.Set("debug", !IsSecuredLifecycle(platform.lifecycle));
  c.Set("measurement", HexEncode(realm.rim));
  c.Set("cca.realm.rim", HexEncode(realm.rim));
  for (std::size_t i = 0; i < realm.rems.size(); ++i) {
    c.Set("cca.realm.rem." + std::to_string(i), HexEncode(realm.rems[i]));
  }
  c.Set("cca.realm.personalization", HexEncode(realm.personalization));
  c.Set("cca.realm.hash_alg", realm.measurement_hash_alg);
  c.Set("cca.realm.public_key", HexEncode(realm.rak));
  c.Set("cca.realm.public_key_hash_alg", realm.rak_hash_alg);
  if (realm.profile) c.Set("cca.realm.profile", *realm.profile);
  c.Set("cca.platform.profile", platform.profile);
  c.Set("cca.platform.implementation_id", HexEncode(platform.implementation_id));
  c.Set("cca.platform.instance_id", HexEncode(platform.instance_id));
  c.Set("cca.platform.lifecycle", platform.lifecycle);
  c.Set("cca.platform.lifecycle_state", std::string(LifecycleStateName(platform.lifecycle).value_or("")));
  if (platform.config) c.Set("cca.platform.config", HexEncode(*platform.config));
  if (platform.hash_alg) c.Set("cca.platform.hash_alg", *platform.hash_alg);
  if (platform.verification_service) {
    c.Set("cca.platform.verification_service", *platform.verification_service);
  }
  AddSwComponentClaims(c, "cca.platform.", platform.sw);
  return c;
}

}  // namespace sigil::attestation::cca
