// Signed checkpoints (c2sp.org/signed-note v1.0.0, c2sp.org/tlog-checkpoint): published vectors
// first, then round trips, every single-byte mutation of a signed note, hostile inputs for each
// parser, and a differential check against an independent Python verifier.
#include "broker/audit/checkpoint_note.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "core/ed25519.h"
#include "core/encoding.h"
#include "core/text.h"
#include "tests/support/matchers.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace sigil::broker::tlog {
namespace {

// clang-format off
// ---------------------------------------------------------------------------------------------
// Published vectors (data only).
// golang.org/x/mod sumdb/note/note_test.go @02c991387e35f9e4c0a9b7ce137717055f8d716d (BSD-3):
// TestNewVerifier, TestSign, TestOpen. The signer key there is
// "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"; its base64
// part is 0x01 || the 32-byte Ed25519 seed.
// ---------------------------------------------------------------------------------------------
constexpr std::string_view kPeterKey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
constexpr std::string_view kPeterSeedB64 = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
constexpr std::string_view kEnochKey = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
constexpr std::string_view kPeterText =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";
const std::string kPeterSig = "\xE2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const std::string kEnochSig = "\xE2\x80\x94 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

// A real tlog checkpoint: sum.golang.org's signed tree head "go.sum database tree" (origin,
// size, root, no extension line), signed by Google with the key that the go command pins in
// golang/go src/cmd/go/internal/modfetch/key.go (knownGOSUMDB). Captured notes as quoted in
// public write-ups; that Google's key verifies them is what makes them vectors.
constexpr std::string_view kSumdbKey = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8";
struct SumdbVector {
  std::uint64_t size;
  std::string_view root_b64;
  std::string_view sig_b64;
};
constexpr SumdbVector kSumdbVectors[] = {
    {15368405, "/g9am3I6YWNKaZX/jkne1fqd9zEyjss+JXyPXG0WfkY=",
     "Az3grqJGUaSGukG9p8nI2vKgiFn7qGHxn0W+mrwyI6Gz3F0t1J3LzmWk/p96Ybf295EjwdSwlzgijq5WA9d1Ded7owM="},
    {63512409, "F7eHRPqN/cqPtqti14NKdGGaI1Giw8coWP3KxihFZbg=",
     "Az3gri1OBHKT87Xj8UXU8zjoHGy/X+7Nl94f8TZkELVaasolmGApUsWqwVG9vE6hgqYb/ph/w2vdkLIVRH7bMB/FPQ4="},
    {445646, "jEFFy4AtYgBBNTSZTiNnQrgQqMbcH0mfO2oP2FxR9VU=",
     "Az3grkGho/PqvUmEuTv6+r2g303hUhu60FOD6vLpm19mBwH9UjquWY2OKxNmZ55z0gHrp24AgPC3Q5WO7uZrVdvdCQU="},
};
// clang-format on

std::string SumdbText(const SumdbVector& v) {
  return "go.sum database tree\n" + std::to_string(v.size) + "\n" + std::string(v.root_b64) + "\n";
}
std::string SumdbNote(const SumdbVector& v) {
  return SumdbText(v) + "\n\xE2\x80\x94 sum.golang.org " + std::string(v.sig_b64) + "\n";
}

NoteVerifierKey MustParseKey(std::string_view text) {
  auto key = ParseVerifierKey(text);
  SIGIL_CHECK(key.has_value());
  return std::move(key).value();
}

SecretBytes PeterSeed() {
  auto typed = Base64Decode(kPeterSeedB64);
  SIGIL_CHECK(typed.has_value() && typed->size() == 33 && (*typed)[0] == 1);
  auto seed = SecretBytes::CopyFrom(ByteSpan(*typed).subspan(1));
  SIGIL_CHECK(seed.has_value());
  return std::move(seed).value();
}

// No error message may carry a raw byte of the input: printable ASCII only.
void ExpectPrintableMessage(const Error& e) {
  for (char c : e.message()) {
    ASSERT_TRUE(c >= 0x20 && c < 0x7f)
        << "raw byte in message: " << EscapeForDisplay(e.message(), 400);
  }
}

template <class T>
void ExpectRefused(const Result<T>& r, Code code, std::string_view label) {
  ASSERT_FALSE(r.has_value()) << "accepted: " << label;
  EXPECT_EQ(r.error().code(), code) << label << ": " << testing::Describe(r.error());
  ExpectPrintableMessage(r.error());
}

struct SignedCheckpoint {
  Checkpoint checkpoint;
  std::string text;
  std::string note;
  NoteVerifierKey key;
};

SignedCheckpoint MakeSigned(const Checkpoint& cp, std::string_view key_name) {
  auto pair = Ed25519Generate();
  SIGIL_CHECK(pair.has_value());
  auto text = CheckpointText(cp);
  SIGIL_CHECK(text.has_value());
  auto note = SignNote(*text, key_name, pair->seed);
  SIGIL_CHECK(note.has_value());
  auto key = MakeVerifierKey(key_name, pair->public_key);
  SIGIL_CHECK(key.has_value());
  return {cp, *text, *note, *key};
}

merkle::Hash RootOf(std::string_view leaf) { return merkle::LeafHash(AsBytes(leaf)); }

Checkpoint SampleCheckpoint() {
  return {"sigil/broker-1/acme", 1234, RootOf("leaf"), 1700000000123};
}

// --- Published vectors -----------------------------------------------------------------------

TEST(CheckpointNoteVectors, GoVerifierKeysParseAndFormatBack) {
  ASSERT_OK_AND_ASSIGN(NoteVerifierKey peter, ParseVerifierKey(kPeterKey));
  EXPECT_EQ(peter.name, "PeterNeumann");
  EXPECT_EQ(peter.id, 0xc74f20a3u);
  EXPECT_EQ(Ed25519KeyId(peter.name, peter.public_key), 0xc74f20a3u);
  EXPECT_EQ(FormatVerifierKey(peter), kPeterKey);
  ASSERT_OK_AND_ASSIGN(NoteVerifierKey enoch, ParseVerifierKey(kEnochKey));
  EXPECT_EQ(enoch.id, 0xaf0cfe78u);
  EXPECT_EQ(FormatVerifierKey(enoch), kEnochKey);
  ASSERT_OK_AND_ASSIGN(NoteVerifierKey sumdb, ParseVerifierKey(kSumdbKey));
  EXPECT_EQ(sumdb.id, 0x033de0aeu);
}

// TestNewVerifier: every proper substring and every single-byte increment is refused, and so
// are a wrong-length key and an unknown algorithm, each with a key id adjusted to match.
TEST(CheckpointNoteVectors, GoVerifierKeyManglingsAreRefused) {
  const std::string key(kPeterKey);
  for (std::size_t i = 0; i <= key.size(); ++i) {
    for (std::size_t j = i + 1; j <= key.size(); ++j) {
      if (i == 0 && j == key.size()) continue;
      ExpectRefused(ParseVerifierKey(key.substr(i, j - i)), Code::kInvalidArgument,
                    key.substr(i, j - i));
    }
  }
  for (std::size_t i = 0; i < key.size(); ++i) {
    std::string bad = key;
    ++bad[i];
    ExpectRefused(ParseVerifierKey(bad), Code::kInvalidArgument, bad);
  }
  ExpectRefused(ParseVerifierKey(
                    "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="),
                Code::kInvalidArgument, "wrong length key");
  ExpectRefused(
      ParseVerifierKey("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"),
      Code::kInvalidArgument, "unknown algorithm");
}

// TestSign: Ed25519 is deterministic, so signing the text with the published seed must give the
// published note byte for byte.
TEST(CheckpointNoteVectors, GoSignReproducesThePublishedNote) {
  ASSERT_OK_AND_ASSIGN(std::string note, SignNote(kPeterText, "PeterNeumann", PeterSeed()));
  EXPECT_EQ(note, std::string(kPeterText) + "\n" + kPeterSig);
}

TEST(CheckpointNoteVectors, GoOpen) {
  const NoteVerifierKey peter = MustParseKey(kPeterKey);
  const NoteVerifierKey enoch = MustParseKey(kEnochKey);
  const std::string text(kPeterText);
  ASSERT_OK_AND_ASSIGN(std::string opened, OpenNote(text + "\n" + kPeterSig, peter));
  EXPECT_EQ(opened, text);
  // One known, one unknown signature: the unknown one is ignored, in either order.
  ASSERT_OK_AND_ASSIGN(opened, OpenNote(text + "\n" + kPeterSig + kEnochSig, peter));
  EXPECT_EQ(opened, text);
  ASSERT_OK_AND_ASSIGN(opened, OpenNote(text + "\n" + kPeterSig + kEnochSig, enoch));
  EXPECT_EQ(opened, text);
  ExpectRefused(OpenNote(text + "\n" + kPeterSig, enoch), Code::kVerificationFailed,
                "no enoch sig");
  // Repeated valid signatures by the known key each verify.
  EXPECT_OK(OpenNote(text + "\n" + kPeterSig + kPeterSig + kEnochSig + kEnochSig, peter));
  // "Invalid signature": four base64 characters inserted into the known key's signature.
  ExpectRefused(
      OpenNote(text + "\n" + kPeterSig.substr(0, 60) + "ABCD" + kPeterSig.substr(60), peter),
      Code::kVerificationFailed, "ABCD inserted");
  // An inserted "ABCD" in an unknown key's line only changes that unknown signature.
  EXPECT_OK(OpenNote(
      text + "\n" + kPeterSig + kEnochSig.substr(0, 60) + "ABCD" + kEnochSig.substr(60), peter));
  // Too many signatures: 100 are read, 101 refused before any verification.
  std::string many;
  for (int i = 0; i < 100; ++i) many += kPeterSig;
  EXPECT_OK(OpenNote(text + "\n" + many, peter));
  ExpectRefused(OpenNote(text + "\n" + many + kPeterSig, peter), Code::kInvalidArgument,
                "101 sigs");
  // TestOpen's badMsgs.
  const std::string bad_msgs[] = {
      text,
      text + "\n",
      text + "\n" + kPeterSig.substr(0, kPeterSig.size() - 1),
      "\x01" + text + "\n" + kPeterSig,
      "\xff" + text + "\n" + kPeterSig,
      text +
          "\n\xE2\x80\x94 Bad Name "
          "x08go/ZJkuBS9UG/"
          "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
      text + "\n" + kPeterSig + "Unexpected line.\n",
  };
  for (const auto& msg : bad_msgs) ExpectRefused(OpenNote(msg, peter), Code::kInvalidArgument, msg);
  // Another name with the same id, or the same name with another id, is an unknown key.
  std::string renamed = kPeterSig;
  renamed.replace(renamed.find("PeterNeumann"), 12, "CarmenSandiego");
  ExpectRefused(OpenNote(text + "\n" + renamed, peter), Code::kVerificationFailed, "renamed");
  std::string rehashed = kPeterSig;
  rehashed.replace(rehashed.find("x08g"), 4, "xxxx");
  ExpectRefused(OpenNote(text + "\n" + rehashed, peter), Code::kVerificationFailed, "other id");
}

TEST(CheckpointNoteVectors, SumGolangOrgCheckpointsOpen) {
  const NoteVerifierKey sumdb = MustParseKey(kSumdbKey);
  for (const auto& v : kSumdbVectors) {
    ASSERT_OK_AND_ASSIGN(std::string text, OpenNote(SumdbNote(v), sumdb));
    EXPECT_EQ(text, SumdbText(v));
    // The body is a checkpoint without Sigil's time line: refused as a Sigil checkpoint, and
    // with one appended, its three standard lines parse to the published values.
    ExpectRefused(ParseCheckpointText(text), Code::kInvalidArgument, "no time line");
    ASSERT_OK_AND_ASSIGN(Checkpoint cp, ParseCheckpointText(text + "time 0\n"));
    EXPECT_EQ(cp.origin, "go.sum database tree");
    EXPECT_EQ(cp.size, v.size);
    EXPECT_EQ(Base64Encode(cp.root), v.root_b64);
    // Any other size is a different text and no longer verifies.
    std::string other = SumdbNote(v);
    other.replace(other.find('\n') + 1, 1, other[other.find('\n') + 1] == '9' ? "8" : "9");
    ExpectRefused(OpenNote(other, sumdb), Code::kVerificationFailed, "size changed");
  }
}

// --- Round trips ------------------------------------------------------------------------------

TEST(CheckpointNote, SignOpenRoundTrip) {
  const Checkpoint cases[] = {
      SampleCheckpoint(),
      {"a", 0, merkle::EmptyRoot(), 0},
      {"sigil/b/t", std::numeric_limits<std::uint64_t>::max(), RootOf("x"),
       std::numeric_limits<std::int64_t>::max()},
      {"example.com/caf\xC3\xA9/log", 1, RootOf("y"), 1},
  };
  for (const auto& cp : cases) {
    SignedCheckpoint s = MakeSigned(cp, cp.origin);
    EXPECT_EQ(s.text, cp.origin + "\n" + std::to_string(cp.size) + "\n" + Base64Encode(cp.root) +
                          "\ntime " + std::to_string(cp.time_ms) + "\n");
    ASSERT_OK_AND_ASSIGN(Checkpoint got, OpenCheckpoint(s.note, s.key, cp.origin));
    EXPECT_EQ(got.origin, cp.origin);
    EXPECT_EQ(got.size, cp.size);
    EXPECT_EQ(got.root, cp.root);
    EXPECT_EQ(got.time_ms, cp.time_ms);
    ASSERT_OK_AND_ASSIGN(NoteVerifierKey reparsed, ParseVerifierKey(FormatVerifierKey(s.key)));
    EXPECT_EQ(reparsed.name, s.key.name);
    EXPECT_EQ(reparsed.id, s.key.id);
    EXPECT_EQ(reparsed.public_key, s.key.public_key);
  }
}

TEST(CheckpointNote, OpenCheckpointChecksOriginAndKey) {
  SignedCheckpoint s = MakeSigned(SampleCheckpoint(), "sigil/broker-1/acme");
  ExpectRefused(OpenCheckpoint(s.note, s.key, "sigil/broker-1/other"), Code::kVerificationFailed,
                "origin");
  SignedCheckpoint other = MakeSigned(SampleCheckpoint(), "sigil/broker-1/acme");
  ExpectRefused(OpenNote(s.note, other.key), Code::kVerificationFailed, "other key, same name");
  // A key whose id does not match its name and public key is the caller's error.
  NoteVerifierKey wrong = s.key;
  wrong.id ^= 1;
  ExpectRefused(OpenNote(s.note, wrong), Code::kInvalidArgument, "inconsistent key");
  wrong = s.key;
  wrong.public_key.pop_back();
  ExpectRefused(OpenNote(s.note, wrong), Code::kInvalidArgument, "short key");
  // A signature by the right key name and id with the wrong key is refused, not ignored.
  auto forged = SignNote(s.text, s.key.name, *SecretBytes::Random(32));
  ASSERT_OK(forged);
  std::string line = forged->substr(s.text.size() + 1);
  std::string blob = line.substr(line.rfind(' ') + 1);
  blob.pop_back();
  auto raw = Base64Decode(blob);
  ASSERT_OK(raw);
  (*raw)[0] = static_cast<std::uint8_t>(s.key.id >> 24);
  (*raw)[1] = static_cast<std::uint8_t>(s.key.id >> 16);
  (*raw)[2] = static_cast<std::uint8_t>(s.key.id >> 8);
  (*raw)[3] = static_cast<std::uint8_t>(s.key.id);
  const std::string collided = "\xE2\x80\x94 " + s.key.name + " " + Base64Encode(*raw) + "\n";
  ExpectRefused(OpenNote(s.note + collided, s.key), Code::kVerificationFailed, "colliding id");
  ExpectRefused(OpenNote(s.text + "\n" + collided + s.note.substr(s.text.size() + 1), s.key),
                Code::kVerificationFailed, "colliding id first");
}

TEST(CheckpointNote, UnknownExtensionLinesAreIgnored) {
  const std::string base = "o\n5\n" + Base64Encode(RootOf("z"));
  ASSERT_OK_AND_ASSIGN(Checkpoint cp,
                       ParseCheckpointText(base + "\nfoo bar\ntime 7\ntimestamp 9\n"));
  EXPECT_EQ(cp.time_ms, 7);
  EXPECT_EQ(cp.size, 5u);
  // The origin of another log is only required to be a non-empty line.
  ASSERT_OK_AND_ASSIGN(cp, ParseCheckpointText("go.sum database tree\n5\n" +
                                               Base64Encode(RootOf("z")) + "\ntime 1\n"));
  EXPECT_EQ(cp.origin, "go.sum database tree");
}

// --- Every single-byte change -----------------------------------------------------------------

// Each byte of the note is replaced by each of the 255 other values. A change can be accepted
// only if it lies in a line by another key, and then the verified text is the original one.
void MutateEveryByte(const std::string& note, const NoteVerifierKey& key, const std::string& text,
                     std::size_t mutable_from) {
  std::size_t accepted = 0;
  for (std::size_t i = 0; i < note.size(); ++i) {
    for (int delta = 1; delta < 256; ++delta) {
      std::string bad = note;
      bad[i] = static_cast<char>(static_cast<unsigned char>(bad[i]) + delta);
      auto r = OpenNote(bad, key);
      if (!r) {
        ExpectPrintableMessage(r.error());
        continue;
      }
      ++accepted;
      ASSERT_GE(i, mutable_from) << "change at byte " << i << " accepted";
      ASSERT_EQ(*r, text) << "change at byte " << i << " changed the verified text";
    }
  }
  if (mutable_from >= note.size()) {
    EXPECT_EQ(accepted, 0u);
  }
}

TEST(CheckpointNote, EverySingleByteChangeIsRefused) {
  SignedCheckpoint s = MakeSigned(SampleCheckpoint(), "sigil/broker-1/acme");
  MutateEveryByte(s.note, s.key, s.text, s.note.size());
}

TEST(CheckpointNote, SingleByteChangesInAnotherKeysLineNeverChangeTheText) {
  SignedCheckpoint s = MakeSigned(SampleCheckpoint(), "sigil/broker-1/acme");
  auto witness = Ed25519Generate();
  ASSERT_OK(witness);
  ASSERT_OK_AND_ASSIGN(std::string cosigned, SignNote(s.text, "witness.example/w1", witness->seed));
  const std::string note = s.note + cosigned.substr(s.text.size() + 1);
  MutateEveryByte(note, s.key, s.text, s.note.size());
}

// --- Hostile inputs ---------------------------------------------------------------------------

TEST(CheckpointNote, KeyNames) {
  for (std::string_view ok : {"a", "example.com/log42", "caf\xC3\xA9", "sigil/b-1/t.x_y"}) {
    EXPECT_TRUE(IsValidKeyName(ok)) << ok;
  }
  for (std::string_view bad : {"", "a b", "a+b", "a\tb", "a\nb",
                               "a\x7f"
                               "b",
                               "\xff", "\xC0\x80",
                               "a\xC2\xA0"
                               "b",
                               "a\xE3\x80\x80"
                               "b",
                               "a\xE2\x80\xA8"
                               "b",
                               "a\xE1\x9A\x80"
                               "b",
                               "a\xC2\x85"
                               "b",
                               "\xED\xA0\x80"}) {
    EXPECT_FALSE(IsValidKeyName(bad)) << EscapeForDisplay(bad);
  }
  auto pair = Ed25519Generate();
  ASSERT_OK(pair);
  ExpectRefused(MakeVerifierKey("a b", pair->public_key), Code::kInvalidArgument, "name");
  ExpectRefused(MakeVerifierKey(std::string(kMaxKeyNameSize + 1, 'a'), pair->public_key),
                Code::kInvalidArgument, "long name");
  ExpectRefused(MakeVerifierKey("a", ByteSpan(pair->public_key).first(31)), Code::kInvalidArgument,
                "31");
}

TEST(CheckpointNote, VerifierKeyTextIsStrict) {
  const std::string good(kPeterKey);
  const std::string bad[] = {
      "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",    // upper-case hex
      "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",     // 7 hex digits
      "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW=",   // extra padding
      "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq_LDE4izWy10TW",    // base64url
      "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW\n",  // trailing newline
      "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
      "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
      "PeterNeumann+00000000+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
      good + std::string(2000, 'A'),
  };
  for (const auto& b : bad)
    ExpectRefused(ParseVerifierKey(b), Code::kInvalidArgument, EscapeForDisplay(b));
}

TEST(CheckpointNote, CheckpointTextRefusesBadFields) {
  Checkpoint cp = SampleCheckpoint();
  for (const std::string& origin : std::vector<std::string>{
           "", "a b", "a+b", "a\nb", "\xff", std::string(kMaxKeyNameSize + 1, 'o')}) {
    cp.origin = origin;
    ExpectRefused(CheckpointText(cp), Code::kInvalidArgument, EscapeForDisplay(origin));
  }
  cp = SampleCheckpoint();
  cp.time_ms = -1;
  ExpectRefused(CheckpointText(cp), Code::kInvalidArgument, "negative time");
}

TEST(CheckpointNote, ParseCheckpointTextRefusesHostileTexts) {
  const std::string root = Base64Encode(RootOf("r"));
  const std::string head = "o\n1\n" + root + "\n";
  std::string noncanonical = root;
  noncanonical[42] = noncanonical[42] == 'A' ? 'B' : static_cast<char>(noncanonical[42] ^ 1);
  const std::string bad[] = {
      "",
      "o\n1\n" + root,
      head,
      "o\n1\n" + root + "\ntime 1",   // short, no newline, no time
      "\n1\n" + root + "\ntime 1\n",  // empty origin
      head + "\ntime 1\n",
      head + "time 1\n\n",  // empty lines
      "o\n01\n" + root + "\ntime 1\n",
      "o\n00\n" + root + "\ntime 1\n",                    // leading zeros
      "o\n18446744073709551616\n" + root + "\ntime 1\n",  // 2^64
      "o\n99999999999999999999\n" + root + "\ntime 1\n",
      "o\n100000000000000000000\n" + root + "\ntime 1\n",
      "o\n-1\n" + root + "\ntime 1\n",
      "o\n+1\n" + root + "\ntime 1\n",
      "o\n 1\n" + root + "\ntime 1\n",
      "o\n1 \n" + root + "\ntime 1\n",
      "o\n0x1\n" + root + "\ntime 1\n",
      "o\n1\n" + root.substr(0, 43) + "\ntime 1\n",  // no padding
      "o\n1\n" + noncanonical + "\ntime 1\n",        // stray low bits
      "o\n1\n" + Base64Encode(Bytes(31)) + "\ntime 1\n",
      "o\n1\n" + Base64Encode(Bytes(33)) + "\ntime 1\n",
      "o\n1\n" + Base64UrlEncode(Bytes(32, 0xfb)) + "=\ntime 1\n",
      head + "time\n",
      head + "time \n",
      head + "time 01\n",
      head + "time -1\n",
      head + "time  1\n",
      head + "time 1 2\n",
      head + "time 9223372036854775808\n",
      head + "time 1\ntime 1\n",
      head + "time 1\nfoo\ntime 2\n",
      head + "timestamp 1\n",
      "o\r\n1\n" + root + "\ntime 1\n",
      "o\n1\n" + root + "\ntime 1\r\n",  // CR
      std::string("o\0p\n1\n", 6) + root + "\ntime 1\n",
      "o\xff\n1\n" + root + "\ntime 1\n",
      "o\xC0\x80\n1\n" + root + "\ntime 1\n",
      "o\xED\xA0\x80\n1\n" + root + "\ntime 1\n",
      head + "time 1\n" + std::string(kMaxNoteSize, 'x') + "\n",
  };
  for (const auto& b : bad) {
    ExpectRefused(ParseCheckpointText(b), Code::kInvalidArgument, EscapeForDisplay(b, 120));
  }
  EXPECT_OK(
      ParseCheckpointText("o\n18446744073709551615\n" + root + "\ntime 9223372036854775807\n"));
  EXPECT_OK(ParseCheckpointText("o\n0\n" + root + "\ntime 0\n"));
}

TEST(CheckpointNote, OpenNoteRefusesHostileNotes) {
  SignedCheckpoint s = MakeSigned(SampleCheckpoint(), "sigil/broker-1/acme");
  const std::string sig = s.note.substr(s.text.size() + 1);
  const std::string dash = "\xE2\x80\x94 ";
  const std::string b64 = sig.substr(sig.rfind(' ') + 1, sig.size() - sig.rfind(' ') - 2);
  const std::string bad[] = {
      s.text + sig,                                                 // no blank line
      s.text + "\n",                                                // no signatures
      s.text + "\n" + sig.substr(0, sig.size() - 1),                // no final newline
      s.text + "\n" + sig + "\n",                                   // trailing blank line
      s.text + "\n" + "- " + sig.substr(dash.size()),               // hyphen, not em dash
      s.text + "\n" + dash.substr(0, 3) + sig.substr(dash.size()),  // no space
      s.text + "\n" + dash + "sigil/broker-1/acme  " + b64 + "\n",  // two spaces
      s.text + "\n" + dash + "sigil/broker-1/acme\n",               // no signature
      s.text + "\n" + dash + "sigil/broker-1/acme \n",              // empty signature
      s.text + "\n" + dash + " " + b64 + "\n",                      // empty name
      s.text + "\n" + dash + "a+b " + b64 + "\n",                   // '+' in name
      s.text + "\n" + dash +
          "a\xC2\xA0"
          "b " +
          b64 + "\n",                                                      // NBSP in name
      s.text + "\n" + dash + "x " + b64.substr(0, b64.size() - 1) + "\n",  // padding missing
      s.text + "\n" + dash + "x " + b64 + " \n",                           // trailing space
      s.text + "\n" + dash + "x AAAAAA==\n",                               // 4 bytes: key id only
      s.text + "\n" + sig + "\t\n",
      "\r" + s.note,
      s.note.substr(0, 3) + std::string(1, '\0') + s.note.substr(3),
      s.text + "\n" + dash + "x\xff " + b64 + "\n",
      s.note + std::string(kMaxNoteSize, 'x'),
  };
  for (const auto& b : bad) {
    ExpectRefused(OpenNote(b, s.key), Code::kInvalidArgument,
                  EscapeForDisplay(b.substr(s.text.size()), 200));
  }
  // Error messages quote names only escaped.
  const std::string evil_name =
      "\x1b[31m\xE2\x80\x8B"
      "evil";
  ExpectRefused(OpenNote(s.text + "\n" + dash + evil_name + " " + b64 + "\n", s.key),
                Code::kInvalidArgument, "escape sequence in name");
}

TEST(CheckpointNote, SignNoteRefusesBadInput) {
  auto pair = Ed25519Generate();
  ASSERT_OK(pair);
  const std::string bad_texts[] = {
      "",      "a",      "a\n\nb\n", "\na\n",
      "a\n\n", "a\rb\n", "\xff\n",   std::string(kMaxNoteSize, 'a') + "\n"};
  for (const auto& t : bad_texts) {
    ExpectRefused(SignNote(t, "k", pair->seed), Code::kInvalidArgument, EscapeForDisplay(t));
  }
  for (std::string_view name : {"", "a b", "a+b", "a\n"}) {
    ExpectRefused(SignNote("a\n", name, pair->seed), Code::kInvalidArgument,
                  EscapeForDisplay(name));
  }
  auto short_seed = SecretBytes::Random(31);
  ASSERT_OK(short_seed);
  ExpectRefused(SignNote("a\n", "k", *short_seed), Code::kInvalidArgument, "31-byte seed");
  // Text with empty lines from elsewhere still opens: the last blank line separates.
  ASSERT_OK_AND_ASSIGN(NoteVerifierKey key, MakeVerifierKey("k", pair->public_key));
  ASSERT_OK_AND_ASSIGN(std::string note, SignNote("a\n", "k", pair->seed));
  EXPECT_EQ(*OpenNote(note, key), "a\n");
}

// --- Independent verifier ---------------------------------------------------------------------

constexpr char kPython[] = "/usr/bin/python3";  // Debian's, with python3-cryptography

testing::CommandResult RunPythonVerifier(const testing::TempDir& dir, const std::string& note,
                                         const std::string& key) {
  std::ofstream(dir.File("note"), std::ios::binary) << note;
  std::ofstream(dir.File("key"), std::ios::binary) << key << "\n";
  return testing::Run(
      {kPython, std::string(SIGIL_SOURCE_DIR) + "/tests/unit/broker/checkpoint_note_verify.py",
       dir.File("note"), dir.File("key")});
}

TEST(CheckpointNoteDifferential, PythonVerifierAgrees) {
  testing::TempDir dir;
  const Checkpoint cases[] = {
      SampleCheckpoint(),
      {"a", 0, merkle::EmptyRoot(), 0},
      {"example.com/caf\xC3\xA9/log", std::numeric_limits<std::uint64_t>::max(), RootOf("q"),
       std::numeric_limits<std::int64_t>::max()},
  };
  for (const auto& cp : cases) {
    SignedCheckpoint s = MakeSigned(cp, cp.origin);
    auto r = RunPythonVerifier(dir, s.note, FormatVerifierKey(s.key));
    ASSERT_EQ(r.exit_code, 0) << "python verifier refused (is python3-cryptography installed?): "
                              << r.err;
    EXPECT_EQ(r.out, "origin=" + cp.origin + "\nsize=" + std::to_string(cp.size) + "\nroot=" +
                         HexEncode(cp.root) + "\ntime_ms=" + std::to_string(cp.time_ms) + "\n");
  }
  // Both refuse the same tampered notes, and a note by another key.
  SignedCheckpoint s = MakeSigned(SampleCheckpoint(), "sigil/broker-1/acme");
  const std::string key_text = FormatVerifierKey(s.key);
  for (std::size_t i : {std::size_t{0}, std::size_t{21}, s.text.size() - 2, s.text.size(),
                        s.text.size() + 2, s.note.size() - 10, s.note.size() - 2}) {
    std::string bad = s.note;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    EXPECT_FALSE(OpenNote(bad, s.key).has_value()) << i;
    auto r = RunPythonVerifier(dir, bad, key_text);
    EXPECT_EQ(r.exit_code, 1) << "python accepted a change at byte " << i << ": " << r.out << r.err;
  }
  SignedCheckpoint other = MakeSigned(SampleCheckpoint(), "sigil/broker-1/acme");
  EXPECT_EQ(RunPythonVerifier(dir, s.note, FormatVerifierKey(other.key)).exit_code, 1);
  // And the Python verifier opens the published Go note's key format the same way.
  auto go =
      RunPythonVerifier(dir, std::string(kPeterText) + "\n" + kPeterSig, std::string(kPeterKey));
  EXPECT_EQ(go.exit_code, 1) << "not a checkpoint, must be refused at the checkpoint stage";
  EXPECT_NE(go.err.find("checkpoint needs three"), std::string::npos) << go.err;
}

}  // namespace
}  // namespace sigil::broker::tlog
