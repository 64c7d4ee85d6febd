// A fresh store of the backend under test (store_harness.h) with an audit log over it, signed by a new
// Ed25519 key whose public half is pub_; the audit clock is a counter. Shared by the broker
// tests that write and read audit records.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "broker/audit/audit_log.h"
#include "core/ed25519.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/broker/store_harness.h"

namespace sigil::broker {

class AuditedStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = harness_.Open(StoreOpen::kCreate);
    ASSERT_TRUE(s.has_value()) << s.error().message();
    store_ = std::move(*s);
    auto kp = Ed25519Generate();
    ASSERT_TRUE(kp.has_value());
    pub_ = kp->public_key;
    auto key = Ed25519Signer::FromSeed(kp->seed.Reveal(SecretAccess::Get()));
    ASSERT_TRUE(key.has_value());
    audit_ = std::make_unique<AuditLog>(*store_, std::move(*key), [this] { return ++clock_; });
  }

  // Creates `tenant` with its genesis record, as the admin API does (AuditLog::CreateTenant).
  void StartLog(const std::string& tenant) {
    auto r = audit_->CreateTenant(tenant, Bytes{1}, {}, GenesisEvent{"genesis", "admin:test", "tenant created", "127.0.0.1"});
    ASSERT_TRUE(r.has_value()) << r.error().message();
  }

  StoreHarness harness_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<AuditLog> audit_;
  Bytes pub_;
  std::int64_t clock_ = 1000;
};

}  // namespace sigil::broker
