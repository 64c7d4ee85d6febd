#include "broker/kbs/kbs_init_data.h"

#include <algorithm>
#include <toml++/toml.h>

#include "core/digest.h"
#include "core/encoding.h"
#include "core/text.h"
#include "core/utf8.h"

namespace sigil::broker {
namespace {

Error Bad(const std::string& m) { return Error(Code::kInvalidArgument, "init-data" + m); }

Bytes DigestOf(const std::string& algorithm, const std::string& body) {
  const ByteSpan in = AsBytes(body);
  if (algorithm == "sha256") {
    const auto d = Sha256(in);
    return Bytes(d.begin(), d.end());
  }
  if (algorithm == "sha384") {
    const auto d = Sha384(in);
    return Bytes(d.begin(), d.end());
  }
  const auto d = Sha512(in);
  return Bytes(d.begin(), d.end());
}

// Trustee's regularize_data: zero-padded up to, or truncated to, the field's size.
Bytes Regularized(const Bytes& digest, std::size_t size) {
  Bytes out(size, 0);
  std::copy_n(digest.begin(), std::min(size, digest.size()), out.begin());
  return out;
}

}  // namespace

Result<KbsInitData> ParseKbsInitData(const Json& init_data) {
  if (!init_data.is_object()) return Bad(": expected an object {\"format\", \"body\"}");
  for (const auto& [name, value] : init_data.items()) {
    if (name != "format" && name != "body") return Bad(": unknown member '" + EscapeForDisplay(name, 32) + "'");
    if (!value.is_string()) return Bad("." + name + ": expected a string");
  }
  if (!init_data.contains("format") || !init_data.contains("body")) return Bad(": expected \"format\" and \"body\"");
  if (init_data["format"].get_ref<const std::string&>() != "toml") {
    return Bad(".format: only \"toml\" is supported (as in Trustee), not '" +
               EscapeForDisplay(init_data["format"].get_ref<const std::string&>(), 32) + "'");
  }
  KbsInitData out;
  out.body = init_data["body"].get<std::string>();
  if (out.body.size() > kMaxInitDataBytes) {
    return Bad(".body: " + std::to_string(out.body.size()) + " bytes, more than " + std::to_string(kMaxInitDataBytes));
  }
  if (!IsValidUtf8(out.body)) return Bad(".body: not UTF-8");
  toml::table table;
  try {
    table = toml::parse(out.body);
  } catch (const toml::parse_error& e) {
    return Bad(".body: not TOML (" + EscapeForDisplay(e.description(), 120) + " at line " +
               std::to_string(e.source().begin.line) + ")");
  }
  const auto version = table["version"].value<std::string>();
  if (!version || version->empty()) return Bad(".body: `version` must be a non-empty string");
  const auto algorithm = table["algorithm"].value<std::string>();
  if (!algorithm || (*algorithm != "sha256" && *algorithm != "sha384" && *algorithm != "sha512")) {
    return Bad(".body: `algorithm` must be \"sha256\", \"sha384\" or \"sha512\"");
  }
  if (const toml::node* data = table.get("data"); data != nullptr) {
    const toml::table* t = data->as_table();
    if (t == nullptr) return Bad(".body: `data` must be a table");
    for (const auto& [key, value] : *t) {
      if (!value.is_string()) return Bad(".body: data." + EscapeForDisplay(key.str(), 32) + " must be a string");
    }
  }
  out.algorithm = *algorithm;
  out.digest = DigestOf(out.algorithm, out.body);
  return out;
}

Result<void> BindKbsInitData(const KbsInitData& init_data, const std::string& sigil_tee, attestation::Claims& claims) {
  std::string claim, field;
  Bytes expected;
  if (sigil_tee == "tdx") {
    claim = "tdx.mrconfigid", field = "MRCONFIGID";
    expected = Regularized(init_data.digest, 48);
  } else if (sigil_tee == "sev-snp") {
    claim = "snp.host_data", field = "HOST_DATA";
    expected = Regularized(init_data.digest, 32);
  } else if (sigil_tee == "cca") {
    claim = "cca.realm.personalization", field = "the realm personalization value";
    expected = init_data.digest;  // compared exactly, as Trustee does
  } else {
    return Error(Code::kInvalidArgument, "init-data: " + sigil_tee +
                                             " evidence has no field that binds init-data; send the request without it");
  }
  const auto have = claims.GetString(claim);
  if (!have) return Error(Code::kVerificationFailed, "init-data: the verified claims have no " + claim);
  if (*have != HexEncode(expected)) {
    return Error(Code::kVerificationFailed, "init-data: " + init_data.algorithm + " of its body is not the evidence's " +
                                                field + " (" + claim + ")");
  }
  claims.Set("kbs.init_data_digest", HexEncode(init_data.digest));
  return Ok();
}

}  // namespace sigil::broker
