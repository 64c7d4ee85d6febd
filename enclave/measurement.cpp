#include "enclave/measurement.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

#include "core/bytes.h"
#include "core/encoding.h"
#include "core/ossl.h"
#include "core/unique_fd.h"

namespace sigil::enclave {
namespace {

constexpr std::size_t kChunk = std::size_t{1} << 20;

Error Errno(const std::string& what, const std::string& path) {
  return Error(errno == ENOENT ? Code::kNotFound : Code::kUnavailable,
               what + " " + path + ": " + std::strerror(errno));
}

Result<void> Update(EVP_MD_CTX* ctx, ByteSpan data) {
  if (EVP_DigestUpdate(ctx, data.data(), data.size()) != 1) {
    return OpenSslError(Code::kInternal, "SHA-384 update");
  }
  return Ok();
}

}  // namespace

Result<std::string> MeasureEngine(const std::string& engine_binary_path, std::string_view sandbox_config) {
  UniqueFd fd(::open(engine_binary_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return Errno("cannot open engine", engine_binary_path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Errno("cannot stat engine", engine_binary_path);
  // A FIFO or device would block or never end; engines are files (memfds are regular too).
  if (!S_ISREG(st.st_mode)) {
    return Fail(Code::kInvalidArgument, engine_binary_path + ": engine is not a regular file");
  }
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha384(), nullptr) != 1) {
    return OpenSslError(Code::kInternal, "SHA-384 init");
  }
  std::vector<std::uint8_t> buf(kChunk);
  std::uint64_t engine_len = 0;
  for (;;) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("cannot read engine", engine_binary_path);
    if (n == 0) break;
    SIGIL_RETURN_IF_ERROR(Update(ctx.get(), ByteSpan(buf.data(), static_cast<std::size_t>(n))));
    engine_len += static_cast<std::uint64_t>(n);
  }
  const std::uint8_t separator[1] = {0x00};
  Bytes trailer = Concat({AsBytes(kSandboxConfigContext), separator, AsBytes(sandbox_config)});
  AppendU64(trailer, sandbox_config.size());
  AppendU64(trailer, engine_len);
  SIGIL_RETURN_IF_ERROR(Update(ctx.get(), trailer));
  std::array<std::uint8_t, 48> digest{};
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx.get(), digest.data(), &len) != 1 || len != digest.size()) {
    return OpenSslError(Code::kInternal, "SHA-384 final");
  }
  return HexEncode(digest);
}

}  // namespace sigil::enclave
