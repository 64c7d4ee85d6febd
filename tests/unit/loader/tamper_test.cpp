// The container must refuse every modification, and after a refusal no plaintext may remain
// reachable: no memfd is returned, none stays open or mapped.
#include <fcntl.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "loader/chunk_crypto.h"
#include "loader/container_reader.h"
#include "loader/memfd_decrypt.h"
#include "tests/support/matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/loader/loader_test_util.h"

namespace sigil::loader {
namespace {

using ::sigil::testing::TempDir;
using ::testing::AnyOf;
using ::testing::HasSubstr;

constexpr std::uint32_t kChunk = 4096;
constexpr std::size_t kStride = kChunk + kTagSize;

class Tamper : public ::testing::Test {
 protected:
  void SetUp() override {
    pt_ = testing::Pseudorandom(3 * kChunk + 7, 11);  // 4 chunks, the last of 7 bytes
    tmpl_ = testing::TemplateHeader();
    auto h = testing::EncryptBytes(dir_.path(), "a", pt_, dek_, tmpl_, Options());
    ASSERT_OK(h);
    header_ = *h;
    file_ = testing::ReadBytes(dir_.File("a.sgl"));
    hsize_ = std::move(SerializeHeader(header_)).value().size();
  }
  static EncryptOptions Options() {
    EncryptOptions o;
    o.chunk_size = kChunk;
    return o;
  }
  std::size_t ChunkAt(std::size_t i) const { return hsize_ + i * kStride; }
  Bytes Chunk(const Bytes& f, std::size_t i) const {
    std::size_t end = std::min(f.size(), ChunkAt(i) + kStride);
    return Bytes(f.begin() + static_cast<std::ptrdiff_t>(ChunkAt(i)), f.begin() + static_cast<std::ptrdiff_t>(end));
  }

