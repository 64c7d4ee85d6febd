#include "policies/glob.h"

#include <gtest/gtest.h>

#include <string>

namespace sigil::policy {
namespace {

struct GlobCase {
  const char* pattern;
  const char* key;
  bool match;
};

void PrintTo(const GlobCase& c, std::ostream* os) { *os << c.pattern << " vs " << c.key; }

class GlobTest : public ::testing::TestWithParam<GlobCase> {};

TEST_P(GlobTest, Matches) {
  const GlobCase& c = GetParam();
  EXPECT_EQ(KeyPatternMatches(c.pattern, c.key), c.match) << c.pattern << " vs " << c.key;
}

INSTANTIATE_TEST_SUITE_P(
    Table, GlobTest,
    ::testing::Values(GlobCase{"llama3", "llama3", true}, GlobCase{"llama3", "llama", false},
                      GlobCase{"llama3", "llama3x", false}, GlobCase{"llama", "llama3", false},
                      GlobCase{"llama*", "llama", true}, GlobCase{"llama*", "llama3-70b", true},
                      GlobCase{"llama*", "xllama", false}, GlobCase{"*", "", true},
                      GlobCase{"*", "anything/at/all", true}, GlobCase{"", "", true},
                      GlobCase{"", "a", false}, GlobCase{"datasets/*", "datasets/a", true},
                      GlobCase{"datasets/*", "datasets/a/b", true},
                      GlobCase{"datasets/*", "datasets", false}, GlobCase{"?", "a", true},
                      GlobCase{"?", "", false}, GlobCase{"?", "ab", false},
                      GlobCase{"a?c", "abc", true}, GlobCase{"a?c", "ac", false},
                      GlobCase{"*-70b", "llama3-70b", true}, GlobCase{"*-70b", "llama3-7b", false},
                      GlobCase{"a*b*c", "aXbYc", true}, GlobCase{"a*b*c", "abcbc", true},
                      GlobCase{"a*b*c", "acb", false}, GlobCase{"**a**", "bab", true},
                      GlobCase{"*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
                      GlobCase{"Llama*", "llama3", false}, GlobCase{"a*", "a*", true},
                      GlobCase{"a\\*", "a\\x", true}, GlobCase{"a\\*", "ax", false}));

TEST(Glob, LongInputsStayFast) {
  const std::string key(100000, 'a');
  EXPECT_FALSE(KeyPatternMatches("*a*a*a*a*a*a*a*a*b", key));
  EXPECT_TRUE(KeyPatternMatches("*a*a*a*a*a*a*a*a*", key));
}

}  // namespace
}  // namespace sigil::policy
