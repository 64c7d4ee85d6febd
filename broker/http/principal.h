// Who an admin request comes from: the principal named by the verified admin client
// certificate, as a typed field (exactly one URI subjectAltName of the form below, parsed whole),
// never by matching the common name's bytes. docs/protocol.md "Admin roles".
//   urn:sigil:principal:operator               the broker and its tenants, no tenant's keys or policy
//   urn:sigil:principal:tenant-admin:<tenant>  one tenant's keys, policies, references, TPM keys
//   urn:sigil:principal:auditor:<tenant>       one tenant's audit log, proofs and receipts
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"
#include "net/http_types.h"

namespace sigil::broker {

enum class Role : std::uint8_t { kOperator = 1, kTenantAdmin = 2, kAuditor = 4 };

struct Principal {
  Role role = Role::kOperator;
  std::string tenant;  // empty for the operator
  std::string serial;  // the certificate's serial (hex), for revocation and the audit trail
};

std::string_view RoleName(Role role);  // "operator", "tenant-admin", "auditor"
// kInvalidArgument for anything but the three names.
Result<Role> ParseRole(std::string_view name);
bool IsTenantRole(Role role);
// The URI subjectAltName that names `role` (and `tenant`, for tenant roles) in a certificate.
std::string PrincipalUri(Role role, const std::string& tenant);
// The principal of a verified admin certificate: kUnauthenticated without one; kPermissionDenied
// if it names no principal, several, or one that does not parse (an unknown role, a tenant outside
// the name rule, an operator with a tenant).
Result<Principal> PrincipalOf(const net::PeerIdentity& peer);
// For audit records and logs: "tenant-admin:acme/0a1b2c..." (the serial shortened).
std::string Describe(const Principal& p);

}  // namespace sigil::broker
