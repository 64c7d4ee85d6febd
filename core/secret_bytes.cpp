#include "core/secret_bytes.h"

#include <sodium.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "core/secret_arena.h"

namespace sigil {

void EnsureSodium() {
  static std::once_flag once;
  std::call_once(once, [] { SIGIL_CHECK(sodium_init() >= 0); });
}

Result<SecretBytes> SecretBytes::Allocate(std::size_t n) {
  EnsureSodium();
  SecretBytes s;
  if (n == 0) return s;
  // Locked, dump-excluded, zeroed memory from the secret pool (core/secret_arena.h); only
  // secrets above a few KiB get their own sodium_malloc mapping.
  SIGIL_ASSIGN_OR_RETURN(s.data_, secret_arena::Allocate(n));
  s.size_ = n;
  return s;
}

Result<SecretBytes> SecretBytes::CopyFrom(std::span<const std::uint8_t> bytes) {
  SIGIL_ASSIGN_OR_RETURN(SecretBytes s, Allocate(bytes.size()));
  if (!bytes.empty()) std::memcpy(s.data_, bytes.data(), bytes.size());
  return s;
}

Result<SecretBytes> SecretBytes::Random(std::size_t n) {
  SIGIL_ASSIGN_OR_RETURN(SecretBytes s, Allocate(n));
  if (n > 0) randombytes_buf(s.data_, n);
  return s;
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept : data_(other.data_), size_(other.size_) {
  other.data_ = nullptr;
  other.size_ = 0;
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    Release();
    data_ = other.data_;
    size_ = other.size_;
    other.data_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

SecretBytes::~SecretBytes() { Release(); }

void SecretBytes::Release() noexcept {
  if (data_ != nullptr) secret_arena::Free(data_, size_);  // zeroes; the pages stay locked for reuse
  data_ = nullptr;
  size_ = 0;
}

Result<SecretBytes> SecretBytes::Clone() const { return CopyFrom({data_, size_}); }

bool ConstantTimeEquals(const SecretBytes& a, const SecretBytes& b) {
  if (a.size_ != b.size_) return false;
  if (a.size_ == 0) return true;
  return sodium_memcmp(a.data_, b.data_, a.size_) == 0;
}

Result<void> HardenProcess() {
  struct rlimit no_core {0, 0};
  if (setrlimit(RLIMIT_CORE, &no_core) != 0) {
    return Fail(Code::kInternal, std::string("setrlimit(RLIMIT_CORE, 0): ") + std::strerror(errno));
  }
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    return Fail(Code::kInternal, std::string("prctl(PR_SET_DUMPABLE, 0): ") + std::strerror(errno));
  }
  return Ok();
}

}  // namespace sigil
