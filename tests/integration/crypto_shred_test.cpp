// Destroying a key version is a crypto-shred even against a copy of the store taken before it
// (docs/architecture.md "Destroying a key version"), against the real sigild: after `sigil key
// destroy`, nothing the broker keeps opens the copy's version, while the broker's own earlier
// shred.key (what a disk backup of its data directory would hold) still does, which shows that
// the attempt with the current secrets is a real one.
#include <sqlite3.h>

#include <filesystem>

#include "broker/keys/erasure_chain.h"
#include "broker/keys/key_wrap.h"
#include "broker/keys/root_key.h"
#include "core/file_io.h"
#include "core/hpke.h"
#include "core/protocol.h"
#include "tests/integration/broker_fixture.h"
#include "tests/support/matchers.h"

namespace sigil::integration {
namespace {

constexpr const char* kShredTenant = "shred";
constexpr const char* kShredPolicy = R"({
  "version": 1,
  "rules": [{"name": "engines", "keys": ["doomed", "kept"],
             "when": {"allOf": [{"claim": "tee", "equals": "dev"},
                                {"claim": "measurement", "in_reference": "engines"}]}}]
})";

// What an operator's backup tool does to a live SQLite store: a consistent copy.
bool CopyStore(const std::string& from, const std::string& to) {
  sqlite3* db = nullptr;
  bool ok = sqlite3_open_v2(from.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK &&
            sqlite3_exec(db, ("VACUUM INTO '" + to + "'").c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
  sqlite3_close(db);
  return ok;
}

// Opens `doomed` from the copy with the given chain: tenant KEK, then the version's private
// key, then the artifact's sealed DEK. Any failing step fails.
Result<SecretBytes> OpenFromCopy(const std::string& copy, const SecretBytes& root, const broker::ErasureChain& chain,
                                 const TestArtifact& a) {
  Bytes kek_blob = ReadSqliteBlob(copy, "SELECT kek FROM tenants WHERE name=?", {kShredTenant});
  Bytes sk_blob = ReadSqliteBlob(copy, "SELECT private_key FROM key_versions WHERE tenant=? AND name='doomed' AND version=1",
                           {kShredTenant});
  SIGIL_ASSIGN_OR_RETURN(SecretBytes w, chain.WrappingKey(root));
  SIGIL_ASSIGN_OR_RETURN(SecretBytes kek, broker::UnwrapTenantKek(w, kek_blob, kShredTenant));
  SIGIL_ASSIGN_OR_RETURN(SecretBytes sk, broker::UnwrapKey(kek, sk_blob, broker::KeyVersionIdentity(kShredTenant, "doomed", 1)));
  return hpke::OpenSecret(hpke::kSigilSuite, a.artifact.enc, sk, protocol::DekSealInfo(kShredTenant, "doomed", 1), {},
                          a.artifact.sealed_dek);
}

TEST(CryptoShred, AStoreCopyFromBeforeADestructionOpensWithNothingTheBrokerStillKeeps) {
  BrokerEnv& env = BrokerEnv::Get();
  testing::TempDir dir;
  ASSERT_OK(WriteFileAtomic(dir.File("p.json"), AsBytes(kShredPolicy), 0644));
  for (auto args : std::vector<std::vector<std::string>>{
           {"tenant", "create", kShredTenant}, {"refs", "add", kShredTenant, "engines", kMeasurementA},
           {"policy", "set", kShredTenant, dir.File("p.json")}, {"key", "create", "shred/doomed"},
           {"key", "create", "shred/kept"}}) {
    auto r = env.Sigil(args);
    ASSERT_EQ(r.exit_code, 0) << args[0] << " " << args[1] << ": " << r.err;
  }
  TestArtifact doomed = MakeArtifact(kShredTenant, "doomed");
  TestArtifact kept = MakeArtifact(kShredTenant, "kept");  // sealed to version 1
  ASSERT_EQ(env.Sigil({"key", "rotate", "shred/kept"}).exit_code, 0);  // a second live version
  const std::string store = env.data_dir() + "/store.db";
  ASSERT_TRUE(CopyStore(store, dir.File("backup.db")));
  ASSERT_OK_AND_ASSIGN(Bytes old_shred_file, ReadFile(env.data_dir() + "/shred.key"));
  ASSERT_OK(WriteFileAtomic(dir.File("old-shred.key"), old_shred_file));

  auto d = env.Sigil({"key", "destroy", "shred/doomed", "--confirm", "doomed"});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  // The tenant's other key still releases: its versions were re-wrapped under the fresh KEK.
  EXPECT_TRUE(DevWorkloadReleased(kShredTenant, kept, kMeasurementA));
  EXPECT_FALSE(DevWorkloadReleased(kShredTenant, doomed, kMeasurementA));

  // Everything the broker keeps now: root key, shred.key, the live store.
  bool dev = false;
  ASSERT_OK_AND_ASSIGN(SecretBytes root, broker::LoadRootKey(env.data_dir() + "/root.key", nullptr, &dev));
  ASSERT_OK_AND_ASSIGN(broker::ErasureChain now, broker::ErasureChain::Load(env.data_dir() + "/shred.key", root));
  ASSERT_OK_AND_ASSIGN(broker::ErasureChain before, broker::ErasureChain::Load(dir.File("old-shred.key"), root));
  EXPECT_EQ(now.epoch(), before.epoch() + 1);
  ASSERT_OK_AND_ASSIGN(Bytes record, now.Record(root));
  EXPECT_EQ(ReadSqliteBlob(store, "SELECT v FROM meta WHERE k=?", {broker::kErasureEpochMeta}), record);

  // The copy does not open with the current chain, nor with the root key alone...
  EXPECT_CODE(OpenFromCopy(dir.File("backup.db"), root, now, doomed), Code::kVerificationFailed);
  Bytes copy_kek = ReadSqliteBlob(dir.File("backup.db"), "SELECT kek FROM tenants WHERE name=?", {kShredTenant});
  EXPECT_CODE(broker::UnwrapTenantKek(root, copy_kek, kShredTenant), Code::kVerificationFailed);
  // ...nor does the live store's KEK for the tenant open the copy's version: it is a new KEK.
  ASSERT_OK_AND_ASSIGN(SecretBytes w_now, now.WrappingKey(root));
  ASSERT_OK_AND_ASSIGN(SecretBytes live_kek, broker::UnwrapTenantKek(w_now, ReadSqliteBlob(store, "SELECT kek FROM tenants WHERE "
                                                                                          "name=?", {kShredTenant}),
                                                                    kShredTenant));
  Bytes copy_sk = ReadSqliteBlob(dir.File("backup.db"),
                           "SELECT private_key FROM key_versions WHERE tenant=? AND name='doomed' AND version=1", {kShredTenant});
  ASSERT_FALSE(copy_sk.empty());
  EXPECT_CODE(broker::UnwrapKey(live_kek, copy_sk, broker::KeyVersionIdentity(kShredTenant, "doomed", 1)),
              Code::kVerificationFailed);
  // An old shred.key together with the root key does open it: that is what the docs tell
  // operators a data-directory backup still holds.
  ASSERT_OK_AND_ASSIGN(SecretBytes dek, OpenFromCopy(dir.File("backup.db"), root, before, doomed));
  EXPECT_TRUE(ConstantTimeEquals(dek, doomed.dek));
}

}  // namespace
}  // namespace sigil::integration
