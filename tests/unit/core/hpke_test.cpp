// HPKE (core/hpke.h) against every RFC 9180 Appendix A setup whose KEM Sigil implements, plus
// tamper, input-validation and misuse tests.
#include "core/hpke.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/encoding.h"
#include "core/file_io.h"
#include "core/hpke_internal.h"
#include "core/json.h"
#include "tests/support/matchers.h"

namespace sigil::hpke {
namespace {

std::string Hex(ByteSpan b) { return HexEncode(b); }
std::string Hex(const SecretBytes& s) { return HexEncode(s.Reveal(SecretAccess::Get())); }

// ---- The vector file (/work/shared/vectors/hpke/MANIFEST.md) ----

struct Encryption {
  std::uint64_t seq = 0;
  Bytes pt, aad, nonce, ct;
};
struct Export {
  Bytes context;
  std::size_t length = 0;
  Bytes value;
};
struct Vector {
  Suite suite{};
  Mode mode = Mode::kBase;
  Bytes info, ikm_e, pk_em, sk_em, ikm_r, pk_rm, sk_rm, ikm_s, pk_sm, sk_sm, psk, psk_id;
  Bytes enc, shared_secret, key_schedule_context, secret, key, base_nonce, exporter_secret;
  std::vector<Encryption> encryptions;
  std::vector<Export> exports;
};

struct VectorFile {
  Json setups;
  std::string error;
};

const VectorFile& Vectors() {
  static const VectorFile file = [] {
    VectorFile f;
    std::string path = std::string(SIGIL_SHARED_DIR) + "/vectors/hpke/rfc9180-appendix-a.json";
    Result<std::string> text = ReadTextFile(path);
    if (!text) {
      f.error = text.error().message();
      return f;
    }
    Result<Json> json = ParseJson(*text, path);
    if (!json || !json->is_array() || json->empty()) {
      f.error = json ? path + ": expected a non-empty array" : json.error().message();
      return f;
    }
    f.setups = std::move(*json);
    return f;
  }();
  return file;
}

// One index per setup; a single bogus index when the file is unusable, so the failure shows.
std::vector<std::size_t> SetupIndices() {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < Vectors().setups.size(); ++i) out.push_back(i);
  if (out.empty()) out.push_back(0);
  return out;
}

Result<std::int64_t> Int(const Json& obj, std::string_view key) {
  return GetInt(obj, key, "setup");
}

Result<Bytes> HexField(const Json& obj, std::string_view key) {
  if (!obj.contains(std::string(key))) return Bytes{};  // optional by mode
  SIGIL_ASSIGN_OR_RETURN(std::string hex, GetString(obj, key, "setup"));
  return HexDecode(hex);
}

Result<Vector> ParseVector(const Json& s) {
  Vector v;
  SIGIL_ASSIGN_OR_RETURN(std::int64_t kem, Int(s, "kem_id"));
  SIGIL_ASSIGN_OR_RETURN(std::int64_t kdf, Int(s, "kdf_id"));
  SIGIL_ASSIGN_OR_RETURN(std::int64_t aead, Int(s, "aead_id"));
  SIGIL_ASSIGN_OR_RETURN(std::int64_t mode, Int(s, "mode"));
  v.suite = {static_cast<Kem>(kem), static_cast<Kdf>(kdf), static_cast<Aead>(aead)};
  v.mode = static_cast<Mode>(mode);
  struct {
    const char* name;
    Bytes Vector::*field;
  } const fields[] = {
      {"info", &Vector::info},
      {"ikmE", &Vector::ikm_e},
      {"pkEm", &Vector::pk_em},
      {"skEm", &Vector::sk_em},
      {"ikmR", &Vector::ikm_r},
      {"pkRm", &Vector::pk_rm},
      {"skRm", &Vector::sk_rm},
      {"ikmS", &Vector::ikm_s},
      {"pkSm", &Vector::pk_sm},
      {"skSm", &Vector::sk_sm},
      {"psk", &Vector::psk},
      {"psk_id", &Vector::psk_id},
      {"enc", &Vector::enc},
      {"shared_secret", &Vector::shared_secret},
      {"key_schedule_context", &Vector::key_schedule_context},
      {"secret", &Vector::secret},
      {"key", &Vector::key},
      {"base_nonce", &Vector::base_nonce},
      {"exporter_secret", &Vector::exporter_secret},
  };
  for (const auto& f : fields) {
    SIGIL_ASSIGN_OR_RETURN(v.*f.field, HexField(s, f.name));
  }
  for (const Json& e : s.value("encryptions", Json::array())) {
    Encryption enc;
    SIGIL_ASSIGN_OR_RETURN(std::int64_t seq, Int(e, "seq"));
    enc.seq = static_cast<std::uint64_t>(seq);
    SIGIL_ASSIGN_OR_RETURN(enc.pt, HexField(e, "pt"));
    SIGIL_ASSIGN_OR_RETURN(enc.aad, HexField(e, "aad"));
    SIGIL_ASSIGN_OR_RETURN(enc.nonce, HexField(e, "nonce"));
    SIGIL_ASSIGN_OR_RETURN(enc.ct, HexField(e, "ct"));
    v.encryptions.push_back(std::move(enc));
  }
  for (const Json& e : s.value("exports", Json::array())) {
    Export x;
    SIGIL_ASSIGN_OR_RETURN(x.context, HexField(e, "exporter_context"));
    SIGIL_ASSIGN_OR_RETURN(std::int64_t length, Int(e, "L"));
    x.length = static_cast<std::size_t>(length);
    SIGIL_ASSIGN_OR_RETURN(x.value, HexField(e, "exported_value"));
    v.exports.push_back(std::move(x));
  }
  return v;
}

std::string SetupName(const ::testing::TestParamInfo<std::size_t>& info) {
  const Json& setups = Vectors().setups;
  if (info.param >= setups.size()) return "unreadable_vector_file";
  const Json& s = setups[info.param];
  auto id = [&](const char* key) { return s.value(key, -1); };
  std::string kem = id("kem_id") == 0x20   ? "X25519"
                    : id("kem_id") == 0x10 ? "P256"
                    : id("kem_id") == 0x12 ? "P521"
                                           : "KemX";
  std::string kdf = "HkdfSha" + std::string(id("kdf_id") == 1   ? "256"
                                            : id("kdf_id") == 2 ? "384"
                                                                : "512");
  int aead_id = id("aead_id");
  std::string aead = aead_id == 1   ? "Aes128Gcm"
                     : aead_id == 2 ? "Aes256Gcm"
                     : aead_id == 3 ? "ChaCha20Poly1305"
                                    : "ExportOnly";
  const char* modes[] = {"Base", "Psk", "Auth", "AuthPsk"};
  int mode = id("mode");
  return kem + "_" + kdf + "_" + aead + "_" + (mode >= 0 && mode < 4 ? modes[mode] : "ModeX");
}

bool IsAuth(Mode m) { return m == Mode::kAuth || m == Mode::kAuthPsk; }

// ---- Parameterized over the setups ----

class Rfc9180Vector : public ::testing::TestWithParam<std::size_t> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(Vectors().error.empty()) << Vectors().error;
    const Json& s = Vectors().setups.at(GetParam());
    if (s.value("kem_id", 0) == 0x12) {
      GTEST_SKIP()
          << "DHKEM(P-521, HKDF-SHA512) is not implemented: Sigil needs X25519 (and P-256)";
    }
    ASSERT_OK_AND_ASSIGN(v_, ParseVector(s));
    ASSERT_OK_AND_ASSIGN(e_, DeriveKeyPair(v_.suite.kem, v_.ikm_e));
    ASSERT_OK_AND_ASSIGN(r_, DeriveKeyPair(v_.suite.kem, v_.ikm_r));
    if (IsAuth(v_.mode)) {
      ASSERT_OK_AND_ASSIGN(s_, DeriveKeyPair(v_.suite.kem, v_.ikm_s));
    }
    ASSERT_OK_AND_ASSIGN(psk_, SecretBytes::CopyFrom(v_.psk));
  }

  SetupOptions SenderOptions() const {
    SetupOptions o;
    if (!psk_.empty()) o.psk = &psk_;
    o.psk_id = v_.psk_id;
    if (IsAuth(v_.mode)) o.sender_private_key = &s_.private_key;
    o.fixed_ephemeral_ForTest = &e_;
    return o;
  }
  SetupOptions RecipientOptions() const {
    SetupOptions o;
    if (!psk_.empty()) o.psk = &psk_;
    o.psk_id = v_.psk_id;
    if (IsAuth(v_.mode)) o.sender_public_key = s_.public_key;
    return o;
  }

  Vector v_;
  KeyPair e_, r_, s_;
  SecretBytes psk_;
};

