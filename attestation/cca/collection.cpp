// attestation/cca/collection.h: unwrap the two CCA framings down to the two COSE_Sign1 byte strings.
#include "attestation/cca/collection.h"

#include <string>

#include "core/cbor.h"

namespace sigil::attestation::cca {
namespace {

constexpr std::int64_t kCoapEatCwt = 263;  // CoAP content-format of application/eat+cwt (+profile)
constexpr std::string_view kEatCwtMediaType = "application/eat+cwt";

Unexpected<Error> Malformed(const std::string& why) {
  return Fail(Code::kMalformedEvidence, "CCA token: " + why);
}

std::string Name(std::int64_t key) {
  return key == kPlatformTokenKey ? "platform token (44234)" : "realm token (44241)";
}

// A CMW record [type, value] (draft-ietf-rats-msg-wrap section 3.1) holding a COSE_Sign1.
Result<Bytes> CmwEntry(const cbor_item_t* item, std::int64_t key) {
  const std::string w = Name(key);
  if (!cbor_isa_array(item) || cbor_array_size(item) != 2) {
    return Malformed(w + ": CMW entry is not [content-type, bytes]");
  }
  cbor_item_t** parts = cbor_array_handle(item);
  if (cbor_isa_string(parts[0])) {
    SIGIL_ASSIGN_OR_RETURN(const std::string type, cbor::GetText(parts[0], "CCA token: " + w));
    if (type.rfind(kEatCwtMediaType, 0) != 0) return Malformed(w + ": content type \"" + type + "\"");
  } else {
    auto type = cbor::GetInt(parts[0], "CCA token: " + w + " content type");
    if (!type || *type != kCoapEatCwt) return Malformed(w + ": content-format is not 263 (eat+cwt)");
  }
  return cbor::GetBytes(parts[1], "CCA token: " + w);
}

}  // namespace

Result<CcaCollection> ParseCollection(ByteSpan bytes) {
  const cbor::Limits limits{.max_size = kMaxTokenSize,
                            .max_depth = 4,
                            .allowed_tags = {kLegacyCollectionTag, kCmwCollectionTag}};
  SIGIL_ASSIGN_OR_RETURN(cbor::ItemPtr top, cbor::Decode(bytes, limits, "CCA token"));
  if (!cbor_isa_tag(top.get())) return Malformed("not tagged 399 or 907");
  CcaCollection out;
  const std::uint64_t tag = cbor_tag_value(top.get());
  out.framing = tag == kCmwCollectionTag ? Framing::kCmw907 : Framing::kLegacy399;
  cbor::ItemPtr map(cbor_tag_item(top.get()));
  if (!cbor_isa_map(map.get())) return Malformed("collection is not a map");
  const cbor_pair* pairs = cbor_map_handle(map.get());
  bool have_platform = false, have_realm = false;
  for (std::size_t i = 0; i < cbor_map_size(map.get()); ++i) {
    auto key = cbor::GetInt(pairs[i].key, "CCA token key");
    if (!key || (*key != kPlatformTokenKey && *key != kRealmTokenKey)) {
      return Malformed("unknown collection key (only 44234 and 44241 are allowed)");
    }
    if (cbor_isa_tag(pairs[i].value)) return Malformed(Name(*key) + ": unexpected tag");
    Result<Bytes> token = out.framing == Framing::kCmw907
                              ? CmwEntry(pairs[i].value, *key)
                              : cbor::GetBytes(pairs[i].value, "CCA token: " + Name(*key));
    if (!token) return std::move(token).error();
    (*key == kPlatformTokenKey ? out.platform : out.realm) = std::move(*token);
    (*key == kPlatformTokenKey ? have_platform : have_realm) = true;
  }
  if (!have_platform) return Malformed("platform token (44234) missing");
  if (!have_realm) return Malformed("realm token (44241) missing");
  return out;
}

}  // namespace sigil::attestation::cca
