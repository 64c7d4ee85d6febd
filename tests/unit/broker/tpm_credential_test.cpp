// MakeCredential (broker, software) against the real thing: a swtpm's TPM2_ActivateCredential
// must accept what the broker produces and return the same credential; tpm2_makecredential's
// output (an independent producer) must activate through enclave/tpm/activate.h; a credential
// made for another AK Name or another EK is refused by the TPM; ECC EKs are refused up front.
#include <gtest/gtest.h>
#include <openssl/x509.h>

#include <openssl/pem.h>

#include <algorithm>
#include <filesystem>

#include "broker/store/store_auth.h"
#include "broker/store/store_open.h"
#include "broker/tpm/tpm_credential.h"
#include "broker/tpm/tpm_enrol.h"
#include "broker/tpm/tpm_seal_ak_public.h"
#include "core/encoding.h"
#include "core/file_io.h"
#include "core/ossl.h"
#include "enclave/tpm/activate.h"
#include "enclave/tpm/ak.h"
#include "enclave/tpm/ek.h"
#include "tests/support/matchers.h"
#include "tests/support/process.h"
#include "tests/support/swtpm.h"
#include "tests/support/temp_dir.h"

namespace sigil::broker {
namespace {

using enclave::tpm::EsysContext;
using sigil::testing::Swtpm;
using sigil::testing::TempDir;

Bytes Reveal(const SecretBytes& s) {
  auto v = s.Reveal(SecretAccess::Get());
  return Bytes(v.begin(), v.end());
}

EvpPkeyPtr EkKey(const TPM2B_PUBLIC& pub) {
  auto der = enclave::tpm::PublicAreaToSpkiDer(pub);
  EXPECT_TRUE(der.has_value());
  if (!der) return nullptr;
  const unsigned char* p = der->data();
  return EvpPkeyPtr(d2i_PUBKEY(nullptr, &p, static_cast<long>(der->size())));
}

class TpmCredentialTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string state = tmp_.File("tpm");
    std::filesystem::create_directories(state);
    auto s = Swtpm::Start(state);
    ASSERT_TRUE(s.has_value()) << s.error().message();
    tpm_ = std::make_unique<Swtpm>(std::move(*s));
    auto ctx = enclave::tpm::OpenTpm(tpm_->Tcti());
    ASSERT_TRUE(ctx.has_value()) << ctx.error().message();
    ctx_ = std::move(*ctx);
  }
  Bytes AkName(const TPM2B_PUBLIC& pub) {
    auto marshalled = enclave::tpm::MarshalPublic(pub);
    EXPECT_TRUE(marshalled.has_value());
    auto ak = ParseAkPublic(*marshalled);
    EXPECT_TRUE(ak.has_value()) << ak.error().message();
    return ak ? ak->name : Bytes{};
  }
  void ToolsCredentialActivates(bool ecc);
  std::uint32_t TransientsInUse() {
    TPMS_CAPABILITY_DATA* caps = nullptr;
    EXPECT_EQ(Esys_GetCapability(ctx_.get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_HANDLES,
                                 TPM2_TRANSIENT_FIRST, 64, nullptr, &caps),
              TSS2_RC_SUCCESS);
    std::uint32_t n = caps ? caps->data.handles.count : 999;
    Esys_Free(caps);
    return n;
  }

  TempDir tmp_;
  std::unique_ptr<Swtpm> tpm_;
  EsysContext ctx_;
};