TEST_P(Rfc9180Vector, DeriveKeyPair) {
  EXPECT_EQ(Hex(e_.public_key), Hex(v_.pk_em));
  EXPECT_EQ(Hex(e_.private_key), Hex(v_.sk_em));
  EXPECT_EQ(Hex(r_.public_key), Hex(v_.pk_rm));
  EXPECT_EQ(Hex(r_.private_key), Hex(v_.sk_rm));
  ASSERT_OK_AND_ASSIGN(Bytes pk_r, PublicKeyFromPrivate(v_.suite.kem, r_.private_key));
  EXPECT_EQ(Hex(pk_r), Hex(v_.pk_rm));
  if (IsAuth(v_.mode)) {
    EXPECT_EQ(Hex(s_.public_key), Hex(v_.pk_sm));
    EXPECT_EQ(Hex(s_.private_key), Hex(v_.sk_sm));
  }
}

TEST_P(Rfc9180Vector, EncapAndDecap) {
  Kem kem = v_.suite.kem;
  Result<internal::Encapsulation> encap =
      IsAuth(v_.mode) ? internal::AuthEncap(kem, v_.pk_rm, s_.private_key, &e_)
                      : internal::Encap(kem, v_.pk_rm, &e_);
  ASSERT_OK(encap);
  EXPECT_EQ(Hex(encap->enc), Hex(v_.enc));
  EXPECT_EQ(Hex(encap->shared_secret), Hex(v_.shared_secret));
  Result<SecretBytes> decap = IsAuth(v_.mode)
                                  ? internal::AuthDecap(kem, v_.enc, r_.private_key, v_.pk_sm)
                                  : internal::Decap(kem, v_.enc, r_.private_key);
  ASSERT_OK(decap);
  EXPECT_EQ(Hex(*decap), Hex(v_.shared_secret));
}

