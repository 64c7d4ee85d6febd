// The root key file and the secrets that unlock it, as read from disk and the environment: a
// corrupted or hostile data directory cannot weaken the KDF, and the passphrase does not stay
// in the environment once read.
#include <sodium.h>

#include <cstdlib>
#include <cstring>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "broker/keys/key_wrap.h"
#include "broker/keys/root_key.h"
#include "core/file_io.h"
#include "core/json.h"
#include "tests/support/matchers.h"
#include "tests/support/temp_dir.h"

namespace sigil::broker {
namespace {

using ::testing::HasSubstr;

SecretBytes Secret(std::string_view s) { return std::move(SecretBytes::CopyFrom(AsBytes(s))).value(); }

class RootKeyFile : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(root_, CreateRootKey(path_, RootKeyMode::kPassphrase, &pass_, MinimumArgon2Params()));
  }
  // Rewrites one field of the root key file, as a corrupted or hostile data directory would.
  void Edit(const std::string& field, const Json& value) {
    ASSERT_OK_AND_ASSIGN(std::string text, ReadTextFile(path_));
    ASSERT_OK_AND_ASSIGN(Json j, ParseJson(text, path_));
    j[field] = value;
    ASSERT_OK(WriteFileAtomic(path_, AsBytes(j.dump(2)), 0600));
  }
  testing::TempDir dir_;
  std::string path_ = dir_.File("root.key");
  SecretBytes pass_ = Secret("correct horse battery");
  SecretBytes root_;
};

TEST_F(RootKeyFile, MinimumParametersRoundTrip) {
  ASSERT_OK_AND_ASSIGN(SecretBytes loaded, LoadRootKey(path_, &pass_, nullptr));
  EXPECT_TRUE(ConstantTimeEquals(root_, loaded));
}

TEST_F(RootKeyFile, WeakerOpslimitOnDiskIsRefused) {
  Edit("opslimit", 1);
  auto r = LoadRootKey(path_, &pass_, nullptr);
  EXPECT_CODE(r, Code::kInvalidArgument);
  EXPECT_THAT(r.error().message(), HasSubstr("weaker than the minimum"));
  EXPECT_THAT(r.error().message(), HasSubstr(path_));
}

TEST_F(RootKeyFile, WeakerMemlimitOnDiskIsRefused) {
  Edit("memlimit", 8 << 20);
  EXPECT_CODE(LoadRootKey(path_, &pass_, nullptr), Code::kInvalidArgument);
  Edit("memlimit", crypto_pwhash_MEMLIMIT_INTERACTIVE - 1);
  auto r = LoadRootKey(path_, &pass_, nullptr);
  EXPECT_CODE(r, Code::kInvalidArgument);
  EXPECT_THAT(r.error().message(), HasSubstr("weaker than the minimum"));
}

TEST_F(RootKeyFile, OtherKdfIsRefused) {
  Edit("kdf", "scrypt");
  EXPECT_CODE(LoadRootKey(path_, &pass_, nullptr), Code::kInvalidArgument);
}

TEST(RootKey, WeakParametersAreRefusedWhenWriting) {
  testing::TempDir dir;
  SecretBytes pass = Secret("pw");
  EXPECT_CODE(CreateRootKey(dir.File("a"), RootKeyMode::kPassphrase, &pass, {1, 64u << 20}), Code::kInvalidArgument);
  EXPECT_CODE(CreateRootKey(dir.File("b"), RootKeyMode::kPassphrase, &pass, {2, 8u << 20}), Code::kInvalidArgument);
}

TEST(RootKey, PassphraseFromTheEnvironmentIsScrubbedAndUnset) {
  ASSERT_EQ(::setenv("SIGIL_ROOT_PASSPHRASE", "env passphrase 123", 1), 0);
  char* value = std::getenv("SIGIL_ROOT_PASSPHRASE");  // glibc keeps this buffer after unsetenv
  ASSERT_NE(value, nullptr);
  const std::size_t len = std::strlen(value);
  ASSERT_OK_AND_ASSIGN(SecretBytes p, ReadPassphrase(""));
  EXPECT_TRUE(ConstantTimeEquals(p, Secret("env passphrase 123")));
  EXPECT_EQ(std::getenv("SIGIL_ROOT_PASSPHRASE"), nullptr);
  for (std::size_t i = 0; i < len; ++i) EXPECT_EQ(value[i], '\0') << "byte " << i << " of the value survived";
  EXPECT_CODE(ReadPassphrase(""), Code::kInvalidArgument);  // gone for good
}

