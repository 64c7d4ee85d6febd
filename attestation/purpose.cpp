#include "attestation/purpose.h"

#include <optional>
#include <vector>

#include "core/encoding.h"

namespace sigil::attestation {
namespace {

bool IsLowerHex(std::string_view s, std::size_t size) {
  if (s.size() != size) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

Result<void> ValidatePurpose(const WorkloadPurpose& p) {
  if (p.mode != kModeSealedMemory && p.mode != kModeStream && p.mode != kModeRewrap) {
    return Fail(Code::kInvalidArgument, "workload purpose: mode must be 'sealed-memory', 'stream' or 'rewrap'");
  }
  if (!IsLowerHex(p.engine, kPurposeEngineHexSize)) {
    return Fail(Code::kInvalidArgument, "workload purpose: engine must be 96 lowercase hex digits");
  }
  if (!IsLowerHex(p.sandbox, kPurposeSandboxHexSize)) {
    return Fail(Code::kInvalidArgument, "workload purpose: sandbox must be 64 lowercase hex digits");
  }
  return Ok();
}

std::string PurposeEvent(const WorkloadPurpose& p) {
  return std::string(kPurposeEventPrefix) + " mode=" + p.mode + " engine=" + p.engine + " sandbox=" + p.sandbox;
}

Sha256Digest PurposeEventDigest(const WorkloadPurpose& p) { return Sha256(AsBytes(PurposeEvent(p))); }

Result<WorkloadPurpose> ParsePurposeEvent(std::string_view event) {
  // Fields in fixed order; a mode cannot contain a space, so splitting on spaces is exact.
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (parts.size() < 5) {
    std::size_t sp = event.find(' ', start);
    parts.push_back(event.substr(start, sp == std::string_view::npos ? std::string_view::npos : sp - start));
    if (sp == std::string_view::npos) break;
    start = sp + 1;
  }
  auto malformed = [] {
    return Fail(Code::kMalformedEvidence,
                "purpose event is not 'sigil-purpose/v1 mode=M engine=HEX96 sandbox=HEX64'");
  };
  if (parts.size() != 4 || parts[0] != kPurposeEventPrefix) return malformed();
  auto value = [&parts](std::size_t i, std::string_view key) -> std::optional<std::string> {
    if (parts[i].substr(0, key.size()) != key) return std::nullopt;
    return std::string(parts[i].substr(key.size()));
  };
  auto mode = value(1, "mode=");
  auto engine = value(2, "engine=");
  auto sandbox = value(3, "sandbox=");
  if (!mode || !engine || !sandbox) return malformed();
  WorkloadPurpose p{*mode, *engine, *sandbox};
  if (auto v = ValidatePurpose(p); !v) return Fail(Code::kMalformedEvidence, v.error().message());
  if (PurposeEvent(p) != event) return malformed();
  return p;
}

void SetPurposeClaims(Claims& claims, const WorkloadPurpose& p) {
  claims.Set("workload.mode", p.mode);
  claims.Set("workload.engine", p.engine);
  claims.Set("workload.sandbox", p.sandbox);
}

}  // namespace sigil::attestation
