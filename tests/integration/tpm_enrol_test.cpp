// The broker side of TPM 2.0 with a real swtpm and the real binaries:
//  - `sigild init --seal tpm` seals the root key to the swtpm's PCRs; `sigild serve` unseals it
//    and answers /healthz; after a PCR change it refuses to start with the documented error, and
//    `sigild recover-root-key` restores service;
//  - per-tenant AK registration through `sigil tpm register-ak|list-aks|remove-ak` (admin mTLS,
//    audited); a quote from an AK not registered for the requesting tenant is refused and
//    audited as a deny; the replay state per AK survives a broker restart (a TPM whose state
//    was rolled back to an older snapshot is refused);
//  - TPM evidence through the KBS front end (/kbs/v0/auth, /attest, /resource) as a CoCo guest
//    sends it: the quote's AK selects the tenant whose registration vouches for it, and the
//    session is released that tenant's resources only.
// Its own binary and broker (tests/support/tpm_broker_fixture.h): the root key must be sealed to
// this test's swtpm.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include <openssl/core_names.h>
#include <openssl/ec.h>

#include "attestation/tpm/evidence.h"
#include "core/digest.h"
#include "core/encoding.h"
#include "core/file_io.h"
#include "core/json.h"
#include "core/ossl.h"
#include "net/broker_client.h"
#include "net/https_client.h"
#include "tests/support/matchers.h"
#include "tests/support/process.h"
#include "tests/support/tpm_broker_fixture.h"

namespace sigil::integration {
namespace {

namespace fs = std::filesystem;

class TpmEnrol : public sigil::testing::TpmBrokerFixture {
 protected:
  std::string AkId() {
    auto r = Sigil({"--json", "tpm", "list-aks", "--tenant", "acme"});
    auto j = ParseJson(r.out, "list-aks");
    if (!j || (*j)["aks"].empty()) return "";
    return (*j)["aks"][0]["id"].get<std::string>();
  }

  // A CoCo guest on this swtpm through the KBS front end: /kbs/v0/auth for tee "tpm", then
  // /kbs/v0/attest with a fresh quote by the AK at kAkHandle bound as Trustee binds it: SHA-384
  // of the RFC 8785 runtime data {tee-pubkey, nonce, additional-evidence}, whose first 32 bytes
  // are the quote's qualifying data. Keeps the session's cookie and token for KbsResource.
  // `without_ak` drops "ak" from the evidence.
  Result<net::HttpResponse> KbsAttest(bool without_ak = false) {
    SIGIL_ASSIGN_OR_RETURN(http_, net::HttpsClient::Create(url_, {Ca(), std::nullopt, std::nullopt, ""}));
    SIGIL_ASSIGN_OR_RETURN(net::HttpResponse auth,
                           http_->Send("POST", "/kbs/v0/auth", R"({"version":"0.4.0","tee":"tpm","extra-params":""})"));
    if (auth.status != 200) return Fail(Code::kInternal, "auth: " + std::to_string(auth.status) + " " + auth.body);
    cookie_ = auth.set_cookie.substr(0, auth.set_cookie.find(';'));
    SIGIL_ASSIGN_OR_RETURN(Json challenge, ParseJson(auth.body, "auth"));
    // The TEE key: a fresh P-256 key as a public JWK.
    EvpPkeyPtr key(EVP_EC_gen("P-256"));
    if (!key) return Fail(Code::kInternal, "EVP_EC_gen");
    Bytes point(65);
    std::size_t point_len = 0;
    if (EVP_PKEY_get_octet_string_param(key.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size(), &point_len) != 1 ||
        point_len != 65 || point[0] != 0x04) {
      return Fail(Code::kInternal, "the P-256 public point");
    }
    const Json jwk{{"kty", "EC"}, {"crv", "P-256"},
                   {"x", Base64UrlEncode(ByteSpan(point).subspan(1, 32))},
                   {"y", Base64UrlEncode(ByteSpan(point).subspan(33, 32))}};
    const Json runtime{{"tee-pubkey", jwk}, {"nonce", challenge["nonce"]}, {"additional-evidence", ""}};
    // RFC 8785 form: for this object (ASCII strings without escapes, no numbers) it is
    // nlohmann's compact dump, whose object members are sorted by their bytes.
    const std::string jcs = runtime.dump();
    const Sha384Digest digest = Sha384(AsBytes(jcs));
    Bytes binding(64, 0);
    std::copy(digest.begin(), digest.end(), binding.begin());
    SIGIL_ASSIGN_OR_RETURN(Bytes evidence, QuoteEvidence(binding));
    if (without_ak) {
      SIGIL_ASSIGN_OR_RETURN(attestation::tpm::Evidence e, attestation::tpm::ParseEvidence(evidence));
      if (!e.ak) return Fail(Code::kInternal, "the attester's evidence carries no ak");
      e.ak.reset();
      evidence = attestation::tpm::SerializeEvidence(e);
    }
    SIGIL_ASSIGN_OR_RETURN(Json primary, ParseJson(ToString(evidence), "evidence"));
    const Json body{{"runtime-data", {{"nonce", challenge["nonce"]}, {"tee-pubkey", jwk}}},
                    {"tee-evidence", {{"primary_evidence", primary}, {"additional_evidence", ""}}}};
    SIGIL_ASSIGN_OR_RETURN(net::HttpResponse r, http_->Send("POST", "/kbs/v0/attest", body.dump(), "", cookie_));
    token_.clear();
    if (r.status == 200) {
      SIGIL_ASSIGN_OR_RETURN(Json t, ParseJson(r.body, "attest"));
      token_ = t.value("token", "");
    }
    return r;
  }

