// A 1 GiB model through the whole path with all usable CPUs: encrypt as `sigil model encrypt`
// does (4 MiB chunks, plaintext SHA-256 in the header), decrypt into a sealed memfd, compare by
// SHA-256. Content is xorshift64 streamed to disk (cheap to generate, incompressible enough that
// a wrong offset or stale page changes the hash). Label "long".
#include <gtest/gtest.h>

#include <cstdio>
#include <vector>

#include "core/digest.h"
#include "core/ossl.h"
#include "loader/container_reader.h"
#include "loader/memfd_decrypt.h"
#include "tests/support/matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/loader/loader_test_util.h"

namespace sigil::loader {
namespace {

// Writes `bytes` of xorshift64 output to `path`; returns their SHA-256.
Sha256Digest WriteXorshift(const std::string& path, std::uint64_t bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  EXPECT_NE(f, nullptr);
  EvpMdCtxPtr md(EVP_MD_CTX_new());
  EXPECT_EQ(EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr), 1);
  std::vector<std::uint64_t> buf(1 << 17);  // 1 MiB
  std::uint64_t x = 0x2545F4914F6CDD1Dull;
  for (std::uint64_t done = 0; f != nullptr && done < bytes;) {
    for (auto& w : buf) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      w = x;
    }
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(bytes - done, buf.size() * 8));
    EXPECT_EQ(std::fwrite(buf.data(), 1, n, f), n);
    EVP_DigestUpdate(md.get(), buf.data(), n);
    done += n;
  }
  if (f != nullptr) {
    EXPECT_EQ(std::fclose(f), 0);
  }
  Sha256Digest d{};
  unsigned len = 0;
  EVP_DigestFinal_ex(md.get(), d.data(), &len);
  return d;
}

TEST(LargeDecrypt, OneGibibyteWithAllThreads) {
  constexpr std::uint64_t kSize = 1ull << 30;
  ::sigil::testing::TempDir dir;
  Sha256Digest want = WriteXorshift(dir.File("big.bin"), kSize);
  SecretBytes dek = testing::RandomDek();
  EncryptOptions eo;  // defaults: 4 MiB chunks, with the plaintext SHA-256
  ASSERT_OK_AND_ASSIGN(ContainerHeader h,
                       EncryptFileWithDek(dir.File("big.bin"), dir.File("big.sgl"), testing::TemplateHeader(), dek, eo));
  ASSERT_TRUE(h.plaintext_sha256.has_value());
  EXPECT_EQ(*h.plaintext_sha256, want);
  std::remove(dir.File("big.bin").c_str());
  ASSERT_OK_AND_ASSIGN(Container c, Container::Open(dir.File("big.sgl")));
  EXPECT_EQ(c.layout().count(), 256u);
  DecryptOptions opt;  // threads = 0: every usable CPU
  opt.verify_digest = true;  // and the in-order digest overlapped with decryption
  std::uint64_t reported = 0;
  opt.progress = [&](std::uint64_t done, std::uint64_t total) {
    EXPECT_GE(done, reported);  // monotonic
    EXPECT_EQ(total, kSize);
    reported = done;
  };
  ASSERT_OK_AND_ASSIGN(LockedMemfd m, DecryptToMemfd(c, dek, opt));
  EXPECT_EQ(reported, kSize);
  EXPECT_TRUE(m.sealed());
  ASSERT_EQ(m.size(), kSize);
  EXPECT_EQ(Sha256(m.ReadOnlyView()), want);
}

}  // namespace
}  // namespace sigil::loader
