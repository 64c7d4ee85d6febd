// Trust anchors for PSA/CCA platform tokens: the attestation public keys (CPAK for CCA, IAK for
// PSA) an operator configures, each optionally pinned to the instance id (claim 256) it signs for.
// Thread-safety: an AnchorSet is immutable after Create(); lookups are thread-safe.
#pragma once

#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/cose_sign1.h"
#include "core/ossl.h"
#include "core/result.h"

namespace sigil::attestation::cca {

struct KeyAnchor {
  // An EC P-256 or P-384 public key: PEM or DER SubjectPublicKeyInfo, or a JWK (JSON text).
  Bytes key;
  // The instance id (claim 256, the UEID: 0x01 then 32 bytes) this key signs for. Empty: the key
  // is accepted for any instance id (one-device setups, the CLI's --trust-anchor); the instance
  // id is still reported as a claim, so a policy can pin it.
  Bytes instance_id;
};

// Splits trust-anchor files as operators supply them into unpinned anchors: a PEM file may hold
// several PUBLIC KEY blocks (one anchor each; text outside the blocks is ignored, as PEM allows);
// a JSON file is one JWK or a JWK Set {"keys": [...]} (one anchor per key); anything else is one
// DER SubjectPublicKeyInfo. kInvalidArgument naming `what`[i] if a file holds no key or a key
// does not parse (so a bundle never loses a key silently).
Result<std::vector<KeyAnchor>> KeyAnchorsFromFiles(const std::vector<Bytes>& files, std::string_view what);

class AnchorSet {
 public:
  // kInvalidArgument naming `what`[i] if there is no anchor, a key does not parse, or an
  // instance id is set but is not 33 bytes starting 0x01 (RFC 9783 section 4.2.1, UEID type RAND).
  static Result<AnchorSet> Create(const std::vector<KeyAnchor>& anchors, std::string_view what);

  // The keys to try for a token whose instance id is `instance_id`: the anchors pinned to exactly
  // that id if there are any, otherwise every unpinned anchor. Never a key pinned to another id.
  std::vector<const EVP_PKEY*> Candidates(ByteSpan instance_id) const;

 private:
  struct Entry {
    EvpPkeyPtr key;
    Bytes instance_id;
  };
  std::vector<Entry> entries_;
};

// Verifies `token` with the candidates for `instance_id`. kVerificationFailed naming `what` and
// the instance id (hex) if there is no candidate or none verifies.
Result<void> VerifyWithAnchors(const cose::Sign1& token, const AnchorSet& anchors, ByteSpan instance_id,
                               std::string_view what);

}  // namespace sigil::attestation::cca
