#include "attestation/azure/runtime_data.h"

#include <string_view>

#include "core/encoding.h"
#include "core/json.h"

namespace sigil::attestation::azure {
namespace {

constexpr std::string_view kWhere = "HCL runtime data";

Unexpected<Error> Bad(const std::string& path, std::string_view what) {
  return Fail(Code::kMalformedEvidence,
              std::string(kWhere) + ": " + path + " " + std::string(what));
}

Result<Bytes> B64UrlMember(const Json& obj, const char* key, const std::string& path) {
  const auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) {
    return Bad(path + "." + key, "is missing or not a string");
  }
  auto bytes = Base64UrlDecode(it->get_ref<const std::string&>());
  if (!bytes) {
    return Bad(path + "." + key, "is not unpadded base64url: " + bytes.error().message());
  }
  if (bytes->empty() || (*bytes)[0] == 0) {
    return Bad(path + "." + key, "is empty or has a leading zero octet (RFC 7518 6.3.1)");
  }
  return std::move(bytes).value();
}

Result<RsaJwk> ParseRsaJwk(const Json& jwk, const std::string& path) {
  const auto kty = jwk.find("kty");
  if (kty == jwk.end() || !kty->is_string() || kty->get_ref<const std::string&>() != "RSA") {
    return Bad(path + ".kty", "is not \"RSA\"");
  }
  RsaJwk key;
  SIGIL_ASSIGN_OR_RETURN(key.n, B64UrlMember(jwk, "n", path));
  SIGIL_ASSIGN_OR_RETURN(key.e, B64UrlMember(jwk, "e", path));
  if (key.n.size() < 256 || key.n.size() > 1024) {
    return Bad(path + ".n", "is " + std::to_string(key.n.size() * 8) +
                                " bits, not an RSA modulus of 2048..8192 bits");
  }
  if (key.e.size() > 8) {
    return Bad(path + ".e", "is longer than 8 bytes");
  }
  return key;
}

template <class T>
Result<void> Optional(const Json& obj, const char* key, std::optional<T>& out) {
  const auto it = obj.find(key);
  if (it == obj.end()) {
    return Ok();
  }
  const std::string path = "$.vm-configuration." + std::string(key);
  if constexpr (std::is_same_v<T, bool>) {
    if (!it->is_boolean()) {
      return Bad(path, "is not a boolean");
    }
    out = it->get<bool>();
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!it->is_string()) {
      return Bad(path, "is not a string");
    }
    out = it->get<std::string>();
  } else {
    auto v = JsonToInt64(*it, path);
    if (!v) {
      return Bad(path, "is not an integer that fits int64");
    }
    out = *v;
  }
  return Ok();
}

Result<VmConfiguration> ParseVmConfiguration(const Json& root) {
  const auto it = root.find("vm-configuration");
  if (it == root.end() || !it->is_object()) {
    return Bad("$.vm-configuration", "is missing or not an object");
  }
  VmConfiguration vm;
  SIGIL_RETURN_IF_ERROR(Optional(*it, "console-enabled", vm.console_enabled));
  SIGIL_RETURN_IF_ERROR(Optional(*it, "secure-boot", vm.secure_boot));
  SIGIL_RETURN_IF_ERROR(Optional(*it, "tpm-enabled", vm.tpm_enabled));
  SIGIL_RETURN_IF_ERROR(Optional(*it, "tpm-persisted", vm.tpm_persisted));
  SIGIL_RETURN_IF_ERROR(Optional(*it, "current-time", vm.current_time));
  SIGIL_RETURN_IF_ERROR(Optional(*it, "vmUniqueId", vm.vm_unique_id));
  SIGIL_RETURN_IF_ERROR(Optional(*it, "root-cert-thumbprint", vm.root_cert_thumbprint));
  return vm;
}

}  // namespace

Result<RuntimeData> ParseRuntimeData(ByteSpan json) {
  const std::string_view text(reinterpret_cast<const char*>(json.data()), json.size());
  auto parsed = ParseJson(text, kWhere);
  if (!parsed) {  // ParseJson reports kInvalidArgument; here the text is evidence
    return Error(Code::kMalformedEvidence, parsed.error().message());
  }
  const Json root = std::move(parsed).value();
  if (!root.is_object()) {
    return Bad("$", "is not a JSON object");
  }
  const auto keys = root.find("keys");
  if (keys == root.end() || !keys->is_array()) {
    return Bad("$.keys", "is missing or not an array");
  }
  RuntimeData out;
  bool have_ak = false;
  for (std::size_t i = 0; i < keys->size(); ++i) {
    const Json& jwk = (*keys)[i];
    const std::string path = "$.keys[" + std::to_string(i) + "]";
    if (!jwk.is_object()) {
      return Bad(path, "is not an object");
    }
    const auto kid = jwk.find("kid");
    if (kid == jwk.end() || !kid->is_string()) {
      return Bad(path + ".kid", "is missing or not a string");
    }
    const std::string& name = kid->get_ref<const std::string&>();
    if (name == "HCLAkPub") {
      if (have_ak) {
        return Bad(path, "is a second \"HCLAkPub\" key");
      }
      SIGIL_ASSIGN_OR_RETURN(out.ak, ParseRsaJwk(jwk, path));
      have_ak = true;
    } else if (name == "HCLEkPub") {
      if (out.ek) {
        return Bad(path, "is a second \"HCLEkPub\" key");
      }
      SIGIL_ASSIGN_OR_RETURN(out.ek, ParseRsaJwk(jwk, path));
    }
  }
  if (!have_ak) {
    return Bad("$.keys", "has no key with kid \"HCLAkPub\" (the vTPM attestation key)");
  }
  SIGIL_ASSIGN_OR_RETURN(out.vm, ParseVmConfiguration(root));
  if (const auto ud = root.find("user-data"); ud != root.end()) {
    if (!ud->is_string()) {
      return Bad("$.user-data", "is not a string");
    }
    auto bytes = HexDecode(ud->get_ref<const std::string&>());
    if (!bytes) {
      return Bad("$.user-data", "is not hex: " + bytes.error().message());
    }
    out.user_data = std::move(bytes).value();
  }
  return out;
}

}  // namespace sigil::attestation::azure
