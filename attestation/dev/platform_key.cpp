#include "attestation/dev/platform_key.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <initializer_list>

#include "core/digest.h"
#include "core/encoding.h"
#include "core/file_io.h"
#include "core/json.h"
#include "core/secret_bytes.h"

namespace sigil::attestation::dev {
namespace {

// Key files are a few hundred bytes; anything larger is not a key file.
constexpr std::size_t kMaxKeyFileSize = 4096;

Result<void> RequireExactFields(const Json& j, std::initializer_list<std::string_view> fields,
                                const std::string& where) {
  if (!j.is_object()) return Fail(Code::kInvalidArgument, where + ": expected a JSON object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool known = false;
    for (std::string_view f : fields) known = known || it.key() == f;
    if (!known) return Fail(Code::kInvalidArgument, where + ": unknown field '" + it.key() + "'");
  }
  return Ok();
}

Result<void> RequireType(const Json& j, std::string_view type, const std::string& where) {
  SIGIL_ASSIGN_OR_RETURN(std::string t, GetString(j, "type", where));
  if (t != type) {
    return Fail(Code::kInvalidArgument,
                where + ".type: expected '" + std::string(type) + "', got '" + t + "'");
  }
  return Ok();
}

Error Errno(const std::string& what, const std::string& path) {
  return Error(errno == ENOENT ? Code::kNotFound : Code::kUnavailable,
               what + " " + path + ": " + std::strerror(errno));
}

// Reads the private key file straight into locked memory and refuses files that other users
// could read: a shared dev key lets them forge evidence too.
Result<SecretBytes> ReadPrivateKeyFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    Error e = Errno("cannot stat", path);
    ::close(fd);
    return e;
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    return Fail(Code::kPermissionDenied,
                path + ": dev platform key is accessible by group or others; run chmod 600");
  }
  if (!S_ISREG(st.st_mode) || st.st_size <= 0 ||
      static_cast<std::size_t>(st.st_size) > kMaxKeyFileSize) {
    ::close(fd);
    return Fail(Code::kInvalidArgument, path + ": not a dev platform key file (size or type)");
  }
  auto buf = SecretBytes::Allocate(static_cast<std::size_t>(st.st_size));
  if (!buf) {
    ::close(fd);
    return std::move(buf).error();
  }
  auto out = buf->RevealMutable(SecretAccess::Get());
  std::size_t off = 0;
  while (off < out.size()) {
    ssize_t n = ::read(fd, out.data() + off, out.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Error e = n < 0 ? Errno("cannot read", path)
                      : Error(Code::kUnavailable, path + ": file shrank while reading");
      ::close(fd);
      return e;
    }
    off += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return std::move(buf).value();
}

}  // namespace

Result<Ed25519KeyPair> GenerateDevPlatformKey() { return Ed25519Generate(); }

Result<void> SaveDevPlatformKey(const std::string& path, const Ed25519KeyPair& key) {
  if (key.seed.size() != kEd25519SeedSize) {
    return Fail(Code::kInvalidArgument, "dev platform key: seed must be 32 bytes");
  }
  // Built by hand (not through Json) so the seed's only heap copy is the base64url text, which
  // is exactly sized and wiped below; the file image itself lives in locked memory.
  std::string seed_b64 = Base64UrlEncode(key.seed.Reveal(SecretAccess::Get()));
  const std::string head = std::string(R"({"type":")") + std::string(kPrivateKeyType) +
                           R"(","warning":")" + std::string(kPrivateKeyWarning) + R"(","seed":")";
  const std::string tail = "\"}\n";
  auto image = SecretBytes::Allocate(head.size() + seed_b64.size() + tail.size());
  if (!image) {
    sodium_memzero(seed_b64.data(), seed_b64.size());
    return std::move(image).error();
  }
  std::uint8_t* p = image->RevealMutable(SecretAccess::Get()).data();
  std::memcpy(p, head.data(), head.size());
  std::memcpy(p + head.size(), seed_b64.data(), seed_b64.size());
  std::memcpy(p + head.size() + seed_b64.size(), tail.data(), tail.size());
  sodium_memzero(seed_b64.data(), seed_b64.size());
  return WriteFileAtomic(path, image->Reveal(SecretAccess::Get()), 0600);
}

