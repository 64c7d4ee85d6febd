// Errors of the KBS front end as the KBS protocol has them: RFC 7807 problem details
// {"type":"https://github.com/confidential-containers/kbs/errors/<Kind>","detail":...} with the
// kinds and statuses Trustee uses (kbs/src/error.rs). A handler picks the kind with KbsError;
// errors raised before a handler runs (body parse, path names, rate limits) get one from their
// code. The router answers this way for routes marked RouteEntry::kbs_errors.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"
#include "net/http_types.h"

namespace sigil::broker {

enum class KbsKind {
  kAttestationError,    // /auth and /attest refusals (401; 400 for malformed requests)
  kTokenNotFound,       // no cookie of an attested session and no bearer token (401)
  kTokenVerifierError,  // a bearer token that is not this broker's, altered or expired (401)
  kPolicyDeny,          // the tenant's policy, the key's state or class refuses (403)
  kInvalidRequestPath,  // the path names no resource (404)
  kJweError,            // the TEE key cannot be encrypted to (400)
  kPluginInternalError  // the broker cannot serve it now (503) or a bug (500)
};

// An error carrying its KBS kind (kept in the message behind an internal marker that
// KbsErrorResponse removes).
Error KbsError(KbsKind kind, Error error);

net::HttpResponse KbsErrorResponse(const Error& error, const std::string& request_id);

}  // namespace sigil::broker
