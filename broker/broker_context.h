// Everything a request handler needs, built once at start-up by sigild and shared read-only
// (the store and audit log are themselves thread-safe).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "attestation/verifier.h"
#include "broker/audit/audit_log.h"
#include "broker/policy_cache.h"
#include "broker/http/principal.h"
#include "broker/store/store.h"
#include "core/bytes.h"
#include "core/ed25519.h"
#include "core/json.h"
#include "core/names.h"
#include "core/secret_bytes.h"

namespace sigil::broker {

class IssuedTokens;  // broker/keys/token.h

class TpmEnrolment;              // broker/tpm/tpm_enrol_api.h
class UnauthenticatedActivity;   // broker/audit/unauth_activity.h
class BrokerMetrics;             // broker/broker_metrics.h
class RateLimiter;               // broker/http/rate_limiter.h
class KbsSessions;               // broker/kbs/kbs_sessions.h

struct BrokerSettings {
  std::chrono::seconds nonce_ttl{60};
  std::chrono::seconds token_ttl{300};
  // Unused, unexpired challenge nonces one tenant may have outstanding; more are refused (503)
  // until some are used or expire. Bounds what anonymous challenge requests can store.
  std::size_t max_outstanding_nonces = 4096;
  // One aggregated audit record per tenant per interval for unauthenticated requests.
  std::chrono::seconds unauth_summary_interval{60};
  // Each tenant's tree head (a signed C2SP checkpoint) is published at least this often, and
  // on demand (AuditLog::IssueTreeHead); 0 publishes on demand only.
  std::chrono::seconds checkpoint_interval{60};
};

class KeyService;

struct BrokerContext {
  Store* store = nullptr;
  AuditLog* audit = nullptr;
  const attestation::Registry* verifiers = nullptr;
  const KeyService* keys = nullptr;  // the only holder of the root key (broker/keys/key_service.h)
  const Ed25519Signer* token_signer = nullptr;  // the token key, expanded once
  Bytes token_public_key;
  IssuedTokens* issued_tokens = nullptr;  // tokens this broker signed (keys/token.h); optional
  // The admin CA that issues admin certificates (null: issuance unavailable).
  const Bytes* admin_ca_pem = nullptr;
  const SecretBytes* admin_ca_key = nullptr;
  PolicyCache* policies = nullptr;
  TpmEnrolment* tpm_enrol = nullptr;  // EK-based TPM AK enrolment (null: endpoints unavailable)
  // Aggregated audit of challenges and enrolment starts (null: they are not audited at all).
  UnauthenticatedActivity* unauth = nullptr;
  // Prometheus metrics (null: not collected; GET /metrics answers 503).
  BrokerMetrics* metrics = nullptr;
  // Token buckets for the endpoints anyone may call (challenge, attest, TPM enrolment start):
  // per client address and per tenant named in the body (null: not limited).
  RateLimiter* rate_by_address = nullptr;
  RateLimiter* rate_by_tenant = nullptr;
  // Sessions of the KBS front end, /kbs/v0 (null: those endpoints answer 503).
  KbsSessions* kbs = nullptr;
  BrokerSettings settings;
  std::function<std::chrono::system_clock::time_point()> now = [] { return std::chrono::system_clock::now(); };
};

// Who is asking and from where; filled by the HTTP layer.
struct RequestMeta {
  std::string request_id;
  std::string client;
  std::string admin_cn;  // the admin principal (Describe), empty for workloads and anonymous callers
  std::optional<Principal> principal;  // the verified admin principal, if any (broker/http/principal.h)
};

// Tenant, key and reference-set names are checked with sigil::ValidateName (core/names.h), the
// same rule the loader applies to container headers.

// An error as an audit record's reason: "CODE: message", the code said once (a message that
// starts with its code's tag, "key_disabled: ...", is not prefixed again).
std::string AuditReason(const Error& e);

std::int64_t UnixSeconds(std::chrono::system_clock::time_point t);
std::string Rfc3339(std::chrono::system_clock::time_point t);

}  // namespace sigil::broker
