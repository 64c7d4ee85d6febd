// attestation/cca/anchors.h
#include "attestation/cca/anchors.h"

#include <algorithm>
#include <string>

#include "core/ec_key.h"
#include "core/encoding.h"

namespace sigil::attestation::cca {

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
