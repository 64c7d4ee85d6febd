// attestation/cca/platform_claims.h. Claim keys: RFC 9783 section 4 (PSA) and DEN0137 A7.2.3.1
// (CCA platform), listed in /work/shared/vectors/cca-psa/MANIFEST.md.
#include "attestation/cca/platform_claims.h"

#include <algorithm>
#include <string>

#include "attestation/cca/lifecycle.h"
#include "core/cbor.h"
#include "core/encoding.h"

namespace sigil::attestation::cca {
namespace {

constexpr std::int64_t kNonce = 10, kInstanceId = 256, kProfile = 265, kNoSwMeasurements = 2393,
                       kClientId = 2394, kLifecycle = 2395, kImplementationId = 2396,
                       kBootSeed = 2397, kCertificationReference = 2398, kSwComponents = 2399,
                       kVerificationService = 2400, kConfig = 2401, kHashAlg = 2402;

constexpr std::string_view kCcaLegacyProfile = "http://arm.com/CCA-SSD/1.0.0";
constexpr std::string_view kCcaProfile = "tag:arm.com,2023:cca_platform#1.0.0";
constexpr std::string_view kPsaProfile = "http://arm.com/psa/2.0.0";

class ClaimReader {
 public:
  ClaimReader(const cbor_item_t* map, std::string where) : map_(map), where_(std::move(where)) {}

  std::string Where(std::int64_t key, std::string_view name) const {
    return where_ + " claim " + std::string(name) + " (" + std::to_string(key) + ")";
  }
  Result<const cbor_item_t*> Required(std::int64_t key, std::string_view name) const {
    return cbor::MapGet(map_, key, Where(key, name));
  }
  Result<Bytes> Blob(std::int64_t key, std::string_view name, std::initializer_list<std::size_t> sizes) const {
    SIGIL_ASSIGN_OR_RETURN(const cbor_item_t* item, Required(key, name));
    SIGIL_ASSIGN_OR_RETURN(Bytes b, cbor::GetBytes(item, Where(key, name)));
    if (sizes.size() != 0 && std::find(sizes.begin(), sizes.end(), b.size()) == sizes.end()) {
      return Fail(Code::kMalformedEvidence, Where(key, name) + ": unexpected size " + std::to_string(b.size()));
    }
    return b;
  }
  Result<std::string> Text(std::int64_t key, std::string_view name) const {
    SIGIL_ASSIGN_OR_RETURN(const cbor_item_t* item, Required(key, name));
    return cbor::GetText(item, Where(key, name));
  }
  Result<std::int64_t> Int(std::int64_t key, std::string_view name) const {
    SIGIL_ASSIGN_OR_RETURN(const cbor_item_t* item, Required(key, name));
    return cbor::GetInt(item, Where(key, name));
  }
  bool Has(std::int64_t key) const { return cbor::MapFind(map_, key) != nullptr; }

