// gtest helpers for Result: EXPECT_OK(r), EXPECT_CODE(r, Code::kX), ASSERT_OK_AND_ASSIGN.
#pragma once

#include <gtest/gtest.h>

#include "core/result.h"

namespace sigil::testing {
std::string Describe(const Error& e);
}

#define EXPECT_OK(expr)                                                               \
  do {                                                                                \
    const auto& sigil_r_ = (expr);                                                    \
    EXPECT_TRUE(sigil_r_.has_value()) << ::sigil::testing::Describe(sigil_r_.error()); \
  } while (0)
#define ASSERT_OK(expr)                                                               \
  do {                                                                                \
    const auto& sigil_r_ = (expr);                                                    \
    ASSERT_TRUE(sigil_r_.has_value()) << ::sigil::testing::Describe(sigil_r_.error()); \
  } while (0)
#define EXPECT_CODE(expr, c)                                                            \
  do {                                                                                  \
    const auto& sigil_r_ = (expr);                                                      \
    ASSERT_FALSE(sigil_r_.has_value()) << "expected failure with " #c;                  \
    EXPECT_EQ(sigil_r_.error().code(), c) << ::sigil::testing::Describe(sigil_r_.error()); \
  } while (0)
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL(SIGIL_CONCAT(sigil_t_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, expr)                              \
  auto tmp = (expr);                                                           \
  ASSERT_TRUE(tmp.has_value()) << ::sigil::testing::Describe(tmp.error());     \
  lhs = std::move(tmp).value()
