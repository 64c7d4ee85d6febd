#include "core/result.h"

#include <gtest/gtest.h>

#include <set>
#include <string_view>

#include "tests/support/matchers.h"

namespace sigil {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return Fail(Code::kInvalidArgument, "odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  SIGIL_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

Result<void> CheckEven(int x) {
  SIGIL_RETURN_IF_ERROR(Half(x));
  return Ok();
}

TEST(Result, PropagatesValuesAndErrors) {
  ASSERT_OK_AND_ASSIGN(int q, Quarter(8));
  EXPECT_EQ(q, 2);
  EXPECT_CODE(Quarter(6), Code::kInvalidArgument);
  EXPECT_OK(CheckEven(4));
  EXPECT_CODE(CheckEven(3), Code::kInvalidArgument);
  EXPECT_EQ(Half(3).value_or(-1), -1);
  EXPECT_EQ(CodeName(Code::kPolicyDenied), "policy_denied");
}

// Every code has its own wire name, and the names are what docs/protocol.md lists.
TEST(Result, EveryCodeHasADistinctName) {
  std::set<std::string_view> names;
  for (int c = 0; c <= static_cast<int>(Code::kInternal); ++c) names.insert(CodeName(static_cast<Code>(c)));
  EXPECT_EQ(names.size(), static_cast<std::size_t>(Code::kInternal) + 1);
  EXPECT_EQ(CodeName(Code::kKeyDisabled), "key_disabled");
  EXPECT_EQ(CodeName(Code::kKeyDestroyed), "key_destroyed");
}

}  // namespace
}  // namespace sigil
