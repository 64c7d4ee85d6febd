#include "core/names.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/support/matchers.h"

namespace sigil {
namespace {

TEST(ValidateName, AcceptsTheDocumentedAlphabet) {
  EXPECT_OK(ValidateName("acme", "tenant"));
  EXPECT_OK(ValidateName("0day", "tenant"));
  EXPECT_OK(ValidateName("model-weights_v1.2", "key name"));
  EXPECT_OK(ValidateName("a", "key name"));
  EXPECT_OK(ValidateName(std::string(64, 'z'), "key name"));
  EXPECT_OK(ValidateName("a.", "key name"));
}

TEST(ValidateName, RejectsEverythingElse) {
  for (const char* bad : {"", ".hidden", "-x", "_x", "Acme", "ac me", "acme/", "a:b", "caf\xc3\xa9", "a\n"}) {
    SCOPED_TRACE(bad);
    EXPECT_CODE(ValidateName(bad, "tenant"), Code::kInvalidArgument);
  }
  EXPECT_CODE(ValidateName(std::string(65, 'a'), "tenant"), Code::kInvalidArgument);
  EXPECT_CODE(ValidateName(std::string_view("a\0b", 3), "tenant"), Code::kInvalidArgument);
}

TEST(ValidateName, ErrorNamesTheFieldAndBoundsTheQuotedValue) {
  auto r = ValidateName(std::string(500, 'A'), "key name");
  ASSERT_FALSE(r.has_value());
  const std::string& msg = r.error().message();
  EXPECT_EQ(msg.rfind("key name '", 0), 0u) << msg;
  EXPECT_NE(msg.find(std::string(64, 'A') + "..."), std::string::npos) << msg;
  EXPECT_EQ(msg.find(std::string(65, 'A')), std::string::npos) << msg;
}

TEST(ValidateName, ErrorEscapesControlBytesAndNeverEchoesThemRaw) {
  auto r = ValidateName("m\n2026-12-02 release allow\x1b[2K\xff", "key name");
  ASSERT_FALSE(r.has_value());
  const std::string& msg = r.error().message();
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\x1b'), std::string::npos) << msg;
  EXPECT_NE(msg.find("m\\x0a2026"), std::string::npos) << msg;
  EXPECT_NE(msg.find("\\xff"), std::string::npos) << msg;
}

}  // namespace
}  // namespace sigil