TEST_P(Rfc9180Vector, KeySchedule) {
  ASSERT_OK_AND_ASSIGN(Bytes context,
                       internal::KeyScheduleContext(v_.suite, v_.mode, v_.psk_id, v_.info));
  EXPECT_EQ(Hex(context), Hex(v_.key_schedule_context));
  ASSERT_OK_AND_ASSIGN(SecretBytes shared, SecretBytes::CopyFrom(v_.shared_secret));
  ASSERT_OK_AND_ASSIGN(SecretBytes secret, internal::KeyScheduleSecret(v_.suite, shared, v_.psk));
  EXPECT_EQ(Hex(secret), Hex(v_.secret));

  ASSERT_OK_AND_ASSIGN(SenderSetup sender,
                       SetupSender(v_.suite, v_.mode, v_.pk_rm, v_.info, SenderOptions()));
  EXPECT_EQ(Hex(sender.enc), Hex(v_.enc));
  ASSERT_OK_AND_ASSIGN(Context recipient, SetupRecipient(v_.suite, v_.mode, v_.enc, r_.private_key,
                                                         v_.info, RecipientOptions()));
  for (const Context* c : {&sender.context, &recipient}) {
    EXPECT_EQ(Hex(c->KeyForTest()), Hex(v_.key));
    EXPECT_EQ(Hex(c->BaseNonceForTest()), Hex(v_.base_nonce));
    EXPECT_EQ(Hex(c->ExporterSecretForTest()), Hex(v_.exporter_secret));
  }
}

