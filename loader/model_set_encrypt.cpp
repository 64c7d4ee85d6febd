#include "loader/model_set_encrypt.h"

#include <openssl/rand.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "core/encoding.h"
#include "core/file_io.h"
#include "core/hpke.h"
#include "core/ossl.h"
#include "core/protocol.h"
#include "enclave/mapped_file.h"
#include "enclave/safetensors.h"
#include "enclave/sharded_model.h"

namespace sigil::loader {
namespace {

namespace fs = std::filesystem;

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// The member files of `dir`, sorted, after the naming and file-type rules.
Result<std::vector<std::string>> ListMembers(const std::string& dir) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) return Fail(Code::kNotFound, "cannot read directory " + dir + ": " + ec.message());
  std::vector<std::string> names;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) return Fail(Code::kUnavailable, "cannot read directory " + dir + ": " + ec.message());
    std::string name = it->path().filename().string();
    if (name.starts_with('.')) continue;  // .git, .gitattributes of a checkout: not model files
    if (!it->is_regular_file(ec)) {
      return Fail(Code::kInvalidArgument, dir + "/" + name + ": not a regular file (a model set is one flat directory)");
    }
    if (auto ok = enclave::ValidateShardFileName(name); !ok) return ok.error().Wrap(dir);
    names.push_back(std::move(name));
  }
  if (names.empty()) return Fail(Code::kInvalidArgument, dir + ": no files to encrypt");
  if (names.size() > kMaxSetMembers) {
    return Fail(Code::kInvalidArgument, dir + ": " + std::to_string(names.size()) + " files, more than the " +
                                            std::to_string(kMaxSetMembers) + " one release can carry");
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Safetensors header validation and the index check; returns the index's name or "".
Result<std::string> ValidateMembers(const std::string& dir, const std::vector<std::string>& names) {
  std::string index_name;
  std::map<std::string, enclave::MappedFile> shards;
  std::map<std::string, ByteSpan> spans;
  for (const std::string& n : names) {
    if (EndsWith(n, ".safetensors.index.json")) {
      if (!index_name.empty()) {
        return Fail(Code::kInvalidArgument, dir + ": two index files, " + index_name + " and " + n);
      }
      index_name = n;
    } else if (EndsWith(n, ".safetensors")) {
      SIGIL_ASSIGN_OR_RETURN(enclave::MappedFile f, enclave::MappedFile::Open(dir + "/" + n));
      if (auto p = enclave::ParseSafetensors(f.bytes()); !p) return std::move(p).error().Wrap(dir + "/" + n);
      spans.emplace(n, f.bytes());
      shards.emplace(n, std::move(f));
    }
  }
  if (index_name.empty()) return index_name;
  std::string path = dir + "/" + index_name;
  SIGIL_ASSIGN_OR_RETURN(Bytes text, ReadFile(path, std::size_t{64} << 20));
  SIGIL_ASSIGN_OR_RETURN(enclave::ShardedIndex index, enclave::ParseShardIndex(ToString(text), path));
  if (auto ok = enclave::CheckShardsMatchIndex(index, spans); !ok) return ok.error().Wrap(path);
  return index_name;
}

// A fresh DEK sealed to the recipient, as EncryptFile (container_keys.cpp) does; done here
// because the set needs the DEK afterwards to compute the member's tag.
struct SealedDek {
  ContainerHeader header;
  SecretBytes dek;
};
Result<SealedDek> SealFreshDek(const RecipientKey& r) {
  SealedDek s;
  s.header.tenant = r.tenant;
  s.header.key_name = r.key_name;
  s.header.key_version = r.version;
  if (RAND_bytes(s.header.salt.data(), static_cast<int>(s.header.salt.size())) != 1) {
    return OpenSslError(Code::kInternal, "RAND_bytes(salt)");
  }
  SIGIL_ASSIGN_OR_RETURN(s.dek, SecretBytes::Random(kDekSize));
  Bytes info = protocol::DekSealInfo(r.tenant, r.key_name, r.version);
  SIGIL_ASSIGN_OR_RETURN(hpke::Sealed sealed,
                         hpke::Seal(hpke::kSigilSuite, r.public_key, info, {}, s.dek.Reveal(SecretAccess::Get())));
  if (sealed.enc.size() != kEncSize || sealed.ciphertext.size() != kSealedDekSize) {
    return Fail(Code::kInternal, "HPKE seal produced enc/ciphertext of unexpected sizes");
  }
  s.header.enc = std::move(sealed.enc);
  s.header.sealed_dek = std::move(sealed.ciphertext);
  return s;
}

}  // namespace

