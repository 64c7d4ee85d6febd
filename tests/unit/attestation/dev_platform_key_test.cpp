// Dev platform key files: round trip, permissions, and strict parsing of both file formats.
#include "attestation/dev/platform_key.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "core/file_io.h"
#include "core/json.h"
#include "tests/support/matchers.h"
#include "tests/support/temp_dir.h"

namespace sigil::attestation::dev {
namespace {

using sigil::testing::TempDir;

void Write(const std::string& path, const std::string& text, mode_t mode = 0600) {
  ASSERT_OK(WriteFileAtomic(path, AsBytes(text), mode));
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
}

TEST(DevPlatformKey, SaveLoadRoundTripWith0600) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(Ed25519KeyPair key, GenerateDevPlatformKey());
  const std::string path = dir.File("dev-platform.key");
  ASSERT_OK(SaveDevPlatformKey(path, key));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_OK_AND_ASSIGN(Ed25519KeyPair loaded, LoadDevPlatformKey(path));
  EXPECT_TRUE(ConstantTimeEquals(loaded.seed, key.seed));
  EXPECT_EQ(loaded.public_key, key.public_key);

  ASSERT_OK_AND_ASSIGN(std::string text, ReadTextFile(path));
  ASSERT_OK_AND_ASSIGN(Json j, ParseJson(text, "key"));
  EXPECT_EQ(j["type"], "sigil-dev-platform-key");
  EXPECT_EQ(j["warning"].get<std::string>().rfind("INSECURE development TEE key", 0), 0u);
  EXPECT_EQ(j.size(), 3u);
}

TEST(DevPlatformKey, PublicKeyRoundTrip) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(Ed25519KeyPair key, GenerateDevPlatformKey());
  const std::string path = dir.File("dev-platform.pub");
  ASSERT_OK(SaveDevPlatformPublicKey(path, key.public_key));
  ASSERT_OK_AND_ASSIGN(Bytes pk, LoadDevPlatformPublicKey(path));
  EXPECT_EQ(pk, key.public_key);
  ASSERT_OK_AND_ASSIGN(std::string text, ReadTextFile(path));
  EXPECT_NE(text.find("\"type\":\"sigil-dev-platform-public-key\""), std::string::npos);
  EXPECT_CODE(SaveDevPlatformPublicKey(path, Bytes(31, 0)), Code::kInvalidArgument);
}

TEST(DevPlatformKey, RefusesAKeyFileOthersCanRead) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(Ed25519KeyPair key, GenerateDevPlatformKey());
  const std::string path = dir.File("k");
  ASSERT_OK(SaveDevPlatformKey(path, key));
  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  EXPECT_CODE(LoadDevPlatformKey(path), Code::kPermissionDenied);
}

TEST(DevPlatformKey, MissingFileIsNotFound) {
  TempDir dir;
  EXPECT_CODE(LoadDevPlatformKey(dir.File("absent")), Code::kNotFound);
  EXPECT_CODE(LoadDevPlatformPublicKey(dir.File("absent")), Code::kNotFound);
}

struct BadFile {
  const char* name;
  std::string text;
  const char* message;
};

class BadPrivateKeyFile : public ::testing::TestWithParam<BadFile> {};
TEST_P(BadPrivateKeyFile, IsRefusedNamingTheField) {
  TempDir dir;
  Write(dir.File("k"), GetParam().text);
  auto r = LoadDevPlatformKey(dir.File("k"));
  EXPECT_CODE(r, Code::kInvalidArgument);
  EXPECT_NE(r.error().message().find(GetParam().message), std::string::npos) << r.error().message();
}
const std::string kSeed = "\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\"";
INSTANTIATE_TEST_SUITE_P(
    All, BadPrivateKeyFile,
    ::testing::Values(
        BadFile{"NotJson", "seed", "invalid JSON"},
        BadFile{"WrongType", R"({"type":"sigil-dev-platform-public-key","warning":"w","seed":)" + kSeed + "}",
                ".type: expected 'sigil-dev-platform-key'"},
        BadFile{"UnknownField", R"({"type":"sigil-dev-platform-key","warning":"w","seed":)" + kSeed + R"(,"x":1})",
                "unknown field 'x'"},
        BadFile{"MissingWarning", R"({"type":"sigil-dev-platform-key","seed":)" + kSeed + "}", ".warning: missing"},
        BadFile{"ShortSeed", R"({"type":"sigil-dev-platform-key","warning":"w","seed":"AAEC"})",
                ".seed: expected 32 bytes, got 3"},
        BadFile{"SeedNotBase64", R"({"type":"sigil-dev-platform-key","warning":"w","seed":"a+b/"})", ".seed"},
        BadFile{"SeedNotString", R"({"type":"sigil-dev-platform-key","warning":"w","seed":5})", ".seed"}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(DevPlatformKey, HandWrittenFileLoads) {
  TempDir dir;
  Write(dir.File("k"), R"({"seed":)" + kSeed + R"(,"type":"sigil-dev-platform-key","warning":"w"})");
  ASSERT_OK_AND_ASSIGN(Ed25519KeyPair key, LoadDevPlatformKey(dir.File("k")));
  EXPECT_EQ(key.seed.Reveal(SecretAccess::Get())[31], 31);
}

class BadPublicKeyFile : public ::testing::TestWithParam<BadFile> {};
TEST_P(BadPublicKeyFile, IsRefusedNamingTheField) {
  TempDir dir;
  Write(dir.File("p"), GetParam().text, 0644);
  auto r = LoadDevPlatformPublicKey(dir.File("p"));
  EXPECT_CODE(r, Code::kInvalidArgument);
  EXPECT_NE(r.error().message().find(GetParam().message), std::string::npos) << r.error().message();
}
INSTANTIATE_TEST_SUITE_P(
    All, BadPublicKeyFile,
    ::testing::Values(
        BadFile{"WrongType", R"({"type":"sigil-dev-platform-key","public_key":)" + kSeed + "}", ".type: expected"},
        BadFile{"UnknownField", R"({"type":"sigil-dev-platform-public-key","public_key":)" + kSeed + R"(,"seed":"")" + "}",
                "unknown field 'seed'"},
        BadFile{"ShortKey", R"({"type":"sigil-dev-platform-public-key","public_key":"AAEC"})", "expected 32 bytes"},
        BadFile{"NotObject", "[]", "expected a JSON object"}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(DevPlatformId, IsPrefixPlusSixteenHexDigitsOfSha256) {
  // SHA-256 of 32 zero bytes = 66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925.
  EXPECT_EQ(DevPlatformId(Bytes(32, 0)), "sigil-dev:66687aadf862bd77");
}

}  // namespace
}  // namespace sigil::attestation::dev
