// Sigil's error model: Result<T> holds a value or an Error (a stable Code plus a message that
// says what was wrong and where). Member names follow std::expected so a move to C++23 is an
// alias. Anything that comes from outside the process returns Result; nothing here throws.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace sigil {

enum class Code : std::uint8_t {
  kInvalidArgument,     // the caller's input is malformed
  kMalformedEvidence,   // evidence bytes do not parse
  kVerificationFailed,  // a signature, MAC, chain or binding check failed
  kPolicyDenied,        // the tenant policy does not allow it
  kNotFound,
  kAlreadyExists,
  kUnauthenticated,     // no or bad credentials / token
  kPermissionDenied,    // credentials valid but not allowed
  kExpired,             // nonce, token or certificate outside its validity
  kReplay,              // a single-use value was used again
  kUnavailable,         // a dependency (store, audit log, TEE) cannot be reached or written
  kRateLimited,         // too many requests from this client or for this tenant: retry later
  // A key version that exists but may not be used. Their own codes (not kPermissionDenied) so a
  // client can tell "the operator paused this key" (reversible) from "its material is gone"
  // (never coming back: retrying or waiting cannot help) without parsing the message.
  kKeyDisabled,         // disabled by an operator (sigil key enable undoes it)
  kKeyDestroyed,        // key material erased: irreversible
  kInternal,            // stays last: BrokerError (net/broker_client.cpp) iterates up to it
};

// Stable lower-case name of a code, used in JSON error bodies ("invalid_argument", ...).
std::string_view CodeName(Code code);

class Error {
 public:
  Error(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // Returns a copy whose message is prefixed with `context: `.
  Error Wrap(std::string_view context) const {
    return Error(code_, std::string(context) + ": " + message_);
  }

 private:
  Code code_;
  std::string message_;
};

template <class E>
class Unexpected {
 public:
  explicit Unexpected(E e) : error_(std::move(e)) {}
  E& error() & { return error_; }
  E&& error() && { return std::move(error_); }

 private:
  E error_;
};

inline Unexpected<Error> Fail(Code code, std::string message) {
  return Unexpected<Error>(Error(code, std::move(message)));
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT
  Result(Unexpected<Error> u) : v_(std::in_place_index<1>, std::move(u).error()) {}  // NOLINT

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() & { Check(); return std::get<0>(v_); }
  const T& value() const& { Check(); return std::get<0>(v_); }
  T&& value() && { Check(); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const& { CheckError(); return std::get<1>(v_); }
  Error&& error() && { CheckError(); return std::get<1>(std::move(v_)); }
  template <class U>
  T value_or(U&& other) const& { return has_value() ? std::get<0>(v_) : T(std::forward<U>(other)); }

 private:
  void Check() const { if (!has_value()) std::abort(); }
  void CheckError() const { if (has_value()) std::abort(); }
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  Result(Unexpected<Error> u) : error_(std::move(u).error()), ok_(false) {}  // NOLINT
  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  void value() const { if (!ok_) std::abort(); }
  const Error& error() const& { if (ok_) std::abort(); return error_; }
  Error&& error() && { if (ok_) std::abort(); return std::move(error_); }

 private:
  Error error_{Code::kInternal, ""};
  bool ok_ = true;
};

inline Result<void> Ok() { return Result<void>(); }

}  // namespace sigil

#define SIGIL_CONCAT_INNER(a, b) a##b
#define SIGIL_CONCAT(a, b) SIGIL_CONCAT_INNER(a, b)

// Returns the error of `expr` (a Result) from the enclosing function if it failed.
#define SIGIL_RETURN_IF_ERROR(expr)                       \
  do {                                                    \
    auto sigil_status_ = (expr);                          \
    if (!sigil_status_) return std::move(sigil_status_).error(); \
  } while (0)

// Evaluates `rexpr` (a Result<T>); on error returns it, else moves the value into `lhs`.
#define SIGIL_ASSIGN_OR_RETURN(lhs, rexpr) \
  SIGIL_ASSIGN_OR_RETURN_IMPL(SIGIL_CONCAT(sigil_result_, __LINE__), lhs, rexpr)
#define SIGIL_ASSIGN_OR_RETURN_IMPL(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                \
  if (!tmp) return std::move(tmp).error();           \
  lhs = std::move(tmp).value()

// Always-on invariant check: aborts. Never use for conditions that come from outside.
#define SIGIL_CHECK(cond)                                                   \
  do {                                                                      \
    if (!(cond)) ::sigil::internal::CheckFailed(#cond, __FILE__, __LINE__); \
  } while (0)

namespace sigil::internal {
[[noreturn]] void CheckFailed(const char* cond, const char* file, int line);
}
