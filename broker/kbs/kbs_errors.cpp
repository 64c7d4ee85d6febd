#include "broker/kbs/kbs_errors.h"

#include "core/json.h"

namespace sigil::broker {
namespace {

constexpr std::string_view kMarker = "\x01kbs:";  // never in a message built from input (escaped)
constexpr std::string_view kTypePrefix = "https://github.com/confidential-containers/kbs/errors/";

struct KindInfo {
  KbsKind kind;
  std::string_view name;
};
constexpr KindInfo kKinds[] = {
    {KbsKind::kAttestationError, "AttestationError"},   {KbsKind::kTokenNotFound, "TokenNotFound"},
    {KbsKind::kTokenVerifierError, "TokenVerifierError"}, {KbsKind::kPolicyDeny, "PolicyDeny"},
    {KbsKind::kInvalidRequestPath, "InvalidRequestPath"}, {KbsKind::kJweError, "JweError"},
    {KbsKind::kPluginInternalError, "PluginInternalError"},
};

std::string_view Name(KbsKind k) {
  for (const auto& i : kKinds) {
    if (i.kind == k) return i.name;
  }
  return "PluginInternalError";
}

// Kind of an error raised outside a KBS handler, from its code.
KbsKind DefaultKind(Code code) {
  switch (code) {
    case Code::kNotFound: return KbsKind::kInvalidRequestPath;
    case Code::kUnavailable:
    case Code::kInternal: return KbsKind::kPluginInternalError;
    case Code::kPolicyDenied:
    case Code::kPermissionDenied:
    case Code::kKeyDisabled:
    case Code::kKeyDestroyed: return KbsKind::kPolicyDeny;
    default: return KbsKind::kAttestationError;
  }
}

int Status(KbsKind kind, Code code) {
  if (code == Code::kRateLimited) return 429;
  if (code == Code::kUnavailable) return 503;
  if (code == Code::kInternal) return 500;
  switch (kind) {
    case KbsKind::kAttestationError:
      return code == Code::kInvalidArgument || code == Code::kMalformedEvidence ? 400 : 401;
    case KbsKind::kTokenNotFound:
    case KbsKind::kTokenVerifierError: return 401;
    case KbsKind::kPolicyDeny: return 403;
    case KbsKind::kInvalidRequestPath: return 404;
    case KbsKind::kJweError: return 400;
    case KbsKind::kPluginInternalError: return 500;
  }
  return 500;
}

}  // namespace

Error KbsError(KbsKind kind, Error error) {
  if (error.message().rfind(kMarker, 0) == 0) return error;  // the innermost choice stands
  return Error(error.code(), std::string(kMarker) + std::string(Name(kind)) + ":" + error.message());
}

net::HttpResponse KbsErrorResponse(const Error& error, const std::string& request_id) {
  std::string detail = error.message();
  KbsKind kind = DefaultKind(error.code());
  if (detail.rfind(kMarker, 0) == 0) {
    const auto colon = detail.find(':', kMarker.size());
    const std::string_view name = std::string_view(detail).substr(kMarker.size(), colon - kMarker.size());
    for (const auto& i : kKinds) {
      if (i.name == name) kind = i.kind;
    }
    detail = detail.substr(colon + 1);
  }
  if (detail.size() > 2048) detail = detail.substr(0, 2048) + "... (truncated)";
  Json body{{"type", std::string(kTypePrefix) + std::string(Name(kind))},
            {"detail", detail},
            {"request_id", request_id}};
  return net::HttpResponse{Status(kind, error.code()), "application/problem+json", DumpJson(body)};
}

}  // namespace sigil::broker
