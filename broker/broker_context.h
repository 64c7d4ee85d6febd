// Everything a request handler needs, built once at start-up by sigild and shared read-only
// (the store and audit log are themselves thread-safe).
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "attestation/verifier.h"
#include "broker/audit_log.h"
#include "broker/policy_cache.h"
#include "broker/store.h"
#include "core/bytes.h"
#include "core/json.h"
#include "core/secret_bytes.h"

namespace sigil::broker {

struct BrokerSettings {
  std::chrono::seconds nonce_ttl{60};
  std::chrono::seconds token_ttl{300};
};

struct BrokerContext {
  Store* store = nullptr;
  AuditLog* audit = nullptr;
  const attestation::Registry* verifiers = nullptr;
  const SecretBytes* root_key = nullptr;
  const SecretBytes* token_seed = nullptr;
  Bytes token_public_key;
  PolicyCache* policies = nullptr;
  BrokerSettings settings;
  std::function<std::chrono::system_clock::time_point()> now = [] { return std::chrono::system_clock::now(); };
};

// Who is asking and from where; filled by the HTTP layer.
struct RequestMeta {
  std::string request_id;
  std::string client;
  std::string admin_cn;  // verified admin client certificate CN, empty for workloads
};

// Tenant and key names: 1-64 chars of [a-z0-9._-], starting with a letter or digit.
Result<void> ValidateName(const std::string& name, const char* what);

std::int64_t UnixSeconds(std::chrono::system_clock::time_point t);
std::string Rfc3339(std::chrono::system_clock::time_point t);

}  // namespace sigil::broker