TEST_F(TpmCredentialTest, BrokerCredentialActivatesOnRealTpm) {
  ASSERT_OK_AND_ASSIGN(auto ek, enclave::tpm::CreateRsaEk(ctx_));
  ASSERT_OK_AND_ASSIGN(auto ak, enclave::tpm::CreatePrimaryAk(ctx_, enclave::tpm::AkKind::kRsaSsaSha256));
  EvpPkeyPtr ek_key = EkKey(ek.pub);
  ASSERT_TRUE(ek_key);
  ASSERT_OK_AND_ASSIGN(SecretBytes secret, SecretBytes::Random(32));
  ASSERT_OK_AND_ASSIGN(MadeCredential made, MakeCredential(ek_key.get(), AkName(ak.pub), secret));
  ASSERT_OK_AND_ASSIGN(SecretBytes got, enclave::tpm::ActivateCredential(ctx_, ak.handle(), ek.handle.get(),
                                                                         made.credential_blob,
                                                                         made.encrypted_secret));
  EXPECT_EQ(Reveal(got), Reveal(secret));
  // A second, independent credential (fresh seed) for an ECC AK works as well.
  ASSERT_OK_AND_ASSIGN(auto ecc_ak, enclave::tpm::CreatePrimaryAk(ctx_, enclave::tpm::AkKind::kEccP256Sha256));
  ASSERT_OK_AND_ASSIGN(MadeCredential made2, MakeCredential(ek_key.get(), AkName(ecc_ak.pub), secret));
  EXPECT_NE(made2.encrypted_secret, made.encrypted_secret);
  ASSERT_OK_AND_ASSIGN(SecretBytes got2, enclave::tpm::ActivateCredential(ctx_, ecc_ak.handle(), ek.handle.get(),
                                                                          made2.credential_blob,
                                                                          made2.encrypted_secret));
  EXPECT_EQ(Reveal(got2), Reveal(secret));
}

// The ECC P-256 EK (template L-2): seed by ECDH + KDFe instead of RSA-OAEP.
TEST_F(TpmCredentialTest, BrokerCredentialForEccEkActivatesOnRealTpm) {
  ASSERT_OK_AND_ASSIGN(auto ek, enclave::tpm::CreateEccEk(ctx_));
  ASSERT_OK_AND_ASSIGN(auto ak, enclave::tpm::CreatePrimaryAk(ctx_, enclave::tpm::AkKind::kEccP256Sha256));
  EvpPkeyPtr ek_key = EkKey(ek.pub);
  ASSERT_TRUE(ek_key);
  for (int i = 0; i < 4; ++i) {  // a fresh ephemeral key each time
    ASSERT_OK_AND_ASSIGN(SecretBytes secret, SecretBytes::Random(32));
    ASSERT_OK_AND_ASSIGN(MadeCredential made, MakeCredential(ek_key.get(), AkName(ak.pub), secret));
    ASSERT_OK_AND_ASSIGN(SecretBytes got, enclave::tpm::ActivateCredential(ctx_, ak.handle(), ek.handle.get(),
                                                                           made.credential_blob,
                                                                           made.encrypted_secret));
    EXPECT_EQ(Reveal(got), Reveal(secret));
  }
}

TEST_F(TpmCredentialTest, CredentialForAnotherAkNameIsRefusedByTheTpm) {
  ASSERT_OK_AND_ASSIGN(auto ek, enclave::tpm::CreateRsaEk(ctx_));
  ASSERT_OK_AND_ASSIGN(auto rsa_ak, enclave::tpm::CreatePrimaryAk(ctx_, enclave::tpm::AkKind::kRsaSsaSha256));
  ASSERT_OK_AND_ASSIGN(auto ecc_ak, enclave::tpm::CreatePrimaryAk(ctx_, enclave::tpm::AkKind::kEccP256Sha256));
  EvpPkeyPtr ek_key = EkKey(ek.pub);
  ASSERT_TRUE(ek_key);
  ASSERT_OK_AND_ASSIGN(SecretBytes secret, SecretBytes::Random(32));
  // Made for the ECC AK's Name, presented with the RSA AK loaded as activateHandle.
  ASSERT_OK_AND_ASSIGN(MadeCredential made, MakeCredential(ek_key.get(), AkName(ecc_ak.pub), secret));
  auto got = enclave::tpm::ActivateCredential(ctx_, rsa_ak.handle(), ek.handle.get(), made.credential_blob,
                                              made.encrypted_secret);
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code(), Code::kVerificationFailed) << got.error().message();
  EXPECT_NE(got.error().message().find("Esys_ActivateCredential"), std::string::npos);
  // A flipped bit in the encrypted identity breaks the outer HMAC.
  ASSERT_OK_AND_ASSIGN(MadeCredential good, MakeCredential(ek_key.get(), AkName(rsa_ak.pub), secret));
  good.credential_blob.back() ^= 1;
  auto tampered = enclave::tpm::ActivateCredential(ctx_, rsa_ak.handle(), ek.handle.get(), good.credential_blob,
                                                   good.encrypted_secret);
  ASSERT_FALSE(tampered.has_value());
  EXPECT_EQ(tampered.error().code(), Code::kVerificationFailed) << tampered.error().message();
}

