#include "core/result.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace sigil
