// Owner signatures on containers (FORMAT.md, "Signature trailer"): keys made by the real
// `openssl genpkey -algorithm ed25519`, a signed container verifies and decrypts, and every
// modification (header, chunk tag, trailer key, stripped trailer, downgrade to version 1) or
// an unsigned container is refused.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "core/protocol.h"
#include "loader/container_reader.h"
#include "loader/container_signature.h"
#include "loader/owner_key.h"
#include "tests/support/matchers.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/loader/loader_test_util.h"

namespace sigil::loader {
namespace {

using ::sigil::testing::TempDir;
using ::testing::HasSubstr;

constexpr std::uint32_t kChunk = 4096;
constexpr std::size_t kStride = kChunk + kTagSize;

// `openssl genpkey -algorithm ed25519 -out NAME.pem` and `openssl pkey -in NAME.pem -pubout
// -out NAME.pub`, exactly as FORMAT.md and docs/cli.md tell a model owner.
void MakeOwnerKey(const TempDir& dir, const std::string& name) {
  auto g = ::sigil::testing::Run({"/usr/bin/openssl", "genpkey", "-algorithm", "ed25519", "-out", dir.File(name + ".pem")});
  ASSERT_EQ(g.exit_code, 0) << g.err;
  auto p = ::sigil::testing::Run({"/usr/bin/openssl", "pkey", "-in", dir.File(name + ".pem"), "-pubout", "-out", dir.File(name + ".pub")});
  ASSERT_EQ(p.exit_code, 0) << p.err;
}

class Signature : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(MakeOwnerKey(dir_, "owner"));
    ASSERT_OK_AND_ASSIGN(Ed25519Signer s, ReadOwnerPrivateKeyFile(dir_.File("owner.pem")));
    signer_.emplace(std::move(s));
    pt_ = testing::Pseudorandom(3 * kChunk + 7, 5);  // 4 chunks
    EncryptOptions o;
    o.chunk_size = kChunk;
    o.signer = &*signer_;
    auto h = testing::EncryptBytes(dir_.path(), "a", pt_, dek_, testing::TemplateHeader(), o);
    ASSERT_OK(h);
    header_ = *h;
    file_ = testing::ReadBytes(dir_.File("a.sgl"));
    hsize_ = std::move(SerializeHeader(header_)).value().size();
  }
  // Writes `bytes` as a new file and returns the result of opening and verifying it.
  Result<ArtifactSignature> VerifyBytes(const Bytes& bytes) {
    testing::WriteBytes(dir_.File("m.sgl"), bytes);
    SIGIL_ASSIGN_OR_RETURN(Container c, Container::Open(dir_.File("m.sgl")));
    return VerifyContainerSignature(c);
  }

  TempDir dir_;
  std::optional<Ed25519Signer> signer_;
  SecretBytes dek_ = testing::RandomDek();
  Bytes pt_;
  ContainerHeader header_;
  Bytes file_;
  std::size_t hsize_ = 0;
};

