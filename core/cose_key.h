// COSE_Key (RFC 9052 section 7, RFC 9053 section 7.1.1): EC2 public keys on P-256/P-384.
// Thread-safety: thread-safe.
#pragma once

#include <string_view>

#include "core/cbor.h"
#include "core/ossl.h"
#include "core/result.h"

namespace sigil::cose {

// An EC2 public key from a decoded COSE_Key map: kty (1) = 2, crv (-1) = 1 (P-256) or 2 (P-384),
// x (-2) and y (-3) byte strings of the coordinate size. A private key (-4), a compressed y
// (boolean) or any other kty/crv is refused with kMalformedEvidence naming `what`; the point must
// lie on the curve. Other labels (kid, alg, key_ops) are ignored.
Result<EvpPkeyPtr> PublicKeyFromCoseKey(const cbor_item_t* map, std::string_view what);

}  // namespace sigil::cose
