// The Verifier seam: one implementation per evidence format, looked up by TEE type in a
// Registry. A verifier checks signatures, chains to configured trust anchors, freshness (the
// expected binding in the evidence's report data) and platform invariants, and turns evidence
// into Claims. It never applies tenant policy.
// Thread-safety: Verify() is const and safe to call concurrently.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "attestation/claims.h"
#include "core/bytes.h"
#include "core/result.h"

namespace sigil::attestation {

struct VerifyInput {
  ByteSpan evidence;
  ByteSpan collateral;        // optional, format-specific
  ByteSpan expected_binding;  // the 64-byte binding (core/protocol.h)
  std::chrono::system_clock::time_point now;
  // The requesting tenant, for verifiers with per-tenant trust (TPM AKs); empty offline.
  std::string_view tenant;
};

class Verifier {
 public:
  virtual ~Verifier() = default;
  // The TEE type this verifier handles ("dev", "tpm", "sev-snp", ...).
  virtual std::string_view tee() const = 0;
  // Fails with kMalformedEvidence (does not parse), kVerificationFailed (signature, chain or
  // binding), kExpired. On success the claims always include `tee`, `debug`, `measurement`.
  virtual Result<Claims> Verify(const VerifyInput& input) const = 0;
};

class Registry {
 public:
  void Add(std::unique_ptr<Verifier> v);
  // kInvalidArgument naming the unknown type if none is registered.
  Result<const Verifier*> Find(std::string_view tee) const;
  // The registered TEE types, sorted.
  std::vector<std::string> Types() const;

 private:
  std::map<std::string, std::unique_ptr<Verifier>, std::less<>> verifiers_;
};

}  // namespace sigil::attestation
