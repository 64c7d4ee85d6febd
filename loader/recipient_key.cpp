#include "loader/recipient_key.h"

#include <algorithm>
#include <array>

#include "core/encoding.h"
#include "core/file_io.h"
#include "core/json.h"
#include "loader/container_format.h"

namespace sigil::loader {
namespace {

constexpr std::array<std::string_view, 6> kMembers{"type", "tenant", "key", "version", "suite", "public_key"};

Error Bad(std::string_view source, std::string_view member, const std::string& why) {
  return Error(Code::kInvalidArgument, std::string(source) + ": $." + std::string(member) + ": " + why);
}

}  // namespace

Result<void> ValidateRecipientKey(const RecipientKey& key) {
  SIGIL_RETURN_IF_ERROR(ValidateName(key.tenant, "tenant"));
  SIGIL_RETURN_IF_ERROR(ValidateName(key.key_name, "key name"));
  if (key.version == 0) return Fail(Code::kInvalidArgument, "key version must be >= 1");
  if (key.public_key.size() != kEncSize) {
    return Fail(Code::kInvalidArgument, "public key must be 32 bytes (X25519), got " +
                                            std::to_string(key.public_key.size()));
  }
  if (std::all_of(key.public_key.begin(), key.public_key.end(), [](std::uint8_t b) { return b == 0; })) {
    return Fail(Code::kInvalidArgument, "public key is all zeros");
  }
  return Ok();
}

Result<RecipientKey> ParseRecipientKey(std::string_view json_text, std::string_view source) {
  SIGIL_ASSIGN_OR_RETURN(Json j, ParseJson(json_text, source));
  if (!j.is_object()) return Bad(source, "", "expected a JSON object");
  for (const auto& [name, value] : j.items()) {
    if (std::find(kMembers.begin(), kMembers.end(), name) == kMembers.end()) {
      return Bad(source, name, "unknown member (expected only type, tenant, key, version, suite, public_key)");
    }
  }
  std::string where = std::string(source) + ": $";
  SIGIL_ASSIGN_OR_RETURN(std::string type, GetString(j, "type", where));
  if (type != kRecipientKeyType) {
    return Bad(source, "type", "is '" + type.substr(0, 64) + "', expected 'sigil-public-key'");
  }
  RecipientKey key;
  SIGIL_ASSIGN_OR_RETURN(key.tenant, GetString(j, "tenant", where));
  if (auto v = ValidateName(key.tenant, "tenant"); !v) return Bad(source, "tenant", v.error().message());
  SIGIL_ASSIGN_OR_RETURN(key.key_name, GetString(j, "key", where));
  if (auto v = ValidateName(key.key_name, "key name"); !v) return Bad(source, "key", v.error().message());
  SIGIL_ASSIGN_OR_RETURN(std::int64_t version, GetInt(j, "version", where));
  if (version < 1 || version > 0xFFFFFFFFll) return Bad(source, "version", "must be in 1..4294967295");
  key.version = static_cast<std::uint32_t>(version);
  SIGIL_ASSIGN_OR_RETURN(std::string suite, GetString(j, "suite", where));
  if (suite != kRecipientSuite) {
    return Bad(source, "suite", "is '" + suite.substr(0, 64) + "', expected 'X25519-HKDF-SHA256-AES-256-GCM'");
  }
  SIGIL_ASSIGN_OR_RETURN(std::string pk, GetString(j, "public_key", where));
  auto decoded = Base64UrlDecode(pk);
  if (!decoded) return Bad(source, "public_key", decoded.error().message());
  key.public_key = std::move(decoded).value();
  if (auto v = ValidateRecipientKey(key); !v) return Bad(source, "public_key", v.error().message());
  return key;
}

Result<RecipientKey> ReadRecipientKeyFile(const std::string& path) {
  SIGIL_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path, 64 << 10));
  return ParseRecipientKey(text, path);
}

Result<std::string> SerializeRecipientKey(const RecipientKey& key) {
  SIGIL_RETURN_IF_ERROR(ValidateRecipientKey(key));
  Json j = {{"type", kRecipientKeyType},     {"tenant", key.tenant},
            {"key", key.key_name},           {"version", key.version},
            {"suite", kRecipientSuite},      {"public_key", Base64UrlEncode(key.public_key)}};
  return CanonicalJson(j) + "\n";
}

}  // namespace sigil::loader