TEST_P(Rfc9180Vector, Encryptions) {
  ASSERT_OK_AND_ASSIGN(SenderSetup sender,
                       SetupSender(v_.suite, v_.mode, v_.pk_rm, v_.info, SenderOptions()));
  ASSERT_OK_AND_ASSIGN(Context recipient, SetupRecipient(v_.suite, v_.mode, v_.enc, r_.private_key,
                                                         v_.info, RecipientOptions()));
  if (v_.suite.aead == Aead::kExportOnly) {
    EXPECT_TRUE(v_.encryptions.empty());
    EXPECT_CODE(sender.context.Seal(AsBytes("aad"), AsBytes("pt")), Code::kInvalidArgument);
    EXPECT_CODE(recipient.Open(AsBytes("aad"), Bytes(32, 0)), Code::kInvalidArgument);
    EXPECT_CODE(recipient.OpenSecret(AsBytes("aad"), Bytes(32, 0)), Code::kInvalidArgument);
    return;
  }
  ASSERT_FALSE(v_.encryptions.empty());
  // A second recipient context checks OpenSecret at each seq without disturbing the first.
  ASSERT_OK_AND_ASSIGN(Context recipient2, SetupRecipient(v_.suite, v_.mode, v_.enc, r_.private_key,
                                                          v_.info, RecipientOptions()));
  std::uint64_t next = 0;  // seq 0, 1, 2 come from the contexts' own increments; later ones are set
  for (const Encryption& e : v_.encryptions) {
    SCOPED_TRACE("seq " + std::to_string(e.seq));
    if (e.seq != next) {
      sender.context.SetSequenceForTest(e.seq);
      recipient.SetSequenceForTest(e.seq);
    }
    ASSERT_OK_AND_ASSIGN(Bytes ct, sender.context.Seal(e.aad, e.pt));
    EXPECT_EQ(Hex(ct), Hex(e.ct));
    ASSERT_OK_AND_ASSIGN(Bytes pt, recipient.Open(e.aad, e.ct));
    EXPECT_EQ(Hex(pt), Hex(e.pt));
    recipient2.SetSequenceForTest(e.seq);
    ASSERT_OK_AND_ASSIGN(SecretBytes secret_pt, recipient2.OpenSecret(e.aad, e.ct));
    EXPECT_EQ(Hex(secret_pt), Hex(e.pt));
    next = e.seq + 1;
  }
}

TEST_P(Rfc9180Vector, Exports) {
  ASSERT_OK_AND_ASSIGN(SenderSetup sender,
                       SetupSender(v_.suite, v_.mode, v_.pk_rm, v_.info, SenderOptions()));
  ASSERT_OK_AND_ASSIGN(Context recipient, SetupRecipient(v_.suite, v_.mode, v_.enc, r_.private_key,
                                                         v_.info, RecipientOptions()));
  ASSERT_FALSE(v_.exports.empty());
  for (const Export& x : v_.exports) {
    SCOPED_TRACE("exporter_context " + Hex(x.context));
    for (const Context* c : {&sender.context, &recipient}) {
      ASSERT_OK_AND_ASSIGN(SecretBytes value, c->Export(x.context, x.length));
      EXPECT_EQ(Hex(value), Hex(x.value));
    }
  }
}

TEST_P(Rfc9180Vector, TamperedEncCiphertextOrAadFailsOpen) {
  if (v_.encryptions.empty()) GTEST_SKIP() << "export-only suite has no ciphertexts";
  const Encryption& e = v_.encryptions.front();
  ASSERT_EQ(e.seq, 0u);
  auto open = [&](ByteSpan enc, ByteSpan aad, ByteSpan ct) -> Result<Bytes> {
    SIGIL_ASSIGN_OR_RETURN(Context r, SetupRecipient(v_.suite, v_.mode, enc, r_.private_key,
                                                     v_.info, RecipientOptions()));
    return r.Open(aad, ct);
  };
  ASSERT_OK(open(v_.enc, e.aad, e.ct));
  for (std::size_t i = 0; i < v_.enc.size(); ++i) {
    Bytes bad = v_.enc;
    bad[i] ^= 0x01;
    SCOPED_TRACE("enc byte " + std::to_string(i));
    EXPECT_CODE(open(bad, e.aad, e.ct), Code::kVerificationFailed);
  }
  for (std::size_t i = 0; i < e.ct.size(); ++i) {
    Bytes bad = e.ct;
    bad[i] ^= 0x80;
    SCOPED_TRACE("ct byte " + std::to_string(i));
    EXPECT_CODE(open(v_.enc, e.aad, bad), Code::kVerificationFailed);
  }
  for (std::size_t i = 0; i < e.aad.size(); ++i) {
    Bytes bad = e.aad;
    bad[i] ^= 0x01;
    SCOPED_TRACE("aad byte " + std::to_string(i));
    EXPECT_CODE(open(v_.enc, bad, e.ct), Code::kVerificationFailed);
  }
}