TEST_F(TpmCredentialTest, CredentialForAnotherEkIsRefusedByTheTpm) {
  ASSERT_OK_AND_ASSIGN(auto ek, enclave::tpm::CreateRsaEk(ctx_));
  ASSERT_OK_AND_ASSIGN(auto ak, enclave::tpm::CreatePrimaryAk(ctx_, enclave::tpm::AkKind::kRsaSsaSha256));
  // An RSA-2048 key that is not this TPM's EK.
  EvpPkeyPtr other(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048)));
  ASSERT_TRUE(other);
  ASSERT_OK_AND_ASSIGN(SecretBytes secret, SecretBytes::Random(32));
  ASSERT_OK_AND_ASSIGN(MadeCredential made, MakeCredential(other.get(), AkName(ak.pub), secret));
  auto got = enclave::tpm::ActivateCredential(ctx_, ak.handle(), ek.handle.get(), made.credential_blob,
                                              made.encrypted_secret);
  // A real TPM answers a failed OAEP decryption with TPM_RC_VALUE; swtpm (libtpms with its
  // OpenSSL backend) answers TPM_RC_FAILURE. Either way: refused, and the TPM still works.
  ASSERT_FALSE(got.has_value());
  EXPECT_NE(got.error().message().find("Esys_ActivateCredential"), std::string::npos) << got.error().message();
  EvpPkeyPtr ek_key = EkKey(ek.pub);
  ASSERT_OK_AND_ASSIGN(MadeCredential good, MakeCredential(ek_key.get(), AkName(ak.pub), secret));
  ASSERT_OK_AND_ASSIGN(SecretBytes again, enclave::tpm::ActivateCredential(ctx_, ak.handle(), ek.handle.get(),
                                                                           good.credential_blob,
                                                                           good.encrypted_secret));
  EXPECT_EQ(Reveal(again), Reveal(secret));
}

