// Shared fixtures for the dev TEE tests: a fixed platform key, binding, measurement and time,
// and a re-signer for building mutated evidence that still carries a valid signature.
#pragma once

#include <chrono>
#include <string>

#include "attestation/dev/evidence.h"
#include "core/bytes.h"
#include "core/digest.h"
#include "core/ed25519.h"
#include "core/encoding.h"
#include "core/secret_bytes.h"

namespace sigil::testing {

// Seed bytes 00 01 .. 1f: a published test key, never a real one.
inline SecretBytes TestSeed() {
  Bytes s(32);
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<std::uint8_t>(i);
  return SecretBytes::CopyFrom(s).value();
}
inline Bytes TestPublicKey() { return Ed25519FromSeed(TestSeed().Reveal(SecretAccess::Get())).value().public_key; }
inline Bytes TestBinding() {
  Sha512Digest d = Sha512(AsBytes("sigil test binding"));
  return Bytes(d.begin(), d.end());
}
inline std::string TestMeasurement() { return HexEncode(Sha384(AsBytes("sigil test engine"))); }
inline std::chrono::system_clock::time_point TestNow() {
  return std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
}

// An envelope over `payload_text`, signed with TestSeed(): lets a test reach the payload parser.
inline Bytes SignedEvidence(const std::string& payload_text) {
  attestation::dev::DevEnvelope e;
  e.payload = ToBytes(payload_text);
  e.signature = Ed25519Sign(TestSeed(), attestation::dev::SigningInput(e.payload)).value();
  return attestation::dev::SerializeEnvelope(e);
}

}  // namespace sigil::testing