TEST(RootKey, PassphraseFileWinsAndTheVariableIsRemovedAnyway) {
  testing::TempDir dir;
  ASSERT_OK(WriteFileAtomic(dir.File("p"), AsBytes(std::string("from file\nsecond line\n")), 0600));
  ASSERT_EQ(::setenv("SIGIL_ROOT_PASSPHRASE", "from env", 1), 0);
  ASSERT_OK_AND_ASSIGN(SecretBytes p, ReadPassphrase(dir.File("p")));
  EXPECT_TRUE(ConstantTimeEquals(p, Secret("from file")));
  EXPECT_EQ(std::getenv("SIGIL_ROOT_PASSPHRASE"), nullptr);
}

TEST(RootKey, SecretLinesAreBoundedAndNonEmpty) {
  testing::TempDir dir;
  ASSERT_OK(WriteFileAtomic(dir.File("big"), Bytes(4097, 'a'), 0600));
  EXPECT_CODE(ReadSecretLine(dir.File("big")), Code::kInvalidArgument);
  ASSERT_OK(WriteFileAtomic(dir.File("full"), Bytes(4096, 'a'), 0600));
  ASSERT_OK_AND_ASSIGN(SecretBytes full, ReadSecretLine(dir.File("full")));
  EXPECT_EQ(full.size(), 4096u);
  ASSERT_OK(WriteFileAtomic(dir.File("empty"), AsBytes(std::string("\nsecond")), 0600));
  EXPECT_CODE(ReadSecretLine(dir.File("empty")), Code::kInvalidArgument);
  EXPECT_CODE(ReadSecretLine(dir.File("absent")), Code::kNotFound);
}

TEST(KeyWrap, BindsIdentity) {
  ASSERT_OK_AND_ASSIGN(SecretBytes kek, SecretBytes::Random(32));
  ASSERT_OK_AND_ASSIGN(SecretBytes key, SecretBytes::Random(32));
  ASSERT_OK_AND_ASSIGN(Bytes blob, WrapKey(kek, key, KeyVersionIdentity("a", "k", 1)));
  ASSERT_OK_AND_ASSIGN(SecretBytes back, UnwrapKey(kek, blob, KeyVersionIdentity("a", "k", 1)));
  EXPECT_TRUE(ConstantTimeEquals(key, back));
  EXPECT_CODE(UnwrapKey(kek, blob, KeyVersionIdentity("b", "k", 1)), Code::kVerificationFailed);
  EXPECT_CODE(UnwrapKey(kek, blob, KeyVersionIdentity("a", "k", 2)), Code::kVerificationFailed);
  blob[20] ^= 1;
  EXPECT_CODE(UnwrapKey(kek, blob, KeyVersionIdentity("a", "k", 1)), Code::kVerificationFailed);
}

TEST(RootKey, PassphraseRoundTripAndWrongPassphrase) {
  testing::TempDir dir;
  ASSERT_OK_AND_ASSIGN(SecretBytes pass, SecretBytes::CopyFrom(AsBytes("correct horse")));
  ASSERT_OK_AND_ASSIGN(SecretBytes wrong, SecretBytes::CopyFrom(AsBytes("wrong horse")));
  Argon2Params fast = MinimumArgon2Params();  // the weakest accepted, to keep the test fast
  ASSERT_OK_AND_ASSIGN(SecretBytes root, CreateRootKey(dir.File("root.key"), RootKeyMode::kPassphrase, &pass, fast));
  bool dev = true;
  ASSERT_OK_AND_ASSIGN(SecretBytes loaded, LoadRootKey(dir.File("root.key"), &pass, &dev));
  EXPECT_FALSE(dev);
  EXPECT_TRUE(ConstantTimeEquals(root, loaded));
  EXPECT_CODE(LoadRootKey(dir.File("root.key"), &wrong, &dev), Code::kUnauthenticated);
  EXPECT_CODE(LoadRootKey(dir.File("root.key"), nullptr, &dev), Code::kInvalidArgument);
}

}  // namespace
}  // namespace sigil::broker
