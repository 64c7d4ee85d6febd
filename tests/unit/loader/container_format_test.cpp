#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <numeric>

#include "core/digest.h"
#include "core/encoding.h"
#include "loader/chunk_crypto.h"
#include "loader/container_format.h"
#include "loader/container_reader.h"
#include "tests/support/matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/loader/loader_test_util.h"

namespace sigil::loader {
namespace {

using ::sigil::testing::TempDir;
using ::testing::HasSubstr;

// Produced from loader/FORMAT.md by an independent implementation (Python `cryptography`):
// DEK 01..20, salt c8..e7, enc 00..1f, sealed_dek 64..93, acme/llama3 v7, 4 KiB chunks,
// plaintext byte i = (7i + 3) mod 256 for i < 10000, digest present.
constexpr char kKatHeader[] =
    "53474c000001000000df000461636d6500066c6c616d6133000000070020000100020020000102030405060708090a0b0c0d0e0f"
    "101112131415161718191a1b1c1d1e1f00306465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f80818283848586"
    "8788898a8b8c8d8e8f90919293000200001000000000000000271000186170706c69636174696f6e2f6f637465742d73747265616d"
    "c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7016e97d8601cb17906a4819e0fcc8d03150d3e4331"
    "353ecaa516c0084cadad54dd";
constexpr char kKatChunkKey[] = "dd2f52aa4440bbf27bbe965bc2f8fcbb6dc07f29705ffdd6bb404dfadb86be65";
constexpr char kKatFileSha256[] = "d74ae9ae4e04c3b7f64810282f1ecd69815f7de06b8dcc16fbcaacea39405df5";

Bytes Seq(std::uint8_t from, std::size_t n) {
  Bytes b(n);
  std::iota(b.begin(), b.end(), from);
  return b;
}

ContainerHeader KatHeader() {
  ContainerHeader h;
  h.tenant = "acme";
  h.key_name = "llama3";
  h.key_version = 7;
  h.enc = Seq(0, 32);
  h.sealed_dek = Seq(100, 48);
  Bytes salt = Seq(200, 32);
  std::copy(salt.begin(), salt.end(), h.salt.begin());
  return h;
}

Bytes KatPlaintext() {
  Bytes pt(10000);
  for (std::size_t i = 0; i < pt.size(); ++i) pt[i] = static_cast<std::uint8_t>(i * 7 + 3);
  return pt;
}

TEST(ContainerFormat, KnownAnswerFile) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(SecretBytes dek, SecretBytes::CopyFrom(Seq(1, 32)));
  ASSERT_OK_AND_ASSIGN(SecretBytes key, DeriveChunkKey(dek, KatHeader().salt));
  EXPECT_EQ(HexEncode(key.Reveal(SecretAccess::Get())), kKatChunkKey);
  EncryptOptions opt;
  opt.chunk_size = 4096;
  ASSERT_OK_AND_ASSIGN(ContainerHeader h, testing::EncryptBytes(dir.path(), "kat", KatPlaintext(), dek, KatHeader(), opt));
  ASSERT_OK_AND_ASSIGN(Bytes hdr, SerializeHeader(h));
  EXPECT_EQ(HexEncode(hdr), kKatHeader);
  Bytes file = testing::ReadBytes(dir.File("kat.sgl"));
  EXPECT_EQ(file.size(), 10271u);
  EXPECT_EQ(HexEncode(Sha256(file)), kKatFileSha256);
}

TEST(ContainerFormat, ParseSerializeRoundTrip) {
  ContainerHeader h = testing::TemplateHeader();
  for (bool digest : {false, true}) {
    h.plaintext_sha256.reset();
    if (digest) h.plaintext_sha256 = Sha256(AsBytes("x"));
    ASSERT_OK_AND_ASSIGN(Bytes b, SerializeHeader(h));
    ASSERT_OK_AND_ASSIGN(ContainerHeader back, ParseHeader(b));
    EXPECT_TRUE(back == h);
    ASSERT_OK_AND_ASSIGN(std::uint32_t len, ParseHeaderPrefix(b));
    EXPECT_EQ(len, b.size());
  }
}

struct BadHeaderCase {
  const char* name;
  std::size_t offset;    // byte to overwrite in the KAT header
  Bytes bytes;           // new bytes at offset
  const char* expected;  // substring of the error
};

class ParseHeaderRejects : public ::testing::TestWithParam<BadHeaderCase> {};

TEST_P(ParseHeaderRejects, NamesFieldAndOffset) {
  ASSERT_OK_AND_ASSIGN(Bytes b, HexDecode(kKatHeader));
  const auto& c = GetParam();
  std::copy(c.bytes.begin(), c.bytes.end(), b.begin() + static_cast<std::ptrdiff_t>(c.offset));
  auto r = ParseHeader(b);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  EXPECT_THAT(r.error().message(), HasSubstr(c.expected));
}

// Offsets in the KAT header: tenant @10, key @16, version @24, suite @28, enc @34, sealed @68,
// chunk aead @118, chunk size @120, plaintext size @124, content type @132, salt @158,
// flag @190, digest @191..223.
INSTANTIATE_TEST_SUITE_P(
    Fields, ParseHeaderRejects,
    ::testing::Values(
        BadHeaderCase{"magic", 0, {'S', 'G', 'X'}, "byte 0 (magic)"},
        BadHeaderCase{"version", 4, {0, 3}, "byte 4 (format version): 3 is not supported"},
        BadHeaderCase{"length_huge", 6, {0, 0, 0x20, 0}, "byte 6 (header length)"},
        BadHeaderCase{"length_mismatch", 6, {0, 0, 0, 0xde}, "declares 222 bytes but 223"},
        BadHeaderCase{"tenant_empty", 10, {0, 0}, "byte 10 (tenant): length 0 is not 1..64"},
        BadHeaderCase{"tenant_upper", 12, {'A'}, "byte 12 (tenant)"},
        BadHeaderCase{"key_slash", 19, {'/'}, "byte 18 (key name)"},
        BadHeaderCase{"version_zero", 24, {0, 0, 0, 0}, "byte 24 (key version): must be >= 1"},
        BadHeaderCase{"kem_p256", 28, {0, 0x10}, "byte 28 (hpke suite): kem=0x0010"},
        BadHeaderCase{"aead_chacha", 32, {0, 3}, "byte 28 (hpke suite)"},
        BadHeaderCase{"enc_short", 34, {0, 31}, "byte 34 (enc): length 31 is not 32"},
        BadHeaderCase{"sealed_long", 68, {0, 49}, "byte 68 (sealed dek): length 49 is not 48"},
        BadHeaderCase{"chunk_aead", 118, {0, 1}, "byte 118 (chunk aead id)"},
        BadHeaderCase{"chunk_not_pow2", 120, {0, 0, 0x10, 1}, "byte 120 (chunk size)"},
        BadHeaderCase{"chunk_too_big", 120, {0x08, 0, 0, 0}, "byte 120 (chunk size)"},
        BadHeaderCase{"chunk_too_small", 120, {0, 0, 0x08, 0}, "byte 120 (chunk size)"},
        BadHeaderCase{"too_many_chunks", 124, {0, 0, 0x10, 0, 0, 0, 0, 1}, "byte 124 (plaintext size)"},
        BadHeaderCase{"content_type_space", 140, {' '}, "byte 134 (content type)"},
        BadHeaderCase{"content_type_len", 132, {0, 200}, "byte 132 (content type): length 200"},
        BadHeaderCase{"flag_two", 190, {2}, "byte 190 (digest flag): 2 is not 0 or 1"},
        BadHeaderCase{"flag_zero_leaves_trailing", 190, {0}, "byte 191 (end of header): 32 trailing"}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(ContainerFormat, RejectsShortAndTrailingInput) {
  ASSERT_OK_AND_ASSIGN(Bytes b, HexDecode(kKatHeader));
  EXPECT_CODE(ParseHeader(ByteSpan(b).first(9)), Code::kInvalidArgument);
  // Declared length matches, but the fields end early: the digest is cut.
  Bytes cut(b.begin(), b.end() - 5);
  cut[9] = static_cast<std::uint8_t>(cut.size());
  auto r = ParseHeader(cut);
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message(), HasSubstr("byte 191 (plaintext sha256): needs 32 bytes"));
  Bytes extra = b;
  extra.push_back(0);
  extra[9] = static_cast<std::uint8_t>(extra.size());
  EXPECT_CODE(ParseHeader(extra), Code::kInvalidArgument);
}

TEST(ContainerFormat, SerializeValidates) {
  ContainerHeader h = testing::TemplateHeader();
  h.chunk_size = 3000;
  EXPECT_CODE(SerializeHeader(h), Code::kInvalidArgument);
  h = testing::TemplateHeader();
  h.content_type = "text/plain; charset=utf-8";
  EXPECT_CODE(SerializeHeader(h), Code::kInvalidArgument);
  h = testing::TemplateHeader();
  h.enc.pop_back();
  EXPECT_CODE(SerializeHeader(h), Code::kInvalidArgument);
  h = testing::TemplateHeader();
  h.tenant = std::string(65, 'a');
  EXPECT_CODE(SerializeHeader(h), Code::kInvalidArgument);
}

TEST(ChunkLayout, CountsAndOffsets) {
  const std::uint32_t cs = 4096;
  struct Case { std::uint64_t size, count, last; };
  for (Case c : {Case{0, 1, 0}, Case{1, 1, 1}, Case{cs - 1, 1, cs - 1}, Case{cs, 1, cs}, Case{cs + 1, 2, 1},
                 Case{3 * cs + 7, 4, 7}}) {
    ChunkLayout l(100, cs, c.size);
    EXPECT_EQ(l.count(), c.count) << c.size;
    EXPECT_EQ(l.plain_size(l.count() - 1), c.last) << c.size;
    EXPECT_EQ(l.file_size(), 100 + c.size + 16 * c.count) << c.size;
    EXPECT_EQ(l.file_offset(l.count() - 1), 100 + (c.count - 1) * (cs + 16));
  }
}

TEST(ChunkNonce, IndexAndLastFlag) {
  EXPECT_EQ(HexEncode(ChunkNonce(0, false)), "000000000000000000000000");
  EXPECT_EQ(HexEncode(ChunkNonce(1, true)), "000000000000000000000101");
  EXPECT_EQ(HexEncode(ChunkNonce(0xFFFFFFFFull, true)), "00000000000000ffffffff01");
  EXPECT_DEATH((void)ChunkNonce(std::uint64_t{1} << 32, false), "");
}

TEST(HeaderJson, PublicFieldsOnly) {
  ASSERT_OK_AND_ASSIGN(Bytes b, HexDecode(kKatHeader));
  ASSERT_OK_AND_ASSIGN(ContainerHeader h, ParseHeader(b));
  Json j = HeaderToJson(h, b.size());
  EXPECT_EQ(j["tenant"], "acme");
  EXPECT_EQ(j["key"], "llama3");
  EXPECT_EQ(j["key_version"], 7);
  EXPECT_EQ(j["suite"], "X25519-HKDF-SHA256-AES-256-GCM");
  EXPECT_EQ(j["chunk_count"], 3);
  EXPECT_EQ(j["file_size"], 10271);
  EXPECT_EQ(j["plaintext_sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(j["artifact_id"].get<std::string>().size(), 64u);
  EXPECT_EQ(j.size(), 18u);  // adding a field is a deliberate act: check it is not a secret
}

TEST(HeaderJson, InspectOpensAndChecksSize) {
  TempDir dir;
  SecretBytes dek = testing::RandomDek();
  EncryptOptions opt;
  opt.chunk_size = 4096;
  ASSERT_OK(testing::EncryptBytes(dir.path(), "m", Bytes(5000, 1), dek, testing::TemplateHeader(), opt));
  ASSERT_OK_AND_ASSIGN(Json j, InspectContainer(dir.File("m.sgl")));
  EXPECT_EQ(j["plaintext_size"], 5000);
  EXPECT_EQ(j["content_type"], "application/octet-stream");
  EXPECT_CODE(InspectContainer(dir.File("missing.sgl")), Code::kNotFound);
}

}  // namespace
}  // namespace sigil::loader
