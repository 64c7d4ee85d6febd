// attestation/cca/anchors.h
#include "attestation/cca/anchors.h"

#include <algorithm>
#include <string>

#include "core/ec_key.h"
#include "core/encoding.h"
#include "core/json.h"

namespace sigil::attestation::cca {

namespace {

constexpr std::string_view kPemBegin = "-----BEGIN PUBLIC KEY-----";
constexpr std::string_view kPemEnd = "-----END PUBLIC KEY-----";

Result<void> AddPemBlocks(std::string_view text, std::vector<KeyAnchor>& out, const std::string& w) {
  std::size_t pos = 0, found = 0;
  while ((pos = text.find(kPemBegin, pos)) != std::string_view::npos) {
    const std::size_t end = text.find(kPemEnd, pos);
    if (end == std::string_view::npos) return Fail(Code::kInvalidArgument, w + ": unterminated PEM block");
    const std::string_view block = text.substr(pos, end + kPemEnd.size() - pos);
    SIGIL_RETURN_IF_ERROR(EcPublicKeyFromText(AsBytes(block), w + " key " + std::to_string(found)));
    out.push_back({.key = ToBytes(block), .instance_id = {}});
    pos = end + kPemEnd.size();
    ++found;
  }
  if (found == 0) return Fail(Code::kInvalidArgument, w + ": no PUBLIC KEY block");
  return Ok();
}

Result<void> AddJwks(std::string_view text, std::vector<KeyAnchor>& out, const std::string& w) {
  SIGIL_ASSIGN_OR_RETURN(const Json j, ParseJson(text, w));
  const bool is_set = j.is_object() && j.contains("keys");
  if (is_set && (!j["keys"].is_array() || j["keys"].empty())) {
    return Fail(Code::kInvalidArgument, w + ".keys: not a non-empty array");
  }
  const Json keys = is_set ? j["keys"] : Json::array({j});
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const std::string kw = is_set ? w + ".keys[" + std::to_string(i) + "]" : w;
    SIGIL_RETURN_IF_ERROR(EcPublicKeyFromJwk(keys[i], kw));
    out.push_back({.key = ToBytes(keys[i].dump()), .instance_id = {}});
  }
  return Ok();
}

}  // namespace

Result<std::vector<KeyAnchor>> KeyAnchorsFromFiles(const std::vector<Bytes>& files, std::string_view what) {
  std::vector<KeyAnchor> out;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const std::string w = std::string(what) + "[" + std::to_string(i) + "]";
    const std::string_view text(reinterpret_cast<const char*>(files[i].data()), files[i].size());
    const std::size_t first = text.find_first_not_of(" \t\r\n");
    if (text.find(kPemBegin) != std::string_view::npos) {
      SIGIL_RETURN_IF_ERROR(AddPemBlocks(text, out, w));
    } else if (first != std::string_view::npos && text[first] == '{') {
      SIGIL_RETURN_IF_ERROR(AddJwks(text, out, w));
    } else {
      SIGIL_RETURN_IF_ERROR(EcPublicKeyFromText(files[i], w));
      out.push_back({.key = files[i], .instance_id = {}});
    }
  }
  return out;
}

Result<AnchorSet> AnchorSet::Create(const std::vector<KeyAnchor>& anchors, std::string_view what) {
  if (anchors.empty()) return Fail(Code::kInvalidArgument, std::string(what) + ": no trust anchor configured");
  AnchorSet set;
  for (std::size_t i = 0; i < anchors.size(); ++i) {
    const std::string w = std::string(what) + "[" + std::to_string(i) + "]";
    SIGIL_ASSIGN_OR_RETURN(EvpPkeyPtr key, EcPublicKeyFromText(anchors[i].key, w));
    const Bytes& id = anchors[i].instance_id;
    if (!id.empty() && (id.size() != 33 || id[0] != 0x01)) {
      return Fail(Code::kInvalidArgument, w + ": instance id must be 33 bytes starting 0x01");
    }
    set.entries_.push_back({std::move(key), id});
  }
  return set;
}

std::vector<const EVP_PKEY*> AnchorSet::Candidates(ByteSpan instance_id) const {
  std::vector<const EVP_PKEY*> pinned, unpinned;
  for (const auto& e : entries_) {
    if (e.instance_id.empty()) {
      unpinned.push_back(e.key.get());
    } else if (std::equal(e.instance_id.begin(), e.instance_id.end(), instance_id.begin(), instance_id.end())) {
      pinned.push_back(e.key.get());
    }
  }
  return pinned.empty() ? unpinned : pinned;
}

Result<void> VerifyWithAnchors(const cose::Sign1& token, const AnchorSet& anchors, ByteSpan instance_id,
                               std::string_view what) {
  const std::vector<const EVP_PKEY*> keys = anchors.Candidates(instance_id);
  const std::string id = HexEncode(instance_id);
  if (keys.empty()) {
    return Fail(Code::kVerificationFailed, std::string(what) + ": no trust anchor for instance id " + id);
  }
  for (const EVP_PKEY* key : keys) {
    if (cose::VerifySign1(token, key, what)) return Ok();
  }
  return Fail(Code::kVerificationFailed, std::string(what) + ": signature does not verify with any of the " +
                                             std::to_string(keys.size()) + " trust anchor(s) for instance id " + id);
}

}  // namespace sigil::attestation::cca