INSTANTIATE_TEST_SUITE_P(AppendixA, Rfc9180Vector, ::testing::ValuesIn(SetupIndices()), SetupName);

// ---- Sigil's suite and misuse ----

KeyPair FixedKeyPair(Kem kem, std::uint8_t fill) {
  Result<KeyPair> kp = DeriveKeyPair(kem, Bytes(32, fill));
  SIGIL_CHECK(kp.has_value());
  return std::move(kp).value();
}

TEST(Hpke, SigilSuiteRoundTripWithGeneratedKeys) {
  ASSERT_OK_AND_ASSIGN(KeyPair r, GenerateKeyPair(kSigilSuite.kem));
  ASSERT_EQ(r.private_key.size(), 32u);
  ASSERT_EQ(r.public_key.size(), 32u);
  ASSERT_OK_AND_ASSIGN(Bytes pk, PublicKeyFromPrivate(kSigilSuite.kem, r.private_key));
  EXPECT_EQ(pk, r.public_key);
  EXPECT_OK(ValidatePublicKey(kSigilSuite.kem, r.public_key));
  ASSERT_OK_AND_ASSIGN(Sealed a, Seal(kSigilSuite, r.public_key, AsBytes("info"), AsBytes("aad"),
                                      AsBytes("a DEK!")));
  ASSERT_OK_AND_ASSIGN(Sealed b, Seal(kSigilSuite, r.public_key, AsBytes("info"), AsBytes("aad"),
                                      AsBytes("a DEK!")));
  EXPECT_EQ(a.enc.size(), 32u);
  EXPECT_EQ(a.ciphertext.size(), 6u + kAeadTagSize);
  EXPECT_NE(a.enc, b.enc) << "every Seal must use a fresh ephemeral key";
  ASSERT_OK_AND_ASSIGN(Bytes pt, Open(kSigilSuite, a.enc, r.private_key, AsBytes("info"),
                                      AsBytes("aad"), a.ciphertext));
  EXPECT_EQ(ToString(pt), "a DEK!");
  ASSERT_OK_AND_ASSIGN(SecretBytes dek, OpenSecret(kSigilSuite, b.enc, r.private_key,
                                                   AsBytes("info"), AsBytes("aad"), b.ciphertext));
  EXPECT_EQ(ToString(dek.Reveal(SecretAccess::Get())), "a DEK!");
  ASSERT_OK_AND_ASSIGN(KeyPair other, GenerateKeyPair(kSigilSuite.kem));
  EXPECT_CODE(
      Open(kSigilSuite, a.enc, other.private_key, AsBytes("info"), AsBytes("aad"), a.ciphertext),
      Code::kVerificationFailed);
}

// Every single-byte change to enc, ciphertext or aad, and a different info, must fail Open.
void ExpectTamperEvident(Suite suite) {
  KeyPair r = FixedKeyPair(suite.kem, 0x42);
  Bytes aad = ToBytes("tenant=acme"), info = ToBytes("sigil/v1/dek");
  ASSERT_OK_AND_ASSIGN(Sealed s, Seal(suite, r.public_key, info, aad, AsBytes("sixteen byte key")));
  ASSERT_OK(Open(suite, s.enc, r.private_key, info, aad, s.ciphertext));
  for (std::size_t i = 0; i < s.enc.size(); ++i) {
    for (std::uint8_t mask : {0x01, 0x80}) {
      Bytes bad = s.enc;
      bad[i] ^= mask;
      SCOPED_TRACE("enc byte " + std::to_string(i) + " mask " + std::to_string(mask));
      EXPECT_CODE(Open(suite, bad, r.private_key, info, aad, s.ciphertext),
                  Code::kVerificationFailed);
    }
  }
  for (std::size_t i = 0; i < s.ciphertext.size(); ++i) {
    Bytes bad = s.ciphertext;
    bad[i] ^= 0x01;
    SCOPED_TRACE("ct byte " + std::to_string(i));
    EXPECT_CODE(Open(suite, s.enc, r.private_key, info, aad, bad), Code::kVerificationFailed);
    EXPECT_CODE(OpenSecret(suite, s.enc, r.private_key, info, aad, bad), Code::kVerificationFailed);
  }
  for (std::size_t i = 0; i < aad.size(); ++i) {
    Bytes bad = aad;
    bad[i] ^= 0x20;
    EXPECT_CODE(Open(suite, s.enc, r.private_key, info, bad, s.ciphertext),
                Code::kVerificationFailed);
  }
  EXPECT_CODE(Open(suite, s.enc, r.private_key, AsBytes("sigil/v1/deK"), aad, s.ciphertext),
              Code::kVerificationFailed);
  EXPECT_CODE(Open(suite, s.enc, r.private_key, info, aad,
                   ByteSpan(s.ciphertext).first(s.ciphertext.size() - 1)),
              Code::kVerificationFailed);
  EXPECT_CODE(
      Open(suite, ByteSpan(s.enc).first(s.enc.size() - 1), r.private_key, info, aad, s.ciphertext),
      Code::kInvalidArgument);
}

