// The erasure chain at start (broker/data_dir.h OpenDataDir, KeyService::SyncErasureChain): a
// data directory from before the chain is upgraded in place with its keys intact; a missing
// shred.key, or a store copy restored from before a destruction, is refused by name.
#include <sqlite3.h>

#include <gtest/gtest.h>

#include <filesystem>

#include "broker/data_dir.h"
#include "broker/keys/erasure_chain.h"
#include "broker/keys/key_wrap.h"
#include "core/file_io.h"
#include "tests/support/matchers.h"
#include "tests/support/temp_dir.h"

namespace sigil::broker {
namespace {

bool Sql(const std::string& db_path, const std::string& sql, ByteSpan blob = {}) {
  sqlite3* db = nullptr;
  sqlite3_stmt* s = nullptr;
  bool ok = sqlite3_open(db_path.c_str(), &db) == SQLITE_OK &&
            sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK;
  if (ok && !blob.empty()) ok = sqlite3_bind_blob(s, 1, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT) == SQLITE_OK;
  if (ok) ok = sqlite3_step(s) == SQLITE_DONE;
  if (!ok) ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
  sqlite3_finalize(s);
  sqlite3_close(db);
  return ok;
}

class ErasureChainAtStart : public ::testing::Test {
 protected:
  void SetUp() override {
    InitOptions init;
    init.data_dir = data_;
    init.root_mode = RootKeyMode::kDevPlaintext;
    init.listen = "127.0.0.1:0";
    ASSERT_OK(InitDataDir(init));
    ASSERT_OK_AND_ASSIGN(auto b, OpenDataDir(data_, OpenOptions{}));
    ASSERT_OK_AND_ASSIGN(WrappedTenantKek kek, b->keys->NewWrappedTenantKek("acme"));
    ASSERT_OK(b->audit->CreateTenant("acme", kek.blob, kek.erasure_epoch, GenesisEvent{"g", "admin:test", "created", ""}));
    ASSERT_OK_AND_ASSIGN(row_, b->keys->AddKeyVersion("acme", "m", "model-weights", 1, 1));
    ASSERT_OK_AND_ASSIGN(KeyVersionRow other, b->keys->AddKeyVersion("acme", "gone", "model-weights", 1, 1));
    (void)other;
  }
  std::string Store() const { return data_ + "/store.db"; }
  std::string Shred() const { return data_ + "/shred.key"; }

  testing::TempDir tmp_;
  std::string data_ = tmp_.File("data");
  KeyVersionRow row_;
};

TEST_F(ErasureChainAtStart, AStoreFromBeforeTheChainIsRewrappedAndKeepsItsKeys) {
  // Make it a pre-chain data directory: the KEK under the root key alone, no record, no file.
  {
    ASSERT_OK_AND_ASSIGN(auto b, OpenDataDir(data_, OpenOptions{}));
    ASSERT_OK_AND_ASSIGN(ErasureChain chain, ErasureChain::Load(Shred(), b->root_key));
    ASSERT_OK_AND_ASSIGN(SecretBytes w, chain.WrappingKey(b->root_key));
    ASSERT_OK_AND_ASSIGN(Bytes blob, b->store->GetTenantKek("acme"));
    ASSERT_OK_AND_ASSIGN(SecretBytes kek, UnwrapTenantKek(w, blob, "acme"));
    ASSERT_OK_AND_ASSIGN(Bytes legacy, WrapKey(b->root_key, kek, TenantKekIdentity("acme")));
    ASSERT_EQ(legacy.size(), kLegacyWrappedKekSize);
    b.reset();
    ASSERT_TRUE(Sql(Store(), "UPDATE tenants SET kek=?1 WHERE name='acme'", legacy));
    ASSERT_TRUE(Sql(Store(), "DELETE FROM meta WHERE k='erasure.epoch'"));
    ASSERT_TRUE(std::filesystem::remove(Shred()));
  }
  ASSERT_OK_AND_ASSIGN(auto b, OpenDataDir(data_, OpenOptions{}));
  EXPECT_TRUE(std::filesystem::exists(Shred()));
  ASSERT_OK_AND_ASSIGN(Bytes blob, b->store->GetTenantKek("acme"));
  ASSERT_OK_AND_ASSIGN(std::uint64_t epoch, WrappedKekEpoch(blob));
  EXPECT_EQ(epoch, 0u);
  ASSERT_OK(b->store->GetMeta(kErasureEpochMeta));
  // The key version still opens (its public half is derived from the unwrapped private half).
  ASSERT_OK_AND_ASSIGN(Bytes pub, b->keys->CheckedPublicKey(row_));
  EXPECT_EQ(pub, row_.public_key);
}

TEST_F(ErasureChainAtStart, AMissingShredKeyIsNamedAndAStoreFromBeforeADestructionIsRefused) {
  {
    ASSERT_OK_AND_ASSIGN(auto b, OpenDataDir(data_, OpenOptions{}));
    // A backup of the store, then a destruction.
    ASSERT_TRUE(Sql(Store(), "VACUUM INTO '" + tmp_.File("backup.db") + "'"));
    ASSERT_OK_AND_ASSIGN(int destroyed, b->keys->DestroyKeyVersions("acme", "gone", std::nullopt, 2));
    EXPECT_EQ(destroyed, 1);
    EXPECT_EQ(b->keys->ErasureEpoch(), 1u);
    // The tenant's other key, re-wrapped under its fresh KEK, still opens.
    ASSERT_OK_AND_ASSIGN(KeyVersionRow now, b->store->GetKeyVersion("acme", "m", 1));
    EXPECT_NE(now.wrapped_private_key, row_.wrapped_private_key);
    ASSERT_OK_AND_ASSIGN(Bytes pub, b->keys->CheckedPublicKey(now));
    EXPECT_EQ(pub, row_.public_key);
  }
  ASSERT_OK_AND_ASSIGN(Bytes shred, ReadFile(Shred()));
  ASSERT_TRUE(std::filesystem::remove(Shred()));
  auto missing = OpenDataDir(data_, OpenOptions{});
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message().find("shred.key is missing"), std::string::npos) << missing.error().message();
  ASSERT_OK(WriteFileAtomic(Shred(), shred));

  // The backup restored in place of the store: older than this broker's chain.
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(Store() + suffix);
  std::filesystem::copy_file(tmp_.File("backup.db"), Store());
  auto restored = OpenDataDir(data_, OpenOptions{});
  ASSERT_FALSE(restored.has_value());
  EXPECT_EQ(restored.error().code(), Code::kVerificationFailed);
  EXPECT_NE(restored.error().message().find("restored from a copy older than a key destruction"), std::string::npos)
      << restored.error().message();
}

}  // namespace
}  // namespace sigil::broker
