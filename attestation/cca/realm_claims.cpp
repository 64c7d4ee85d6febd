// attestation/cca/realm_claims.h. Claim keys: DEN0137 A7.2.3.2, MANIFEST.md of the vectors.
#include "attestation/cca/realm_claims.h"

#include <string>

#include "core/cbor.h"
#include "core/digest.h"

namespace sigil::attestation::cca {
namespace {

constexpr std::int64_t kChallenge = 10, kProfile = 265, kPersonalization = 44235,
                       kMeasurementHashAlg = 44236, kRak = 44237, kRim = 44238, kRems = 44239,
                       kRakHashAlg = 44240;
constexpr std::string_view kRealmProfile = "tag:arm.com,2023:realm#1.0.0";

std::string Where(std::int64_t key, std::string_view name) {
  return "CCA realm token claim " + std::string(name) + " (" + std::to_string(key) + ")";
}

Result<Bytes> Blob(const cbor_item_t* map, std::int64_t key, std::string_view name, bool measurement) {
  SIGIL_ASSIGN_OR_RETURN(const cbor_item_t* item, cbor::MapGet(map, key, Where(key, name)));
  SIGIL_ASSIGN_OR_RETURN(Bytes b, cbor::GetBytes(item, Where(key, name)));
  if (measurement && b.size() != 32 && b.size() != 48 && b.size() != 64) {
    return Fail(Code::kMalformedEvidence, Where(key, name) + ": size " + std::to_string(b.size()) +
                                              " is not 32, 48 or 64");
  }
  return b;
}

Result<std::string> Text(const cbor_item_t* map, std::int64_t key, std::string_view name) {
  SIGIL_ASSIGN_OR_RETURN(const cbor_item_t* item, cbor::MapGet(map, key, Where(key, name)));
  return cbor::GetText(item, Where(key, name));
}

}  // namespace

Result<Bytes> NamedHash(std::string_view name, ByteSpan data) {
  if (name == "sha-256") { auto d = Sha256(data); return Bytes(d.begin(), d.end()); }
  if (name == "sha-384") { auto d = Sha384(data); return Bytes(d.begin(), d.end()); }
  if (name == "sha-512") { auto d = Sha512(data); return Bytes(d.begin(), d.end()); }
  return Fail(Code::kMalformedEvidence, "unsupported hash algorithm \"" + std::string(name) + "\"");
}

Result<RealmClaims> ParseRealmClaims(ByteSpan payload) {
  SIGIL_ASSIGN_OR_RETURN(cbor::ItemPtr map,
                         cbor::Decode(payload, cbor::Limits{.max_depth = 4}, "CCA realm token payload"));
  if (!cbor_isa_map(map.get())) return Fail(Code::kMalformedEvidence, "CCA realm token: payload is not a map");
  const cbor_item_t* m = map.get();
  RealmClaims c;
  if (cbor::MapFind(m, kProfile) != nullptr) {
    SIGIL_ASSIGN_OR_RETURN(c.profile, Text(m, kProfile, "profile"));
    if (*c.profile != kRealmProfile) {
      return Fail(Code::kMalformedEvidence, Where(kProfile, "profile") + ": unsupported \"" + *c.profile + "\"");
    }
  }
  c.rak_is_cose_key = c.profile.has_value();
  SIGIL_ASSIGN_OR_RETURN(c.challenge, Blob(m, kChallenge, "challenge", false));
  if (c.challenge.size() != 64) return Fail(Code::kMalformedEvidence, Where(kChallenge, "challenge") + ": not 64 bytes");
  SIGIL_ASSIGN_OR_RETURN(c.personalization, Blob(m, kPersonalization, "personalization-value", false));
  if (c.personalization.size() != 64) {
    return Fail(Code::kMalformedEvidence, Where(kPersonalization, "personalization-value") + ": not 64 bytes");
  }
  SIGIL_ASSIGN_OR_RETURN(c.measurement_hash_alg, Text(m, kMeasurementHashAlg, "hash-algo-id"));
  SIGIL_RETURN_IF_ERROR(NamedHash(c.measurement_hash_alg, {}));
  SIGIL_ASSIGN_OR_RETURN(c.rak_hash_alg, Text(m, kRakHashAlg, "public-key-hash-algo-id"));
  SIGIL_RETURN_IF_ERROR(NamedHash(c.rak_hash_alg, {}));
  SIGIL_ASSIGN_OR_RETURN(c.rak, Blob(m, kRak, "public-key", false));
  SIGIL_ASSIGN_OR_RETURN(c.rim, Blob(m, kRim, "initial-measurement", true));
  SIGIL_ASSIGN_OR_RETURN(const cbor_item_t* rems, cbor::MapGet(m, kRems, Where(kRems, "extensible-measurements")));
  if (!cbor_isa_array(rems) || cbor_array_size(rems) != 4) {
    return Fail(Code::kMalformedEvidence, Where(kRems, "extensible-measurements") + ": not an array of 4");
  }
  for (std::size_t i = 0; i < 4; ++i) {
    const std::string w = Where(kRems, "extensible-measurements") + "[" + std::to_string(i) + "]";
    SIGIL_ASSIGN_OR_RETURN(c.rems[i], cbor::GetBytes(cbor_array_handle(rems)[i], w));
    if (c.rems[i].size() != 32 && c.rems[i].size() != 48 && c.rems[i].size() != 64) {
      return Fail(Code::kMalformedEvidence, w + ": size is not 32, 48 or 64");
    }
  }
  return c;
}

}  // namespace sigil::attestation::cca
