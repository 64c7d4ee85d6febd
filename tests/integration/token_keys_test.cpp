// Relying parties can check attestation tokens themselves: sigild publishes its token key as a
// JWK Set at /.well-known/jwks.json (no authentication), tokens name it by kid, and an
// independent JOSE implementation (python3-jwcrypto) verifies a real token with that set alone
// and refuses an altered one.
#include <string>

#include "core/file_io.h"
#include "core/json.h"
#include "net/https_client.h"
#include "tests/integration/broker_fixture.h"
#include "tests/support/matchers.h"

namespace sigil::integration {
namespace {

constexpr char kPython[] = "/usr/bin/python3";  // Debian's, with python3-jwcrypto

TEST(TokenKeys, PublishedKeySetVerifiesARealTokenWithIndependentJose) {
  auto& env = BrokerEnv::Get();
  auto http = net::HttpsClient::Create(env.url(), {env.ca(), std::nullopt, std::nullopt});
  ASSERT_TRUE(http.has_value());
  ASSERT_OK_AND_ASSIGN(net::HttpResponse r, (*http)->Send("GET", "/.well-known/jwks.json", ""));
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_OK_AND_ASSIGN(Json set, ParseJson(r.body, "jwks"));
  ASSERT_EQ(set["keys"].size(), 1u) << r.body;
  EXPECT_EQ(set["keys"][0].value("crv", ""), "Ed25519");
  EXPECT_EQ(set["keys"][0].value("use", ""), "sig");
  EXPECT_FALSE(set["keys"][0].contains("d")) << "the private half must never be published";

  auto c = env.Client();
  Workload w = Workload::Make();
  ASSERT_OK_AND_ASSIGN(Bytes nonce, c->Challenge("acme", "dev"));
  ASSERT_OK_AND_ASSIGN(std::string token,
                       c->Attest("acme", "dev", nonce, w.Evidence(nonce, kMeasurementA, false), w.key.public_key));
  testing::TempDir dir;
  ASSERT_OK(WriteFileAtomic(dir.File("jwks.json"), AsBytes(r.body), 0644));
  ASSERT_OK(WriteFileAtomic(dir.File("token"), AsBytes(token), 0600));
  const std::string script = std::string(SIGIL_SOURCE_DIR) + "/tests/integration/verify_token_jwks.py";
  auto ok = testing::Run({kPython, script, dir.File("jwks.json"), dir.File("token"), "acme"});
  EXPECT_EQ(ok.exit_code, 0) << "jwcrypto refused (is python3-jwcrypto installed?): " << ok.out << ok.err;
  EXPECT_NE(ok.out.find("verified sub=acme tee=dev"), std::string::npos) << ok.out;
  // The same verifier refuses the token with one payload byte changed, and another tenant's name.
  std::string altered = token;
  altered[token.find('.') + 8] ^= 1;
  ASSERT_OK(WriteFileAtomic(dir.File("altered"), AsBytes(altered), 0600));
  EXPECT_NE(testing::Run({kPython, script, dir.File("jwks.json"), dir.File("altered"), "acme"}).exit_code, 0);
  EXPECT_NE(testing::Run({kPython, script, dir.File("jwks.json"), dir.File("token"), "bob"}).exit_code, 0);
}

}  // namespace
}  // namespace sigil::integration
