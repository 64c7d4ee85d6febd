#include "loader/model_set.h"

#include <sys/stat.h>

#include <set>

#include "core/encoding.h"
#include "core/file_io.h"
#include "core/hkdf.h"
#include "core/protocol.h"
#include "enclave/sharded_model.h"

namespace sigil::loader {
namespace {

constexpr std::string_view kSetDigestLabel = "sigil/v1/set";

Unexpected<Error> Bad(std::string_view source, const std::string& where, const std::string& what) {
  return Fail(Code::kInvalidArgument, std::string(source) + ": " + where + ": " + what);
}

Json Body(const SetManifest& m, bool with_tags) {
  Json members = Json::array();
  for (const SetMember& s : m.members) {
    Json e = {{"name", s.name},
              {"file", s.file},
              {"size", s.size},
              {"artifact_id", s.artifact_id},
              {"header_sha256", s.header_sha256}};
    if (with_tags) e["tag"] = s.tag;
    members.push_back(std::move(e));
  }
  return {{"type", kSetManifestType}, {"version", 1}, {"set_id", m.set_id}, {"main", m.main}, {"members", members}};
}

Result<void> CheckHex(const Json& obj, const std::string& key, std::size_t bytes, std::string_view source,
                      const std::string& where) {
  auto s = GetString(obj, key, where);
  if (!s) return Bad(source, where + "." + key, s.error().message());
  auto raw = HexDecode(*s);
  if (!raw || raw->size() != bytes || HexEncode(*raw) != *s) {
    return Bad(source, where + "." + key, "must be " + std::to_string(2 * bytes) + " lowercase hex digits");
  }
  return {};
}

Result<void> ExactKeys(const Json& obj, std::set<std::string> keys, std::string_view source, const std::string& where) {
  if (!obj.is_object()) return Bad(source, where, "not an object");
  for (const auto& [k, v] : obj.items()) {
    if (!keys.erase(k)) return Bad(source, where, "unknown member '" + k + "'");
  }
  if (!keys.empty()) return Bad(source, where, "missing member '" + *keys.begin() + "'");
  return {};
}

}  // namespace

Sha256Digest SetDigest(const SetManifest& m) {
  std::string text(kSetDigestLabel);
  text.push_back('\0');
  text += CanonicalJson(Body(m, false));
  return Sha256(AsBytes(text));
}

Result<Bytes> SetMemberTag(const SecretBytes& dek, ByteSpan salt, const Sha256Digest& set_digest) {
  SIGIL_ASSIGN_OR_RETURN(SecretBytes prk, HkdfExtract(HkdfHash::kSha256, salt, dek.Reveal(SecretAccess::Get())));
  Bytes info(kSetMemberTagLabel.begin(), kSetMemberTagLabel.end());
  info.push_back(0);
  info.insert(info.end(), set_digest.begin(), set_digest.end());
  SIGIL_ASSIGN_OR_RETURN(SecretBytes tag, HkdfExpand(HkdfHash::kSha256, prk.Reveal(SecretAccess::Get()), info, 32));
  ByteSpan t = tag.Reveal(SecretAccess::Get());
  return Bytes(t.begin(), t.end());  // a MAC, not a secret
}

std::string SerializeSetManifest(const SetManifest& m) { return Body(m, true).dump(2) + "\n"; }

Result<SetManifest> ParseSetManifest(std::string_view text, std::string_view source) {
  SIGIL_ASSIGN_OR_RETURN(Json j, ParseJson(text, source));
  SIGIL_RETURN_IF_ERROR(ExactKeys(j, {"type", "version", "set_id", "main", "members"}, source, "$"));
  if (j["type"] != kSetManifestType) return Bad(source, "$.type", "must be \"" + std::string(kSetManifestType) + "\"");
  if (j["version"] != 1) return Bad(source, "$.version", "must be 1");
  SIGIL_RETURN_IF_ERROR(CheckHex(j, "set_id", 32, source, "$"));
  SetManifest m;
  m.set_id = j["set_id"].get<std::string>();
  if (!j["main"].is_string()) return Bad(source, "$.main", "not a string");
  m.main = j["main"].get<std::string>();
  const Json& members = j["members"];
  if (!members.is_array() || members.empty() || members.size() > kMaxSetMembers) {
    return Bad(source, "$.members", "must be an array of 1.." + std::to_string(kMaxSetMembers) + " members");
  }
  for (std::size_t i = 0; i < members.size(); ++i) {
    const Json& e = members[i];
    std::string where = "$.members[" + std::to_string(i) + "]";
    SIGIL_RETURN_IF_ERROR(ExactKeys(e, {"name", "file", "size", "artifact_id", "header_sha256", "tag"}, source, where));
    SetMember s;
    SIGIL_ASSIGN_OR_RETURN(s.name, GetString(e, "name", where + ".name"));
    if (auto ok = enclave::ValidateShardFileName(s.name); !ok) return Bad(source, where + ".name", ok.error().message());
    SIGIL_ASSIGN_OR_RETURN(s.file, GetString(e, "file", where + ".file"));
    if (s.file != s.name + ".sgl") return Bad(source, where + ".file", "must be the name followed by .sgl");
    if (!e["size"].is_number_unsigned()) return Bad(source, where + ".size", "not an unsigned integer");
    s.size = e["size"].get<std::uint64_t>();
    SIGIL_RETURN_IF_ERROR(CheckHex(e, "artifact_id", 32, source, where));
    SIGIL_RETURN_IF_ERROR(CheckHex(e, "header_sha256", 32, source, where));
    SIGIL_RETURN_IF_ERROR(CheckHex(e, "tag", 32, source, where));
    s.artifact_id = e["artifact_id"].get<std::string>();
    s.header_sha256 = e["header_sha256"].get<std::string>();
    s.tag = e["tag"].get<std::string>();
    if (!m.members.empty() && !(m.members.back().name < s.name)) {
      return Bad(source, where + ".name", "members must be sorted by name, without duplicates");
    }
    m.members.push_back(std::move(s));
  }
  if (!m.main.empty()) {
    bool found = false;
    for (const SetMember& s : m.members) found = found || s.name == m.main;
    if (!found) return Bad(source, "$.main", "'" + m.main + "' is not a member");
  }
  return m;
}

bool IsModelSetDir(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return false;
  return ::stat((path + "/" + std::string(kSetManifestName)).c_str(), &st) == 0;
}

Result<ModelSet> OpenModelSet(const std::string& dir) {
  std::string manifest_path = dir + "/" + std::string(kSetManifestName);
  SIGIL_ASSIGN_OR_RETURN(Bytes text, ReadFile(manifest_path, std::size_t{16} << 20));
  SIGIL_ASSIGN_OR_RETURN(SetManifest m, ParseSetManifest(ToString(text), manifest_path));
  ModelSet set{dir, std::move(m), {}};
  for (const SetMember& s : set.manifest.members) {
    auto c = Container::Open(dir + "/" + s.file);
    if (!c) return std::move(c).error().Wrap("set member '" + s.name + "'");
    const ContainerHeader& h = c->header();
    if (HexEncode(Sha256(c->header_bytes())) != s.header_sha256) {
      return Fail(Code::kVerificationFailed, "set member '" + s.name + "': " + c->path() +
                                                 " is not the container the manifest names (header SHA-256 differs)");
    }
    // Implied by the header digest; checked anyway so the message says what differs.
    if (protocol::ArtifactId(h.enc, h.sealed_dek) != s.artifact_id || h.plaintext_size != s.size) {
      return Fail(Code::kVerificationFailed, "set member '" + s.name + "': artifact id or size differs from the manifest");
    }
    set.containers.push_back(std::move(c).value());
  }
  return set;
}

Result<void> VerifySetTags(const ModelSet& set, const std::vector<SecretBytes>& deks) {
  if (deks.size() != set.manifest.members.size()) return Fail(Code::kInternal, "one DEK per set member expected");
  Sha256Digest digest = SetDigest(set.manifest);
  for (std::size_t i = 0; i < deks.size(); ++i) {
    const SetMember& s = set.manifest.members[i];
    SIGIL_ASSIGN_OR_RETURN(Bytes tag, SetMemberTag(deks[i], set.containers[i].header().salt, digest));
    SIGIL_ASSIGN_OR_RETURN(Bytes expected, HexDecode(s.tag));
    if (!ConstantTimeEqual(tag, expected)) {
      return Fail(Code::kVerificationFailed, "set member '" + s.name + "': its tag does not authenticate this manifest "
                                             "(the set was altered: a member swapped, dropped, added or renamed)");
    }
  }
  return {};
}

}  // namespace sigil::loader
