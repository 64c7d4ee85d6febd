// The worked examples of docs/protocol.md, "Byte strings", computed by the real code: the release
// HPKE info and artifact id (core/protocol.h), and the audit chain, its signed checkpoint message
// and the C2SP checkpoint note, all written by a real AuditLog over a real store. Every expected
// value below is copied from the document, which took it from the independent script
// tests/unit/broker/wire_examples.py: a change to any of these encodings fails here until the
// document (and the script) say the same.
#include <gtest/gtest.h>

#include "broker/audit/audit_chain.h"
#include "broker/audit/audit_tree.h"
#include "broker/audit/checkpoint_note.h"
#include "broker/audit/merkle.h"
#include "core/digest.h"
#include "core/ed25519.h"
#include "core/encoding.h"
#include "core/protocol.h"
#include "tests/support/matchers.h"
#include "tests/unit/broker/audited_store_fixture.h"

namespace sigil::broker {
namespace {

Bytes Range(std::uint8_t from, std::uint8_t to) {
  Bytes b;
  for (unsigned v = from; v < to; ++v) b.push_back(static_cast<std::uint8_t>(v));
  return b;
}

// docs/protocol.md, "Release HPKE info".
TEST(WireExamples, ReleaseInfoAndArtifactId) {
  const Bytes enc = Range(0x00, 0x20), sealed_dek = Range(0x20, 0x50);
  const std::string id = protocol::ArtifactId(enc, sealed_dek);
  EXPECT_EQ(id, "b9b0bd453bd8a1046a7be86fc591a68c0e14810fed7be46c760765b6c5a936fc");
  EXPECT_EQ(HexEncode(protocol::ReleaseInfo("acme", "model", 1, id)),
            "736967696c2f76312f72656c656173650061636d65006d6f64656c0031006239623062643435336264386131"
            "3034366137626538366663353931613638633065313438313066656437626534366337363037363562366335"
            "613933366663");
  EXPECT_EQ(HexEncode(protocol::DekSealInfo("acme", "model", 1)),
            "736967696c2f76312f64656b0061636d65006d6f64656c0031");
}

// docs/protocol.md, "Audit chain" and "Chain checkpoint" and "Audit proofs": two records written
// by the broker's AuditLog with the audit seed 32 x 0x01 and a clock at 1700000000000 ms.
class WireExamplesAudit : public AuditedStoreTest {
 protected:
  void SetUp() override {
    AuditedStoreTest::SetUp();
    ASSERT_OK_AND_ASSIGN(SecretBytes seed, SecretBytes::CopyFrom(Bytes(32, 0x01)));
    clock_ = 1699999999999;
    ASSERT_OK_AND_ASSIGN(Ed25519Signer key, Ed25519Signer::FromSeed(seed.Reveal(SecretAccess::Get())));
    audit_ = std::make_unique<AuditLog>(*store_, std::move(key), [this] { return ++clock_; });
    ASSERT_OK(audit_->CreateTenant("acme", Bytes{1}, {},
                                   GenesisEvent{"0000000000000001", "admin:alice", "tenant created", "127.0.0.1"}));
    ASSERT_OK(audit_->Append("acme", AuditEvent{"0000000000000002", "admin:alice", "admin.key.create", "model", 1,
                                                "ok", "key created", "", "127.0.0.1", "", ""}));
  }
};

constexpr const char* kRecord1 =
    R"({"action":"tenant.genesis","actor":"admin:alice",)"
    R"("audit_key_id":"34750f98bd59fcfc946da45aaabe933be154a4b5094e1c4abf42866505f3c97e",)"
    R"("client":"127.0.0.1","decision":"ok",)"
    R"("prev":"0000000000000000000000000000000000000000000000000000000000000000","reason":"tenant created",)"
    R"("request_id":"0000000000000001","seq":1,"tenant":"acme","time_ms":1700000000000})";
constexpr const char* kHash1 = "d3e8198e461ff76381481702e14d5b3bfceb570791123dd206f0e20974abad6a";
constexpr const char* kRecord2 =
    R"({"action":"admin.key.create","actor":"admin:alice","client":"127.0.0.1","decision":"ok","key":"model",)"
    R"("prev":"d3e8198e461ff76381481702e14d5b3bfceb570791123dd206f0e20974abad6a","reason":"key created",)"
    R"("request_id":"0000000000000002","seq":2,"tenant":"acme","time_ms":1700000000001,"version":1})";
constexpr const char* kHash2 = "75468939010ff35ba5901f8a9e3f6e9a8d2b025e255a5aa0312c08737b5652ea";

TEST_F(WireExamplesAudit, ChainFromItsInitialValue) {
  ASSERT_OK_AND_ASSIGN(auto rows, store_->ListAudit("acme"));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].record, kRecord1);
  EXPECT_EQ(rows[0].hash, kHash1);
  EXPECT_EQ(rows[1].record, kRecord2);
  EXPECT_EQ(rows[1].hash, kHash2);
  // The initial value: hash 1 = SHA-256(32 zero bytes || record 1).
  Bytes first(32, 0);
  first.insert(first.end(), rows[0].record.begin(), rows[0].record.end());
  EXPECT_EQ(HexEncode(Sha256(first)), kHash1);
}