 private:
  const cbor_item_t* map_;
  std::string where_;
};

Result<SwComponent> ParseComponent(const cbor_item_t* item, const std::string& where) {
  if (!cbor_isa_map(item)) return Fail(Code::kMalformedEvidence, where + ": not a map");
  const ClaimReader r(item, where);
  SwComponent c;
  SIGIL_ASSIGN_OR_RETURN(c.measurement, r.Blob(2, "measurement-value", {}));
  SIGIL_ASSIGN_OR_RETURN(c.signer_id, r.Blob(5, "signer-id", {}));
  if (c.measurement.empty() || c.signer_id.empty()) {
    return Fail(Code::kMalformedEvidence, where + ": empty measurement-value or signer-id");
  }
  if (r.Has(1)) { SIGIL_ASSIGN_OR_RETURN(c.type, r.Text(1, "measurement-type")); }
  if (r.Has(4)) { SIGIL_ASSIGN_OR_RETURN(c.version, r.Text(4, "version")); }
  if (r.Has(6)) { SIGIL_ASSIGN_OR_RETURN(c.description, r.Text(6, "measurement-desc")); }
  return c;
}

Result<std::vector<SwComponent>> ParseComponents(const ClaimReader& r, const std::string& where) {
  SIGIL_ASSIGN_OR_RETURN(const cbor_item_t* list, r.Required(kSwComponents, "software-components"));
  if (!cbor_isa_array(list) || cbor_array_size(list) == 0) {
    return Fail(Code::kMalformedEvidence, r.Where(kSwComponents, "software-components") + ": not a non-empty array");
  }
  std::vector<SwComponent> out;
  for (std::size_t i = 0; i < cbor_array_size(list); ++i) {
    SIGIL_ASSIGN_OR_RETURN(SwComponent c,
                           ParseComponent(cbor_array_handle(list)[i], where + " software component " + std::to_string(i)));
    out.push_back(std::move(c));
  }
  return out;
}

Result<void> CheckProfile(const std::string& profile, TokenKind kind, const std::string& where) {
  const bool ok = kind == TokenKind::kPsa ? profile == kPsaProfile
                                          : (profile == kCcaLegacyProfile || profile == kCcaProfile);
  if (!ok) return Fail(Code::kMalformedEvidence, where + ": unsupported profile \"" + profile + "\"");
  return Ok();
}

}  // namespace

Result<PlatformClaims> ParsePlatformClaims(ByteSpan payload, TokenKind kind) {
  const std::string where = kind == TokenKind::kPsa ? "PSA token" : "CCA platform token";
  SIGIL_ASSIGN_OR_RETURN(cbor::ItemPtr map, cbor::Decode(payload, cbor::Limits{.max_depth = 4}, where + " payload"));
  if (!cbor_isa_map(map.get())) return Fail(Code::kMalformedEvidence, where + ": payload is not a map");
  const ClaimReader r(map.get(), where);
  PlatformClaims c;
  SIGIL_ASSIGN_OR_RETURN(c.profile, r.Text(kProfile, "profile"));
  SIGIL_RETURN_IF_ERROR(CheckProfile(c.profile, kind, where));
  SIGIL_ASSIGN_OR_RETURN(c.challenge, r.Blob(kNonce, "challenge", {32, 48, 64}));
  SIGIL_ASSIGN_OR_RETURN(c.implementation_id, r.Blob(kImplementationId, "implementation-id", {32}));
  SIGIL_ASSIGN_OR_RETURN(c.instance_id, r.Blob(kInstanceId, "instance-id", {33}));
  if (c.instance_id[0] != 0x01) {
    return Fail(Code::kMalformedEvidence, r.Where(kInstanceId, "instance-id") + ": UEID type is not RAND (0x01)");
  }
  SIGIL_ASSIGN_OR_RETURN(c.lifecycle, r.Int(kLifecycle, "security-lifecycle"));
  if (!LifecycleStateName(c.lifecycle)) {
    return Fail(Code::kMalformedEvidence, r.Where(kLifecycle, "security-lifecycle") + ": undefined value " +
                                              std::to_string(c.lifecycle));
  }
  if (r.Has(kVerificationService)) {
    SIGIL_ASSIGN_OR_RETURN(c.verification_service, r.Text(kVerificationService, "verification-service"));
  }
  if (kind == TokenKind::kCcaPlatform) {
    SIGIL_ASSIGN_OR_RETURN(c.config, r.Blob(kConfig, "config", {}));
    SIGIL_ASSIGN_OR_RETURN(c.hash_alg, r.Text(kHashAlg, "hash-algo-id"));
    SIGIL_ASSIGN_OR_RETURN(c.sw, ParseComponents(r, where));
    return c;
  }
  SIGIL_ASSIGN_OR_RETURN(c.client_id, r.Int(kClientId, "client-id"));
  if (r.Has(kBootSeed)) { SIGIL_ASSIGN_OR_RETURN(c.boot_seed, r.Blob(kBootSeed, "boot-seed", {8, 32})); }
  if (r.Has(kCertificationReference)) {
    SIGIL_ASSIGN_OR_RETURN(c.certification_reference, r.Text(kCertificationReference, "certification-reference"));
  }
  // RFC 9783 section 4.4: software components, or no-sw-measurements (2393) = 1, exactly one.
  if (r.Has(kNoSwMeasurements)) {
    SIGIL_ASSIGN_OR_RETURN(const std::int64_t none, r.Int(kNoSwMeasurements, "no-sw-measurements"));
    if (none != 1 || r.Has(kSwComponents)) {
      return Fail(Code::kMalformedEvidence, where + ": no-sw-measurements must be 1 and alone");
    }
    return c;
  }
  SIGIL_ASSIGN_OR_RETURN(c.sw, ParseComponents(r, where));
  return c;
}

void AddSwComponentClaims(Claims& claims, const std::string& prefix, const std::vector<SwComponent>& sw) {
  claims.Set(prefix + "sw.count", static_cast<std::int64_t>(sw.size()));
  for (std::size_t i = 0; i < sw.size(); ++i) {
    const std::string p = prefix + "sw." + std::to_string(i) + ".";
    claims.Set(p + "measurement", HexEncode(sw[i].measurement));
    claims.Set(p + "signer_id", HexEncode(sw[i].signer_id));
    if (sw[i].type) claims.Set(p + "type", *sw[i].type);
    if (sw[i].version) claims.Set(p + "version", *sw[i].version);
    if (sw[i].description) claims.Set(p + "description", *sw[i].description);
  }
}

}  // namespace sigil::attestation::cca