Result<Ed25519KeyPair> LoadDevPlatformKey(const std::string& path) {
  SIGIL_ASSIGN_OR_RETURN(SecretBytes image, ReadPrivateKeyFile(path));
  auto text = image.Reveal(SecretAccess::Get());
  SIGIL_ASSIGN_OR_RETURN(
      Json j, ParseJson(std::string_view(reinterpret_cast<const char*>(text.data()), text.size()), path));
  // Scrub the seed text held by the parsed document however this function returns. (The JSON
  // lexer's scratch buffer is not reachable; this is an insecure dev key, we keep the habit.)
  struct Scrub {
    Json& doc;
    ~Scrub() {
      auto it = doc.is_object() ? doc.find("seed") : doc.end();
      if (it != doc.end() && it->is_string()) {
        auto& s = it->get_ref<std::string&>();
        sodium_memzero(s.data(), s.size());
      }
    }
  } scrub{j};
  SIGIL_RETURN_IF_ERROR(RequireExactFields(j, {"type", "warning", "seed"}, path));
  SIGIL_RETURN_IF_ERROR(RequireType(j, kPrivateKeyType, path));
  SIGIL_RETURN_IF_ERROR(GetString(j, "warning", path));
  if (!j.contains("seed") || !j["seed"].is_string()) {
    return Fail(Code::kInvalidArgument, path + ".seed: expected a base64url string");
  }
  auto seed = Base64UrlDecode(j["seed"].get_ref<const std::string&>());
  if (!seed) return std::move(seed).error().Wrap(path + ".seed");
  Bytes& raw = seed.value();
  if (raw.size() != kEd25519SeedSize) {
    sodium_memzero(raw.data(), raw.size());
    return Fail(Code::kInvalidArgument, path + ".seed: expected 32 bytes, got " + std::to_string(raw.size()));
  }
  auto pair = Ed25519FromSeed(raw);
  sodium_memzero(raw.data(), raw.size());
  return pair;
}

Result<void> SaveDevPlatformPublicKey(const std::string& path, ByteSpan public_key) {
  if (public_key.size() != kEd25519PublicKeySize) {
    return Fail(Code::kInvalidArgument, "dev platform public key must be 32 bytes");
  }
  Json j = {{"type", std::string(kPublicKeyType)}, {"public_key", Base64UrlEncode(public_key)}};
  return WriteFileAtomic(path, AsBytes(CanonicalJson(j) + "\n"), 0644);
}

Result<Bytes> LoadDevPlatformPublicKey(const std::string& path) {
  SIGIL_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path, kMaxKeyFileSize));
  SIGIL_ASSIGN_OR_RETURN(Json j, ParseJson(text, path));
  SIGIL_RETURN_IF_ERROR(RequireExactFields(j, {"type", "public_key"}, path));
  SIGIL_RETURN_IF_ERROR(RequireType(j, kPublicKeyType, path));
  SIGIL_ASSIGN_OR_RETURN(std::string b64, GetString(j, "public_key", path));
  auto pk = Base64UrlDecode(b64);
  if (!pk) return std::move(pk).error().Wrap(path + ".public_key");
  if (pk->size() != kEd25519PublicKeySize) {
    return Fail(Code::kInvalidArgument,
                path + ".public_key: expected 32 bytes, got " + std::to_string(pk->size()));
  }
  return std::move(pk).value();
}

std::string DevPlatformId(ByteSpan public_key) {
  return "sigil-dev:" + HexEncode(Sha256(public_key)).substr(0, 16);
}

}  // namespace sigil::attestation::dev
