// A key's provenance pins (broker/keys/key_pins.h) on both backends (store_harness.h): stored
// tagged and read back by another broker of the fleet; a value moved to another key, written
// under another root key or edited in the raw store is refused with an ALARM. And the release
// decision itself: unsigned, unknown signer, bad signature and artifacts off the allowlist.
#include <gtest/gtest.h>

#include "broker/keys/key_pins.h"
#include "broker/store/store_auth.h"
#include "core/ed25519.h"
#include "core/encoding.h"
#include "core/protocol.h"
#include "tests/support/matchers.h"
#include "tests/unit/broker/store_harness.h"

namespace sigil::broker {
namespace {

// A chain that is not persisted: these tests use the key service only for authority tags.
ErasureChain FreshChain() {
  auto c = ErasureChain::Fresh();
  EXPECT_TRUE(c.has_value());
  return std::move(*c);
}

class StoreKeyPinsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(SecretBytes root, SecretBytes::Random(32));
    root_ = std::make_unique<SecretBytes>(std::move(root));
    auto backend = harness_.Open(StoreOpen::kCreate);
    ASSERT_OK(backend);
    ASSERT_OK_AND_ASSIGN(store_, AuthenticateStore(std::move(*backend), *root_));
    keys_ = std::make_unique<KeyService>(*store_, *root_, FreshChain(), "");
    ASSERT_OK(CreateTenantForTest(*store_, "acme", Bytes{1}));
  }
  StoreHarness harness_;
  std::unique_ptr<SecretBytes> root_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<KeyService> keys_;
};

// The admin request form of two owners and two artifacts, unsorted.
Json KeyPinsRequest() {
  return Json{{"owners", Json::array({Base64UrlEncode(Bytes(32, 0x22)), Base64UrlEncode(Bytes(32, 0x11))})},
              {"artifact_ids", Json::array({std::string(64, 'b'), std::string(64, 'a')})}};
}
KeyPins Pins() {
  auto p = ParseKeyPins(KeyPinsRequest());
  return p ? *p : KeyPins{};
}

TEST_F(StoreKeyPinsTest, StoredTaggedAndReadByAnotherBroker) {
  ASSERT_OK_AND_ASSIGN(KeyPins none, GetKeyPins(*store_, *keys_, "acme", "model"));
  EXPECT_FALSE(none.requires_signature());
  ASSERT_OK_AND_ASSIGN(KeyPins parsed, ParseKeyPins(KeyPinsRequest()));
  ASSERT_OK(PutKeyPins(*store_, *keys_, "acme", "model", parsed));
  auto other = harness_.Open(StoreOpen::kExisting);
  ASSERT_OK(other);
  ASSERT_OK_AND_ASSIGN(auto second, AuthenticateStore(std::move(*other), *root_));
  KeyService second_keys(*second, *root_, FreshChain(), "");
  ASSERT_OK_AND_ASSIGN(KeyPins back, GetKeyPins(*second, second_keys, "acme", "model"));
  EXPECT_EQ(back, parsed);
  EXPECT_EQ(back.owners.front(), Bytes(32, 0x11));  // sorted
  // Replacing with no owners lifts the requirement.
  ASSERT_OK(PutKeyPins(*store_, *keys_, "acme", "model", KeyPins{}));
  ASSERT_OK_AND_ASSIGN(KeyPins cleared, GetKeyPins(*second, second_keys, "acme", "model"));
  EXPECT_FALSE(cleared.requires_signature());
}

TEST_F(StoreKeyPinsTest, MovedForeignOrEditedPinsAreRefused) {
  ASSERT_OK(PutKeyPins(*store_, *keys_, "acme", "model", Pins()));
  // The pins of acme/model copied onto acme/other: the tag names the key.
  harness_.Tamper("INSERT INTO meta(k, v) SELECT 'key_pins/acme/other', v FROM meta WHERE k = 'key_pins/acme/model'");
  EXPECT_CODE(GetKeyPins(*store_, *keys_, "acme", "other"), Code::kVerificationFailed);
  // A broker with another root key cannot vouch for them either.
  ASSERT_OK_AND_ASSIGN(SecretBytes foreign_root, SecretBytes::Random(32));
  KeyService foreign(*store_, foreign_root, FreshChain(), "");
  EXPECT_CODE(GetKeyPins(*store_, foreign, "acme", "model"), Code::kVerificationFailed);
  // An edited value: the tag was made over another owner list.
  ASSERT_OK(PutKeyPins(*store_, *keys_, "acme", "model", Pins()));
  const std::string from = Base64UrlEncode(Bytes(32, 0x22)), to = Base64UrlEncode(Bytes(32, 0x33));
  const std::string v = harness_.backend() == StoreBackend::kPostgres ? "convert_from(v, 'UTF8')" : "CAST(v AS TEXT)";
  const std::string back = harness_.backend() == StoreBackend::kPostgres ? "convert_to(%s, 'UTF8')" : "CAST(%s AS BLOB)";
  std::string replaced = "replace(" + v + ", '" + from + "', '" + to + "')";
  std::string set = back.substr(0, back.find("%s")) + replaced + back.substr(back.find("%s") + 2);
  harness_.Tamper("UPDATE meta SET v = " + set + " WHERE k = 'key_pins/acme/model'");
  EXPECT_CODE(GetKeyPins(*store_, *keys_, "acme", "model"), Code::kVerificationFailed);
}

