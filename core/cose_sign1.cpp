// core/cose_sign1.h: COSE_Sign1 parse (pure) and ECDSA verification over the Sig_structure.
#include "core/cose_sign1.h"

#include <openssl/ecdsa.h>
#include <openssl/err.h>

#include <set>
#include <string>

#include "core/ecdsa_raw.h"

namespace sigil::cose {
namespace {

constexpr std::int64_t kLabelAlg = 1;   // RFC 9052 section 3.1, table 2
constexpr std::int64_t kLabelCrit = 2;

using EcdsaSigPtr = CPtr<ECDSA_SIG, ECDSA_SIG_free>;

Unexpected<Error> Malformed(std::string_view what, std::string_view why) {
  return Fail(Code::kMalformedEvidence, std::string(what) + ": " + std::string(why));
}

// Integer labels of a header map; text labels are allowed (RFC 9052 section 1.5) and kept apart.
Result<void> CollectLabels(const cbor_item_t* map, std::set<std::string>& labels, std::string_view what) {
  const cbor_pair* pairs = cbor_map_handle(map);
  for (std::size_t i = 0; i < cbor_map_size(map); ++i) {
    std::string label;
    if (auto n = cbor::GetInt(pairs[i].key, what)) {
      label = std::to_string(*n);
    } else {
      SIGIL_ASSIGN_OR_RETURN(std::string t, cbor::GetText(pairs[i].key, what));
      label = "\"" + t + "\"";
    }
    if (!labels.insert(label).second) {
      return Malformed(what, "header label " + label + " in both protected and unprotected");
    }
  }
  return Ok();
}

// The protected bucket: a bstr holding a map with alg (RFC 9052 section 3: a zero-length bstr
// means an empty map, but then alg is missing, which we refuse).
Result<Algorithm> ParseProtected(ByteSpan bytes, const cbor_item_t* unprotected, std::string_view what) {
  const std::string w = std::string(what) + ": protected header";
  if (bytes.empty()) return Malformed(w, "empty (alg is required there)");
  SIGIL_ASSIGN_OR_RETURN(cbor::ItemPtr map, cbor::Decode(bytes, cbor::Limits{.max_size = 4096}, w));
  if (!cbor_isa_map(map.get())) return Malformed(w, "not a map");
  std::set<std::string> labels;
  SIGIL_RETURN_IF_ERROR(CollectLabels(map.get(), labels, w));
  SIGIL_RETURN_IF_ERROR(CollectLabels(unprotected, labels, std::string(what) + ": headers"));
  if (cbor::MapFind(map.get(), kLabelCrit) != nullptr || cbor::MapFind(unprotected, kLabelCrit)) {
    return Malformed(w, "crit (2) present: no critical header extension is supported");
  }
  SIGIL_ASSIGN_OR_RETURN(const cbor_item_t* alg_item, cbor::MapGet(map.get(), kLabelAlg, w + " alg"));
  SIGIL_ASSIGN_OR_RETURN(const std::int64_t alg, cbor::GetInt(alg_item, w + " alg"));
  if (alg == static_cast<std::int64_t>(Algorithm::kEs256)) return Algorithm::kEs256;
  if (alg == static_cast<std::int64_t>(Algorithm::kEs384)) return Algorithm::kEs384;
  return Malformed(w, "alg " + std::to_string(alg) + " is not ES256 (-7) or ES384 (-35)");
}

// Unwraps tag 18 according to `rule`; returns a new reference to the untagged item.
Result<cbor::ItemPtr> Untag(cbor::ItemPtr item, TagRule rule, std::string_view what) {
  if (!cbor_isa_tag(item.get())) {
    if (rule == TagRule::kRequired) return Malformed(what, "COSE_Sign1 tag 18 missing");
    return item;
  }
  if (rule == TagRule::kForbidden) return Malformed(what, "unexpected tag on COSE_Sign1");
  if (cbor_tag_value(item.get()) != kSign1Tag) {
    return Malformed(what, "tag " + std::to_string(cbor_tag_value(item.get())) + " is not 18 (COSE_Sign1)");
  }
  return cbor::ItemPtr(cbor_tag_item(item.get()));
}

}  // namespace

std::size_t SignatureSize(Algorithm alg) { return alg == Algorithm::kEs256 ? 64 : 96; }

Result<Sign1> ParseSign1(ByteSpan bytes, const ParseOptions& options, std::string_view what) {
  cbor::Limits limits{.max_size = options.max_size, .max_depth = 16, .allowed_tags = {kSign1Tag}};
  SIGIL_ASSIGN_OR_RETURN(cbor::ItemPtr tagged, cbor::Decode(bytes, limits, what));
  SIGIL_ASSIGN_OR_RETURN(cbor::ItemPtr item, Untag(std::move(tagged), options.tag, what));
  if (!cbor_isa_array(item.get()) || cbor_array_size(item.get()) != 4) {
    return Malformed(what, "COSE_Sign1 is not an array of 4");
  }
  cbor_item_t** parts = cbor_array_handle(item.get());
  if (cbor_isa_tag(parts[0]) || cbor_isa_tag(parts[1]) || cbor_isa_tag(parts[2]) || cbor_isa_tag(parts[3])) {
    return Malformed(what, "tag inside COSE_Sign1");
  }
  Sign1 out;
  SIGIL_ASSIGN_OR_RETURN(out.protected_header, cbor::GetBytes(parts[0], std::string(what) + ": protected"));
  if (!cbor_isa_map(parts[1])) return Malformed(what, "unprotected header is not a map");
  SIGIL_ASSIGN_OR_RETURN(out.alg, ParseProtected(out.protected_header, parts[1], what));
  if (cbor_is_null(parts[2])) return Malformed(what, "detached payload (nil) is not supported");
  SIGIL_ASSIGN_OR_RETURN(out.payload, cbor::GetBytes(parts[2], std::string(what) + ": payload"));
  SIGIL_ASSIGN_OR_RETURN(out.signature, cbor::GetBytes(parts[3], std::string(what) + ": signature"));
  if (out.signature.size() != SignatureSize(out.alg)) {
    return Malformed(what, "signature is " + std::to_string(out.signature.size()) + " bytes, " +
                               std::to_string(SignatureSize(out.alg)) + " expected for the alg");
  }
  return out;
}

Bytes SigStructure(const Sign1& sign1, ByteSpan external_aad) {
  Bytes out;
  cbor::AppendHead(out, 4, 4);
  cbor::AppendText(out, "Signature1");
  cbor::AppendBytes(out, sign1.protected_header);
  cbor::AppendBytes(out, external_aad);
  cbor::AppendBytes(out, sign1.payload);
  return out;
}

Result<void> VerifySign1(const Sign1& sign1, const EVP_PKEY* key, std::string_view what,
                         ByteSpan external_aad) {
  const std::string w(what);
  auto curve = EcCurveOf(key);
  const EcCurve want = sign1.alg == Algorithm::kEs256 ? EcCurve::kP256 : EcCurve::kP384;
  if (!curve || *curve != want) {
    return Fail(Code::kVerificationFailed,
                w + ": key is not on " + (want == EcCurve::kP256 ? "P-256 (ES256)" : "P-384 (ES384)"));
  }
  // Raw r || s (RFC 9053 section 2.1).
  const std::size_t n = sign1.signature.size() / 2;
  const ByteSpan raw(sign1.signature.data(), sign1.signature.size());
  const Bytes tbs = SigStructure(sign1, external_aad);
  return VerifyRawEcdsa(key, sign1.alg == Algorithm::kEs256 ? EVP_sha256() : EVP_sha384(), tbs, raw.first(n),
                        raw.subspan(n), ScalarOrder::kBigEndian, w + ": COSE_Sign1 signature does not verify");
}

}  // namespace sigil::cose
