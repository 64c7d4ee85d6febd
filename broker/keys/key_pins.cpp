#include "broker/keys/key_pins.h"

#include <cstring>

#include <algorithm>

#include "core/ed25519.h"
#include "core/encoding.h"
#include "core/log.h"
#include "core/protocol.h"

namespace sigil::broker {
namespace {

constexpr std::string_view kTagLabel = "sigil/key-pins-mac/v1";
constexpr std::size_t kMaxPins = 64;

std::string MetaName(const std::string& tenant, const std::string& key) { return "key_pins/" + tenant + "/" + key; }

Bytes TagMessage(const std::string& tenant, const std::string& key, const std::string& canonical) {
  const std::string_view label = "sigil/key-pins/v1";
  Bytes m(label.begin(), label.end());
  for (const std::string* part : {&tenant, &key, &canonical}) {
    m.push_back(0);
    m.insert(m.end(), part->begin(), part->end());
  }
  return m;
}

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Result<Bytes> DecodeFixed(const Json& v, std::size_t size, const std::string& where) {
  if (!v.is_string()) return Fail(Code::kInvalidArgument, where + ": expected a base64url string");
  auto b = Base64UrlDecode(v.get<std::string>());
  if (!b || b->size() != size) {
    return Fail(Code::kInvalidArgument, where + ": expected base64url of " + std::to_string(size) + " bytes");
  }
  return std::move(*b);
}

// The canonical stored form: the same as the request form, sorted.
Json StoredJson(const KeyPins& p) {
  Json owners = Json::array();
  for (const Bytes& o : p.owners) owners.push_back(Base64UrlEncode(o));
  return Json{{"owners", owners}, {"artifact_ids", p.artifact_ids}};
}

}  // namespace

Result<KeyPins> ParseKeyPins(const Json& body) {
  if (!body.is_object()) return Fail(Code::kInvalidArgument, "request: expected an object");
  for (const auto& [k, v] : body.items()) {
    if (k != "owners" && k != "artifact_ids") return Fail(Code::kInvalidArgument, "request." + k + ": unknown member");
  }
  KeyPins p;
  auto list = [&](const char* name) -> Result<const Json*> {
    if (!body.contains(name)) return static_cast<const Json*>(nullptr);
    const Json& a = body[name];
    if (!a.is_array() || a.size() > kMaxPins) {
      return Fail(Code::kInvalidArgument, std::string("request.") + name + ": expected an array of at most 64");
    }
    return &a;
  };
  SIGIL_ASSIGN_OR_RETURN(const Json* owners, list("owners"));
  if (owners == nullptr) return Fail(Code::kInvalidArgument, "request.owners: missing");
  for (std::size_t i = 0; i < owners->size(); ++i) {
    SIGIL_ASSIGN_OR_RETURN(Bytes k, DecodeFixed((*owners)[i], kEd25519PublicKeySize,
                                                "request.owners[" + std::to_string(i) + "]"));
    p.owners.push_back(std::move(k));
  }
  SIGIL_ASSIGN_OR_RETURN(const Json* ids, list("artifact_ids"));
  for (std::size_t i = 0; ids != nullptr && i < ids->size(); ++i) {
    const Json& v = (*ids)[i];
    if (!v.is_string() || v.get<std::string>().size() != 64 || !IsLowerHex(v.get<std::string>())) {
      return Fail(Code::kInvalidArgument, "request.artifact_ids[" + std::to_string(i) + "]: expected 64 lowercase hex");
    }
    p.artifact_ids.push_back(v.get<std::string>());
  }
  if (p.owners.empty() && !p.artifact_ids.empty()) {
    return Fail(Code::kInvalidArgument, "request.artifact_ids: an allowlist needs at least one owner key (only "
                                        "signed artifacts have an identity the loader checks)");
  }
  // Every owner is kEd25519PublicKeySize bytes (DecodeFixed above), so compare exactly those:
  // GCC 12 at -O3 misreads the generic vector comparison's memcmp bound (-Wstringop-overread),
  // which broke the Release build `bench/run` makes.
  std::sort(p.owners.begin(), p.owners.end(), [](const Bytes& a, const Bytes& b) {
    return std::memcmp(a.data(), b.data(), kEd25519PublicKeySize) < 0;
  });
  p.owners.erase(std::unique(p.owners.begin(), p.owners.end()), p.owners.end());
  std::sort(p.artifact_ids.begin(), p.artifact_ids.end());
  p.artifact_ids.erase(std::unique(p.artifact_ids.begin(), p.artifact_ids.end()), p.artifact_ids.end());
  return p;
}

Json KeyPinsJson(const KeyPins& p) {
  Json owners = Json::array();
  for (const Bytes& o : p.owners) {
    owners.push_back(Json{{"id", protocol::OwnerKeyId(o)}, {"public_key", Base64UrlEncode(o)}});
  }
  return Json{{"owners", owners}, {"artifact_ids", p.artifact_ids}};
}

Result<void> PutKeyPins(Store& store, const KeyService& keys, const std::string& tenant, const std::string& key,
                        const KeyPins& pins) {
  std::string canonical = CanonicalJson(StoredJson(pins));
  SIGIL_ASSIGN_OR_RETURN(Bytes tag, keys.AuthorityTag(kTagLabel, TagMessage(tenant, key, canonical)));
  std::string value = CanonicalJson(Json{{"pins", StoredJson(pins)}, {"tag", Base64UrlEncode(tag)}});
  return store.PutMeta(MetaName(tenant, key), AsBytes(value));
}

Result<KeyPins> GetKeyPins(Store& store, const KeyService& keys, const std::string& tenant, const std::string& key) {
  auto raw = store.GetMeta(MetaName(tenant, key));
  if (!raw && raw.error().code() == Code::kNotFound) return KeyPins{};
  if (!raw) return std::move(raw).error();
  const std::string what = "the provenance pins of key '" + tenant + "/" + key + "'";
  auto alarm = [&]() {
    log::Write(log::Level::kAlarm, what + " failed their authentication: written or changed outside the broker; refused");
    return Error(Code::kVerificationFailed, "ALARM: " + what + " failed their authentication (the store was edited "
                                            "outside the broker); refusing to use them");
  };
  auto j = ParseJson(std::string(raw->begin(), raw->end()), "key pins");
  if (!j || !j->is_object() || !j->contains("pins") || !j->contains("tag") || !(*j)["tag"].is_string()) return alarm();
  auto tag = Base64UrlDecode((*j)["tag"].get<std::string>());
  auto pins = ParseKeyPins((*j)["pins"]);
  if (!tag || !pins) return alarm();
  std::string canonical = CanonicalJson(StoredJson(*pins));
  SIGIL_ASSIGN_OR_RETURN(Bytes want, keys.AuthorityTag(kTagLabel, TagMessage(tenant, key, canonical)));
  if (!ConstantTimeEqual(want, *tag)) return alarm();
  return std::move(*pins);
}

Result<std::optional<ArtifactProvenance>> ParseArtifactProvenance(const Json& artifact, const std::string& where) {
  if (!artifact.contains("signature")) return std::optional<ArtifactProvenance>();
  const Json& s = artifact["signature"];
  const std::string at = where + ".signature";
  if (!s.is_object()) return Fail(Code::kInvalidArgument, at + ": expected an object");
  for (const auto& [k, v] : s.items()) {
    if (k != "alg" && k != "public_key" && k != "content_digest" && k != "signature") {
      return Fail(Code::kInvalidArgument, at + "." + k + ": unknown member");
    }
  }
  SIGIL_ASSIGN_OR_RETURN(std::string alg, GetString(s, "alg", at));
  if (alg != "Ed25519") return Fail(Code::kInvalidArgument, at + ".alg: only \"Ed25519\" is supported");
  if (!s.contains("public_key") || !s.contains("content_digest") || !s.contains("signature")) {
    return Fail(Code::kInvalidArgument, at + ": needs public_key, content_digest and signature");
  }
  ArtifactProvenance p;
  SIGIL_ASSIGN_OR_RETURN(p.public_key, DecodeFixed(s["public_key"], kEd25519PublicKeySize, at + ".public_key"));
  SIGIL_ASSIGN_OR_RETURN(Bytes digest, DecodeFixed(s["content_digest"], p.content_digest.size(), at + ".content_digest"));
  std::copy(digest.begin(), digest.end(), p.content_digest.begin());
  SIGIL_ASSIGN_OR_RETURN(p.signature, DecodeFixed(s["signature"], kEd25519SignatureSize, at + ".signature"));
  return std::optional<ArtifactProvenance>(std::move(p));
}

Result<std::string> CheckProvenance(const KeyPins& pins, const std::string& artifact_id,
                                    const std::optional<ArtifactProvenance>& prov) {
  if (!prov) {
    if (!pins.requires_signature()) return std::string();
    return Fail(Code::kPolicyDenied, "provenance: the key requires an artifact signed by a pinned model owner, and "
                                     "artifact " + artifact_id + " is unsigned");
  }
  const std::string signer = protocol::OwnerKeyId(prov->public_key);
  auto ok = Ed25519Verify(prov->public_key, protocol::ArtifactSignatureMessage(artifact_id, prov->content_digest),
                          prov->signature);
  if (!ok) {
    return Fail(Code::kVerificationFailed, "provenance: the signature of owner key " + signer +
                                               " does not hold for artifact " + artifact_id);
  }
  if (!pins.requires_signature()) return signer;
  if (std::find(pins.owners.begin(), pins.owners.end(), prov->public_key) == pins.owners.end()) {
    return Fail(Code::kPolicyDenied, "provenance: artifact " + artifact_id + " is signed by owner key " + signer +
                                         ", which the key does not pin");
  }
  if (!pins.artifact_ids.empty() &&
      !std::binary_search(pins.artifact_ids.begin(), pins.artifact_ids.end(), artifact_id)) {
    return Fail(Code::kPolicyDenied, "provenance: artifact " + artifact_id + " is not on the key's allowlist");
  }
  return signer;
}

}  // namespace sigil::broker
