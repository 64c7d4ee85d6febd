// Two brokers of a fleet, for the store contract tests: two connections (pools) to one store
// (the first creates it) and an audit log over each, signing with one key as every broker of a
// fleet does.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "broker/audit/audit_log.h"
#include "core/ed25519.h"
#include "tests/unit/broker/store_harness.h"

namespace sigil::broker {

inline void OpenTwoBrokers(const StoreHarness& harness, const std::function<std::int64_t()>& clock,
                           std::unique_ptr<Store>& a, std::unique_ptr<Store>& b, std::unique_ptr<AuditLog>& log_a,
                           std::unique_ptr<AuditLog>& log_b, Bytes& audit_pub) {
  auto first = harness.Open(StoreOpen::kCreate);
  ASSERT_TRUE(first.has_value()) << first.error().message();
  a = std::move(*first);
  auto second = harness.Open();
  ASSERT_TRUE(second.has_value()) << second.error().message();
  b = std::move(*second);
  auto kp = Ed25519Generate();
  ASSERT_TRUE(kp.has_value());
  auto key_a = Ed25519Signer::FromSeed(kp->seed.Reveal(SecretAccess::Get()));
  auto key_b = Ed25519Signer::FromSeed(kp->seed.Reveal(SecretAccess::Get()));
  ASSERT_TRUE(key_a.has_value() && key_b.has_value());
  audit_pub = kp->public_key;
  log_a = std::make_unique<AuditLog>(*a, std::move(*key_a), clock);
  log_b = std::make_unique<AuditLog>(*b, std::move(*key_b), clock);
}

}  // namespace sigil::broker
