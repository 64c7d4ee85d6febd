// The erasure chain (broker/keys/erasure_chain.h): forward-only, bound to the root key, and the
// KEK wrapping of one epoch opens at no other.
#include "broker/keys/erasure_chain.h"

#include <gtest/gtest.h>

#include "broker/keys/key_wrap.h"
#include "core/file_io.h"
#include "tests/support/matchers.h"
#include "tests/support/temp_dir.h"

namespace sigil::broker {
namespace {

SecretBytes RandomKey() {
  auto k = SecretBytes::Random(32);
  EXPECT_TRUE(k.has_value());
  return std::move(*k);
}

TEST(ErasureChain, SavedUnderTheRootKeyAndLoadedOnlyWithIt) {
  testing::TempDir dir;
  SecretBytes root = RandomKey();
  ASSERT_OK_AND_ASSIGN(ErasureChain fresh, ErasureChain::Fresh());
  ASSERT_OK_AND_ASSIGN(ErasureChain chain, fresh.AdvancedTo(3));
  ASSERT_OK(chain.Save(dir.File("shred.key"), root));
  ASSERT_OK_AND_ASSIGN(ErasureChain back, ErasureChain::Load(dir.File("shred.key"), root));
  EXPECT_EQ(back.epoch(), 3u);
  ASSERT_OK_AND_ASSIGN(Bytes a, chain.Record(root));
  ASSERT_OK_AND_ASSIGN(Bytes b, back.Record(root));
  EXPECT_EQ(a, b);
  EXPECT_CODE(ErasureChain::Load(dir.File("shred.key"), RandomKey()), Code::kVerificationFailed);
  // The epoch is bound into the wrapping: a file edited to claim another epoch does not load.
  ASSERT_OK_AND_ASSIGN(Bytes file, ReadFile(dir.File("shred.key")));
  file[7] ^= 1;
  ASSERT_OK(WriteFileAtomic(dir.File("edited.key"), file));
  EXPECT_CODE(ErasureChain::Load(dir.File("edited.key"), root), Code::kVerificationFailed);
  // Truncated files (a torn copy, an empty file) are refused, never read past their end.
  for (std::size_t keep : {std::size_t{0}, std::size_t{8}, std::size_t{20}, file.size() - 1}) {
    ASSERT_OK(WriteFileAtomic(dir.File("short.key"), ByteSpan(file).first(keep)));
    EXPECT_FALSE(ErasureChain::Load(dir.File("short.key"), root).has_value()) << keep;
  }
}

TEST(ErasureChain, MovesForwardAloneAndNeverBack) {
  SecretBytes root = RandomKey();
  ASSERT_OK_AND_ASSIGN(ErasureChain a, ErasureChain::Fresh());
  ASSERT_OK_AND_ASSIGN(ErasureChain a1, a.AdvancedTo(1));
  ASSERT_OK_AND_ASSIGN(ErasureChain a2, a1.AdvancedTo(2));
  ASSERT_OK_AND_ASSIGN(ErasureChain direct, a.AdvancedTo(2));
  // Two brokers holding the same link reach the same next one without talking to each other.
  ASSERT_OK_AND_ASSIGN(Bytes r2, a2.Record(root));
  ASSERT_OK_AND_ASSIGN(Bytes r2_direct, direct.Record(root));
  EXPECT_EQ(r2, r2_direct);
  ASSERT_OK_AND_ASSIGN(std::uint64_t epoch, ErasureChain::RecordEpoch(r2));
  EXPECT_EQ(epoch, 2u);
  EXPECT_CODE(a2.AdvancedTo(1), Code::kVerificationFailed);
  // Each epoch has its own wrapping key, and so its own record.
  ASSERT_OK_AND_ASSIGN(Bytes r1, a1.Record(root));
  EXPECT_NE(r1, r2);
  // Another fleet's chain (another S_0) makes other records at the same epoch.
  ASSERT_OK_AND_ASSIGN(ErasureChain other, ErasureChain::Fresh());
  ASSERT_OK_AND_ASSIGN(ErasureChain other2, other.AdvancedTo(2));
  ASSERT_OK_AND_ASSIGN(Bytes other_r2, other2.Record(root));
  EXPECT_NE(other_r2, r2);
  EXPECT_CODE(ErasureChain::RecordEpoch(Bytes(12, 0)), Code::kVerificationFailed);
}

TEST(ErasureChain, AKekWrappedAtOneEpochOpensOnlyWithThatEpochsKey) {
  SecretBytes root = RandomKey();
  SecretBytes kek = RandomKey();
  ASSERT_OK_AND_ASSIGN(ErasureChain e0, ErasureChain::Fresh());
  ASSERT_OK_AND_ASSIGN(ErasureChain e1, e0.AdvancedTo(1));
  ASSERT_OK_AND_ASSIGN(SecretBytes w0, e0.WrappingKey(root));
  ASSERT_OK_AND_ASSIGN(SecretBytes w1, e1.WrappingKey(root));
  ASSERT_OK_AND_ASSIGN(Bytes blob, WrapTenantKek(w0, 0, kek, "acme"));
  ASSERT_OK_AND_ASSIGN(std::uint64_t epoch, WrappedKekEpoch(blob));
  EXPECT_EQ(epoch, 0u);
  ASSERT_OK_AND_ASSIGN(SecretBytes back, UnwrapTenantKek(w0, blob, "acme"));
  EXPECT_TRUE(ConstantTimeEquals(back, kek));
  EXPECT_CODE(UnwrapTenantKek(w1, blob, "acme"), Code::kVerificationFailed);
  EXPECT_CODE(UnwrapTenantKek(w0, blob, "other"), Code::kVerificationFailed);
  // The root key alone (the wrapping of stores from before the chain) does not open it.
  EXPECT_CODE(UnwrapTenantKek(root, blob, "acme"), Code::kVerificationFailed);
  // The same root key with another chain secret does not either.
  ASSERT_OK_AND_ASSIGN(ErasureChain stranger, ErasureChain::Fresh());
  ASSERT_OK_AND_ASSIGN(SecretBytes ws, stranger.WrappingKey(root));
  EXPECT_CODE(UnwrapTenantKek(ws, blob, "acme"), Code::kVerificationFailed);
  // A blob relabelled with another epoch: the epoch is in the AEAD identity.
  Bytes relabelled = blob;
  relabelled[7] = 1;
  EXPECT_CODE(UnwrapTenantKek(w1, relabelled, "acme"), Code::kVerificationFailed);
  // Pre-chain (60-byte) and malformed blobs are named as such.
  ASSERT_OK_AND_ASSIGN(Bytes legacy, WrapKey(root, kek, TenantKekIdentity("acme")));
  EXPECT_CODE(WrappedKekEpoch(legacy), Code::kInvalidArgument);
  EXPECT_CODE(WrappedKekEpoch(Bytes(5, 0)), Code::kVerificationFailed);
}

TEST(ErasureChain, TheJoinCopyOpensOnlyWithItsPassphrase) {
  SecretBytes root = RandomKey();
  ASSERT_OK_AND_ASSIGN(SecretBytes pass, SecretBytes::CopyFrom(AsBytes(std::string_view("join passphrase"))));
  ASSERT_OK_AND_ASSIGN(SecretBytes wrong, SecretBytes::CopyFrom(AsBytes(std::string_view("another passphrase"))));
  ASSERT_OK_AND_ASSIGN(ErasureChain fresh, ErasureChain::Fresh());
  ASSERT_OK_AND_ASSIGN(ErasureChain chain, fresh.AdvancedTo(5));
  ASSERT_OK_AND_ASSIGN(Bytes share, chain.EncodeShare(pass));
  ASSERT_OK_AND_ASSIGN(ErasureChain joined, ErasureChain::DecodeShare(share, pass));
  EXPECT_EQ(joined.epoch(), 5u);
  ASSERT_OK_AND_ASSIGN(Bytes a, chain.Record(root));
  ASSERT_OK_AND_ASSIGN(Bytes b, joined.Record(root));
  EXPECT_EQ(a, b);
  EXPECT_FALSE(ErasureChain::DecodeShare(share, wrong).has_value());
  EXPECT_FALSE(ErasureChain::DecodeShare(Bytes(4, 0), pass).has_value());
}

}  // namespace
}  // namespace sigil::broker
