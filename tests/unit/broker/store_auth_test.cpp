// Authority rows are authenticated (store_auth.h): each kind is edited in the raw store (the
// SQLite file or the PostgreSQL database, store_harness.h) and must then be refused with an
// ALARM, never used; untouched rows keep working, and rows from before tagging are refused until
// the operator tags them.
#include <gtest/gtest.h>

#include "tests/unit/broker/authenticated_store_fixture.h"

namespace sigil::broker {
namespace {

class StoreAuthTest : public AuthenticatedStoreTest {
 protected:
  void SetUp() override {
    AuthenticatedStoreTest::SetUp();
    ASSERT_OK(store_->PutKeyVersion(KeyVersionRow{"acme", "m", "model-weights", 1, "enabled", Bytes(32, 7), Bytes(60, 2), 5}, Bytes{1}));
    ASSERT_OK(store_->PutPolicy("acme", "{\"v\":1}"));
    ASSERT_OK(store_->AddReference("acme", "engines", "aa"));
    ASSERT_OK(store_->PutTpmAk(TpmAkRow{"acme", std::string(64, 'a'), "rack", Bytes{0x30, 1}, 10, Bytes{0, 0x0b}}));
  }
  bool Postgres() const { return harness_.backend() == StoreBackend::kPostgres; }
  // A blob literal in the backend's SQL dialect.
  std::string Blob(const std::string& hex) const { return Postgres() ? "'\\x" + hex + "'" : "x'" + hex + "'"; }
};

TEST_F(StoreAuthTest, UntouchedRowsAreServedAndChangesThroughTheBrokerStayValid) {
  ASSERT_OK_AND_ASSIGN(KeyVersionRow k, store_->LatestKeyVersion("acme", "m"));
  EXPECT_EQ(k.mac.size(), 32u);
  ASSERT_OK_AND_ASSIGN(int n, store_->SetKeyState("acme", "m", "enabled", "disabled"));
  EXPECT_EQ(n, 1);
  ASSERT_OK_AND_ASSIGN(k, store_->GetKeyVersion("acme", "m", 1));
  EXPECT_EQ(k.state, "disabled");
  ASSERT_OK(store_->PutPolicy("acme", "{\"v\":2}"));
  ASSERT_OK_AND_ASSIGN(PolicyRow p, store_->GetPolicy("acme"));
  EXPECT_EQ(p.version, 2);
  ASSERT_OK_AND_ASSIGN(auto refs, store_->ListReferences("acme"));
  EXPECT_EQ(refs["engines"].count("aa"), 1u);
  ASSERT_OK_AND_ASSIGN(auto aks, store_->ListTpmAks("acme"));
  EXPECT_EQ(aks.size(), 1u);
  ASSERT_OK_AND_ASSIGN(int destroyed, store_->DestroyKeyMaterial("acme", "m", std::nullopt, 99));
  EXPECT_EQ(destroyed, 1);
  ASSERT_OK_AND_ASSIGN(k, store_->GetKeyVersion("acme", "m", 1));
  EXPECT_EQ(k.state, "destroyed");
}

TEST_F(StoreAuthTest, AKeyReEnabledInTheRawStoreIsRefused) {
  ASSERT_OK(store_->SetKeyState("acme", "m", "enabled", "disabled"));
  harness_.Tamper("UPDATE key_versions SET state='enabled' WHERE tenant='acme' AND name='m'");
  EXPECT_CODE(store_->GetKeyVersion("acme", "m", 1), Code::kVerificationFailed);
  EXPECT_CODE(store_->LatestKeyVersion("acme", "m"), Code::kVerificationFailed);
  EXPECT_CODE(store_->ListKeyVersions("acme"), Code::kVerificationFailed);
  // Nor can the forged row be blessed by changing it through the broker.
  EXPECT_CODE(store_->SetKeyState("acme", "m", "enabled", "disabled"), Code::kVerificationFailed);
}

TEST_F(StoreAuthTest, ASwappedPublicKeyIsRefused) {
  harness_.Tamper("UPDATE key_versions SET public_key=" + Blob(std::string(64, '9')) + " WHERE tenant='acme'");
  EXPECT_CODE(store_->LatestKeyVersion("acme", "m"), Code::kVerificationFailed);
}

TEST_F(StoreAuthTest, AnEditedOrInsertedPolicyIsRefused) {
  harness_.Tamper("UPDATE policies SET text='{\"allow\":\"everything\"}' WHERE tenant='acme'");
  EXPECT_CODE(store_->GetPolicy("acme"), Code::kVerificationFailed);
  harness_.Tamper("INSERT INTO policies(tenant,version,text,created_at,mac) VALUES('acme',7,'{}',1," +
                  Blob(std::string(64, '0')) + ")");
  EXPECT_CODE(store_->GetPolicy("acme"), Code::kVerificationFailed);
}

TEST_F(StoreAuthTest, AnOlderPolicyVersionReplayedAsTheNewestIsRefused) {
  ASSERT_OK(store_->PutPolicy("acme", "{\"v\":2}"));
  // Version 1's text and valid tag copied in as version 3: the tag binds the version.
  harness_.Tamper("INSERT INTO policies(tenant,version,text,created_at,mac) SELECT tenant, 3, text, created_at, mac "
                  "FROM policies WHERE tenant='acme' AND version=1");
  EXPECT_CODE(store_->GetPolicy("acme"), Code::kVerificationFailed);
}

TEST_F(StoreAuthTest, AnInsertedReferenceValueIsRefused) {
  harness_.Tamper("INSERT INTO refs(tenant,set_name,value) VALUES('acme','engines','evil')");
  EXPECT_CODE(store_->ListReferences("acme"), Code::kVerificationFailed);
}

TEST_F(StoreAuthTest, ASwappedTpmAkIsRefused) {
  harness_.Tamper("UPDATE tpm_aks SET spki=" + Blob("3002") + " WHERE tenant='acme'");
  EXPECT_CODE(store_->ListTpmAks("acme"), Code::kVerificationFailed);
}

TEST_F(StoreAuthTest, RowsFromBeforeTaggingAreRefusedUntilTheOperatorTagsThem) {
  harness_.Tamper("UPDATE key_versions SET mac=" + Blob("") + "; UPDATE policies SET mac=" + Blob("") +
                  "; UPDATE refs SET mac=" + Blob("") + "; UPDATE tpm_aks SET mac=" + Blob(""));
  EXPECT_CODE(store_->LatestKeyVersion("acme", "m"), Code::kVerificationFailed);
  EXPECT_CODE(store_->GetPolicy("acme"), Code::kVerificationFailed);
  ASSERT_OK_AND_ASSIGN(auto backend, harness_.Open());
  ASSERT_OK_AND_ASSIGN(int tagged, TagExistingRows(*backend, *root_));
  EXPECT_EQ(tagged, 4);
  EXPECT_OK(store_->LatestKeyVersion("acme", "m"));
  EXPECT_OK(store_->GetPolicy("acme"));
  EXPECT_OK(store_->ListReferences("acme"));
  EXPECT_OK(store_->ListTpmAks("acme"));
}

TEST_F(StoreAuthTest, AnotherRootKeysTagsDoNotVerify) {
  ASSERT_OK_AND_ASSIGN(SecretBytes other, SecretBytes::Random(32));
  ASSERT_OK_AND_ASSIGN(auto backend, harness_.Open());
  ASSERT_OK_AND_ASSIGN(auto foreign, AuthenticateStore(std::move(backend), other));
  EXPECT_CODE(foreign->GetPolicy("acme"), Code::kVerificationFailed);
}

}  // namespace
}  // namespace sigil::broker