Result<SetManifest> EncryptModelSet(const std::string& in_dir, const std::string& out_dir,
                                    const RecipientKey& recipient, const SetEncryptOptions& options) {
  SIGIL_RETURN_IF_ERROR(ValidateRecipientKey(recipient));
  SIGIL_ASSIGN_OR_RETURN(std::vector<std::string> names, ListMembers(in_dir));
  SIGIL_ASSIGN_OR_RETURN(std::string index_name, ValidateMembers(in_dir, names));

  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) return Fail(Code::kUnavailable, "cannot create " + out_dir + ": " + ec.message());
  if (fs::equivalent(in_dir, out_dir, ec)) {
    return Fail(Code::kInvalidArgument, "the output directory must differ from the input directory");
  }

  SetManifest m;
  Bytes set_id(32);
  if (RAND_bytes(set_id.data(), static_cast<int>(set_id.size())) != 1) return OpenSslError(Code::kInternal, "RAND_bytes");
  m.set_id = HexEncode(set_id);
  // {model} is the index of a sharded model, or the file itself when the set has only one.
  m.main = !index_name.empty() ? index_name : (names.size() == 1 ? names[0] : "");
  std::vector<SecretBytes> deks;
  std::vector<ContainerHeader> headers;
  // Progress covers the whole set: per-file reports are offset by the work of earlier files
  // (each file counts once, or twice with the digest pass, as in EncryptFileWithDek).
  std::uint64_t total = 0, base = 0;
  const std::uint64_t passes = options.file.plaintext_sha256 ? 2 : 1;
  for (const std::string& n : names) {
    std::uintmax_t size = fs::file_size(in_dir + "/" + n, ec);
    if (ec) return Fail(Code::kUnavailable, "cannot stat " + in_dir + "/" + n + ": " + ec.message());
    total += passes * static_cast<std::uint64_t>(size);
  }
  for (const std::string& n : names) {
    if (options.on_member) options.on_member(n);
    SIGIL_ASSIGN_OR_RETURN(SealedDek s, SealFreshDek(recipient));
    EncryptOptions eo = options.file;
    if (options.file.progress) {
      eo.progress = [&options, &base, total](std::uint64_t done, std::uint64_t) {
        options.file.progress(std::min(base + done, total), total);
      };
    }
    if (EndsWith(n, ".json")) eo.content_type = "application/json";
    SetMember member{n, n + ".sgl", 0, "", "", ""};
    std::string out = out_dir + "/" + member.file;
    SIGIL_ASSIGN_OR_RETURN(ContainerHeader h, EncryptFileWithDek(in_dir + "/" + n, out, std::move(s.header), s.dek, eo));
    SIGIL_ASSIGN_OR_RETURN(Container c, Container::Open(out));
    member.size = h.plaintext_size;
    base += passes * h.plaintext_size;
    member.artifact_id = protocol::ArtifactId(h.enc, h.sealed_dek);
    member.header_sha256 = HexEncode(Sha256(c.header_bytes()));
    m.members.push_back(std::move(member));
    deks.push_back(std::move(s.dek));
    headers.push_back(std::move(h));
  }
  Sha256Digest digest = SetDigest(m);
  for (std::size_t i = 0; i < m.members.size(); ++i) {
    SIGIL_ASSIGN_OR_RETURN(Bytes tag, SetMemberTag(deks[i], headers[i].salt, digest));
    m.members[i].tag = HexEncode(tag);
  }
  SIGIL_RETURN_IF_ERROR(
      WriteFileAtomic(out_dir + "/" + std::string(kSetManifestName), AsBytes(SerializeSetManifest(m)), 0644));
  return m;
}

}  // namespace sigil::loader
