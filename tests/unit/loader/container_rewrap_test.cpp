// RewrapContainer: moving a container to another key version without the broker (the broker's
// reseal is made here with a local key pair). The output opens with the new version's key,
// carries a fresh salt on every rewrap, changes every chunk, keeps the plaintext, and a failure
// (tampered chunk, existing output, output == input, older target) leaves no file behind.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/hpke.h"
#include "core/protocol.h"
#include "loader/container_keys.h"
#include "loader/container_reader.h"
#include "loader/container_rewrap.h"
#include "loader/memfd_decrypt.h"
#include "tests/support/matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/loader/loader_test_util.h"

namespace sigil::loader {
namespace {

using ::sigil::testing::TempDir;

constexpr std::uint32_t kChunk = 4096;

struct Version {
  hpke::KeyPair kp;
  std::uint32_t number;
};

Version NewVersion(std::uint32_t n) {
  return Version{std::move(hpke::GenerateKeyPair(hpke::Kem::kX25519HkdfSha256)).value(), n};
}

// What the broker returns for a rewrap: the DEK sealed to `to` with the header's info.
RewrapTarget Reseal(const SecretBytes& dek, const Version& to) {
  auto sealed = hpke::Seal(hpke::kSigilSuite, to.kp.public_key, protocol::DekSealInfo("acme", "llama3", to.number), {},
                           dek.Reveal(SecretAccess::Get()));
  SIGIL_CHECK(sealed.has_value());
  return RewrapTarget{to.number, sealed->enc, sealed->ciphertext};
}

// Files in `dir` other than the ones named.
std::vector<std::string> Others(const std::string& dir, std::vector<std::string> known) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::string n = e.path().filename();
    if (std::find(known.begin(), known.end(), n) == known.end()) out.push_back(n);
  }
  return out;
}

class Rewrap : public ::testing::Test {
 protected:
  void SetUp() override {
    plaintext_ = testing::Pseudorandom(3 * kChunk + 123, 11);
    testing::WriteBytes(dir_.File("w.bin"), plaintext_);
    EncryptOptions o;
    o.chunk_size = kChunk;
    ASSERT_OK(EncryptFile(dir_.File("w.bin"), dir_.File("v1.sgl"), RecipientKey{"acme", "llama3", 1, v1_.kp.public_key}, o));
  }
  Bytes Decrypt(const std::string& file, const Version& v) {
    auto c = Container::Open(file);
    EXPECT_OK(c);
    auto dek = OpenDek(c->header(), v.kp.private_key);
    EXPECT_OK(dek);
    auto m = DecryptToMemfd(*c, *dek);
    EXPECT_OK(m);
    return m ? testing::ReadFd(m->fd()) : Bytes{};
  }
  TempDir dir_;
  Version v1_ = NewVersion(1), v2_ = NewVersion(2);
  Bytes plaintext_;
};

TEST_F(Rewrap, OutputNamesTheNewVersionAndDecryptsToTheSamePlaintext) {
  ASSERT_OK_AND_ASSIGN(Container in, Container::Open(dir_.File("v1.sgl")));
  ASSERT_OK_AND_ASSIGN(SecretBytes dek, OpenDek(in.header(), v1_.kp.private_key));
  ASSERT_OK_AND_ASSIGN(ContainerHeader h, RewrapContainer(in, dek, Reseal(dek, v2_), dir_.File("v2.sgl")));
  EXPECT_EQ(h.key_version, 2u);
  EXPECT_NE(h.salt, in.header().salt);
  EXPECT_EQ(h.plaintext_sha256, in.header().plaintext_sha256);
  EXPECT_EQ(Decrypt(dir_.File("v2.sgl"), v2_), plaintext_);
  // The old version's key no longer opens it.
  ASSERT_OK_AND_ASSIGN(Container out, Container::Open(dir_.File("v2.sgl")));
  EXPECT_FALSE(OpenDek(out.header(), v1_.kp.private_key).has_value());
  // Every chunk (ciphertext and tag) differs.
  Bytes a = testing::ReadBytes(dir_.File("v1.sgl")), b = testing::ReadBytes(dir_.File("v2.sgl"));
  for (std::uint64_t i = 0; i < in.layout().count(); ++i) {
    const std::size_t n = in.layout().plain_size(i) + kTagSize;
    Bytes ca(a.begin() + static_cast<std::ptrdiff_t>(in.layout().file_offset(i)),
             a.begin() + static_cast<std::ptrdiff_t>(in.layout().file_offset(i) + n));
    Bytes cb(b.begin() + static_cast<std::ptrdiff_t>(out.layout().file_offset(i)),
             b.begin() + static_cast<std::ptrdiff_t>(out.layout().file_offset(i) + n));
    EXPECT_NE(ca, cb) << "chunk " << i;
  }
  EXPECT_TRUE(Others(dir_.path(), {"w.bin", "v1.sgl", "v2.sgl"}).empty());
}

