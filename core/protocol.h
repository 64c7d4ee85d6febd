// Byte strings that both ends of the Sigil v1 protocol must build identically: the attestation
// binding, and the HPKE `info` strings that tie a sealed DEK to its tenant, key and version.
// Changing any of these is a wire-format change (docs/protocol.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/digest.h"

namespace sigil::protocol {

constexpr std::size_t kNonceSize = 32;
constexpr std::size_t kBindingSize = 64;
constexpr std::size_t kX25519PublicKeySize = 32;

// SHA-512("sigil/v1/binding" || nonce || tee_public_key): the 64 bytes a TEE puts in its report
// data (a TPM quote's qualifying data holds the first 32).
Sha512Digest Binding(ByteSpan nonce, ByteSpan tee_public_key);

// HPKE info for a DEK sealed to a Sigil key version inside an .sgl header:
// "sigil/v1/dek" 0x00 tenant 0x00 key 0x00 decimal(version).
Bytes DekSealInfo(std::string_view tenant, std::string_view key, std::uint32_t version);

// Identity of one artifact for release: hex(SHA-256(u32be(len(enc)) || enc || sealed_dek)).
std::string ArtifactId(ByteSpan enc, ByteSpan sealed_dek);

// HPKE info for a DEK re-sealed by the broker to an attested workload:
// "sigil/v1/release" 0x00 tenant 0x00 key 0x00 decimal(version) 0x00 artifact_id.
Bytes ReleaseInfo(std::string_view tenant, std::string_view key, std::uint32_t version,
                  std::string_view artifact_id);

// What a model owner signs for one container (loader/FORMAT.md, "Signature trailer"), and what
// the broker verifies for a release: "sigil/v1/artifact-signature" 0x00 artifact_id 0x00 ||
// content_digest (32 raw bytes), where content_digest = SHA-256(header bytes || every chunk tag).
// The artifact id lets the broker, which never sees the header, tie the signature to the sealed
// DEK it is asked to release.
Bytes ArtifactSignatureMessage(std::string_view artifact_id, const Sha256Digest& content_digest);

// Names a model owner's Ed25519 key: lowercase hex SHA-256 of the 32-byte raw public key.
std::string OwnerKeyId(ByteSpan ed25519_public_key);

// What a policy approver signs (Ed25519) to approve version `version` of a tenant's policy
// (policies/README.md "Approvals"): "sigil/v1/policy-approval\ntenant <tenant>\nversion
// <version>\nsha256 <lowercase hex SHA-256 of the version's exact text>\n".
std::string PolicyApprovalMessage(std::string_view tenant, std::int64_t version, std::string_view text_sha256_hex);

}  // namespace sigil::protocol