TEST(Hpke, SigilSuiteIsTamperEvident) { ExpectTamperEvident(kSigilSuite); }
TEST(Hpke, P256SuiteIsTamperEvident) {
  ExpectTamperEvident({Kem::kP256HkdfSha256, Kdf::kHkdfSha256, Aead::kAes128Gcm});
}

TEST(Hpke, VerifyPskInputs) {
  KeyPair r = FixedKeyPair(kSigilSuite.kem, 1);
  ASSERT_OK_AND_ASSIGN(SecretBytes psk, SecretBytes::CopyFrom(Bytes(32, 7)));
  ASSERT_OK_AND_ASSIGN(SecretBytes short_psk, SecretBytes::CopyFrom(Bytes(31, 7)));
  Bytes psk_id = ToBytes("psk-1");
  auto setup = [&](Mode mode, const SecretBytes* p, ByteSpan id) {
    SetupOptions o;
    o.psk = p;
    o.psk_id = id;
    return SetupSender(kSigilSuite, mode, r.public_key, {}, o);
  };
  EXPECT_OK(setup(Mode::kPsk, &psk, psk_id));
  EXPECT_CODE(setup(Mode::kPsk, nullptr, {}), Code::kInvalidArgument);         // missing PSK
  EXPECT_CODE(setup(Mode::kPsk, &psk, {}), Code::kInvalidArgument);            // psk without psk_id
  EXPECT_CODE(setup(Mode::kPsk, nullptr, psk_id), Code::kInvalidArgument);     // psk_id without psk
  EXPECT_CODE(setup(Mode::kBase, &psk, psk_id), Code::kInvalidArgument);       // PSK not needed
  EXPECT_CODE(setup(Mode::kPsk, &short_psk, psk_id), Code::kInvalidArgument);  // < 32 bytes
  EXPECT_CODE(setup(static_cast<Mode>(4), nullptr, {}), Code::kInvalidArgument);
  EXPECT_CODE(SetupRecipient(kSigilSuite, Mode::kPsk, r.public_key, r.private_key, {}, {}),
              Code::kInvalidArgument);
}

