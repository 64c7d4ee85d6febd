#include "core/result.h"

#include <cstdio>

namespace sigil {

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kInvalidArgument: return "invalid_argument";
    case Code::kMalformedEvidence: return "malformed_evidence";
    case Code::kVerificationFailed: return "verification_failed";
    case Code::kPolicyDenied: return "policy_denied";
    case Code::kNotFound: return "not_found";
    case Code::kAlreadyExists: return "already_exists";
    case Code::kUnauthenticated: return "unauthenticated";
    case Code::kPermissionDenied: return "permission_denied";
    case Code::kExpired: return "expired";
    case Code::kReplay: return "replay";
    case Code::kUnavailable: return "unavailable";
    case Code::kRateLimited: return "rate_limited";
    case Code::kKeyDisabled: return "key_disabled";
    case Code::kKeyDestroyed: return "key_destroyed";
    case Code::kInternal: return "internal";
  }
  return "internal";
}

namespace internal {
void CheckFailed(const char* cond, const char* file, int line) {
  std::fprintf(stderr, "SIGIL_CHECK failed: %s at %s:%d\n", cond, file, line);
  std::abort();
}
}  // namespace internal

}  // namespace sigil
