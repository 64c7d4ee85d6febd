// attestation/cca/lifecycle.h: every range boundary.
#include "attestation/cca/lifecycle.h"

#include <gtest/gtest.h>

namespace sigil::attestation::cca {
namespace {

TEST(Lifecycle, SecuredIsExactly0x3000To0x30ff) {
  EXPECT_FALSE(IsSecuredLifecycle(0x2fff));
  EXPECT_TRUE(IsSecuredLifecycle(0x3000));
  EXPECT_TRUE(IsSecuredLifecycle(0x3003));
  EXPECT_TRUE(IsSecuredLifecycle(0x30ff));
  EXPECT_FALSE(IsSecuredLifecycle(0x3100));
  EXPECT_FALSE(IsSecuredLifecycle(0x4000));
  EXPECT_FALSE(IsSecuredLifecycle(-0x3000));
}

TEST(Lifecycle, StateNames) {
  EXPECT_EQ(LifecycleStateName(0x0000), "unknown");
  EXPECT_EQ(LifecycleStateName(0x10ff), "assembly-and-test");
  EXPECT_EQ(LifecycleStateName(0x2000), "rot-provisioning");
  EXPECT_EQ(LifecycleStateName(0x3003), "secured");
  EXPECT_EQ(LifecycleStateName(0x4000), "non-rot-debug");
  EXPECT_EQ(LifecycleStateName(0x5001), "recoverable-rot-debug");
  EXPECT_EQ(LifecycleStateName(0x60ff), "decommissioned");
  for (std::int64_t v : {0x0100, 0x0fff, 0x3100, 0x6100, 0x7000, -1}) {
    EXPECT_FALSE(LifecycleStateName(v).has_value()) << v;
  }
}

}  // namespace
}  // namespace sigil::attestation::cca
