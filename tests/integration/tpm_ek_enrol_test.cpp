// EK-based TPM AK enrolment with a real swtpm and the real binaries (sigild, sigil, sigil-load):
//  - an EK registered for a tenant (`sigil tpm register-ek`) lets `sigil-load tpm-enrol` enrol
//    the TPM's AK (MakeCredential in the broker, ActivateCredential in the swtpm); quotes from
//    that AK are then accepted for the tenant without any register-ak, and the enrolment is
//    audited; an unregistered EK is refused with a deny record;
//  - a wrong secret is refused (deny record) and consumes the enrolment; a used enrolment id is
//    refused; a non-fixedTPM AK public area is refused;
//  - an EK certificate chaining to DATA/trust/tpm-ek-ca enrols; one from another CA is refused;
//  - `sigil tpm remove-ek` removes a registered EK (audited): it is no longer listed, enrolment
//    with it is refused, also of an enrolment started before the removal; ids that are not 64
//    lowercase hex are refused with invalid_argument by the CLI and the broker;
//  - pending enrolments live in the store: one started before sigild restarts finishes after
//    the restart, once.
// Its own binary and broker (tests/support/tpm_broker_fixture.h).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "cli/admin_client.h"
#include "core/encoding.h"
#include "core/file_io.h"
#include "core/json.h"
#include "enclave/tpm/activate.h"
#include "enclave/tpm/ek.h"
#include "enclave/tpm/tpm_attester.h"
#include "net/broker_client.h"
#include "tests/support/matchers.h"
#include "tests/support/process.h"
#include "tests/support/tpm_broker_fixture.h"

namespace sigil::integration {
namespace {

using sigil::testing::BinPath;
using sigil::testing::CommandResult;

namespace fs = std::filesystem;

class TpmEkEnrol : public sigil::testing::TpmBrokerFixture {
 protected:
  // The newest record of `tenant`'s log is the enrolment's finish, allowed.
  void ExpectLastRecordIsAnAllowedEnrolment(const std::string& tenant) {
    auto recs = Audit(tenant);
    ASSERT_FALSE(recs.empty());
    EXPECT_EQ(recs.back().value("action", ""), "tpm.enrol.finish");
    EXPECT_EQ(recs.back().value("decision", ""), "allow");
  }
  void SetUp() override {
    TpmBrokerFixture::SetUp();
    if (HasFatalFailure()) return;
    auto init = Init();
    ASSERT_EQ(init.exit_code, 0) << init.err;
    // The EK CA configured before start-up, and another CA the broker does not know.
    fs::create_directories(Data() + "/trust/tpm-ek-ca");
    fs::create_directories(dir_.File("other"));
    MakeCa(Data() + "/trust/tpm-ek-ca/ca.pem", dir_.File("good.key"));
    MakeCa(dir_.File("other/ca.pem"), dir_.File("other.key"));
    ASSERT_TRUE(StartBroker()) << ReadTextFile(dir_.File("sigild.log")).value_or("");
    ASSERT_NO_FATAL_FAILURE(Provision());
    // The EK public key (PEM) and the AK public area, read from the TPM (connection closed after).
    auto ctx = enclave::tpm::OpenTpm(swtpm_->Tcti());
    ASSERT_TRUE(ctx.has_value()) << ctx.error().message();
    auto ek = enclave::tpm::CreateRsaEk(*ctx);
    ASSERT_TRUE(ek.has_value()) << ek.error().message();
    auto pem = enclave::tpm::PublicAreaToSpkiPem(ek->pub);
    ASSERT_TRUE(pem.has_value());
    ek_pem_ = *pem;
    ASSERT_OK(WriteFileAtomic(dir_.File("ek.pem"), AsBytes(ek_pem_), 0644));
    auto handle = enclave::tpm::ParsePersistentHandle(kAkHandle);
    auto loaded = enclave::tpm::LoadPersistentAk(*ctx, *handle);
    ASSERT_TRUE(loaded.has_value()) << loaded.error().message();
    ak_pub_ = loaded->pub;
  }

