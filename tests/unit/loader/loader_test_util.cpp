#include "tests/unit/loader/loader_test_util.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include <openssl/rand.h>

namespace sigil::loader::testing {

Bytes Pseudorandom(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes out(n);
  for (auto& b : out) b = static_cast<std::uint8_t>(rng());
  return out;
}

void WriteBytes(const std::string& path, ByteSpan data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

Bytes ReadBytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

Bytes ReadFd(int fd) {
  Bytes out;
  std::uint8_t buf[65536];
  for (off_t off = 0;;) {
    ssize_t n = ::pread(fd, buf, sizeof buf, off);
    if (n <= 0) break;
    out.insert(out.end(), buf, buf + n);
    off += n;
  }
  return out;
}

ContainerHeader TemplateHeader() {
  ContainerHeader h;
  h.tenant = "acme";
  h.key_name = "llama3";
  h.key_version = 1;
  h.enc.resize(kEncSize);
  h.sealed_dek.resize(kSealedDekSize);
  // Unchecked, a failed generator would leave zeros: stop instead (scripts/check_rng_calls.sh).
  if (RAND_bytes(h.enc.data(), static_cast<int>(h.enc.size())) != 1 ||
      RAND_bytes(h.sealed_dek.data(), static_cast<int>(h.sealed_dek.size())) != 1 ||
      RAND_bytes(h.salt.data(), static_cast<int>(h.salt.size())) != 1) {
    std::abort();
  }
  return h;
}

SecretBytes RandomDek() { return std::move(SecretBytes::Random(kDekSize)).value(); }

Result<ContainerHeader> EncryptBytes(const std::string& dir, const std::string& name, ByteSpan plaintext,
                                     const SecretBytes& dek, const ContainerHeader& tmpl,
                                     const EncryptOptions& options) {
  WriteBytes(dir + "/" + name + ".bin", plaintext);
  return EncryptFileWithDek(dir + "/" + name + ".bin", dir + "/" + name + ".sgl", tmpl, dek, options);
}

int ModelMemfdsOpenOrMapped() {
  int n = 0;
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);) {
    if (line.find("memfd:sigil-model") != std::string::npos) ++n;
  }
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    auto target = std::filesystem::read_symlink(e.path(), ec);
    if (!ec && target.string().find("memfd:sigil-model") != std::string::npos) ++n;
  }
  return n;
}

}  // namespace sigil::loader::testing