TEST_F(WireExamplesAudit, ChainCheckpointMessageAndSignature) {
  ASSERT_OK_AND_ASSIGN(auto cp, store_->GetCheckpoint("acme"));
  ASSERT_TRUE(cp.has_value());
  EXPECT_EQ(cp->seq, 2u);
  EXPECT_EQ(cp->head, kHash2);
  EXPECT_EQ(cp->time, 1700000000001);
  EXPECT_EQ(HexEncode(CheckpointMessage("acme", cp->seq, cp->head, cp->time)),
            "736967696c2f76312f636865636b706f696e740061636d65003200373534363839333930313066663335626135"
            "393031663861396533663665396138643262303235653235356135616130333132633038373337623536353265"
            "610031373030303030303030303031");
  EXPECT_EQ(cp->signature,
            "9WXoDUhnLhzXhy46LNx_M26MYmV_hX6k1a5prZdBFpg2ObkxeRmTkXfavswRpeKVN67KXk_sDyALX2cxQbGnCQ");
  ASSERT_OK_AND_ASSIGN(Ed25519KeyPair pair, Ed25519FromSeed(Bytes(32, 0x01)));
  EXPECT_EQ(Base64UrlEncode(pair.public_key), "iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w");
}

TEST_F(WireExamplesAudit, C2spCheckpointNote) {
  ASSERT_OK_AND_ASSIGN(auto rows, store_->ListAudit("acme"));
  ASSERT_OK_AND_ASSIGN(auto leaves, AuditLeafHashes(rows, 2));
  const merkle::Hash root = merkle::Root(leaves);
  EXPECT_EQ(HexEncode(root), "80ffb2c7f0682803a33d966fcf5838441e4c814d65a6fb6635d1d22a70aca0bd");
  ASSERT_OK_AND_ASSIGN(std::string note, audit_->SignTreeHead("acme", 2, root));
  const std::string text =
      "sigil-audit/acme\n2\ngP+yx/BoKAOjPZZvz1g4RB5MgU1lpvtmNdHSKnCsoL0=\ntime 1700000000002\n";
  EXPECT_EQ(HexEncode(AsBytes(text)),
            "736967696c2d61756469742f61636d650a320a67502b79782f426f4b414f6a505a5a767a3167345242354d67"
            "55316c7076746d4e6448534b6e43736f4c303d0a74696d6520313730303030303030303030320a");
  EXPECT_EQ(note, text + "\n\xe2\x80\x94 sigil-audit/acme tJo40UilyrkY6L7qIdEkoZLY9H08+4rbQYKTxCb8KGeMqWuJLK5D1kCu"
                         "Jg/m+5lD6fSIc6nJ9wji3Qqu6v2U3sFlhwM=\n");
  ASSERT_OK_AND_ASSIGN(Ed25519KeyPair pair, Ed25519FromSeed(Bytes(32, 0x01)));
  ASSERT_OK_AND_ASSIGN(tlog::NoteVerifierKey key, tlog::MakeVerifierKey("sigil-audit/acme", pair.public_key));
  EXPECT_EQ(tlog::FormatVerifierKey(key), "sigil-audit/acme+b49a38d1+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c");
}

}  // namespace
}  // namespace sigil::broker
