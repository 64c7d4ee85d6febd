// The Arm CCA attestation token collection: the platform token and the realm token, each a
// COSE_Sign1, in one of two framings. Pure parser over untrusted bytes.
// Thread-safety: thread-safe.
#pragma once

#include <cstdint>

#include "core/bytes.h"
#include "core/result.h"

namespace sigil::attestation::cca {

constexpr std::uint64_t kLegacyCollectionTag = 399;  // DEN0137 1.0: tag 399 {44234, 44241}
constexpr std::uint64_t kCmwCollectionTag = 907;     // draft-ietf-rats-msg-wrap CMW collection
constexpr std::int64_t kPlatformTokenKey = 44234;
constexpr std::int64_t kRealmTokenKey = 44241;
constexpr std::size_t kMaxTokenSize = 64 * 1024;

enum class Framing { kLegacy399, kCmw907 };

struct CcaCollection {
  Framing framing = Framing::kLegacy399;
  Bytes platform;  // COSE_Sign1 bytes of the platform token
  Bytes realm;     // COSE_Sign1 bytes of the realm token
};

// Accepts exactly:
//   tag 399 { 44234: bstr, 44241: bstr }                        (legacy, TF-RMM)
//   tag 907 { 44234: [ctype, bstr], 44241: [ctype, bstr] }      (CMW collection; ctype the CoAP
//                                   content-format 263 or a media type "application/eat+cwt...")
// Both entries required, no other key, no other tag (kMalformedEvidence naming the field).
// Input over kMaxTokenSize is refused before decoding.
Result<CcaCollection> ParseCollection(ByteSpan bytes);

}  // namespace sigil::attestation::cca
