// Model sets (FORMAT.md, "Model sets"): a directory of .sgl containers, one per plaintext file
// (safetensors shards, their index JSON, GGUF, anything), bound together by the manifest
// sigil-set.json. The manifest lists every member (plaintext name, container file, plaintext
// size, artifact id, SHA-256 of its container header) and, per member, a tag that only a holder
// of that member's DEK can compute over the digest of the whole member list. So after the one
// batch release, the loader knows the set is exactly what the owner encrypted: no member
// swapped for one from another set, dropped, added or renamed.
// Pure functions and file reads; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/digest.h"
#include "core/json.h"
#include "core/result.h"
#include "core/secret_bytes.h"
#include "loader/container_reader.h"

namespace sigil::loader {

inline constexpr std::string_view kSetManifestName = "sigil-set.json";
inline constexpr std::string_view kSetManifestType = "sigil-model-set";
inline constexpr std::string_view kSetMemberTagLabel = "sigil/v1/set-member";
// The broker releases at most 1024 artifacts per call (docs/protocol.md), and a set is loaded
// with one release.
inline constexpr std::size_t kMaxSetMembers = 1024;

struct SetMember {
  std::string name;           // plaintext file name (enclave::ValidateShardFileName rules)
  std::string file;           // container file in the set directory: name + ".sgl"
  std::uint64_t size = 0;     // plaintext size
  std::string artifact_id;    // protocol::ArtifactId(enc, sealed_dek)
  std::string header_sha256;  // hex SHA-256 of the container's serialized header
  std::string tag;            // hex, 32 bytes: SetMemberTag(...)
  bool operator==(const SetMember&) const = default;
};

struct SetManifest {
  std::string set_id;  // hex, 32 random bytes
  std::string main;    // member the engine gets as {model} (the index JSON); "" if none
  std::vector<SetMember> members;  // sorted by name, names unique
  bool operator==(const SetManifest&) const = default;
};

// SHA-256 over "sigil/v1/set" 0x00 || CanonicalJson(manifest without the members' tags).
Sha256Digest SetDigest(const SetManifest& m);

// HKDF-SHA256 (RFC 5869): PRK = Extract(salt = the member's header salt, IKM = its DEK) -- the
// same PRK the chunk key comes from -- and tag = Expand(PRK, "sigil/v1/set-member" 0x00 ||
// SetDigest, 32). Expand is HMAC-SHA256(PRK, info || 0x01), a PRF keyed by the DEK, so the tag
// authenticates the digest under a key only the owner and the attested loader hold; the label
// separates it from the chunk key ("sigil/v1/chunk").
Result<Bytes> SetMemberTag(const SecretBytes& dek, ByteSpan salt, const Sha256Digest& set_digest);

// Manifest JSON (FORMAT.md): pretty-printed, keys sorted, ending in "\n".
std::string SerializeSetManifest(const SetManifest& m);
// Strict: exact member sets, hex fields of the right sizes, sorted unique names, file ==
// name + ".sgl", main empty or a member. kInvalidArgument naming `source` and the JSON path.
Result<SetManifest> ParseSetManifest(std::string_view text, std::string_view source);

// True if `path` is a directory holding sigil-set.json.
bool IsModelSetDir(const std::string& path);

struct ModelSet {
  std::string dir;
  SetManifest manifest;
  std::vector<Container> containers;  // same order as manifest.members
};

// Reads dir/sigil-set.json and opens every member container, checking its header SHA-256,
// artifact id and plaintext size against the manifest, all before any key is requested.
// Container files not in the manifest are ignored (they are never read). kNotFound,
// kInvalidArgument, kVerificationFailed (a container that is not the one the manifest names).
Result<ModelSet> OpenModelSet(const std::string& dir);

// After the release: recomputes every member's tag with its DEK (deks[i] for members[i]) and
// compares in constant time. kVerificationFailed naming the first member whose tag differs.
Result<void> VerifySetTags(const ModelSet& set, const std::vector<SecretBytes>& deks);

}  // namespace sigil::loader