// What sigil-load sends for an artifact signed by `seed`'s key.
ArtifactProvenance Sign(const Ed25519KeyPair& kp, const std::string& artifact_id) {
  ArtifactProvenance p;
  p.public_key = kp.public_key;
  p.content_digest.fill(0x5a);
  auto sig = Ed25519Sign(kp.seed, protocol::ArtifactSignatureMessage(artifact_id, p.content_digest));
  EXPECT_TRUE(sig.has_value());
  p.signature = sig ? *sig : Bytes{};
  return p;
}

TEST(KeyPinsCheck, RefusesUnsignedUnknownForgedAndUnlistedArtifacts) {
  ASSERT_OK_AND_ASSIGN(Ed25519KeyPair owner, Ed25519Generate());
  ASSERT_OK_AND_ASSIGN(Ed25519KeyPair other, Ed25519Generate());
  const std::string id(64, 'c'), id2(64, 'd');
  KeyPins none;
  KeyPins pinned{{owner.public_key}, {}};
  KeyPins listed{{owner.public_key}, {id}};
  // No pins: unsigned passes and names no signer; a signature sent is still checked.
  ASSERT_OK_AND_ASSIGN(std::string s0, CheckProvenance(none, id, std::nullopt));
  EXPECT_EQ(s0, "");
  ASSERT_OK_AND_ASSIGN(std::string s1, CheckProvenance(none, id, Sign(other, id)));
  EXPECT_EQ(s1, protocol::OwnerKeyId(other.public_key));
  // Pinned: only the pinned owner's valid signature.
  EXPECT_CODE(CheckProvenance(pinned, id, std::nullopt), Code::kPolicyDenied);
  EXPECT_CODE(CheckProvenance(pinned, id, Sign(other, id)), Code::kPolicyDenied);
  EXPECT_CODE(CheckProvenance(pinned, id2, Sign(owner, id)), Code::kVerificationFailed);  // signed another artifact
  ArtifactProvenance forged = Sign(owner, id);
  forged.content_digest[0] ^= 1;
  EXPECT_CODE(CheckProvenance(pinned, id, forged), Code::kVerificationFailed);
  ASSERT_OK_AND_ASSIGN(std::string s2, CheckProvenance(pinned, id, Sign(owner, id)));
  EXPECT_EQ(s2, protocol::OwnerKeyId(owner.public_key));
  // Allowlist.
  EXPECT_OK(CheckProvenance(listed, id, Sign(owner, id)));
  auto off = CheckProvenance(listed, id2, Sign(owner, id2));
  EXPECT_CODE(off, Code::kPolicyDenied);
  EXPECT_NE(off.error().message().find("allowlist"), std::string::npos);
}

TEST(KeyPinsCheck, RequestsAreParsedStrictly) {
  EXPECT_OK(ParseKeyPins(Json{{"owners", Json::array()}}));
  EXPECT_CODE(ParseKeyPins(Json::object()), Code::kInvalidArgument);
  EXPECT_CODE(ParseKeyPins(Json{{"owners", Json::array({"AAAA"})}}), Code::kInvalidArgument);
  EXPECT_CODE(ParseKeyPins(Json{{"owners", Json::array()}, {"extra", 1}}), Code::kInvalidArgument);
  EXPECT_CODE(ParseKeyPins(Json{{"owners", Json::array()}, {"artifact_ids", Json::array({std::string(64, 'a')})}}),
              Code::kInvalidArgument);  // an allowlist without an owner
  EXPECT_CODE(ParseKeyPins(Json{{"owners", Json::array({Base64UrlEncode(Bytes(32, 1))})},
                                {"artifact_ids", Json::array({std::string(64, 'A')})}}),
              Code::kInvalidArgument);
  Json art{{"signature", {{"alg", "Ed25519"}, {"public_key", Base64UrlEncode(Bytes(32, 1))}}}};
  EXPECT_CODE(ParseArtifactProvenance(art, "a"), Code::kInvalidArgument);
  EXPECT_OK(ParseArtifactProvenance(Json::object(), "a"));
}

}  // namespace
}  // namespace sigil::broker
