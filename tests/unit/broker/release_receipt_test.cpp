// Release receipts (broker/audit/release_receipt.h): the receipt of a release record, its exact
// text, the parser's refusals, signing and opening, and the match against the record.
#include "broker/audit/release_receipt.h"

#include <gtest/gtest.h>

#include "broker/audit/audit_tree.h"
#include "core/ed25519.h"
#include "core/encoding.h"
#include "core/json.h"

namespace sigil::broker::receipt {
namespace {

const std::string kMeasurement(96, 'a');

AuditRow ReleaseRecord(std::uint64_t seq = 7, bool with_measurement = true) {
  Json j{{"seq", seq},
         {"time_ms", 1764633600123},
         {"tenant", "acme"},
         {"request_id", "0123456789abcdef"},
         {"actor", "workload:3f1c"},
         {"action", "release"},
         {"decision", "allow"},
         {"reason", "policy allowed"},
         {"client", "127.0.0.1"},
         {"key", "model"},
         {"version", 2},
         {"evidence_digest", std::string(64, 'e')},
         {"tee", "dev"},
         {"insecure_dev_tee", true},
         {"artifact_id", std::string(64, 'f')},
         {"policy_version", 3},
         {"prev", std::string(64, '0')}};
  if (with_measurement) j["measurement"] = kMeasurement;
  AuditRow row;
  row.seq = seq;
  row.record = CanonicalJson(j);
  row.hash = std::string(64, '1');
  return row;
}

TEST(ReleaseReceipt, TextOfARecordIsTheFourteenDocumentedLines) {
  const AuditRow row = ReleaseRecord();
  auto r = FromRecord(row);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  auto text = Text(*r);
  ASSERT_TRUE(text.has_value());
  const merkle::Hash leaf = merkle::LeafHash(AsBytes(row.record));
  EXPECT_EQ(*text, "sigil/v1/release-receipt\ntenant acme\nkey model\nversion 2\nartifact " + std::string(64, 'f') +
                       "\ntee dev\nmeasurement " + kMeasurement + "\nevidence " + std::string(64, 'e') +
                       "\npolicy 3\nrequest 0123456789abcdef\ntime 1764633600123\nseq 7\nleaf_index 6\nleaf " +
                       Base64Encode(ByteSpan(leaf.data(), leaf.size())) + "\n");
  auto back = ParseText(*text);
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_EQ(*back, *r);
}

TEST(ReleaseReceipt, NoMeasurementClaimIsADash) {
  auto r = FromRecord(ReleaseRecord(7, false));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->measurement, "-");
}

TEST(ReleaseReceipt, OnlyAllowedReleaseRecordsWithEveryFieldHaveReceipts) {
  for (const char* drop : {"artifact_id", "policy_version", "evidence_digest", "tee", "key", "version"}) {
    AuditRow row = ReleaseRecord();
    auto j = ParseJson(row.record, "t");
    ASSERT_TRUE(j.has_value());
    j->erase(drop);
    row.record = CanonicalJson(*j);
    EXPECT_FALSE(FromRecord(row).has_value()) << drop;
  }
  for (auto [field, value] : std::vector<std::pair<const char*, const char*>>{{"decision", "deny"}, {"action", "attest"}}) {
    AuditRow row = ReleaseRecord();
    auto j = ParseJson(row.record, "t");
    (*j)[field] = value;
    row.record = CanonicalJson(*j);
    EXPECT_FALSE(FromRecord(row).has_value()) << field;
  }
  AuditRow other_seq = ReleaseRecord();
  other_seq.seq = 8;
  EXPECT_FALSE(FromRecord(other_seq).has_value());
}

// A signed artifact's record names its signer: the receipt gains a 15th line, last, and round-trips;
// an unsigned one keeps the 14 lines (receipts made before signers existed stay valid).
TEST(ReleaseReceipt, ASignedArtifactsReceiptNamesItsSignerOnALastLine) {
  AuditRow row = ReleaseRecord();
  auto j = ParseJson(row.record, "t");
  ASSERT_TRUE(j.has_value());
  const std::string signer(64, 'c');
  (*j)["signer"] = signer;
  row.record = CanonicalJson(*j);
  auto r = FromRecord(row);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->signer, signer);
  auto text = Text(*r);
  ASSERT_TRUE(text.has_value());
  EXPECT_TRUE(text->ends_with("\nleaf " + Base64Encode(ByteSpan(r->leaf.data(), r->leaf.size())) + "\nsigner " + signer +
                              "\n"))
      << *text;
  auto back = ParseText(*text);
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_EQ(*back, *r);
  auto plain = Text(*FromRecord(ReleaseRecord()));
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(plain->find("signer"), std::string::npos);
  ASSERT_TRUE(ParseText(*plain).has_value());
  for (const std::string& bad : {*plain + "signer \n", *plain + "signer a b\n", *plain + "owner " + signer + "\n",
                                 *text + "signer " + signer + "\n"}) {
    EXPECT_FALSE(ParseText(bad).has_value()) << bad;
  }
}

