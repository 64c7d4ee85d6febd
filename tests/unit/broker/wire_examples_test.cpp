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
    audit_ = std::make_unique<AuditLog>(*store_, std::move(seed), [this] { return ++clock_; });
    ASSERT_OK(audit_->Append("acme", AuditEvent{"0000000000000001", "admin:alice", "admin.tenant.create", "", 0,
                                                "ok", "tenant created", "", "127.0.0.1", "", ""}));
    ASSERT_OK(audit_->Append("acme", AuditEvent{"0000000000000002", "admin:alice", "admin.key.create", "model", 1,
                                                "ok", "key created", "", "127.0.0.1", "", ""}));
  }
};

constexpr const char* kRecord1 =
    R"({"action":"admin.tenant.create","actor":"admin:alice","client":"127.0.0.1","decision":"ok",)"
    R"("prev":"0000000000000000000000000000000000000000000000000000000000000000","reason":"tenant created",)"
    R"("request_id":"0000000000000001","seq":1,"tenant":"acme","time_ms":1700000000000})";
constexpr const char* kHash1 = "e383fb9248edc4da5eabfd20fa88bcdcc77f2ffbb77b38167759a5de2a346dee";
constexpr const char* kRecord2 =
    R"({"action":"admin.key.create","actor":"admin:alice","client":"127.0.0.1","decision":"ok","key":"model",)"
    R"("prev":"e383fb9248edc4da5eabfd20fa88bcdcc77f2ffbb77b38167759a5de2a346dee","reason":"key created",)"
    R"("request_id":"0000000000000002","seq":2,"tenant":"acme","time_ms":1700000000001,"version":1})";
constexpr const char* kHash2 = "5507b68566e4dbedd1369f04f4426c42f0a12836abb8cc176577c3b4df60864c";

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
            "736967696c2f76312f636865636b706f696e740061636d65003200353530376236383536366534646265646431"
            "333639663034663434323663343266306131323833366162623863633137363537376333623464663630383634"
            "630031373030303030303030303031");
  EXPECT_EQ(cp->signature,
            "Wtlz12nInLuvdW346puhi4nTdGoiAZjkCBnVztpthC6Rr4VWMVodFlZAD_cauDSx80NC835hXSDqqj8mf854Cw");
  ASSERT_OK_AND_ASSIGN(Ed25519KeyPair pair, Ed25519FromSeed(Bytes(32, 0x01)));
  EXPECT_EQ(Base64UrlEncode(pair.public_key), "iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w");
}

TEST_F(WireExamplesAudit, C2spCheckpointNote) {
  ASSERT_OK_AND_ASSIGN(auto rows, store_->ListAudit("acme"));
  ASSERT_OK_AND_ASSIGN(auto leaves, AuditLeafHashes(rows, 2));
  const merkle::Hash root = merkle::Root(leaves);
  EXPECT_EQ(HexEncode(root), "14cd2aacfc977a7fa1acd2f669214664595a40eda6386836a5cb061f82f81025");
  ASSERT_OK_AND_ASSIGN(std::string note, audit_->SignTreeHead("acme", 2, root));
  const std::string text =
      "sigil-audit/acme\n2\nFM0qrPyXen+hrNL2aSFGZFlaQO2mOGg2pcsGH4L4ECU=\ntime 1700000000002\n";
  EXPECT_EQ(HexEncode(AsBytes(text)),
            "736967696c2d61756469742f61636d650a320a464d307172507958656e2b68724e4c32615346475a466c6151"
            "4f326d4f4767327063734748344c344543553d0a74696d6520313730303030303030303030320a");
  EXPECT_EQ(note, text + "\n\xe2\x80\x94 sigil-audit/acme tJo40Ri9li6y6LIwat0qjWDnp8O/Id7xPRoqyGUO/LH8GSJP0dFwwamHcQSb"
                         "A+hxlWukvJiUuiIj7XcC1NjIv4z8mwc=\n");
  ASSERT_OK_AND_ASSIGN(Ed25519KeyPair pair, Ed25519FromSeed(Bytes(32, 0x01)));
  ASSERT_OK_AND_ASSIGN(tlog::NoteVerifierKey key, tlog::MakeVerifierKey("sigil-audit/acme", pair.public_key));
  EXPECT_EQ(tlog::FormatVerifierKey(key), "sigil-audit/acme+b49a38d1+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c");
}

}  // namespace
}  // namespace sigil::broker
