#include "policies/internal/parse_approvals.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <set>

#include "core/digest.h"
#include "core/encoding.h"
#include "core/ossl.h"
#include "policies/internal/parse_condition.h"
#include "policies/internal/text.h"
#include "policies/parse.h"

namespace sigil::policy::internal {
namespace {

Unexpected<Error> Bad(const std::string& path, const std::string& problem) {
  return Fail(Code::kInvalidArgument, path + ": " + problem);
}

bool IsApproverName(const std::string& s) {
  if (s.empty() || s.size() > kMaxApproverNameLength) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-' || c == '@';
    if (!ok) return false;
  }
  return true;
}

// The raw Ed25519 key of a DER SubjectPublicKeyInfo, parsed by OpenSSL (which refuses trailing
// bytes through the length check below).
Result<Bytes> Ed25519FromSpki(const Bytes& der, const std::string& path) {
  const unsigned char* p = der.data();
  EvpPkeyPtr key(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (!key || p != der.data() + der.size()) {
    return Bad(path, "not a DER SubjectPublicKeyInfo (openssl pkey -in KEY.pem -pubout -outform DER | base64 -w0)");
  }
  if (EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519) return Bad(path, "approver keys must be Ed25519");
  Bytes raw(32);
  std::size_t n = raw.size();
  if (EVP_PKEY_get_raw_public_key(key.get(), raw.data(), &n) != 1 || n != raw.size()) {
    return Bad(path, "cannot read the Ed25519 public key");
  }
  return raw;
}

Result<Approver> ParseApprover(const Json& j, const std::string& path) {
  if (!j.is_object()) return Bad(path, "an approver must be an object, got " + JsonTypeName(j));
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() != "name" && it.key() != "public_key") {
      return Bad(path, "unknown field " + Quote(it.key()) + " (expected name, public_key)");
    }
  }
  if (!j.contains("name")) return Bad(path, "missing field 'name'");
  if (!j.contains("public_key")) return Bad(path, "missing field 'public_key'");
  const Json& name = j["name"];
  const Json& key = j["public_key"];
  Approver a;
  if (!name.is_string() || !IsApproverName(name.get<std::string>())) {
    return Bad(path + ".name", "expected 1-" + std::to_string(kMaxApproverNameLength) +
                                   " characters of A-Z a-z 0-9 . _ - @");
  }
  a.name = name.get<std::string>();
  if (!key.is_string() || key.get<std::string>().size() > 256) {
    return Bad(path + ".public_key", "expected base64 of a DER SubjectPublicKeyInfo");
  }
  auto der = Base64Decode(key.get<std::string>());
  if (!der) return Bad(path + ".public_key", "not base64");
  SIGIL_ASSIGN_OR_RETURN(a.public_key, Ed25519FromSpki(*der, path + ".public_key"));
  a.fingerprint = HexEncode(Sha256(*der));
  return a;
}

}  // namespace

Result<ApprovalRule> ParseApprovals(const Json& v, const std::string& path) {
  if (!v.is_object()) return Bad(path, "expected an object {required, approvers}, got " + JsonTypeName(v));
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (it.key() != "required" && it.key() != "approvers") {
      return Bad(path, "unknown field " + Quote(it.key()) + " (expected required, approvers)");
    }
  }
  if (!v.contains("required")) return Bad(path, "missing field 'required'");
  if (!v.contains("approvers")) return Bad(path, "missing field 'approvers'");
  const Json& list = v["approvers"];
  if (!list.is_array() || list.empty() || list.size() > kMaxApprovers) {
    return Bad(path + ".approvers", "expected an array of 1 to " + std::to_string(kMaxApprovers) + " approvers");
  }
  ApprovalRule rule;
  rule.path = path;
  std::set<std::string, std::less<>> names, keys;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string at = path + ".approvers[" + std::to_string(i) + "]";
    SIGIL_ASSIGN_OR_RETURN(Approver a, ParseApprover(list[i], at));
    if (!names.insert(a.name).second) return Bad(at + ".name", "duplicate approver name " + Quote(a.name));
    // One key is one approver, whatever names it is listed under: k distinct signatures means k keys.
    if (!keys.insert(a.fingerprint).second) return Bad(at + ".public_key", "the same key is listed twice");
    rule.approvers.push_back(std::move(a));
  }
  const Json& required = v["required"];
  if (!required.is_number_integer()) return Bad(path + ".required", "expected an integer, got " + JsonTypeName(required));
  const std::int64_t k = required.get<std::int64_t>();
  if (k < 1 || k > static_cast<std::int64_t>(rule.approvers.size())) {
    return Bad(path + ".required", std::to_string(k) + " is out of range (1 to the " +
                                       std::to_string(rule.approvers.size()) + " approvers listed)");
  }
  rule.required = static_cast<int>(k);
  return rule;
}

}  // namespace sigil::policy::internal