TEST_F(Signature, SignedContainerVerifiesNamesTheSignerAndDecrypts) {
  EXPECT_EQ(header_.format_version, kFormatVersionSigned);
  EXPECT_EQ(file_.size(), hsize_ + pt_.size() + 4 * kTagSize + kSignatureTrailerSize);
  ASSERT_OK_AND_ASSIGN(Bytes pub, ReadOwnerPublicKeyFile(dir_.File("owner.pub")));
  EXPECT_EQ(pub, signer_->public_key());
  ASSERT_OK_AND_ASSIGN(Container c, Container::Open(dir_.File("a.sgl")));
  ASSERT_OK_AND_ASSIGN(ArtifactSignature sig, VerifyContainerSignature(c));
  EXPECT_EQ(sig.signer_id(), protocol::OwnerKeyId(pub));
  EXPECT_EQ(sig.artifact_id, protocol::ArtifactId(header_.enc, header_.sealed_dek));
  // The digest is SHA-256(header || every tag), as FORMAT.md defines it.
  Bytes covered(file_.begin(), file_.begin() + static_cast<std::ptrdiff_t>(hsize_));
  for (std::size_t i = 0; i < 4; ++i) {
    std::size_t end = i < 3 ? hsize_ + (i + 1) * kStride : hsize_ + 3 * kStride + 7 + kTagSize;
    covered.insert(covered.end(), file_.begin() + static_cast<std::ptrdiff_t>(end - kTagSize),
                   file_.begin() + static_cast<std::ptrdiff_t>(end));
  }
  EXPECT_EQ(sig.content_digest, Sha256(covered));
  EXPECT_OK(Ed25519Verify(pub, protocol::ArtifactSignatureMessage(sig.artifact_id, sig.content_digest), sig.signature));
  int fd = ::open(dir_.File("out").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  EXPECT_OK(DecryptToStream(c, dek_, fd));
  ::close(fd);
  EXPECT_EQ(testing::ReadBytes(dir_.File("out")), pt_);
}

TEST_F(Signature, TamperedHeaderIsRefused) {
  Bytes f = file_;
  f[hsize_ - 1] ^= 1;  // last byte of the plaintext digest: the header still parses
  EXPECT_CODE(VerifyBytes(f), Code::kVerificationFailed);
}

TEST_F(Signature, TamperedChunkTagIsRefused) {
  for (std::size_t i : {std::size_t{0}, std::size_t{3}}) {
    Bytes f = file_;
    std::size_t tag_end = i < 3 ? hsize_ + (i + 1) * kStride : hsize_ + 3 * kStride + 7 + kTagSize;
    f[tag_end - 1] ^= 0x80;
    auto r = VerifyBytes(f);
    EXPECT_CODE(r, Code::kVerificationFailed);
    EXPECT_THAT(r.error().message(), HasSubstr("modified after signing")) << "chunk " << i;
  }
}

TEST_F(Signature, TamperedSignatureOrWrongKeyIsRefused) {
  Bytes f = file_;
  f.back() ^= 1;
  EXPECT_CODE(VerifyBytes(f), Code::kVerificationFailed);
  // Another owner's public key in the trailer, the original signature kept.
  ASSERT_NO_FATAL_FAILURE(MakeOwnerKey(dir_, "other"));
  ASSERT_OK_AND_ASSIGN(Bytes other, ReadOwnerPublicKeyFile(dir_.File("other.pub")));
  f = file_;
  std::copy(other.begin(), other.end(), f.end() - 96);
  EXPECT_CODE(VerifyBytes(f), Code::kVerificationFailed);
}

TEST_F(Signature, ResignedByAnotherKeyVerifiesButNamesThatSigner) {
  // Anyone can sign anything: what the signature proves is who signed, which the broker's pins
  // and sigil-load --trust-owner then judge.
  ASSERT_NO_FATAL_FAILURE(MakeOwnerKey(dir_, "other"));
  ASSERT_OK_AND_ASSIGN(Ed25519Signer other, ReadOwnerPrivateKeyFile(dir_.File("other.pem")));
  ASSERT_OK_AND_ASSIGN(Container c, Container::Open(dir_.File("a.sgl")));
  ASSERT_OK_AND_ASSIGN(ArtifactSignature sig, VerifyContainerSignature(c));
  Bytes f(file_.begin(), file_.end() - kSignatureTrailerSize);
  Bytes t = SerializeSignatureTrailer(SignContainer(other, header_, sig.content_digest));
  f.insert(f.end(), t.begin(), t.end());
  ASSERT_OK_AND_ASSIGN(ArtifactSignature resigned, VerifyBytes(f));
  EXPECT_EQ(resigned.signer_id(), protocol::OwnerKeyId(other.public_key()));
  EXPECT_NE(resigned.signer_id(), sig.signer_id());
}

TEST_F(Signature, UnsignedStrippedOrDowngradedIsRefused) {
  EncryptOptions o;
  o.chunk_size = kChunk;
  ASSERT_OK(testing::EncryptBytes(dir_.path(), "u", pt_, dek_, testing::TemplateHeader(), o));
  ASSERT_OK_AND_ASSIGN(Container u, Container::Open(dir_.File("u.sgl")));
  EXPECT_FALSE(u.signature().has_value());
  auto r = VerifyContainerSignature(u);
  EXPECT_CODE(r, Code::kVerificationFailed);
  EXPECT_THAT(r.error().message(), HasSubstr("not signed"));
  // Cutting the trailer off breaks the exact size a version 2 header requires.
  Bytes stripped(file_.begin(), file_.end() - kSignatureTrailerSize);
  EXPECT_CODE(VerifyBytes(stripped), Code::kInvalidArgument);
  // Also rewriting the version to 1 opens, but the version is AAD: no chunk authenticates.
  stripped[5] = 1;
  testing::WriteBytes(dir_.File("d.sgl"), stripped);
  ASSERT_OK_AND_ASSIGN(Container d, Container::Open(dir_.File("d.sgl")));
  int fd = ::open(dir_.File("out").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  EXPECT_CODE(DecryptToStream(d, dek_, fd), Code::kVerificationFailed);
  ::close(fd);
}

TEST(SignatureTrailer, ParseIsStrictAndRoundTrips) {
  SignatureTrailer t{kSignatureAlgEd25519, testing::Pseudorandom(32, 1), testing::Pseudorandom(64, 2)};
  Bytes b = SerializeSignatureTrailer(t);
  ASSERT_EQ(b.size(), kSignatureTrailerSize);
  ASSERT_OK_AND_ASSIGN(SignatureTrailer back, ParseSignatureTrailer(b));
  EXPECT_EQ(back, t);
  Bytes bad = b;
  bad[0] = 'X';
  EXPECT_CODE(ParseSignatureTrailer(bad), Code::kInvalidArgument);
  bad = b;
  bad[5] = 2;  // algorithm 2
  EXPECT_CODE(ParseSignatureTrailer(bad), Code::kInvalidArgument);
  EXPECT_CODE(ParseSignatureTrailer(ByteSpan(b).first(101)), Code::kInvalidArgument);
}

TEST(OwnerKey, RefusesKeysThatAreNotEd25519) {
  TempDir dir;
  auto g = ::sigil::testing::Run({"/usr/bin/openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out",
                dir.File("ec.pem")});
  ASSERT_EQ(g.exit_code, 0) << g.err;
  EXPECT_CODE(ReadOwnerPrivateKeyFile(dir.File("ec.pem")), Code::kInvalidArgument);
  testing::WriteBytes(dir.File("junk.pem"), Bytes{'n', 'o', 'p', 'e'});
  EXPECT_CODE(ReadOwnerPrivateKeyFile(dir.File("junk.pem")), Code::kInvalidArgument);
  EXPECT_CODE(ReadOwnerPublicKeyFile(dir.File("junk.pem")), Code::kInvalidArgument);
}

// The documented command lines (docs/cli.md): a key made by openssl, `sigil model encrypt --sign`,
// `sigil model inspect` naming the signer.
TEST(OwnerKey, CliEncryptSignAndInspect) {
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(MakeOwnerKey(dir, "owner"));
  Bytes pk = testing::Pseudorandom(32, 77);
  std::string pub = R"({"key":"llama3","public_key":")" + Base64UrlEncode(pk) +
                    R"(","suite":"X25519-HKDF-SHA256-AES-256-GCM","tenant":"acme","type":"sigil-public-key","version":1})";
  testing::WriteBytes(dir.File("llama3.pub"), Bytes(pub.begin(), pub.end()));
  testing::WriteBytes(dir.File("model.safetensors.bin"), testing::Pseudorandom(10000, 3));
  auto e = ::sigil::testing::Run({::sigil::testing::BinPath("sigil"), "model", "encrypt", "--recipient", dir.File("llama3.pub"), "--sign",
                dir.File("owner.pem"), dir.File("model.safetensors.bin"), dir.File("model.sgl")});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  ASSERT_OK_AND_ASSIGN(Bytes owner, ReadOwnerPublicKeyFile(dir.File("owner.pub")));
  EXPECT_THAT(e.out, HasSubstr("signed by " + protocol::OwnerKeyId(owner)));
  auto i = ::sigil::testing::Run({::sigil::testing::BinPath("sigil"), "model", "inspect", dir.File("model.sgl")});
  ASSERT_EQ(i.exit_code, 0) << i.err;
  ASSERT_OK_AND_ASSIGN(Json j, ParseJson(i.out, "inspect"));
  EXPECT_EQ(j.value("signer", ""), protocol::OwnerKeyId(owner));
  EXPECT_EQ(j.value("format_version", 0), 2);
  // A directory is a model set: every member is signed.
  ASSERT_EQ(::mkdir(dir.File("set").c_str(), 0700), 0);
  testing::WriteBytes(dir.File("set/config.json"), Bytes{'{', '}'});
  testing::WriteBytes(dir.File("set/tokenizer.json"), Bytes{'[', ']'});
  auto s = ::sigil::testing::Run({::sigil::testing::BinPath("sigil"), "model", "encrypt", "--recipient",
                                  dir.File("llama3.pub"), "--sign", dir.File("owner.pem"), dir.File("set"),
                                  dir.File("set.out")});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  for (const char* member : {"config.json.sgl", "tokenizer.json.sgl"}) {
    ASSERT_OK_AND_ASSIGN(Container c, Container::Open(dir.File(std::string("set.out/") + member)));
    ASSERT_OK_AND_ASSIGN(ArtifactSignature sig, VerifyContainerSignature(c));
    EXPECT_EQ(sig.signer_id(), protocol::OwnerKeyId(owner)) << member;
  }
  Bytes f = testing::ReadBytes(dir.File("model.sgl"));
  f[f.size() - kSignatureTrailerSize - 1] ^= 1;  // the last chunk's tag
  testing::WriteBytes(dir.File("model.sgl"), f);
  auto bad = ::sigil::testing::Run({::sigil::testing::BinPath("sigil"), "model", "inspect", dir.File("model.sgl")});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_THAT(bad.err, HasSubstr("modified after signing"));
}

}  // namespace
}  // namespace sigil::loader