// tpm2_makecredential (tpm2-tools, an independent implementation) as the producer.
void TpmCredentialTest::ToolsCredentialActivates(bool ecc) {
  auto ek = ecc ? enclave::tpm::CreateEccEk(ctx_) : enclave::tpm::CreateRsaEk(ctx_);
  ASSERT_TRUE(ek.has_value()) << ek.error().message();
  ASSERT_OK_AND_ASSIGN(auto ak, enclave::tpm::CreatePrimaryAk(ctx_, enclave::tpm::AkKind::kRsaSsaSha256));
  ASSERT_OK_AND_ASSIGN(Bytes ek_pub, enclave::tpm::MarshalPublic(ek->pub));
  std::string ek_file = tmp_.File("ek.pub"), secret_file = tmp_.File("secret"), out_file = tmp_.File("cred");
  ASSERT_OK(WriteFileAtomic(ek_file, ek_pub));
  ASSERT_OK_AND_ASSIGN(SecretBytes secret, SecretBytes::Random(32));
  ASSERT_OK(WriteFileAtomic(secret_file, Reveal(secret)));
  auto r = sigil::testing::Run({"/usr/bin/tpm2_makecredential", "--tcti", "none", "-u", ek_file, "-s", secret_file,
                                "-n", HexEncode(AkName(ak.pub)), "-o", out_file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_OK_AND_ASSIGN(Bytes file, ReadFile(out_file));
  // tpm2-tools credential file: magic 0xBADCC0DE, version 1 (both big-endian u32), then the
  // marshalled TPM2B_ID_OBJECT and TPM2B_ENCRYPTED_SECRET.
  ASSERT_GT(file.size(), 12u);
  ASSERT_EQ(HexEncode(ByteSpan(file.data(), 8)), "badcc0de00000001");
  std::size_t id_len = 2 + ((file[8] << 8) | file[9]);
  ASSERT_LT(8 + id_len, file.size());
  Bytes id(file.begin() + 8, file.begin() + 8 + id_len);
  Bytes enc(file.begin() + 8 + id_len, file.end());
  ASSERT_OK_AND_ASSIGN(SecretBytes got, enclave::tpm::ActivateCredential(ctx_, ak.handle(), ek->handle.get(), id, enc));
  EXPECT_EQ(Reveal(got), Reveal(secret));
}

TEST_F(TpmCredentialTest, Tpm2ToolsMakeCredentialActivatesThroughOurCode) { ToolsCredentialActivates(false); }
TEST_F(TpmCredentialTest, Tpm2ToolsMakeCredentialForEccEkActivatesThroughOurCode) { ToolsCredentialActivates(true); }

TEST_F(TpmCredentialTest, NoTransientHandleLeftBehind) {
  std::uint32_t before = TransientsInUse();
  {
    ASSERT_OK_AND_ASSIGN(auto ek, enclave::tpm::CreateRsaEk(ctx_));
    ASSERT_OK_AND_ASSIGN(auto ak, enclave::tpm::CreatePrimaryAk(ctx_, enclave::tpm::AkKind::kRsaSsaSha256));
    EvpPkeyPtr ek_key = EkKey(ek.pub);
    ASSERT_OK_AND_ASSIGN(SecretBytes secret, SecretBytes::Random(16));
    ASSERT_OK_AND_ASSIGN(MadeCredential made, MakeCredential(ek_key.get(), AkName(ak.pub), secret));
    ASSERT_OK(enclave::tpm::ActivateCredential(ctx_, ak.handle(), ek.handle.get(), made.credential_blob,
                                               made.encrypted_secret));
  }
  EXPECT_EQ(TransientsInUse(), before);
}

// Broker-side enrolment (broker/tpm/tpm_enrol.h) end to end with the real TPM as the workload.
class TpmEnrolTest : public TpmCredentialTest {
 protected:
  void SetUp() override {
    TpmCredentialTest::SetUp();
    auto ek = enclave::tpm::CreateRsaEk(ctx_);
    ASSERT_TRUE(ek.has_value()) << ek.error().message();
    ek_ = std::move(*ek);
    auto ak = enclave::tpm::CreatePrimaryAk(ctx_, enclave::tpm::AkKind::kRsaSsaSha256);
    ASSERT_TRUE(ak.has_value()) << ak.error().message();
    ak_ = std::move(*ak);
    auto der = enclave::tpm::PublicAreaToSpkiDer(ek_.pub);
    ASSERT_TRUE(der.has_value());
    ek_der_ = *der;
    auto ak_pub = enclave::tpm::MarshalPublic(ak_.pub);
    ASSERT_TRUE(ak_pub.has_value());
    ak_public_ = *ak_pub;
    auto root = SecretBytes::Random(32);
    ASSERT_TRUE(root.has_value());
    root_ = std::make_unique<SecretBytes>(std::move(*root));
    ReopenStore(StoreOpen::kCreate);
  }
  // The pending enrolments' store as sigild opens it (SQLite, authenticated); opening it again
  // is what a broker restart does.
  void ReopenStore(StoreOpen how = StoreOpen::kExisting) {
    store_.reset();
    const std::string path = tmp_.File("store.db");
    auto backend = broker::OpenStore(StoreLocation{StoreBackend::kSqlite, path, path}, how);
    ASSERT_TRUE(backend.has_value()) << backend.error().message();
    auto store = AuthenticateStore(std::move(*backend), *root_);
    ASSERT_TRUE(store.has_value());
    store_ = std::move(*store);
  }
  std::string Pem(const std::string& file) { return tmp_.File(file); }
  // `openssl` CLI: a CA, and an EK certificate shaped like a TCG one (critical keyUsage
  // keyEncipherment, critical subjectAltName) for this TPM's EK.
  void MakeCa(const std::string& name) {
    auto r = sigil::testing::Run({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                  "ec_paramgen_curve:P-256", "-nodes", "-keyout", Pem(name + ".key"), "-out",
                                  Pem(name + "/ca.pem"), "-subj", "/CN=" + name, "-days", "2"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  std::string EkCert(const std::string& ca) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    const unsigned char* p = ek_der_.data();
    EvpPkeyPtr key(d2i_PUBKEY(nullptr, &p, static_cast<long>(ek_der_.size())));
    PEM_write_bio_PUBKEY(bio.get(), key.get());
    char* data = nullptr;
    long len = BIO_get_mem_data(bio.get(), &data);
    EXPECT_OK(WriteFileAtomic(Pem("ek.pem"), Bytes(data, data + len)));
    std::string ext = "keyUsage=critical,keyEncipherment\nsubjectAltName=critical,URI:urn:tpm:swtpm\n";
    EXPECT_OK(WriteFileAtomic(Pem("ek.ext"), Bytes(ext.begin(), ext.end())));
    auto r = sigil::testing::Run({"/usr/bin/openssl", "x509", "-new", "-subj", "/CN=swtpm EK", "-force_pubkey",
                                  Pem("ek.pem"), "-CA", Pem(ca + "/ca.pem"), "-CAkey", Pem(ca + ".key"),
                                  "-extfile", Pem("ek.ext"), "-days", "1", "-out", Pem("ekcert.pem")});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto cert = ReadFile(Pem("ekcert.pem"));
    EXPECT_TRUE(cert.has_value());
    return cert ? std::string(cert->begin(), cert->end()) : "";
  }
  Result<PendingEnrolments::Started> Start(PendingEnrolments& pending, std::chrono::system_clock::time_point now) {
    SIGIL_ASSIGN_OR_RETURN(EvpPkeyPtr ek, TrustedEk(ek_der_, {ek_der_}, nullptr, now));
    SIGIL_ASSIGN_OR_RETURN(AkPublic ak, EnrollableAk(ak_public_));
    return pending.Start(*store_, "acme", ek.get(), ek_der_, std::move(ak), now);
  }
  // The EK check of a finish whose EK is still trusted.
  static Result<void> Trusted(const std::string&, ByteSpan) { return Ok(); }
  Bytes Activate(const PendingEnrolments::Started& s) {
    auto got = enclave::tpm::ActivateCredential(ctx_, ak_.handle(), ek_.handle.get(), s.credential.credential_blob,
                                                s.credential.encrypted_secret);
    EXPECT_TRUE(got.has_value()) << got.error().message();
    return got ? Reveal(*got) : Bytes{};
  }

  enclave::tpm::LoadedEk ek_;
  enclave::tpm::LoadedAk ak_;
  Bytes ek_der_, ak_public_;
  std::chrono::system_clock::time_point now_ = std::chrono::system_clock::now();
  std::unique_ptr<SecretBytes> root_;
  std::unique_ptr<Store> store_;
};

// Pending enrolments live in the store: one started before a restart (the store closed and
// opened again, a new PendingEnrolments) finishes after it. The store holds the secret's hash,
// never the secret.
TEST_F(TpmEnrolTest, AnEnrolmentStartedBeforeARestartFinishesAfterIt) {
  std::string id;
  Bytes secret;
  {
    PendingEnrolments before;
    ASSERT_OK_AND_ASSIGN(auto started, Start(before, now_));
    id = started.enrolment_id;
    secret = Activate(started);
    ASSERT_EQ(secret.size(), 32u);
  }
  ASSERT_NO_FATAL_FAILURE(ReopenStore());
  for (const char* file : {"store.db", "store.db-wal"}) {
    auto bytes = ReadFile(tmp_.File(file));
    if (!bytes) continue;
    EXPECT_EQ(std::search(bytes->begin(), bytes->end(), secret.begin(), secret.end()), bytes->end())
        << "the credential's secret is in " << file;
  }
  PendingEnrolments after;
  std::string tenant;
  ASSERT_OK_AND_ASSIGN(auto done, after.Finish(*store_, id, secret, now_, Trusted, &tenant));
  EXPECT_EQ(done.tenant, "acme");
  ASSERT_OK_AND_ASSIGN(AkPublic expected, ParseAkPublic(ak_public_));
  EXPECT_EQ(done.ak.name, expected.name);
  EXPECT_CODE(after.Finish(*store_, id, secret, now_, Trusted, &tenant), Code::kNotFound);
  // Ids that were never issued are refused the same way, whatever their shape.
  for (const std::string& bad : {std::string("../x"), std::string(32, 'A'), std::string(33, 'a'), std::string()}) {
    EXPECT_CODE(after.Finish(*store_, bad, secret, now_, Trusted, &tenant), Code::kNotFound);
  }
}

TEST_F(TpmEnrolTest, RegisteredEkEnrolsTheAkOnce) {
  PendingEnrolments pending;
  ASSERT_OK_AND_ASSIGN(auto started, Start(pending, now_));
  EXPECT_EQ(started.enrolment_id.size(), 32u);
  Bytes secret = Activate(started);
  std::string tenant;
  ASSERT_OK_AND_ASSIGN(auto done, pending.Finish(*store_, started.enrolment_id, secret, now_, Trusted, &tenant));
  EXPECT_EQ(done.tenant, "acme");
  ASSERT_OK_AND_ASSIGN(AkPublic expected, ParseAkPublic(ak_public_));
  EXPECT_EQ(done.ak.name, expected.name);
  EXPECT_EQ(done.ak.spki_der, expected.spki_der);
  // Single use: the same id and secret again are refused.
  auto again = pending.Finish(*store_, started.enrolment_id, secret, now_, Trusted, &tenant);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), Code::kNotFound) << again.error().message();
}

// The EK's trust is asked again at the finish, with the EK as presented at the start: once it
// is withdrawn (sigil tpm remove-ek), even the right secret is refused, and the enrolment is used up.
TEST_F(TpmEnrolTest, EkNoLongerTrustedAtTheFinishIsRefused) {
  PendingEnrolments pending;
  ASSERT_OK_AND_ASSIGN(auto started, Start(pending, now_));
  Bytes secret = Activate(started);
  std::string asked_tenant;
  Bytes asked_ek;
  auto removed = [&](const std::string& t, ByteSpan ek) -> Result<void> {
    asked_tenant = t;
    asked_ek.assign(ek.begin(), ek.end());
    return Fail(Code::kPermissionDenied, "ek: this EK public key is not registered for the tenant");
  };
  std::string tenant;
  auto r = pending.Finish(*store_, started.enrolment_id, secret, now_, removed, &tenant);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kPermissionDenied) << r.error().message();
  EXPECT_NE(r.error().message().find("no longer trusted"), std::string::npos) << r.error().message();
  EXPECT_EQ(tenant, "acme");
  EXPECT_EQ(asked_tenant, "acme");
  EXPECT_EQ(asked_ek, ek_der_);
  auto retry = pending.Finish(*store_, started.enrolment_id, secret, now_, Trusted, &tenant);
  ASSERT_FALSE(retry.has_value());
  EXPECT_EQ(retry.error().code(), Code::kNotFound);
}

TEST_F(TpmEnrolTest, WrongSecretIsRefusedAndConsumesTheEnrolment) {
  PendingEnrolments pending;
  ASSERT_OK_AND_ASSIGN(auto started, Start(pending, now_));
  Bytes secret = Activate(started);
  Bytes wrong = secret;
  wrong[0] ^= 1;
  std::string tenant;
  auto r = pending.Finish(*store_, started.enrolment_id, wrong, now_, Trusted, &tenant);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kVerificationFailed) << r.error().message();
  EXPECT_EQ(tenant, "acme");
  auto retry = pending.Finish(*store_, started.enrolment_id, secret, now_, Trusted, &tenant);
  ASSERT_FALSE(retry.has_value());
  EXPECT_EQ(retry.error().code(), Code::kNotFound);
}