TEST_F(Rewrap, TwoRewrapsOfOneInputDrawDifferentSalts) {
  ASSERT_OK_AND_ASSIGN(Container in, Container::Open(dir_.File("v1.sgl")));
  ASSERT_OK_AND_ASSIGN(SecretBytes dek, OpenDek(in.header(), v1_.kp.private_key));
  // Even with the very same reseal (same enc and sealed_dek), the salt must be fresh.
  RewrapTarget t = Reseal(dek, v2_);
  ASSERT_OK_AND_ASSIGN(ContainerHeader a, RewrapContainer(in, dek, t, dir_.File("a.sgl")));
  ASSERT_OK_AND_ASSIGN(ContainerHeader b, RewrapContainer(in, dek, t, dir_.File("b.sgl")));
  EXPECT_NE(a.salt, b.salt);
  EXPECT_NE(a.salt, in.header().salt);
  EXPECT_NE(testing::ReadBytes(dir_.File("a.sgl")), testing::ReadBytes(dir_.File("b.sgl")));
  EXPECT_EQ(Decrypt(dir_.File("a.sgl"), v2_), plaintext_);
  EXPECT_EQ(Decrypt(dir_.File("b.sgl"), v2_), plaintext_);
}

TEST_F(Rewrap, TamperedChunkLeavesNoOutput) {
  Bytes f = testing::ReadBytes(dir_.File("v1.sgl"));
  f[f.size() - 50] ^= 1;  // inside the last chunk: the earlier ones were already re-encrypted
  testing::WriteBytes(dir_.File("bad.sgl"), f);
  ASSERT_OK_AND_ASSIGN(Container in, Container::Open(dir_.File("bad.sgl")));
  ASSERT_OK_AND_ASSIGN(SecretBytes dek, OpenDek(in.header(), v1_.kp.private_key));
  auto r = RewrapContainer(in, dek, Reseal(dek, v2_), dir_.File("out.sgl"));
  EXPECT_CODE(r, Code::kVerificationFailed);
  EXPECT_NE(r.error().message().find("chunk 3 of 4"), std::string::npos) << r.error().message();
  EXPECT_TRUE(Others(dir_.path(), {"w.bin", "v1.sgl", "bad.sgl"}).empty()) << "a temporary file was left behind";
}

TEST_F(Rewrap, RefusesExistingOutputSameFileAndOlderTargets) {
  ASSERT_OK_AND_ASSIGN(Container in, Container::Open(dir_.File("v1.sgl")));
  ASSERT_OK_AND_ASSIGN(SecretBytes dek, OpenDek(in.header(), v1_.kp.private_key));
  testing::WriteBytes(dir_.File("exists.sgl"), Bytes{1, 2, 3});
  EXPECT_CODE(RewrapContainer(in, dek, Reseal(dek, v2_), dir_.File("exists.sgl")), Code::kAlreadyExists);
  EXPECT_EQ(testing::ReadBytes(dir_.File("exists.sgl")), (Bytes{1, 2, 3}));
  RewrapOptions force;
  force.overwrite = true;
  ASSERT_OK(RewrapContainer(in, dek, Reseal(dek, v2_), dir_.File("exists.sgl"), force));
  EXPECT_EQ(Decrypt(dir_.File("exists.sgl"), v2_), plaintext_);
  EXPECT_CODE(RewrapContainer(in, dek, Reseal(dek, v2_), dir_.File("v1.sgl"), force), Code::kInvalidArgument);
  std::filesystem::create_hard_link(dir_.File("v1.sgl"), dir_.File("link.sgl"));
  EXPECT_CODE(RewrapContainer(in, dek, Reseal(dek, v2_), dir_.File("link.sgl"), force), Code::kInvalidArgument);
  EXPECT_CODE(RewrapContainer(in, dek, Reseal(dek, v1_), dir_.File("same.sgl")), Code::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(dir_.File("same.sgl")));
}

TEST_F(Rewrap, SignedOutputVerifies) {
  ASSERT_OK_AND_ASSIGN(Container in, Container::Open(dir_.File("v1.sgl")));
  ASSERT_OK_AND_ASSIGN(SecretBytes dek, OpenDek(in.header(), v1_.kp.private_key));
  ASSERT_OK_AND_ASSIGN(SecretBytes seed, SecretBytes::Random(32));
  ASSERT_OK_AND_ASSIGN(Ed25519Signer signer, Ed25519Signer::FromSeed(seed.Reveal(SecretAccess::Get())));
  RewrapOptions o;
  o.signer = &signer;
  ASSERT_OK_AND_ASSIGN(ContainerHeader h, RewrapContainer(in, dek, Reseal(dek, v2_), dir_.File("s.sgl"), o));
  EXPECT_EQ(h.format_version, kFormatVersionSigned);
  ASSERT_OK_AND_ASSIGN(Container out, Container::Open(dir_.File("s.sgl")));
  ASSERT_OK_AND_ASSIGN(ArtifactSignature sig, VerifyContainerSignature(out));
  EXPECT_EQ(sig.public_key, signer.public_key());
  EXPECT_EQ(Decrypt(dir_.File("s.sgl"), v2_), plaintext_);
}

}  // namespace
}  // namespace sigil::loader
