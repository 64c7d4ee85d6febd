// The SEV-SNP and TDX policy examples (policies/examples/{snp,tdx}-production.json), end to end
// through the broker's own request handlers, store, policy engine and audit log, with REAL
// hardware evidence from ../shared/vectors.
//
// TEST-ONLY EVIDENCE SOURCE. A captured report cannot contain a fresh broker binding
// (SHA-512 over this session's nonce and TEE key), so the broker would rightly refuse it. This
// file wraps the broker's real verifiers in TestOnlyVectorBindingVerifier, which runs the full
// verification (signature, certificate chain to the configured root, collateral, TCB) at the
// vector's verification time (the broker's injectable clock), but checks the report data against
// the VECTOR'S OWN value instead of the binding, and adds the claim
// `test_only.binding = "vector report data, not the broker nonce"` to every claim set, so the
// audit records of these tests say so. The decorator exists only in this test binary: sigild has
// no flag, config key or code path that builds it, so a production broker cannot be put into this
// mode. Everything else (challenge, nonce, token, policy, release, audit) is the production code.
#include <gtest/gtest.h>

#include <ctime>

#include "broker/api/admin_api.h"
#include "broker/api/workload_api.h"
#include "broker/data_dir.h"
#include "core/encoding.h"
#include "core/file_io.h"
#include "core/hpke.h"
#include "core/jwk.h"
#include "core/protocol.h"
#include "policies/parse.h"
#include "tests/support/matchers.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace sigil {
namespace {

using TimePoint = std::chrono::system_clock::time_point;

std::string V(const std::string& rel) { return std::string(SIGIL_SHARED_DIR) + "/vectors/" + rel; }

Bytes Load(const std::string& rel) {
  auto b = ReadFile(V(rel));
  EXPECT_TRUE(b.has_value()) << rel;
  return b ? *b : Bytes{};
}

TimePoint At(const char* rfc3339) {
  std::tm tm{};
  strptime(rfc3339, "%Y-%m-%dT%H:%M:%S", &tm);
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

// The TDX collateral's window is one second wide around this instant (tdx/MANIFEST.md); the
// Milan ARK/ASK and the virtee VCEK are valid then too, so one clock serves both TEEs.
constexpr const char* kVectorTime = "2025-07-19T10:00:34Z";

// The engine measurement the test-only verifier claims and the tenants approve.
constexpr std::string_view kTestOnlyEngine =
    "e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1";

class TestOnlyVectorBindingVerifier final : public attestation::Verifier {
 public:
  TestOnlyVectorBindingVerifier(const attestation::Verifier* inner, Bytes vector_report_data)
      : inner_(inner), report_data_(std::move(vector_report_data)) {}
  std::string_view tee() const override { return inner_->tee(); }
  Result<attestation::Claims> Verify(const attestation::VerifyInput& input) const override {
    attestation::VerifyInput in = input;
    in.expected_binding = report_data_;  // NOT the broker's binding: see the file header
    auto claims = inner_->Verify(in);
    if (claims) {
      claims->Set("test_only.binding", std::string("vector report data, not the broker nonce"));
      // The vectors were captured without Sigil's loader, so they carry no workload purpose
      // (attestation/purpose.h); the model-weights examples require it. Added here, test-only.
      claims->Set("workload.mode", std::string("sealed-memory"));
      claims->Set("workload.engine", std::string(kTestOnlyEngine));
      claims->Set("workload.sandbox", std::string(64, '5'));
    }
    return claims;
  }

 private:
  const attestation::Verifier* inner_;
  Bytes report_data_;
};

struct Broker {
  testing::TempDir dir;
  std::unique_ptr<broker::OpenBroker> open;
  attestation::Registry test_only_registry;
  broker::RequestMeta admin{"req-admin", "127.0.0.1", "operator:hw-test"};
  broker::RequestMeta workload{"req-workload", "127.0.0.1", ""};

  const broker::BrokerContext& ctx() const { return open->context; }
};

// sigild init (real binary), collateral import (real CLI), then the broker opened in-process
// with the test-only registry and the vector clock.
std::unique_ptr<Broker> StartBroker() {
  auto b = std::make_unique<Broker>();
  const std::string data = b->dir.File("data");
  auto init = testing::Run({testing::BinPath("sigild"), "init", "--data-dir", data, "--dev-root-key"});
  EXPECT_EQ(init.exit_code, 0) << init.err;
  auto import = [&](const char* at, std::vector<std::string> files) {
    std::vector<std::string> argv{testing::BinPath("sigil"), "collateral", "import", "--data-dir", data,
                                  "--anchor", "--at", at};
    for (auto& f : files) argv.push_back(V(f));
    auto r = testing::Run(argv);
    EXPECT_EQ(r.exit_code, 0) << r.err;
  };
  import("2024-01-01T00:00:00Z", {"sev-snp/go-sev-guest/ask_ark_milan.pem", "sev-snp/virtee-sev/vcek_milan.der",
                                  "sev-snp/go-sev-guest/vcek.der"});
  import(kVectorTime, {"tdx/dcap-qvl/TrustedRootCA.der", "tdx/dcap-qvl/tdx_quote_collateral.json"});
  auto opened = broker::OpenDataDir(data, "");
  EXPECT_TRUE(opened.has_value()) << (opened ? "" : opened.error().message());
  b->open = std::move(opened).value();
  b->open->context.now = [t = At(kVectorTime)] { return t; };
  auto add = [&](const char* tee, Bytes report_data) {
    auto inner = b->open->verifiers->Find(tee);
    EXPECT_TRUE(inner.has_value()) << tee;
    b->test_only_registry.Add(std::make_unique<TestOnlyVectorBindingVerifier>(*inner, std::move(report_data)));
  };
  // SEV-SNP ABI (pub. 56860) ATTESTATION_REPORT: REPORT_DATA is bytes 0x50..0x8F.
  auto virtee = HexDecode(ToString(Load("sev-snp/virtee-sev/report_milan.hex")));
  Bytes snp_rd(virtee->begin() + 0x50, virtee->begin() + 0x90);
  add("sev-snp", snp_rd);
  add("tdx", *HexDecode("9a9d48e7f6799642d3d1b34e1e5e1742d4bb02dd6ddd551862c1211d35c304f9"
                        "eca3efdbb481601c163cf52493d6e44aed55d51ec39b7e518fadb92c2b523f20"));  // tdx/MANIFEST.md
  b->open->context.verifiers = &b->test_only_registry;
  return b;
}

// Tenant with one key, the given example policy and reference values.
void Provision(Broker& b, const std::string& tenant, const std::string& policy_file,
               const std::vector<std::pair<std::string, std::string>>& refs) {
  ASSERT_OK(broker::AdminCreateTenant(b.ctx(), b.admin, Json{{"name", tenant}}));
  ASSERT_OK(broker::AdminCreateKey(b.ctx(), b.admin, tenant, Json{{"name", "llama"}}));
  ASSERT_OK_AND_ASSIGN(std::string text, ReadTextFile(std::string(SIGIL_SOURCE_DIR) + "/policies/examples/" + policy_file));
  ASSERT_OK(broker::AdminSetPolicy(b.ctx(), b.admin, tenant, Json{{"policy", text}, {"source", policy_file}}));
  for (const auto& [set, value] : refs) {
    ASSERT_OK(broker::AdminAddReference(b.ctx(), b.admin, tenant, Json{{"set", set}, {"value", value}}));
  }
  ASSERT_OK(broker::AdminAddReference(b.ctx(), b.admin, tenant,
                                      Json{{"set", "approved-engines"}, {"value", std::string(kTestOnlyEngine)}}));
}

// challenge -> attest -> release of one artifact of tenant/llama v1; returns the DEK or the error.
Result<SecretBytes> Flow(Broker& b, const std::string& tenant, const std::string& tee, const Bytes& evidence) {
  SIGIL_ASSIGN_OR_RETURN(Json pub, broker::AdminPublicKey(b.ctx(), tenant, "llama"));
  SIGIL_ASSIGN_OR_RETURN(Bytes key_pub, Base64UrlDecode(pub["public_key"].get<std::string>()));
  SIGIL_ASSIGN_OR_RETURN(SecretBytes dek, SecretBytes::Random(32));
  SIGIL_ASSIGN_OR_RETURN(hpke::Sealed sealed, hpke::Seal(hpke::kSigilSuite, key_pub,
                                                         protocol::DekSealInfo(tenant, "llama", 1), {},
                                                         dek.Reveal(SecretAccess::Get())));
  SIGIL_ASSIGN_OR_RETURN(hpke::KeyPair tee_key, hpke::GenerateKeyPair(hpke::Kem::kX25519HkdfSha256));
  SIGIL_ASSIGN_OR_RETURN(Json ch, broker::HandleChallenge(b.ctx(), b.workload, Json{{"tenant", tenant}, {"tee", tee}}));
  Json attest{{"tenant", tenant}, {"tee", tee}, {"nonce", ch["nonce"]}, {"evidence", Base64UrlEncode(evidence)},
              {"tee_public_key", X25519PublicKeyToJwk(tee_key.public_key)}};
  SIGIL_ASSIGN_OR_RETURN(Json tok, broker::HandleAttest(b.ctx(), b.workload, attest));
  EXPECT_EQ(tok["claims"]["test_only.binding"], "vector report data, not the broker nonce");
  Json release{{"tee_public_key", X25519PublicKeyToJwk(tee_key.public_key)},
               {"artifacts", Json::array({Json{{"key", tenant + "/llama"}, {"version", 1},
                                               {"enc", Base64UrlEncode(sealed.enc)},
                                               {"sealed_dek", Base64UrlEncode(sealed.ciphertext)}}})}};
  SIGIL_ASSIGN_OR_RETURN(Json out, broker::HandleRelease(b.ctx(), b.workload, tok["token"].get<std::string>(), release));
  const Json& a = out["artifacts"][0];
  SIGIL_ASSIGN_OR_RETURN(Bytes enc, Base64UrlDecode(a["enc"].get<std::string>()));
  SIGIL_ASSIGN_OR_RETURN(Bytes ct, Base64UrlDecode(a["sealed_dek"].get<std::string>()));
  SIGIL_ASSIGN_OR_RETURN(SecretBytes got, hpke::OpenSecret(hpke::kSigilSuite, enc, tee_key.private_key,
                                                           protocol::ReleaseInfo(tenant, "llama", 1, a["artifact_id"].get<std::string>()),
                                                           {}, ct));
  EXPECT_TRUE(ConstantTimeEqual(got.Reveal(SecretAccess::Get()), dek.Reveal(SecretAccess::Get())));
  return got;
}

// The tenant's audit records, as parsed JSON.
std::vector<Json> AuditRecords(Broker& b, const std::string& tenant) {
  std::vector<Json> out;
  auto audit = broker::AdminGetAudit(b.ctx(), tenant);
  EXPECT_TRUE(audit.has_value());
  for (const auto& r : (*audit)["records"]) {
    out.push_back(r["record"].is_string() ? Json::parse(r["record"].get<std::string>()) : r["record"]);
  }
  return out;
}

bool HasRecord(const std::vector<Json>& records, const std::string& action, const std::string& decision,
               const std::string& text) {
  for (const Json& r : records) {
    if (r.value("action", "") == action && r.value("decision", "") == decision && r.dump().find(text) != std::string::npos) {
      return true;
    }
  }
  return false;
}

TEST(HwPolicy, ExamplePoliciesParse) {
  for (const char* f : {"snp-production.json", "tdx-production.json"}) {
    ASSERT_OK_AND_ASSIGN(std::string text, ReadTextFile(std::string(SIGIL_SOURCE_DIR) + "/policies/examples/" + f));
    EXPECT_OK(policy::ParsePolicy(text, f));
  }
}

TEST(HwPolicy, TdxQuoteGetsTheKeyOnlyWithAnApprovedMeasurement) {
  auto b = StartBroker();
  const Bytes quote = Load("tdx/dcap-qvl/tdx_quote.bin");
  const std::string mrtd =
      "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7";
  const std::vector<std::pair<std::string, std::string>> rtmrs = {
      {"approved-tdx-firmware", "44c0197b39157fdd7a4dcc44767f9d6b0bb3977c7a8e347b8492f827fe9d9e5c48aca29b220b80b6a540cf994b9bc9c0"},
      {"approved-tdx-kernels", "0084452c01668329d4bc06acdf58a7205c26743304509973949e5619bf81a6a7aea8c323c173019b3093d54e579e9378"},
      {"approved-tdx-cmdlines", "d833feef2cd945148aa38ead2c53e9b7f138190aaaebfc551dccd829fc207aa3ba80b70870d7330733642e01d48c3132"}};
  auto approved = rtmrs;
  approved.push_back({"approved-tdx-guests", mrtd});
  Provision(*b, "acme", "tdx-production.json", approved);
  EXPECT_OK(Flow(*b, "acme", "tdx", quote));
  EXPECT_TRUE(HasRecord(AuditRecords(*b, "acme"), "attest", "allow", "test_only.binding"));

  auto other = rtmrs;
  other.push_back({"approved-tdx-guests", std::string(96, 'a')});  // a different build approved
  Provision(*b, "globex", "tdx-production.json", other);
  auto refused = Flow(*b, "globex", "tdx", quote);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), Code::kPolicyDenied) << refused.error().message();
  EXPECT_TRUE(HasRecord(AuditRecords(*b, "globex"), "release", "deny", ""));
}

