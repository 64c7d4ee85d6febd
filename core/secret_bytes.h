// SecretBytes: key material in locked, MADV_DONTDUMP memory: up to 4080 bytes from the secret
// pool (core/secret_arena.h: regions mapped once with guard pages around each, blocks wiped on
// release), larger ones in their own libsodium guarded mapping. Never swapped, never in a core
// dump, zeroed when released. Never copied implicitly, never printable.
// Reading the bytes requires SecretAccess::Get() so every raw read is greppable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <span>

#include "core/result.h"

namespace sigil {

class SecretAccess {
 public:
  static SecretAccess Get() { return SecretAccess(); }

 private:
  SecretAccess() = default;
};

class SecretBytes {
 public:
  // Fails with kUnavailable if guarded memory cannot be allocated. Contents are zero.
  static Result<SecretBytes> Allocate(std::size_t n);
  static Result<SecretBytes> CopyFrom(std::span<const std::uint8_t> bytes);
  // Fresh random bytes from the OS CSPRNG.
  static Result<SecretBytes> Random(std::size_t n);

  SecretBytes() = default;
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes();

  Result<SecretBytes> Clone() const;
  std::span<const std::uint8_t> Reveal(SecretAccess) const { return {data_, size_}; }
  std::span<std::uint8_t> RevealMutable(SecretAccess) { return {data_, size_}; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  friend bool ConstantTimeEquals(const SecretBytes& a, const SecretBytes& b);

 private:
  void Release() noexcept;
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

std::ostream& operator<<(std::ostream&, const SecretBytes&) = delete;

// Initialises libsodium once; safe to call from any thread. Aborts if libsodium cannot start.
void EnsureSodium();

// Process hardening for processes that hold secrets: no core dumps, not ptrace-attachable by
// same-user processes (PR_SET_DUMPABLE 0). Returns an error naming the failing call.
Result<void> HardenProcess();

}  // namespace sigil