TEST(Hpke, AuthModeNeedsTheSenderKeyAndBindsIt) {
  KeyPair r = FixedKeyPair(kSigilSuite.kem, 1), s = FixedKeyPair(kSigilSuite.kem, 2);
  KeyPair mallory = FixedKeyPair(kSigilSuite.kem, 3);
  EXPECT_CODE(SetupSender(kSigilSuite, Mode::kAuth, r.public_key, {}), Code::kInvalidArgument);
  SetupOptions o;
  o.sender_private_key = &s.private_key;
  EXPECT_CODE(SetupSender(kSigilSuite, Mode::kBase, r.public_key, {}, o), Code::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(SenderSetup sender,
                       SetupSender(kSigilSuite, Mode::kAuth, r.public_key, {}, o));
  ASSERT_OK_AND_ASSIGN(Bytes ct, sender.context.Seal({}, AsBytes("hi")));
  SetupOptions ro;
  ro.sender_public_key = s.public_key;
  ASSERT_OK_AND_ASSIGN(Context good,
                       SetupRecipient(kSigilSuite, Mode::kAuth, sender.enc, r.private_key, {}, ro));
  EXPECT_OK(good.Open({}, ct));
  ro.sender_public_key = mallory.public_key;
  ASSERT_OK_AND_ASSIGN(Context bad,
                       SetupRecipient(kSigilSuite, Mode::kAuth, sender.enc, r.private_key, {}, ro));
  EXPECT_CODE(bad.Open({}, ct), Code::kVerificationFailed);
  EXPECT_CODE(SetupRecipient(kSigilSuite, Mode::kAuth, sender.enc, r.private_key, {}, {}),
              Code::kInvalidArgument);
}

TEST(Hpke, ContextRolesSequenceAndLimits) {
  KeyPair r = FixedKeyPair(kSigilSuite.kem, 1);
  ASSERT_OK_AND_ASSIGN(SenderSetup s, SetupSender(kSigilSuite, Mode::kBase, r.public_key, {}));
  ASSERT_OK_AND_ASSIGN(Context rc,
                       SetupRecipient(kSigilSuite, Mode::kBase, s.enc, r.private_key, {}));
  ASSERT_OK_AND_ASSIGN(Bytes ct0, s.context.Seal({}, AsBytes("m0")));
  EXPECT_CODE(s.context.Open({}, ct0), Code::kInvalidArgument);    // 5.2: sender must not Open
  EXPECT_CODE(rc.Seal({}, AsBytes("x")), Code::kInvalidArgument);  // nor the recipient Seal
  ASSERT_OK_AND_ASSIGN(Bytes ct1, s.context.Seal({}, AsBytes("m1")));
  EXPECT_CODE(rc.Open({}, ct1), Code::kVerificationFailed);  // out of order
  ASSERT_OK_AND_ASSIGN(Bytes m0, rc.Open({}, ct0));          // a failed Open kept seq at 0
  ASSERT_OK_AND_ASSIGN(Bytes m1, rc.Open({}, ct1));
  EXPECT_EQ(ToString(m0) + ToString(m1), "m0m1");
  EXPECT_CODE(rc.Open({}, ct0), Code::kVerificationFailed);  // replay at seq 2

  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  s.context.SetSequenceForTest(kMax - 1);
  ASSERT_OK_AND_ASSIGN(Bytes last, s.context.Seal({}, AsBytes("last")));
  EXPECT_CODE(s.context.Seal({}, AsBytes("one too many")), Code::kInvalidArgument);
  rc.SetSequenceForTest(kMax - 1);
  EXPECT_OK(rc.Open({}, last));
  EXPECT_CODE(rc.Open({}, last), Code::kInvalidArgument);

  EXPECT_OK(s.context.Export({}, 255 * 32));
  EXPECT_CODE(s.context.Export({}, 255 * 32 + 1), Code::kInvalidArgument);
}

TEST(Hpke, ExportOnlySuiteExportsButNeverSeals) {
  Suite suite{Kem::kX25519HkdfSha256, Kdf::kHkdfSha256, Aead::kExportOnly};
  KeyPair r = FixedKeyPair(suite.kem, 1);
  ASSERT_OK_AND_ASSIGN(SenderSetup s, SetupSender(suite, Mode::kBase, r.public_key, AsBytes("i")));
  ASSERT_OK_AND_ASSIGN(Context rc,
                       SetupRecipient(suite, Mode::kBase, s.enc, r.private_key, AsBytes("i")));
  ASSERT_OK_AND_ASSIGN(SecretBytes a, s.context.Export(AsBytes("ctx"), 48));
  ASSERT_OK_AND_ASSIGN(SecretBytes b, rc.Export(AsBytes("ctx"), 48));
  EXPECT_TRUE(ConstantTimeEquals(a, b));
  EXPECT_CODE(s.context.Seal({}, AsBytes("x")), Code::kInvalidArgument);
  EXPECT_CODE(Seal(suite, r.public_key, {}, {}, AsBytes("x")), Code::kInvalidArgument);
}

TEST(Hpke, RejectsSmallOrderAndInvalidKeys) {
  KeyPair r = FixedKeyPair(kSigilSuite.kem, 1);
  Bytes zero(32, 0);
  ASSERT_OK_AND_ASSIGN(
      Bytes order8, HexDecode("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"));
  for (const Bytes& low : {zero, order8}) {
    EXPECT_CODE(Seal(kSigilSuite, low, {}, {}, AsBytes("x")), Code::kInvalidArgument);
    EXPECT_CODE(Open(kSigilSuite, low, r.private_key, {}, {}, Bytes(17, 0)),
                Code::kVerificationFailed);
    EXPECT_CODE(ValidatePublicKey(kSigilSuite.kem, low), Code::kInvalidArgument);
  }
  EXPECT_CODE(Seal(kSigilSuite, Bytes(31, 9), {}, {}, AsBytes("x")), Code::kInvalidArgument);

  Kem p256 = Kem::kP256HkdfSha256;
  KeyPair p = FixedKeyPair(p256, 1);
  ASSERT_EQ(p.public_key.size(), 65u);
  EXPECT_OK(ValidatePublicKey(p256, p.public_key));
  Bytes off_curve = p.public_key;
  off_curve[64] ^= 1;
  Bytes compressed = p.public_key;
  compressed[0] = 0x02;
  for (const Bytes& bad : {off_curve, compressed, Bytes(65, 0), Bytes(33, 2)}) {
    EXPECT_CODE(ValidatePublicKey(p256, bad), Code::kInvalidArgument);
    EXPECT_CODE(Seal({p256, Kdf::kHkdfSha256, Aead::kAes128Gcm}, bad, {}, {}, AsBytes("x")),
                Code::kInvalidArgument);
  }
}

TEST(Hpke, P256PrivateScalarRange) {
  ASSERT_OK_AND_ASSIGN(
      Bytes order, HexDecode("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"));
  Bytes order_minus_1 = order;
  order_minus_1.back() -= 1;
  Bytes one(32, 0);
  one.back() = 1;
  Kem p256 = Kem::kP256HkdfSha256;
  EXPECT_TRUE(internal::IsValidPrivateScalar(p256, one));
  EXPECT_TRUE(internal::IsValidPrivateScalar(p256, order_minus_1));
  EXPECT_FALSE(internal::IsValidPrivateScalar(p256, order));
  EXPECT_FALSE(internal::IsValidPrivateScalar(p256, Bytes(32, 0)));
  EXPECT_FALSE(internal::IsValidPrivateScalar(p256, Bytes(32, 0xff)));
  EXPECT_TRUE(internal::IsValidPrivateScalar(Kem::kX25519HkdfSha256, Bytes(32, 0)));
  for (const Bytes& bad : {order, Bytes(32, 0)}) {
    ASSERT_OK_AND_ASSIGN(SecretBytes sk, SecretBytes::CopyFrom(bad));
    EXPECT_CODE(PublicKeyFromPrivate(p256, sk), Code::kInvalidArgument);
  }
  // pk(1) is the P-256 generator (SEC 2 v2, section 2.4.2).
  ASSERT_OK_AND_ASSIGN(SecretBytes sk_one, SecretBytes::CopyFrom(one));
  ASSERT_OK_AND_ASSIGN(Bytes g, PublicKeyFromPrivate(p256, sk_one));
  EXPECT_EQ(Hex(g),
            "046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
            "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5");
}

TEST(Hpke, RejectsShortIkmAndUnsupportedAlgorithms) {
  EXPECT_CODE(DeriveKeyPair(Kem::kX25519HkdfSha256, Bytes(31, 1)), Code::kInvalidArgument);
  EXPECT_CODE(DeriveKeyPair(static_cast<Kem>(0x12), Bytes(66, 1)), Code::kInvalidArgument);
  EXPECT_CODE(GenerateKeyPair(static_cast<Kem>(0x21)), Code::kInvalidArgument);
  KeyPair r = FixedKeyPair(kSigilSuite.kem, 1);
  EXPECT_CODE(
      Seal({kSigilSuite.kem, static_cast<Kdf>(9), kSigilSuite.aead}, r.public_key, {}, {}, {}),
      Code::kInvalidArgument);
  EXPECT_CODE(
      Seal({kSigilSuite.kem, kSigilSuite.kdf, static_cast<Aead>(4)}, r.public_key, {}, {}, {}),
      Code::kInvalidArgument);
}

}  // namespace
}  // namespace sigil::hpke