  void MakeCa(const std::string& cert, const std::string& key) {
    auto r = sigil::testing::Run({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                  "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert, "-subj",
                                  "/CN=EK CA", "-days", "2"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // An EK certificate for this TPM's EK (critical keyUsage and subjectAltName, as TCG EK certs).
  std::string EkCert(const std::string& ca_cert, const std::string& ca_key) {
    std::string ext = "keyUsage=critical,keyEncipherment\nsubjectAltName=critical,URI:urn:tpm:swtpm\n";
    EXPECT_OK(WriteFileAtomic(dir_.File("ek.ext"), AsBytes(ext), 0644));
    std::string out = dir_.File("ekcert-" + std::to_string(certs_++) + ".pem");
    auto r = sigil::testing::Run({"/usr/bin/openssl", "x509", "-new", "-subj", "/CN=swtpm EK", "-force_pubkey",
                                  dir_.File("ek.pem"), "-CA", ca_cert, "-CAkey", ca_key, "-extfile",
                                  dir_.File("ek.ext"), "-days", "1", "-out", out});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return out;
  }
  CommandResult Enrol(const std::string& tenant, const std::string& ek_cert = "", const std::string& ek_kind = "rsa") {
    std::vector<std::string> args{BinPath("sigil-load"), "tpm-enrol", "--broker", url_, "--ca",
                                  Ca(), "--tenant", tenant, "--tpm-tcti", swtpm_->Tcti(),
                                  "--tpm-ak-handle", kAkHandle, "--tpm-ek-kind", ek_kind};
    if (!ek_cert.empty()) args.insert(args.end(), {"--ek-cert", ek_cert});
    return sigil::testing::Run(args);
  }
  Result<Json> Post(const std::string& path, const Json& body) {
    SIGIL_ASSIGN_OR_RETURN(auto client, net::BrokerClient::Connect(url_, Ca()));
    return client->Post(path, body.dump());
  }
  // The secret the swtpm recovers from a started enrolment's credential (ActivateCredential).
  std::string ActivatedSecret(const Json& started) {
    auto ctx = enclave::tpm::OpenTpm(swtpm_->Tcti());
    EXPECT_TRUE(ctx.has_value());
    if (!ctx) return "";
    auto ek = enclave::tpm::CreateRsaEk(*ctx);
    auto handle = enclave::tpm::ParsePersistentHandle(kAkHandle);
    EXPECT_TRUE(ek.has_value() && handle.has_value());
    if (!ek || !handle) return "";
    auto ak = enclave::tpm::LoadPersistentAk(*ctx, *handle);
    auto blob = Base64UrlDecode(started.value("credential_blob", ""));
    auto enc = Base64UrlDecode(started.value("encrypted_secret", ""));
    EXPECT_TRUE(ak.has_value() && blob.has_value() && enc.has_value());
    if (!ak || !blob || !enc) return "";
    auto secret = enclave::tpm::ActivateCredential(*ctx, ak->handle(), ek->handle.get(), *blob, *enc);
    EXPECT_TRUE(secret.has_value()) << secret.error().message();
    return secret ? Base64UrlEncode(secret->Reveal(SecretAccess::Get())) : "";
  }
  // A raw admin API call with the CLI's mTLS credentials (no client-side checks).
  Result<Json> Admin(const std::string& method, const std::string& path) {
    SIGIL_ASSIGN_OR_RETURN(auto client, cli::AdminClient::Connect(cli::AdminEndpoint{Data() + "/admin", url_}));
    return client->Call(method, path);
  }
  Json StartBody(const TPM2B_PUBLIC& ak) {
    auto pub = enclave::tpm::MarshalPublic(ak);
    EXPECT_TRUE(pub.has_value());
    return Json{{"tenant", "acme"}, {"ek", ek_pem_}, {"ak_public", Base64UrlEncode(pub.value_or(Bytes{}))}};
  }

  std::string ek_pem_;
  TPM2B_PUBLIC ak_pub_{};
  int certs_ = 0;
};

TEST_F(TpmEkEnrol, RegisteredEkEnrolsTheAkWhoseQuotesAreThenAccepted) {
  auto before = Attest("acme");
  ASSERT_FALSE(before.has_value());
  EXPECT_NE(before.error().message().find("not registered for tenant 'acme'"), std::string::npos)
      << before.error().message();

  // bob has no EK registered and no EK CA certificate is presented: refused. Enrolment starts
  // are unauthenticated, so the refusal is counted in the tenant's per-interval summary
  // (broker/audit/unauth_activity.h), not written as a record of its own.
  const std::size_t bob_before = Audit("bob").size();
  auto refused = Enrol("bob");
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("EK public key is not registered"), std::string::npos) << refused.err;
  EXPECT_EQ(Audit("bob").size(), bob_before);

  auto reg = Sigil({"tpm", "register-ek", "--tenant", "acme", "--ek", dir_.File("ek.pem")});
  ASSERT_EQ(reg.exit_code, 0) << reg.err;
  auto list = Sigil({"tpm", "list-eks", "--tenant", "acme"});
  EXPECT_EQ(list.out.size(), 65u) << list.out;
  auto enrol = Enrol("acme");
  ASSERT_EQ(enrol.exit_code, 0) << enrol.err;
  auto answer = ParseJson(enrol.out, "tpm-enrol output");
  ASSERT_TRUE(answer.has_value()) << enrol.out;
  EXPECT_EQ(answer->value("tenant", ""), "acme");
  ExpectLastRecordIsAnAllowedEnrolment("acme");

  auto token = Attest("acme");
  EXPECT_TRUE(token.has_value()) << token.error().message();
  // Enrolled for acme only.
  EXPECT_FALSE(Attest("bob").has_value());
}

TEST_F(TpmEkEnrol, WrongSecretReplayAndNonFixedAkAreRefused) {
  ASSERT_EQ(Sigil({"tpm", "register-ek", "--tenant", "acme", "--ek", dir_.File("ek.pem")}).exit_code, 0);
  TPM2B_PUBLIC loose = ak_pub_;
  loose.publicArea.objectAttributes &= ~(TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT);
  auto not_fixed = Post("/v1/tpm/enrol/start", StartBody(loose));
  ASSERT_FALSE(not_fixed.has_value());
  EXPECT_NE(not_fixed.error().message().find("fixedTPM"), std::string::npos) << not_fixed.error().message();

  auto started = Post("/v1/tpm/enrol/start", StartBody(ak_pub_));
  ASSERT_TRUE(started.has_value()) << started.error().message();
  std::string id = (*started)["enrolment_id"].get<std::string>();
  auto wrong = Post("/v1/tpm/enrol/finish", Json{{"enrolment_id", id}, {"secret", Base64UrlEncode(Bytes(32, 7))}});
  ASSERT_FALSE(wrong.has_value());
  EXPECT_NE(wrong.error().message().find("wrong secret"), std::string::npos) << wrong.error().message();
  auto recs = Audit("acme");
  ASSERT_FALSE(recs.empty());
  EXPECT_EQ(recs.back().value("action", ""), "tpm.enrol.finish");
  EXPECT_EQ(recs.back().value("decision", ""), "deny");
  // The enrolment is consumed: even the right secret is now refused.
  auto ctx = enclave::tpm::OpenTpm(swtpm_->Tcti());
  ASSERT_TRUE(ctx.has_value());
  ASSERT_OK_AND_ASSIGN(auto ek, enclave::tpm::CreateRsaEk(*ctx));
  ASSERT_OK_AND_ASSIGN(auto ak, enclave::tpm::LoadPersistentAk(*ctx, 0x81010002));
  ASSERT_OK_AND_ASSIGN(Bytes blob, Base64UrlDecode((*started)["credential_blob"].get<std::string>()));
  ASSERT_OK_AND_ASSIGN(Bytes enc, Base64UrlDecode((*started)["encrypted_secret"].get<std::string>()));
  ASSERT_OK_AND_ASSIGN(SecretBytes secret, enclave::tpm::ActivateCredential(*ctx, ak.handle(), ek.handle.get(), blob, enc));
  std::string right = Base64UrlEncode(secret.Reveal(SecretAccess::Get()));
  auto replay = Post("/v1/tpm/enrol/finish", Json{{"enrolment_id", id}, {"secret", right}});
  ASSERT_FALSE(replay.has_value());
  EXPECT_NE(replay.error().message().find("unknown or already used"), std::string::npos) << replay.error().message();
  EXPECT_FALSE(Attest("acme").has_value());
}

TEST_F(TpmEkEnrol, AnEnrolmentStartedBeforeARestartFinishesAfterIt) {
  ASSERT_EQ(Sigil({"tpm", "register-ek", "--tenant", "acme", "--ek", dir_.File("ek.pem")}).exit_code, 0);
  auto started = Post("/v1/tpm/enrol/start", StartBody(ak_pub_));
  ASSERT_TRUE(started.has_value()) << started.error().message();
  const std::string secret = ActivatedSecret(*started);
  ASSERT_FALSE(secret.empty());

  StopBroker();
  ASSERT_TRUE(StartBroker()) << ReadTextFile(dir_.File("sigild.log")).value_or("");
  const Json body{{"enrolment_id", (*started)["enrolment_id"]}, {"secret", secret}};
  auto finished = Post("/v1/tpm/enrol/finish", body);
  ASSERT_TRUE(finished.has_value()) << finished.error().message();
  EXPECT_EQ(finished->value("tenant", ""), "acme");
  ExpectLastRecordIsAnAllowedEnrolment("acme");
  auto token = Attest("acme");
  EXPECT_TRUE(token.has_value()) << token.error().message();
  // Still single use after the restart.
  auto again = Post("/v1/tpm/enrol/finish", body);
  ASSERT_FALSE(again.has_value());
  EXPECT_NE(again.error().message().find("unknown or already used"), std::string::npos) << again.error().message();
}

TEST_F(TpmEkEnrol, EkCertificateMustChainToTheConfiguredEkCa) {
  std::string foreign = EkCert(dir_.File("other/ca.pem"), dir_.File("other.key"));
  const std::size_t before = Audit("acme").size();
  auto refused = Enrol("acme", foreign);
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("does not chain to a configured EK CA"), std::string::npos) << refused.err;
  EXPECT_EQ(Audit("acme").size(), before) << "a refused start is counted in the summary, not recorded alone";

  std::string good = EkCert(Data() + "/trust/tpm-ek-ca/ca.pem", dir_.File("good.key"));
  auto enrol = Enrol("acme", good);
  ASSERT_EQ(enrol.exit_code, 0) << enrol.err;
  auto token = Attest("acme");
  EXPECT_TRUE(token.has_value()) << token.error().message();
}

TEST_F(TpmEkEnrol, EccEkEnrolsTheAkToo) {
  std::string ecc_pem;
  {
    auto ctx = enclave::tpm::OpenTpm(swtpm_->Tcti());
    ASSERT_TRUE(ctx.has_value());
    ASSERT_OK_AND_ASSIGN(auto ek, enclave::tpm::CreateEccEk(*ctx));
    ASSERT_OK_AND_ASSIGN(ecc_pem, enclave::tpm::PublicAreaToSpkiPem(ek.pub));
  }
  ASSERT_OK(WriteFileAtomic(dir_.File("ek-ecc.pem"), AsBytes(ecc_pem), 0644));
  // Registering the ECC EK does not make the RSA EK trusted, and vice versa.
  ASSERT_EQ(Sigil({"tpm", "register-ek", "--tenant", "acme", "--ek", dir_.File("ek-ecc.pem")}).exit_code, 0);
  auto rsa = Enrol("acme");
  EXPECT_NE(rsa.exit_code, 0);
  EXPECT_NE(rsa.err.find("not registered"), std::string::npos) << rsa.err;
  auto enrol = Enrol("acme", "", "ecc-p256");
  ASSERT_EQ(enrol.exit_code, 0) << enrol.err;
  auto token = Attest("acme");
  EXPECT_TRUE(token.has_value()) << token.error().message();
}

TEST_F(TpmEkEnrol, RemovedEkNoLongerEnrolsAndBadIdsAreRefused) {
  ASSERT_EQ(Sigil({"tpm", "register-ek", "--tenant", "acme", "--ek", dir_.File("ek.pem")}).exit_code, 0);
  auto listed = Sigil({"tpm", "list-eks", "--tenant", "acme"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  ASSERT_EQ(listed.out.size(), 65u) << listed.out;
  const std::string id = listed.out.substr(0, 64);
  // An enrolment started while the EK is trusted; its secret is recovered by the swtpm.
  auto started = Post("/v1/tpm/enrol/start", StartBody(ak_pub_));
  ASSERT_TRUE(started.has_value()) << started.error().message();
  const std::string secret = ActivatedSecret(*started);
  ASSERT_FALSE(secret.empty());

  // Bad ids: the CLI refuses them before sending anything (exit 2, invalid input), and the
  // broker refuses them too (invalid_argument, 400). "../x" would name DATA/trust/tpm-eks/x.pem.
  const std::string decoy = Data() + "/trust/tpm-eks/x.pem";
  ASSERT_OK(WriteFileAtomic(decoy, AsBytes(ek_pem_), 0644));
  std::string upper = id;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const std::string& bad : {std::string("../x"), upper, id.substr(0, 63)}) {
    auto r = Sigil({"tpm", "remove-ek", "--tenant", "acme", "--id", bad});
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.err;
    EXPECT_NE(r.err.find("expected 64 lowercase hex digits"), std::string::npos) << bad << ": " << r.err;
  }
  for (const std::string& bad : {std::string("..%2fx"), upper, id.substr(0, 63), id + "0"}) {
    auto r = Admin("DELETE", "/v1/admin/tenants/acme/tpm-eks/" + bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument) << bad << ": " << r.error().message();
    EXPECT_NE(r.error().message().find("[invalid_argument, HTTP 400]"), std::string::npos) << r.error().message();
  }
  EXPECT_TRUE(fs::exists(decoy));
  EXPECT_EQ(Sigil({"tpm", "list-eks", "--tenant", "acme"}).out, listed.out) << "a refused removal removes nothing";
  // Well-formed but not registered (for bob): not_found.
  auto absent = Sigil({"tpm", "remove-ek", "--tenant", "bob", "--id", id});
  EXPECT_EQ(absent.exit_code, 1) << absent.err;
  EXPECT_NE(absent.err.find("[not_found, HTTP 404]"), std::string::npos) << absent.err;

  // The documented command line.
  auto removed = Sigil({"tpm", "remove-ek", "--tenant", "acme", "--id", id});
  ASSERT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_EQ(removed.out, "removed TPM EK " + id + "\n");
  auto after = Sigil({"tpm", "list-eks", "--tenant", "acme"});
  EXPECT_EQ(after.exit_code, 0) << after.err;
  EXPECT_EQ(after.out.find(id), std::string::npos) << after.out;
  auto recs = Audit("acme");
  ASSERT_FALSE(recs.empty());
  EXPECT_EQ(recs.back().value("action", ""), "admin.tpm.ek.remove") << recs.back().dump();
  EXPECT_EQ(recs.back().value("decision", ""), "ok");
  EXPECT_NE(recs.back().value("reason", "").find(id), std::string::npos) << recs.back().dump();
  auto twice = Sigil({"tpm", "remove-ek", "--tenant", "acme", "--id", id});
  EXPECT_EQ(twice.exit_code, 1);
  EXPECT_NE(twice.err.find("[not_found, HTTP 404]"), std::string::npos) << twice.err;

  // The enrolment started before the removal cannot be finished, even with the right secret,
  // and the refusal is audited.
  auto finish = Post("/v1/tpm/enrol/finish", Json{{"enrolment_id", (*started)["enrolment_id"]}, {"secret", secret}});
  ASSERT_FALSE(finish.has_value());
  EXPECT_EQ(finish.error().code(), Code::kPermissionDenied) << finish.error().message();
  EXPECT_NE(finish.error().message().find("no longer trusted"), std::string::npos) << finish.error().message();
  recs = Audit("acme");
  ASSERT_FALSE(recs.empty());
  EXPECT_EQ(recs.back().value("action", ""), "tpm.enrol.finish");
  EXPECT_EQ(recs.back().value("decision", ""), "deny");
  // Nor can a new one start.
  auto enrol = Enrol("acme");
  EXPECT_NE(enrol.exit_code, 0);
  EXPECT_NE(enrol.err.find("EK public key is not registered"), std::string::npos) << enrol.err;
  EXPECT_FALSE(Attest("acme").has_value()) << "no AK was enrolled";
}

}  // namespace
}  // namespace sigil::integration
