// EncryptFile / OpenDek: the HPKE half of the container (needs core/hpke.cpp).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/hpke.h"
#include "core/protocol.h"
#include "loader/container_keys.h"
#include "loader/container_reader.h"
#include "loader/memfd_decrypt.h"
#include "tests/support/matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/loader/loader_test_util.h"

namespace sigil::loader {
namespace {

using ::sigil::testing::TempDir;

struct Recipient {
  hpke::KeyPair kp;
  RecipientKey pub;
};

Recipient NewRecipient(const std::string& tenant, const std::string& key, std::uint32_t version) {
  hpke::KeyPair kp = std::move(hpke::GenerateKeyPair(hpke::Kem::kX25519HkdfSha256)).value();
  RecipientKey pub{tenant, key, version, kp.public_key};
  return Recipient{std::move(kp), std::move(pub)};
}

EncryptOptions Small() {
  EncryptOptions o;
  o.chunk_size = 4096;
  return o;
}

TEST(EncryptFile, RoundTripThroughOpenDek) {
  TempDir dir;
  Recipient r = NewRecipient("acme", "llama3", 3);
  Bytes pt = testing::Pseudorandom(5 * 4096 + 1, 7);
  testing::WriteBytes(dir.File("w.safetensors"), pt);
  ASSERT_OK_AND_ASSIGN(ContainerHeader h, EncryptFile(dir.File("w.safetensors"), dir.File("w.sgl"), r.pub, Small()));
  EXPECT_EQ(h.tenant, "acme");
  EXPECT_EQ(h.key_version, 3u);
  EXPECT_EQ(h.content_type, "application/safetensors");
  ASSERT_OK_AND_ASSIGN(Container c, Container::Open(dir.File("w.sgl")));
  ASSERT_OK_AND_ASSIGN(SecretBytes dek, OpenDek(c.header(), r.kp.private_key));
  EXPECT_EQ(dek.size(), 32u);
  ASSERT_OK_AND_ASSIGN(LockedMemfd m, DecryptToMemfd(c, dek));
  EXPECT_EQ(testing::ReadFd(m.fd()), pt);
}

TEST(EncryptFile, FreshDekAndSaltEveryTime) {
  TempDir dir;
  Recipient r = NewRecipient("acme", "llama3", 1);
  testing::WriteBytes(dir.File("in"), Bytes(100, 1));
  ASSERT_OK_AND_ASSIGN(ContainerHeader a, EncryptFile(dir.File("in"), dir.File("a.sgl"), r.pub, Small()));
  ASSERT_OK_AND_ASSIGN(ContainerHeader b, EncryptFile(dir.File("in"), dir.File("b.sgl"), r.pub, Small()));
  EXPECT_NE(a.enc, b.enc);
  EXPECT_NE(a.salt, b.salt);
  ASSERT_OK_AND_ASSIGN(SecretBytes da, OpenDek(a, r.kp.private_key));
  ASSERT_OK_AND_ASSIGN(SecretBytes db, OpenDek(b, r.kp.private_key));
  EXPECT_FALSE(ConstantTimeEquals(da, db));
}

TEST(OpenDek, BoundToKeyAndIdentity) {
  TempDir dir;
  Recipient r = NewRecipient("acme", "llama3", 2);
  Recipient other = NewRecipient("acme", "llama3", 2);
  testing::WriteBytes(dir.File("in"), Bytes(10, 1));
  ASSERT_OK_AND_ASSIGN(ContainerHeader h, EncryptFile(dir.File("in"), dir.File("a.sgl"), r.pub, Small()));
  EXPECT_CODE(OpenDek(h, other.kp.private_key), Code::kVerificationFailed);
  // The HPKE info names tenant, key and version: a header relabelled to another one fails.
  for (int field = 0; field < 3; ++field) {
    ContainerHeader relabelled = h;
    if (field == 0) relabelled.tenant = "evil";
    if (field == 1) relabelled.key_name = "other";
    if (field == 2) relabelled.key_version = 3;
    EXPECT_CODE(OpenDek(relabelled, r.kp.private_key), Code::kVerificationFailed);
  }
  ContainerHeader flipped = h;
  flipped.sealed_dek[0] ^= 1;
  EXPECT_CODE(OpenDek(flipped, r.kp.private_key), Code::kVerificationFailed);
}

TEST(EncryptFile, RejectsBadRecipient) {
  TempDir dir;
  testing::WriteBytes(dir.File("in"), Bytes(10, 1));
  Recipient r = NewRecipient("acme", "llama3", 1);
  r.pub.public_key.assign(32, 0);
  EXPECT_CODE(EncryptFile(dir.File("in"), dir.File("a.sgl"), r.pub, Small()), Code::kInvalidArgument);
  r = NewRecipient("Acme", "llama3", 1);
  EXPECT_CODE(EncryptFile(dir.File("in"), dir.File("a.sgl"), r.pub, Small()), Code::kInvalidArgument);
}

}  // namespace
}  // namespace sigil::loader
