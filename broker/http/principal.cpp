#include "broker/http/principal.h"

#include "core/names.h"
#include "core/text.h"

namespace sigil::broker {
namespace {

constexpr std::string_view kPrefix = "urn:sigil:principal:";

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kOperator: return "operator";
    case Role::kTenantAdmin: return "tenant-admin";
    case Role::kAuditor: return "auditor";
  }
  return "unknown";
}

Result<Role> ParseRole(std::string_view name) {
  for (Role r : {Role::kOperator, Role::kTenantAdmin, Role::kAuditor}) {
    if (name == RoleName(r)) return r;
  }
  return Fail(Code::kInvalidArgument, "unknown role '" + EscapeForDisplay(name, 32) +
                                          "' (expected operator, tenant-admin or auditor)");
}

bool IsTenantRole(Role role) { return role != Role::kOperator; }

std::string PrincipalUri(Role role, const std::string& tenant) {
  std::string uri = std::string(kPrefix) + std::string(RoleName(role));
  if (IsTenantRole(role)) uri += ":" + tenant;
  return uri;
}

Result<Principal> PrincipalOf(const net::PeerIdentity& peer) {
  if (!peer.has_client_certificate) return Fail(Code::kUnauthenticated, "the admin API requires a client certificate");
  const std::string* found = nullptr;
  for (const std::string& uri : peer.uri_names) {
    if (uri.rfind(kPrefix, 0) != 0) continue;
    if (found != nullptr) return Fail(Code::kPermissionDenied, "the client certificate names more than one principal");
    found = &uri;
  }
  if (found == nullptr) {
    return Fail(Code::kPermissionDenied, "the client certificate names no principal (a URI subjectAltName "
                                         "urn:sigil:principal:ROLE[:TENANT]); issue one with `sigil admin issue-cert`");
  }
  const std::string_view rest = std::string_view(*found).substr(kPrefix.size());
  const std::size_t colon = rest.find(':');
  auto role = ParseRole(rest.substr(0, colon));
  if (!role) return Fail(Code::kPermissionDenied, "the client certificate's principal: " + role.error().message());
  Principal p{*role, "", peer.serial};
  if (*role == Role::kOperator) {
    if (colon != std::string_view::npos) return Fail(Code::kPermissionDenied, "an operator certificate names no tenant");
    return p;
  }
  if (colon == std::string_view::npos) {
    return Fail(Code::kPermissionDenied, "a " + std::string(RoleName(*role)) + " certificate must name its tenant");
  }
  p.tenant = std::string(rest.substr(colon + 1));
  if (auto ok = ValidateName(p.tenant, "the client certificate's tenant"); !ok) {
    return Fail(Code::kPermissionDenied, ok.error().message());
  }
  return p;
}

std::string Describe(const Principal& p) {
  std::string s(RoleName(p.role));
  if (IsTenantRole(p.role)) s += ":" + p.tenant;
  return s + "/" + p.serial.substr(0, 12);
}

}  // namespace sigil::broker