TEST_F(TpmEnrolTest, ExpiredEnrolmentIsRefused) {
  PendingEnrolments pending(std::chrono::seconds(300));
  ASSERT_OK_AND_ASSIGN(auto started, Start(pending, now_));
  Bytes secret = Activate(started);
  std::string tenant;
  auto r = pending.Finish(*store_, started.enrolment_id, secret, now_ + std::chrono::seconds(301), Trusted, &tenant);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kExpired) << r.error().message();
  EXPECT_EQ(tenant, "acme");
}

TEST_F(TpmEnrolTest, UnregisteredEkIsRefused) {
  EvpPkeyPtr other(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048)));
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(other.get(), &der);
  ASSERT_GT(len, 0);
  Bytes other_der(der, der + len);
  OPENSSL_free(der);
  auto r = TrustedEk(ek_der_, {other_der}, nullptr, now_);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kPermissionDenied);
  EXPECT_NE(r.error().message().find("not registered"), std::string::npos) << r.error().message();
}

TEST_F(TpmEnrolTest, EkCertificateMustChainToAConfiguredCa) {
  std::filesystem::create_directories(Pem("good"));
  std::filesystem::create_directories(Pem("other"));
  MakeCa("good");
  MakeCa("other");
  std::string cert = EkCert("good");
  ASSERT_FALSE(cert.empty());
  Bytes cert_bytes(cert.begin(), cert.end());
  ASSERT_OK_AND_ASSIGN(X509StorePtr good, LoadEkCaDir(Pem("good")));
  // openssl stamps notBefore when it makes the certificate, which can be a second after now_.
  now_ = std::chrono::system_clock::now() + std::chrono::minutes(1);
  ASSERT_OK_AND_ASSIGN(EvpPkeyPtr key, TrustedEk(cert_bytes, {}, good.get(), now_));
  EXPECT_EQ(EVP_PKEY_get_bits(key.get()), 2048);
  ASSERT_OK_AND_ASSIGN(X509StorePtr other, LoadEkCaDir(Pem("other")));
  auto r = TrustedEk(cert_bytes, {}, other.get(), now_);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kPermissionDenied);
  EXPECT_NE(r.error().message().find("does not chain"), std::string::npos) << r.error().message();
  // Outside the certificate's validity.
  auto late = TrustedEk(cert_bytes, {}, good.get(), now_ + std::chrono::hours(24 * 3));
  ASSERT_FALSE(late.has_value());
  EXPECT_NE(late.error().message().find("expired"), std::string::npos) << late.error().message();
}