  // Writes `bytes` as a container and runs both decryptors, which must both refuse. Returns
  // the in-memory decryptor's error (or the open error).
  Error Refused(const Bytes& bytes, unsigned threads = 2, bool verify_digest = false) {
    std::string path = dir_.File("t.sgl");
    testing::WriteBytes(path, bytes);
    auto c = Container::Open(path);
    if (!c) return c.error();
    DecryptOptions opt;
    opt.threads = threads;
    opt.verify_digest = verify_digest;
    auto m = DecryptToMemfd(*c, dek_, opt);
    EXPECT_EQ(testing::ModelMemfdsOpenOrMapped(), 0);
    int out = ::open(dir_.File("out").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    auto s = DecryptToStream(*c, dek_, out);
    ::close(out);
    EXPECT_FALSE(s.has_value()) << "stream decryptor accepted a modified container";
    if (m.has_value()) return Error(Code::kInternal, "in-memory decryptor accepted a modified container");
    return m.error();
  }

  TempDir dir_;
  Bytes pt_;
  SecretBytes dek_ = testing::RandomDek();
  ContainerHeader tmpl_;
  ContainerHeader header_;
  Bytes file_;
  std::size_t hsize_ = 0;
};

TEST_F(Tamper, OriginalOpens) {
  ASSERT_OK_AND_ASSIGN(Container c, Container::Open(dir_.File("a.sgl")));
  ASSERT_OK_AND_ASSIGN(LockedMemfd m, DecryptToMemfd(c, dek_));
  EXPECT_EQ(testing::ReadFd(m.fd()), pt_);
  EXPECT_EQ(c.layout().count(), 4u);
  EXPECT_EQ(file_.size(), hsize_ + pt_.size() + 4 * kTagSize);
}

TEST_F(Tamper, EveryHeaderByteChangeIsRefused) {
  for (std::size_t off = 0; off < hsize_; ++off) {
    for (std::uint8_t mask : {0x01, 0x80, 0xFF}) {
      Bytes bad = file_;
      bad[off] ^= mask;
      Error e = Refused(bad, 1);
      EXPECT_THAT(e.code(), AnyOf(Code::kInvalidArgument, Code::kVerificationFailed))
          << "offset " << off << " mask " << int{mask} << ": " << e.message();
    }
  }
}

TEST_F(Tamper, FlippedCiphertextOrTagByteNamesTheChunk) {
  for (std::size_t i = 0; i < 4; ++i) {
    std::size_t body = i == 3 ? 7 : kChunk;
    for (std::size_t pos : {std::size_t{0}, body / 2, body - 1, body, body + kTagSize - 1}) {
      Bytes bad = file_;
      bad[ChunkAt(i) + pos] ^= 0x40;
      Error e = Refused(bad);
      EXPECT_EQ(e.code(), Code::kVerificationFailed) << e.message();
      EXPECT_THAT(e.message(), HasSubstr("chunk " + std::to_string(i) + " of 4")) << pos;
      EXPECT_THAT(e.message(), HasSubstr("no plaintext was released"));
    }
  }
}

// The stream decryptor writes each chunk once it verifies, so a bad chunk k leaves chunks
// 0..k-1 in the output: its error must say so (how many bytes, discard them), never claim that
// nothing was released. The in-memory decryptor releases nothing and says that.
TEST_F(Tamper, StreamErrorCountsTheBytesAlreadyWritten) {
  for (std::size_t i = 0; i < 4; ++i) {
    Bytes bad = file_;
    bad[ChunkAt(i) + 1] ^= 0x40;
    std::string path = dir_.File("t.sgl");
    testing::WriteBytes(path, bad);
    ASSERT_OK_AND_ASSIGN(Container c, Container::Open(path));
    int out = ::open(dir_.File("out").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT_GE(out, 0);
    auto s = DecryptToStream(c, dek_, out);
    ::close(out);
    ASSERT_FALSE(s.has_value());
    const std::string& msg = s.error().message();
    EXPECT_EQ(testing::ReadBytes(dir_.File("out")).size(), i * kChunk) << "chunk " << i;
    if (i == 0) {
      EXPECT_THAT(msg, HasSubstr("no plaintext was released"));
    } else {
      EXPECT_THAT(msg, ::testing::Not(HasSubstr("no plaintext was released"))) << msg;
      EXPECT_THAT(msg, HasSubstr(std::to_string(i * kChunk) + " bytes of authenticated plaintext (chunks 0-" +
                                 std::to_string(i - 1) + ") were already written"));
      EXPECT_THAT(msg, HasSubstr("must be discarded"));
    }
    auto m = DecryptToMemfd(c, dek_);
    ASSERT_FALSE(m.has_value());
    EXPECT_THAT(m.error().message(), HasSubstr("no plaintext was released"));
  }
}

// A tampered last chunk: the stream decryptor has written every chunk before it and says so (how
// many bytes, incomplete); DecryptHeldToStream (sigil-load cat --hold) writes nothing, so its
// "no plaintext was released" is true. An intact file goes through it unchanged.
TEST_F(Tamper, HeldStreamReleasesNothingWhenTheLastChunkIsTampered) {
  auto run = [&](const Bytes& file, bool held) {
    std::string path = dir_.File("h.sgl");
    testing::WriteBytes(path, file);
    auto c = Container::Open(path);
    EXPECT_TRUE(c.has_value());
    int out = ::open(dir_.File("held-out").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    EXPECT_GE(out, 0);
    Result<void> r = held ? DecryptHeldToStream(*c, dek_, out) : DecryptToStream(*c, dek_, out);
    ::close(out);
    return std::pair{std::move(r), testing::ReadBytes(dir_.File("held-out"))};
  };
  auto [ok, all] = run(file_, true);
  EXPECT_TRUE(ok.has_value()) << ok.error().message();
  EXPECT_EQ(all, pt_);

  Bytes bad = file_;
  bad[ChunkAt(3) + 2] ^= 0x01;  // the last chunk (7 bytes of plaintext)
  auto [streamed, prefix] = run(bad, false);
  ASSERT_FALSE(streamed.has_value());
  EXPECT_EQ(prefix.size(), 3u * kChunk);
  EXPECT_THAT(streamed.error().message(),
              HasSubstr(std::to_string(3 * kChunk) + " bytes of authenticated plaintext (chunks 0-2) were already "
                        "written to the output before the failure: the output is incomplete"));
  EXPECT_THAT(streamed.error().message(), ::testing::Not(HasSubstr("no plaintext was released")));

  auto [held, nothing] = run(bad, true);
  ASSERT_FALSE(held.has_value());
  EXPECT_EQ(held.error().code(), Code::kVerificationFailed);
  EXPECT_TRUE(nothing.empty()) << nothing.size() << " bytes written";
  EXPECT_THAT(held.error().message(), HasSubstr("chunk 3 of 4"));
  EXPECT_THAT(held.error().message(), HasSubstr("no plaintext was released"));
}

TEST_F(Tamper, SwappedChunks) {
  Bytes bad = file_;
  std::swap_ranges(bad.begin() + static_cast<std::ptrdiff_t>(ChunkAt(1)),
                   bad.begin() + static_cast<std::ptrdiff_t>(ChunkAt(2)),
                   bad.begin() + static_cast<std::ptrdiff_t>(ChunkAt(2)));
  Error e = Refused(bad);
  EXPECT_EQ(e.code(), Code::kVerificationFailed);
  EXPECT_THAT(e.message(), HasSubstr("chunk 1 of 4"));  // the first bad one, deterministically
}

TEST_F(Tamper, DroppedChunkIsASizeError) {
  Bytes bad = file_;
  bad.erase(bad.begin() + static_cast<std::ptrdiff_t>(ChunkAt(1)), bad.begin() + static_cast<std::ptrdiff_t>(ChunkAt(2)));
  Error e = Refused(bad);
  EXPECT_EQ(e.code(), Code::kInvalidArgument);
  EXPECT_THAT(e.message(), HasSubstr("truncated: 4112 bytes missing"));
}

TEST_F(Tamper, DuplicatedChunk) {
  Bytes inserted = file_;
  Bytes c1 = Chunk(file_, 1);
  inserted.insert(inserted.begin() + static_cast<std::ptrdiff_t>(ChunkAt(2)), c1.begin(), c1.end());
  Error e = Refused(inserted);
  EXPECT_EQ(e.code(), Code::kInvalidArgument);
  EXPECT_THAT(e.message(), HasSubstr("4112 unexpected bytes appended (1 whole extra chunks)"));
  Bytes replaced = file_;  // same size: chunk 2 := chunk 1
  std::copy(c1.begin(), c1.end(), replaced.begin() + static_cast<std::ptrdiff_t>(ChunkAt(2)));
  e = Refused(replaced);
  EXPECT_EQ(e.code(), Code::kVerificationFailed);
  EXPECT_THAT(e.message(), HasSubstr("chunk 2 of 4"));
}

TEST_F(Tamper, AppendedData) {
  Bytes bad = file_;
  Bytes c0 = Chunk(file_, 0);
  bad.insert(bad.end(), c0.begin(), c0.end());
  EXPECT_EQ(Refused(bad).code(), Code::kInvalidArgument);
  Bytes one = file_;
  one.push_back(0);
  Error e = Refused(one);
  EXPECT_THAT(e.message(), HasSubstr("1 unexpected bytes appended"));
}

TEST_F(Tamper, TruncatedFile) {
  Bytes bad(file_.begin(), file_.end() - 1);
  Error e = Refused(bad);
  EXPECT_EQ(e.code(), Code::kInvalidArgument);
  EXPECT_THAT(e.message(), HasSubstr("truncated: 1 bytes missing"));
  Bytes no_last(file_.begin(), file_.begin() + static_cast<std::ptrdiff_t>(ChunkAt(3)));
  e = Refused(no_last);
  EXPECT_THAT(e.message(), HasSubstr("truncated: 23 bytes missing (the file holds 3 complete chunks)"));
  Bytes header_only(file_.begin(), file_.begin() + static_cast<std::ptrdiff_t>(hsize_));
  EXPECT_EQ(Refused(header_only).code(), Code::kInvalidArgument);
  EXPECT_EQ(Refused(Bytes(file_.begin(), file_.begin() + 20)).code(), Code::kInvalidArgument);
}

TEST_F(Tamper, ChunkSplicedFromAnotherFileToTheSameRecipient) {
  // B: same recipient and plaintext size, its own DEK and salt (what EncryptFile does).
  SecretBytes dek_b = testing::RandomDek();
  ContainerHeader tmpl_b = testing::TemplateHeader();
  tmpl_b.enc = tmpl_.enc;  // even with A's sealed DEK fields
  tmpl_b.sealed_dek = tmpl_.sealed_dek;
  ASSERT_OK(testing::EncryptBytes(dir_.path(), "b", testing::Pseudorandom(pt_.size(), 12), dek_b, tmpl_b, Options()));
  // C: same DEK and salt as A (a misuse), different plaintext, hence a different header.
  ASSERT_OK(testing::EncryptBytes(dir_.path(), "c", testing::Pseudorandom(pt_.size(), 13), dek_, tmpl_, Options()));
  for (const char* other : {"b.sgl", "c.sgl"}) {
    Bytes donor = testing::ReadBytes(dir_.File(other));
    ASSERT_EQ(donor.size(), file_.size());
    Bytes bad = file_;
    Bytes c1 = Chunk(donor, 1);
    std::copy(c1.begin(), c1.end(), bad.begin() + static_cast<std::ptrdiff_t>(ChunkAt(1)));
    Error e = Refused(bad);
    EXPECT_EQ(e.code(), Code::kVerificationFailed) << other;
    EXPECT_THAT(e.message(), HasSubstr("chunk 1 of 4")) << other;
  }
}

TEST_F(Tamper, WrongDek) {
  ASSERT_OK_AND_ASSIGN(Container c, Container::Open(dir_.File("a.sgl")));
  for (unsigned threads : {1u, 2u, 4u}) {
    DecryptOptions opt;
    opt.threads = threads;
    auto m = DecryptToMemfd(c, testing::RandomDek(), opt);
    EXPECT_CODE(m, Code::kVerificationFailed);
    EXPECT_THAT(m.error().message(), HasSubstr("chunk 0 of 4"));
    EXPECT_EQ(testing::ModelMemfdsOpenOrMapped(), 0);
  }
  ASSERT_OK_AND_ASSIGN(SecretBytes short_dek, SecretBytes::Random(16));
  EXPECT_CODE(DecryptToMemfd(c, short_dek), Code::kInvalidArgument);
  EXPECT_CODE(DecryptToStream(c, short_dek, -1), Code::kInvalidArgument);
}

TEST_F(Tamper, WrongDigestInAnAuthenticHeaderIsRefused) {
  // An encryptor that writes a wrong digest: chunks authenticate, the digest check refuses.
  ContainerHeader h = header_;
  (*h.plaintext_sha256)[0] ^= 1;
  ASSERT_OK_AND_ASSIGN(Bytes hb, SerializeHeader(h));
  ASSERT_OK_AND_ASSIGN(SecretBytes key, DeriveChunkKey(dek_, h.salt));
  ASSERT_OK_AND_ASSIGN(ChunkCipher enc, ChunkCipher::Create(key, hb, ChunkCipher::Direction::kEncrypt));
  Bytes file = hb;
  ChunkLayout layout(hb.size(), h);
  for (std::uint64_t i = 0; i < layout.count(); ++i) {
    Bytes chunk(pt_.begin() + static_cast<std::ptrdiff_t>(layout.plain_offset(i)),
                pt_.begin() + static_cast<std::ptrdiff_t>(layout.plain_offset(i) + layout.plain_size(i)));
    ASSERT_OK(enc.Begin(i, layout.is_last(i)));
    ASSERT_OK(enc.Update(chunk.data(), chunk.size()));
    ChunkTag tag;
    ASSERT_OK(enc.FinishEncrypt(tag));
    file.insert(file.end(), chunk.begin(), chunk.end());
    file.insert(file.end(), tag.begin(), tag.end());
  }
  Error e = Refused(file, 2, /*verify_digest=*/true);
  EXPECT_EQ(e.code(), Code::kVerificationFailed);
  EXPECT_THAT(e.message(), HasSubstr("plaintext SHA-256"));
  ASSERT_OK_AND_ASSIGN(Container c, Container::Open(dir_.File("t.sgl")));
  DecryptOptions opt;
  opt.verify_digest = false;
  ASSERT_OK_AND_ASSIGN(LockedMemfd m, DecryptToMemfd(c, dek_, opt));
  EXPECT_EQ(testing::ReadFd(m.fd()), pt_);
}

TEST(StreamConstruction, LastFlagAndIndexAreBound) {
  SecretBytes dek = testing::RandomDek();
  Bytes salt(32, 5), aad = {1, 2, 3};
  ASSERT_OK_AND_ASSIGN(SecretBytes key, DeriveChunkKey(dek, salt));
  ASSERT_OK_AND_ASSIGN(ChunkCipher enc, ChunkCipher::Create(key, aad, ChunkCipher::Direction::kEncrypt));
  ASSERT_OK_AND_ASSIGN(ChunkCipher dec, ChunkCipher::Create(key, aad, ChunkCipher::Direction::kDecrypt));
  Bytes msg = testing::Pseudorandom(100, 1);
  ASSERT_OK(enc.Begin(5, false));
  ASSERT_OK(enc.Update(msg.data(), msg.size()));
  ChunkTag tag;
  ASSERT_OK(enc.FinishEncrypt(tag));
  struct Try { std::uint64_t index; bool last; bool ok; };
  for (Try t : {Try{5, false, true}, Try{5, true, false}, Try{4, false, false}, Try{6, false, false}}) {
    Bytes copy = msg;
    ASSERT_OK(dec.Begin(t.index, t.last));
    ASSERT_OK(dec.Update(copy.data(), copy.size()));
    EXPECT_EQ(dec.FinishDecrypt(tag).has_value(), t.ok) << t.index << " " << t.last;
  }
}

}  // namespace
}  // namespace sigil::loader
