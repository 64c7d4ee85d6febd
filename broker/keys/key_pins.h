// Provenance pins of a key (issue 12, "who made the model"): the model owners whose signature a
// release of this key requires, and optionally the only artifact ids it may release. The
// recipient key is public, so without pins anyone (the host included) can encrypt weights to it;
// with pins the broker releases a DEK only for a container a pinned owner signed
// (loader/FORMAT.md "Signature trailer", docs/protocol.md release "signature").
//
// Pins carry authority, so they are tagged like the store's authority rows (store_auth.h):
// HMAC-SHA256 under a root-derived key (KeyService::AuthorityTag, label "sigil/key-pins-mac/v1")
// over tenant, key and content. They live in the store's meta table under "key_pins/TENANT/KEY"
// (both backends). As with every tagged row, a writer of the store can delete them (which lifts
// the requirement) or put back an older tagged value: docs/threat-model.md.
// Thread-safe (no shared state).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "broker/keys/key_service.h"
#include "broker/store/store.h"
#include "core/bytes.h"
#include "core/digest.h"
#include "core/json.h"
#include "core/result.h"

namespace sigil::broker {

struct KeyPins {
  std::vector<Bytes> owners;              // raw Ed25519 public keys, sorted, unique
  std::vector<std::string> artifact_ids;  // lowercase hex, sorted, unique; empty = any signed artifact
  bool requires_signature() const { return !owners.empty(); }
  friend bool operator==(const KeyPins&, const KeyPins&) = default;
};

// The admin request body {"owners": [base64url 32-byte keys], "artifact_ids": [64 hex]} (the
// second optional; empty owners = no requirement, then artifact_ids must be empty too). Strict:
// unknown members, bad sizes and more than 64 entries each are kInvalidArgument.
Result<KeyPins> ParseKeyPins(const Json& body);
// {"owners": [{"id": OwnerKeyId, "public_key": base64url}], "artifact_ids": [...]}.
Json KeyPinsJson(const KeyPins& pins);

// Stores (replaces) the pins of tenant/key, tagged. kInternal, kUnavailable.
Result<void> PutKeyPins(Store& store, const KeyService& keys, const std::string& tenant, const std::string& key,
                        const KeyPins& pins);
// The pins of tenant/key; empty pins if none were ever set. A value whose tag does not match
// (edited, or moved from another key) is kVerificationFailed with an ALARM, never used.
Result<KeyPins> GetKeyPins(Store& store, const KeyService& keys, const std::string& tenant, const std::string& key);

// An artifact's owner signature as a release request carries it.
struct ArtifactProvenance {
  Bytes public_key;
  Sha256Digest content_digest{};
  Bytes signature;
};

// The release request's "signature" member of one artifact (absent: nullopt).
// kInvalidArgument naming `where` for anything malformed.
Result<std::optional<ArtifactProvenance>> ParseArtifactProvenance(const Json& artifact, const std::string& where);

// Decides whether `artifact_id` may be released under `pins`, given its signature (if any):
// returns the signer's owner key id ("" when the artifact is unsigned and the key pins nobody).
// A signature that is present is always verified, pins or not, so a receipt never names a
// signer that did not sign. Refusals are kPolicyDenied with reason "provenance: ..."
// (unsigned, unknown signer, artifact not on the allowlist) or kVerificationFailed (bad
// signature).
Result<std::string> CheckProvenance(const KeyPins& pins, const std::string& artifact_id,
                                    const std::optional<ArtifactProvenance>& provenance);

}  // namespace sigil::broker