  // GET /kbs/v0/resource/REPOSITORY/model/latest by the session cookie or the bearer token.
  net::HttpResponse KbsResource(const std::string& repository, bool bearer = false) {
    auto r = http_->Send("GET", "/kbs/v0/resource/" + repository + "/model/latest", "", bearer ? token_ : "",
                         bearer ? "" : cookie_);
    if (!r) return net::HttpResponse{599, "", r.error().message(), 0, ""};
    return *r;
  }

  // The claims the EAR token carries (its payload, JSON text; signed, not checked here).
  std::string TokenPayload() const {
    const auto a = token_.find('.');
    const auto b = token_.find('.', a + 1);
    if (a == std::string::npos || b == std::string::npos) return "";
    auto p = Base64UrlDecode(token_.substr(a + 1, b - a - 1));
    return p ? ToString(*p) : "";
  }

  std::unique_ptr<net::HttpsClient> http_;
  std::string cookie_, token_;
};

TEST_F(TpmEnrol, SealedRootKeyServesRefusesAfterPcrChangeAndRecovers) {
  auto init = Init();
  ASSERT_EQ(init.exit_code, 0) << init.err;
  auto file = ReadTextFile(Data() + "/root.key");
  ASSERT_TRUE(file.has_value());
  EXPECT_NE(file->find(R"("mode": "tpm")"), std::string::npos) << *file;
  ASSERT_TRUE(StartBroker()) << ReadTextFile(dir_.File("sigild.log")).value_or("");
  auto client = net::BrokerClient::Connect(url_, Data() + "/admin/ca.pem");
  ASSERT_TRUE(client.has_value());
  auto health = Sigil({"tenant", "list"});
  EXPECT_EQ(health.exit_code, 0) << health.err;
  auto hz = sigil::testing::Run({"/usr/bin/curl", "-sS", "--cacert", Data() + "/admin/ca.pem", url_ + "/healthz"});
  EXPECT_EQ(hz.out, R"({"status":"ok"})") << hz.err;
  StopBroker();

  // A reboot into a different boot chain: PCR 7 now holds another value.
  RestartTpm();
  auto extend = sigil::testing::Run({"/usr/bin/tpm2_pcrextend", "7:sha256=" + std::string(64, 'e')},
                    {"TPM2TOOLS_TCTI=" + swtpm_->ToolsTcti()});
  ASSERT_EQ(extend.exit_code, 0) << extend.err;
  auto refused = Sigild({"serve", "--data-dir", Data(), "--tpm-tcti", swtpm_->Tcti(), "--listen", "127.0.0.1:0"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("PCRs changed"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find(kSealPcrs), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("sigild recover-root-key"), std::string::npos) << refused.err;

  auto recover = Sigild({"recover-root-key", "--data-dir", Data(), "--recovery-passphrase-file",
                         dir_.File("recovery.txt"), "--tpm-tcti", swtpm_->Tcti()});
  ASSERT_EQ(recover.exit_code, 0) << recover.err;
  ASSERT_TRUE(StartBroker()) << ReadTextFile(dir_.File("sigild.log")).value_or("");
  auto list = Sigil({"tenant", "list"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
}

TEST_F(TpmEnrol, PerTenantAkRegistrationIsEnforcedAuditedAndReplayStateSurvivesRestart) {
  ASSERT_EQ(Init().exit_code, 0);
  ASSERT_TRUE(StartBroker()) << ReadTextFile(dir_.File("sigild.log")).value_or("");
  Provision();

  // Unregistered anywhere: refused with a clear error and a deny record.
  auto unknown = Attest("acme");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code(), Code::kVerificationFailed) << unknown.error().message();
  EXPECT_NE(unknown.error().message().find("not registered for tenant 'acme'"), std::string::npos)
      << unknown.error().message();
  auto recs = Audit("acme");
  ASSERT_FALSE(recs.empty());
  EXPECT_EQ(recs.back().value("action", ""), "attest");
  EXPECT_EQ(recs.back().value("decision", ""), "deny");

  // Registration round trip, audited as an admin action.
  auto reg = Sigil({"tpm", "register-ak", "--tenant", "acme", "--ak", dir_.File("ak.pem"), "--name", "rack-1"});
  ASSERT_EQ(reg.exit_code, 0) << reg.err;
  auto dup = Sigil({"tpm", "register-ak", "--tenant", "acme", "--ak", dir_.File("ak.pem")});
  EXPECT_NE(dup.exit_code, 0);
  std::string id = AkId();
  ASSERT_EQ(id.size(), 64u);
  auto list = Sigil({"tpm", "list-aks", "--tenant", "acme"});
  EXPECT_NE(list.out.find(id), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("rack-1"), std::string::npos) << list.out;
  recs = Audit("acme");
  ASSERT_FALSE(recs.empty());
  EXPECT_EQ(recs.back().value("action", ""), "admin.tpm.ak.register");
  EXPECT_NE(recs.back().value("reason", "").find(id), std::string::npos);

  auto ok = Attest("acme");
  ASSERT_TRUE(ok.has_value()) << ok.error().message();
  // Tenant isolation: acme's AK is refused for bob.
  auto other = Attest("bob");
  ASSERT_FALSE(other.has_value());
  EXPECT_NE(other.error().message().find("not registered for tenant 'bob'"), std::string::npos)
      << other.error().message();
  auto bob = Audit("bob");
  ASSERT_FALSE(bob.empty());
  EXPECT_EQ(bob.back().value("decision", ""), "deny");

  // Replay state is durable: snapshot the TPM's state now, move it forward (two reboots, quotes
  // accepted), restart the broker, then roll the TPM back to the snapshot. Its quotes report an
  // older resetCount than the broker accepted before the restart: refused.
  swtpm_->Stop();
  swtpm_.reset();
  fs::copy(State(), dir_.File("swtpm-snapshot"), fs::copy_options::recursive);
  StartTpm();
  ASSERT_TRUE(Attest("acme").has_value());
  RestartTpm();
  ASSERT_TRUE(Attest("acme").has_value());
  StopBroker();
  swtpm_->Stop();
  swtpm_.reset();
  fs::remove_all(State());
  fs::copy(dir_.File("swtpm-snapshot"), State(), fs::copy_options::recursive);
  StartTpm();
  ASSERT_TRUE(StartBroker()) << ReadTextFile(dir_.File("sigild.log")).value_or("");
  auto rolled_back = Attest("acme");
  ASSERT_FALSE(rolled_back.has_value());
  EXPECT_EQ(rolled_back.error().code(), Code::kReplay) << rolled_back.error().message();

  // Removal: the AK is refused again.
  auto rm = Sigil({"tpm", "remove-ak", "--tenant", "acme", "--id", id});
  ASSERT_EQ(rm.exit_code, 0) << rm.err;
  auto gone = Attest("acme");
  ASSERT_FALSE(gone.has_value());
  EXPECT_NE(gone.error().message().find("not registered"), std::string::npos) << gone.error().message();
  auto rm_again = Sigil({"tpm", "remove-ak", "--tenant", "acme", "--id", id});
  EXPECT_NE(rm_again.exit_code, 0);
  recs = Audit("acme");
  bool removed = false;
  for (const auto& r : recs) removed |= r.value("action", "") == "admin.tpm.ak.remove";
  EXPECT_TRUE(removed);
}

TEST_F(TpmEnrol, AkRegisteredByItsPublicAreaMustBeTheQuotesQualifiedSigner) {
  ASSERT_EQ(Init().exit_code, 0);
  ASSERT_TRUE(StartBroker()) << ReadTextFile(dir_.File("sigild.log")).value_or("");
  Provision();
  auto read = sigil::testing::Run({"/usr/bin/tpm2_readpublic", "-c", kAkHandle, "-o", dir_.File("ak.pub")},
                                  {"TPM2TOOLS_TCTI=" + swtpm_->ToolsTcti()});
  ASSERT_EQ(read.exit_code, 0) << read.err;
  auto reg = Sigil({"--json", "tpm", "register-ak", "--tenant", "acme", "--ak-public", dir_.File("ak.pub")});
  ASSERT_EQ(reg.exit_code, 0) << reg.err;
  auto j = ParseJson(reg.out, "register-ak");
  ASSERT_TRUE(j.has_value() && j->contains("tpm_name")) << reg.out;
  auto ok = Attest("acme");
  ASSERT_TRUE(ok.has_value()) << ok.error().message();

  // The same key with one attribute bit changed (noDA): same SPKI, different Name. The TPM
  // names the real public area in its quotes, so they no longer match what was registered.
  ASSERT_OK_AND_ASSIGN(Bytes pub, ReadFile(dir_.File("ak.pub")));
  pub[8] ^= 0x04;  // TPM2B size(2) type(2) nameAlg(2) objectAttributes(4, big-endian): bit 10
  ASSERT_OK(WriteFileAtomic(dir_.File("ak-edited.pub"), pub, 0644));
  auto rm = Sigil({"tpm", "remove-ak", "--tenant", "acme", "--id", (*j)["id"].get<std::string>()});
  ASSERT_EQ(rm.exit_code, 0) << rm.err;
  auto reg2 = Sigil({"tpm", "register-ak", "--tenant", "acme", "--ak-public", dir_.File("ak-edited.pub")});
  ASSERT_EQ(reg2.exit_code, 0) << reg2.err;
  auto refused = Attest("acme");
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), Code::kVerificationFailed);
  EXPECT_NE(refused.error().message().find("qualifiedSigner"), std::string::npos) << refused.error().message();

  // Not a TPM2B_PUBLIC, or not a restricted signing key: refused at registration.
  pub.resize(pub.size() - 1);
  ASSERT_OK(WriteFileAtomic(dir_.File("ak-short.pub"), pub, 0644));
  auto bad = Sigil({"tpm", "register-ak", "--tenant", "bob", "--ak-public", dir_.File("ak-short.pub")});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_NE(bad.err.find("TPM2B_PUBLIC"), std::string::npos) << bad.err;
  ASSERT_OK_AND_ASSIGN(Bytes unrestricted, ReadFile(dir_.File("ak.pub")));
  unrestricted[7] ^= 0x01;  // bit 16: restricted
  ASSERT_OK(WriteFileAtomic(dir_.File("ak-unrestricted.pub"), unrestricted, 0644));
  auto bad2 = Sigil({"tpm", "register-ak", "--tenant", "bob", "--ak-public", dir_.File("ak-unrestricted.pub")});
  EXPECT_EQ(bad2.exit_code, 2) << bad2.err;
  EXPECT_NE(bad2.err.find("restricted signing key"), std::string::npos) << bad2.err;
}

}  // namespace
}  // namespace sigil::integration

namespace sigil::integration {
namespace {

TEST_F(TpmEnrol, KbsGuestOnATenantsAkGetsThatTenantsResourcesOnly) {
  ASSERT_EQ(Init().exit_code, 0);
  ASSERT_TRUE(StartBroker()) << ReadTextFile(dir_.File("sigild.log")).value_or("");
  Provision();
  for (const char* k : {"acme/model", "bob/model"}) {
    auto r = Sigil({"key", "create", k, "--class", "dataset"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  const auto is_jwe = [](const net::HttpResponse& r) {
    auto j = ParseJson(r.body, "resource");
    return r.status == 200 && j && j->contains("protected") && j->contains("ciphertext") && j->contains("tag");
  };

  // An AK that nobody registered: 401.
  auto unknown = KbsAttest();
  ASSERT_OK(unknown);
  EXPECT_EQ(unknown->status, 401) << unknown->body;
  EXPECT_NE(unknown->body.find("is not registered"), std::string::npos) << unknown->body;

  auto reg = Sigil({"tpm", "register-ak", "--tenant", "acme", "--ak", dir_.File("ak.pem")});
  ASSERT_EQ(reg.exit_code, 0) << reg.err;
  const std::string id = AkId();
  ASSERT_EQ(id.size(), 64u);

  // Evidence without its AK: 400, saying why.
  auto no_ak = KbsAttest(/*without_ak=*/true);
  ASSERT_OK(no_ak);
  EXPECT_EQ(no_ak->status, 400) << no_ak->body;
  EXPECT_NE(no_ak->body.find("the AK selects the tenant"), std::string::npos) << no_ak->body;

  // acme's AK: attested, the token says which registration vouched for it; acme's resource is
  // released (cookie and bearer), bob's is refused (PolicyDeny, 403) and the refusal recorded.
  auto ok = KbsAttest();
  ASSERT_OK(ok);
  ASSERT_EQ(ok->status, 200) << ok->body;
  EXPECT_NE(TokenPayload().find(R"("kbs.tpm_ak_tenant":"acme")"), std::string::npos) << TokenPayload();
  EXPECT_NE(TokenPayload().find(R"("kbs.tpm_ak":")" + id + "\""), std::string::npos) << TokenPayload();
  EXPECT_TRUE(is_jwe(KbsResource("acme")));
  EXPECT_TRUE(is_jwe(KbsResource("acme", /*bearer=*/true)));
  for (bool bearer : {false, true}) {
    auto other = KbsResource("bob", bearer);
    EXPECT_EQ(other.status, 403) << other.body;
    EXPECT_NE(other.body.find("PolicyDeny"), std::string::npos) << other.body;
    EXPECT_NE(other.body.find("registered for another tenant"), std::string::npos) << other.body;
  }
  auto bob = Audit("bob");
  ASSERT_FALSE(bob.empty());
  EXPECT_EQ(bob.back().value("action", ""), "release");
  EXPECT_EQ(bob.back().value("decision", ""), "deny");
  EXPECT_NE(bob.back().value("reason", "").find("registered for another tenant"), std::string::npos)
      << bob.back().dump();
  EXPECT_EQ(bob.back().value("reason", "").find("acme"), std::string::npos) << bob.back().dump();
  int acme_released = 0;
  for (const Json& rec : Audit("acme")) {
    acme_released += rec.value("action", "") == "release" && rec.value("decision", "") == "allow";
  }
  EXPECT_EQ(acme_released, 2);

  // The same AK registered by bob too: it selects no tenant, refused.
  auto reg_bob = Sigil({"tpm", "register-ak", "--tenant", "bob", "--ak", dir_.File("ak.pem")});
  ASSERT_EQ(reg_bob.exit_code, 0) << reg_bob.err;
  auto both = KbsAttest();
  ASSERT_OK(both);
  EXPECT_EQ(both->status, 401) << both->body;
  EXPECT_NE(both->body.find("more than one tenant"), std::string::npos) << both->body;
  ASSERT_EQ(Sigil({"tpm", "remove-ak", "--tenant", "bob", "--id", id}).exit_code, 0);

  // Removed between /attest and /resource: the still-valid token is refused from then on.
  auto before = KbsAttest();
  ASSERT_OK(before);
  ASSERT_EQ(before->status, 200) << before->body;
  ASSERT_EQ(Sigil({"tpm", "remove-ak", "--tenant", "acme", "--id", id}).exit_code, 0);
  for (bool bearer : {false, true}) {
    auto gone = KbsResource("acme", bearer);
    EXPECT_EQ(gone.status, 403) << gone.body;
    EXPECT_NE(gone.body.find("no longer registered"), std::string::npos) << gone.body;
  }

  // A broker-global AK (DATA/trust/tpm-aks/) needs no tenant: both repositories are released.
  StopBroker();
  fs::create_directories(Data() + "/trust/tpm-aks");
  fs::copy_file(dir_.File("ak.pem"), Data() + "/trust/tpm-aks/ak.pem");
  ASSERT_TRUE(StartBroker()) << ReadTextFile(dir_.File("sigild.log")).value_or("");
  auto global = KbsAttest();
  ASSERT_OK(global);
  ASSERT_EQ(global->status, 200) << global->body;
  EXPECT_EQ(TokenPayload().find("kbs.tpm_ak_tenant"), std::string::npos) << TokenPayload();
  EXPECT_TRUE(is_jwe(KbsResource("acme")));
  EXPECT_TRUE(is_jwe(KbsResource("bob", /*bearer=*/true)));
}

}  // namespace
}  // namespace sigil::integration
