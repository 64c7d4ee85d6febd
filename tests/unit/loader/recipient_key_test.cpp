#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "loader/recipient_key.h"
#include "tests/support/matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/loader/loader_test_util.h"

namespace sigil::loader {
namespace {

using ::testing::HasSubstr;

RecipientKey Sample() {
  return RecipientKey{"acme", "llama3", 1, testing::Pseudorandom(32, 9)};
}

std::string Json(const RecipientKey& k) { return std::move(SerializeRecipientKey(k)).value(); }

TEST(RecipientKey, SerializeParseRoundTrip) {
  std::string text = Json(Sample());
  EXPECT_EQ(text.back(), '\n');
  EXPECT_THAT(text, HasSubstr("\"type\":\"sigil-public-key\""));
  EXPECT_THAT(text, HasSubstr("\"suite\":\"X25519-HKDF-SHA256-AES-256-GCM\""));
  ASSERT_OK_AND_ASSIGN(RecipientKey back, ParseRecipientKey(text, "k.pub"));
  EXPECT_EQ(back, Sample());
}

TEST(RecipientKey, ReadsFile) {
  ::sigil::testing::TempDir dir;
  std::string text = Json(Sample());
  testing::WriteBytes(dir.File("k.pub"), AsBytes(text));
  ASSERT_OK_AND_ASSIGN(RecipientKey k, ReadRecipientKeyFile(dir.File("k.pub")));
  EXPECT_EQ(k, Sample());
  EXPECT_CODE(ReadRecipientKeyFile(dir.File("none.pub")), Code::kNotFound);
}

struct BadKeyCase {
  const char* name;
  const char* json;
  const char* expected;
};

class RecipientKeyRejects : public ::testing::TestWithParam<BadKeyCase> {};

TEST_P(RecipientKeyRejects, SaysWhichMember) {
  auto r = ParseRecipientKey(GetParam().json, "k.pub");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  EXPECT_THAT(r.error().message(), HasSubstr(GetParam().expected));
  EXPECT_THAT(r.error().message(), HasSubstr("k.pub"));
}

#define PK "\"public_key\":\"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA\""
#define BASE "\"type\":\"sigil-public-key\",\"tenant\":\"acme\",\"key\":\"llama3\",\"suite\":\"X25519-HKDF-SHA256-AES-256-GCM\""
INSTANTIATE_TEST_SUITE_P(
    Members, RecipientKeyRejects,
    ::testing::Values(
        BadKeyCase{"not_json", "{", "invalid JSON"},
        BadKeyCase{"array", "[]", "expected a JSON object"},
        BadKeyCase{"unknown_member", "{" BASE ",\"version\":1," PK ",\"x\":1}", "$.x: unknown member"},
        BadKeyCase{"missing_version", "{" BASE "," PK "}", "version: missing"},
        BadKeyCase{"version_zero", "{" BASE ",\"version\":0," PK "}", "$.version: must be in 1..4294967295"},
        BadKeyCase{"version_big", "{" BASE ",\"version\":4294967296," PK "}", "$.version"},
        BadKeyCase{"version_string", "{" BASE ",\"version\":\"1\"," PK "}", "version: expected an integer"},
        BadKeyCase{"wrong_type",
                   "{\"type\":\"age\",\"tenant\":\"acme\",\"key\":\"llama3\",\"suite\":\"X25519-HKDF-SHA256-AES-256-GCM\","
                   "\"version\":1," PK "}",
                   "$.type: is 'age'"},
        BadKeyCase{"wrong_suite",
                   "{\"type\":\"sigil-public-key\",\"tenant\":\"acme\",\"key\":\"llama3\",\"suite\":\"P256\","
                   "\"version\":1," PK "}",
                   "$.suite"},
        BadKeyCase{"bad_tenant",
                   "{\"type\":\"sigil-public-key\",\"tenant\":\"Acme\",\"key\":\"llama3\",\"suite\":\"X25519-HKDF-SHA256-"
                   "AES-256-GCM\",\"version\":1," PK "}",
                   "$.tenant"},
        BadKeyCase{"short_key", "{" BASE ",\"version\":1,\"public_key\":\"AQID\"}", "$.public_key: public key must be 32"},
        BadKeyCase{"padded_key", "{" BASE ",\"version\":1,\"public_key\":\"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\"}",
                   "unpadded"},
        BadKeyCase{"std_base64", "{" BASE ",\"version\":1,\"public_key\":\"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eH+A\"}",
                   "$.public_key"},
        BadKeyCase{"zero_key", "{" BASE ",\"version\":1,\"public_key\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
                   "all zeros"}),
    [](const auto& p) { return std::string(p.param.name); });
#undef PK
#undef BASE

TEST(RecipientKey, SerializeValidates) {
  RecipientKey k = Sample();
  k.public_key.resize(31);
  EXPECT_CODE(SerializeRecipientKey(k), Code::kInvalidArgument);
  k = Sample();
  k.version = 0;
  EXPECT_CODE(SerializeRecipientKey(k), Code::kInvalidArgument);
}

}  // namespace
}  // namespace sigil::loader