TEST(HwPolicy, SnpReportGetsTheKeyOnlyWithAnApprovedMeasurement) {
  auto b = StartBroker();
  auto virtee = HexDecode(ToString(Load("sev-snp/virtee-sev/report_milan.hex")));
  ASSERT_TRUE(virtee.has_value());
  const std::string measurement =
      "7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f";
  Provision(*b, "acme", "snp-production.json", {{"approved-snp-guests", measurement}});
  EXPECT_OK(Flow(*b, "acme", "sev-snp", *virtee));

  Provision(*b, "globex", "snp-production.json", {{"approved-snp-guests", std::string(96, 'b')}});
  auto refused = Flow(*b, "globex", "sev-snp", *virtee);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), Code::kPolicyDenied);
  EXPECT_TRUE(HasRecord(AuditRecords(*b, "globex"), "release", "deny", ""));
}

// `policy set` names the reference sets the policy uses that do not exist yet (in_reference
// over them is false, so `not in_reference` over one is true), and the policy it validated is
// the one releases use: no request parses it again.
TEST(HwPolicy, PolicySetWarnsAboutMissingSetsAndIsParsedOnce) {
  auto b = StartBroker();
  ASSERT_OK(broker::AdminCreateTenant(b->ctx(), b->admin, Json{{"name", "acme"}}));
  ASSERT_OK(broker::AdminCreateKey(b->ctx(), b->admin, "acme", Json{{"name", "llama"}}));
  ASSERT_OK_AND_ASSIGN(std::string text, ReadTextFile(std::string(SIGIL_SOURCE_DIR) + "/policies/examples/snp-production.json"));
  ASSERT_OK_AND_ASSIGN(Json set, broker::AdminSetPolicy(b->ctx(), b->admin, "acme", Json{{"policy", text}}));
  ASSERT_TRUE(set["warnings"].is_array());
  ASSERT_EQ(set["warnings"].size(), 2u) << set.dump();
  EXPECT_NE(set["warnings"][0].get<std::string>().find("reference set 'approved-engines' does not exist yet"),
            std::string::npos);
  EXPECT_NE(set["warnings"][1].get<std::string>().find("reference set 'approved-snp-guests' does not exist yet"),
            std::string::npos);
  const std::string measurement =
      "7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f";
  ASSERT_OK(broker::AdminAddReference(b->ctx(), b->admin, "acme", Json{{"set", "approved-snp-guests"}, {"value", measurement}}));
  ASSERT_OK(broker::AdminAddReference(b->ctx(), b->admin, "acme",
                                      Json{{"set", "approved-engines"}, {"value", std::string(kTestOnlyEngine)}}));
  ASSERT_OK_AND_ASSIGN(set, broker::AdminSetPolicy(b->ctx(), b->admin, "acme", Json{{"policy", text}}));
  EXPECT_TRUE(set["warnings"].empty()) << set.dump();
  auto virtee = HexDecode(ToString(Load("sev-snp/virtee-sev/report_milan.hex")));
  ASSERT_TRUE(virtee.has_value());
  EXPECT_OK(Flow(*b, "acme", "sev-snp", *virtee));
  EXPECT_OK(Flow(*b, "acme", "sev-snp", *virtee));
  EXPECT_EQ(b->ctx().policies->parses(), 0);
}

}  // namespace
}  // namespace sigil