TEST_F(TpmEnrolTest, NonFixedOrNoUserAuthAksAreRefused) {
  TPM2B_PUBLIC pub = ak_.pub;
  pub.publicArea.objectAttributes &= ~TPMA_OBJECT_FIXEDTPM;
  ASSERT_OK_AND_ASSIGN(Bytes not_fixed, enclave::tpm::MarshalPublic(pub));
  auto r = EnrollableAk(not_fixed);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("fixedTPM"), std::string::npos) << r.error().message();
  pub = ak_.pub;
  pub.publicArea.objectAttributes &= ~TPMA_OBJECT_USERWITHAUTH;
  ASSERT_OK_AND_ASSIGN(Bytes no_user, enclave::tpm::MarshalPublic(pub));
  auto r2 = EnrollableAk(no_user);
  ASSERT_FALSE(r2.has_value());
  EXPECT_NE(r2.error().message().find("userWithAuth"), std::string::npos) << r2.error().message();
  pub = ak_.pub;
  pub.publicArea.objectAttributes |= TPMA_OBJECT_ADMINWITHPOLICY;
  ASSERT_OK_AND_ASSIGN(Bytes admin_policy, enclave::tpm::MarshalPublic(pub));
  auto r3 = EnrollableAk(admin_policy);
  ASSERT_FALSE(r3.has_value());
  EXPECT_NE(r3.error().message().find("adminWithPolicy"), std::string::npos) << r3.error().message();
  ASSERT_OK(EnrollableAk(ak_public_));
}

TEST(MakeCredentialTest, RefusesOtherCurvesAndNon2048RsaEks) {
  ASSERT_OK_AND_ASSIGN(SecretBytes secret, SecretBytes::Random(32));
  Bytes name(34, 0x11);
  EvpPkeyPtr ec(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
  ASSERT_TRUE(ec);
  auto r = MakeCredential(ec.get(), name, secret);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  EXPECT_NE(r.error().message().find("RSA-2048 or NIST P-256"), std::string::npos) << r.error().message();
  EvpPkeyPtr rsa3072(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(3072)));
  ASSERT_TRUE(rsa3072);
  auto r2 = MakeCredential(rsa3072.get(), name, secret);
  ASSERT_FALSE(r2.has_value());
  EXPECT_NE(r2.error().message().find("RSA-2048"), std::string::npos) << r2.error().message();
}

}  // namespace
}  // namespace sigil::broker