TEST(ReleaseReceipt, ParserRefusesEveryOtherSpelling) {
  auto good = Text(*FromRecord(ReleaseRecord()));
  ASSERT_TRUE(good.has_value());
  auto edit = [&](const std::string& from, const std::string& to) {
    std::string t = *good;
    t.replace(t.find(from), from.size(), to);
    return t;
  };
  for (const std::string& bad :
       {edit("version 2", "version 02"), edit("version 2", "version 0"), edit("seq 7", "seq 8"),
        edit("leaf_index 6", "leaf_index 7"), edit("tee dev", "tee  dev"), edit("tee dev", "tee d v"),
        edit("sigil/v1/release-receipt", "sigil/v2/release-receipt"), edit("policy 3\n", ""),
        edit("time 1764633600123", "time -1"), good->substr(0, good->size() - 1), *good + "extra 1\n",
        edit("leaf ", "leaf A") /* not canonical base64 of 32 bytes */,
        edit("key model\nversion 2", "version 2\nkey model")}) {
    EXPECT_FALSE(ParseText(bad).has_value()) << bad;
  }
  Receipt r = *FromRecord(ReleaseRecord());
  r.tee = "d\xc3\xa9v";
  EXPECT_FALSE(Text(r).has_value()) << "non-ASCII value";
  r.tee = "";
  EXPECT_FALSE(Text(r).has_value()) << "empty value";
}

TEST(ReleaseReceipt, SignedReceiptOpensOnlyWithTheAuditKeyAndMatchesOnlyItsRecord) {
  auto key = Ed25519Generate();
  auto other = Ed25519Generate();
  ASSERT_TRUE(key.has_value() && other.has_value());
  const AuditRow row = ReleaseRecord();
  Receipt r = *FromRecord(row);
  auto signer = Ed25519Signer::FromSeed(key->seed.Reveal(SecretAccess::Get()));
  ASSERT_TRUE(signer.has_value());
  auto note = Sign(r, *signer);
  ASSERT_TRUE(note.has_value()) << note.error().message();
  auto again = Ed25519Signer::FromSeed(key->seed.Reveal(SecretAccess::Get()));
  EXPECT_EQ(*Sign(r, *again), *note) << "deterministic: a re-derived receipt is the same bytes";
  EXPECT_NE(note->find("\n\n\xe2\x80\x94 sigil-audit/acme "), std::string::npos);
  auto opened = Open(*note, key->public_key);
  ASSERT_TRUE(opened.has_value()) << opened.error().message();
  EXPECT_EQ(*opened, r);
  EXPECT_TRUE(MatchesRecord(*opened, row).has_value());

  auto wrong_key = Open(*note, other->public_key);
  ASSERT_FALSE(wrong_key.has_value());
  EXPECT_EQ(wrong_key.error().code(), Code::kVerificationFailed);
  std::string edited = *note;
  edited.replace(edited.find("version 2"), 9, "version 3");
  EXPECT_FALSE(Open(edited, key->public_key).has_value());
  // A checkpoint is not a receipt, even under the same key and name.
  auto cp = tlog::CheckpointText(tlog::Checkpoint{AuditTreeOrigin("acme"), 7, r.leaf, 1});
  auto cp_note = tlog::SignNote(*cp, AuditTreeOrigin("acme"), key->seed);
  ASSERT_TRUE(cp_note.has_value());
  EXPECT_FALSE(Open(*cp_note, key->public_key).has_value());
  EXPECT_FALSE(tlog::OpenCheckpoint(*note, *tlog::MakeVerifierKey(AuditTreeOrigin("acme"), key->public_key),
                                    AuditTreeOrigin("acme"))
                   .has_value());

  // The same receipt against another record, or the record with one byte changed.
  EXPECT_FALSE(MatchesRecord(r, ReleaseRecord(7, false)).has_value());
  AuditRow spaced = row;
  spaced.record.insert(1, " ");
  EXPECT_FALSE(MatchesRecord(r, spaced).has_value());
}

}  // namespace
}  // namespace sigil::broker::receipt
