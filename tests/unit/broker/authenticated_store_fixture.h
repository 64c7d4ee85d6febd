// A fresh store of the backend under test (store_harness.h) behind the authenticating layer
// (store_auth.h) under a new random root key, as the broker uses it, with tenant "acme". Shared
// by the tests that edit authority rows in the raw store and expect them refused.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "broker/store/store_auth.h"
#include "tests/support/matchers.h"
#include "tests/unit/broker/store_harness.h"

namespace sigil::broker {

class AuthenticatedStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto root = SecretBytes::Random(32);
    ASSERT_TRUE(root.has_value());
    root_ = std::make_unique<SecretBytes>(std::move(*root));
    auto backend = harness_.Open(StoreOpen::kCreate);
    ASSERT_TRUE(backend.has_value()) << backend.error().message();
    auto store = AuthenticateStore(std::move(*backend), *root_);
    ASSERT_TRUE(store.has_value());
    store_ = std::move(*store);
    ASSERT_OK(CreateTenantForTest(*store_, "acme", Bytes{1}));
  }

  StoreHarness harness_;
  std::unique_ptr<SecretBytes> root_;
  std::unique_ptr<Store> store_;
};

}  // namespace sigil::broker
