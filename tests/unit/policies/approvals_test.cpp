// A policy's `approvals` (policies/README.md "Approvals"): who must sign its successor. Parsed
// strictly, since a mistake here decides who controls the tenant's policy.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "core/digest.h"
#include "core/encoding.h"
#include "core/ossl.h"
#include "policies/policy.h"
#include "tests/support/matchers.h"

namespace sigil::policy {
namespace {

// RFC 8410 section 10.1's example Ed25519 public key, as `openssl pkey -pubout -outform DER |
// base64` prints a SubjectPublicKeyInfo.
constexpr const char* kRfc8410Key = "MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=";

std::string SpkiBase64(const char* type, const char* param) {
  EvpPkeyPtr key(param ? EVP_PKEY_Q_keygen(nullptr, nullptr, type, param) : EVP_PKEY_Q_keygen(nullptr, nullptr, type));
  unsigned char* der = nullptr;
  const int n = i2d_PUBKEY(key.get(), &der);
  std::string out = Base64Encode(Bytes(der, der + n));
  OPENSSL_free(der);
  return out;
}

std::string PolicyWithApprovals(const std::string& approvals) {
  return R"({"version":1,"rules":[{"name":"r","keys":["m"],"when":{"claim":"debug","equals":false}}],"approvals":)" +
         approvals + "}";
}

TEST(PolicyApprovals, AreParsedWithTheApproversKeysAndFingerprints) {
  const std::string other = SpkiBase64("ED25519", nullptr);
  ASSERT_OK_AND_ASSIGN(Policy p, ParsePolicy(PolicyWithApprovals(R"({"required": 2, "approvers": [
      {"name": "alice@hospital", "public_key": ")" + std::string(kRfc8410Key) + R"("},
      {"name": "bob", "public_key": ")" + other + R"("}]})"), "p.json"));
  const ApprovalRule& a = p.approvals();
  EXPECT_EQ(a.required, 2);
  ASSERT_EQ(a.approvers.size(), 2u);
  EXPECT_EQ(a.approvers[0].name, "alice@hospital");
  EXPECT_EQ(HexEncode(a.approvers[0].public_key), "19bf44096984cdfe8541bac167dc3b96c85086aa30b6b6cb0c5c38ad703166e1");
  EXPECT_EQ(a.approvers[0].fingerprint, HexEncode(Sha256(*Base64Decode(kRfc8410Key))));
  EXPECT_EQ(a.path, "$.approvals");
}

TEST(PolicyApprovals, APolicyWithoutThemNeedsNone) {
  ASSERT_OK_AND_ASSIGN(Policy p, ParsePolicy(R"({"version":1,"rules":[]})", "p.json"));
  EXPECT_EQ(p.approvals().required, 0);
  EXPECT_TRUE(p.approvals().approvers.empty());
}

TEST(PolicyApprovals, MistakesAreRefusedWithTheirPath) {
  const std::string k = kRfc8410Key;
  const std::string one = R"({"name":"a","public_key":")" + k + R"("})";
  const std::string p256 = SpkiBase64("EC", "P-256");
  const struct {
    std::string approvals;
    std::string message;
  } cases[] = {
      {"[]", "$.approvals: expected an object"},
      {R"({"approvers":[)" + one + "]}", "missing field 'required'"},
      {R"({"required":1})", "missing field 'approvers'"},
      {R"({"required":1,"approvers":[)" + one + R"(],"quorum":1})", "unknown field 'quorum'"},
      {R"({"required":0,"approvers":[)" + one + "]}", "$.approvals.required: 0 is out of range (1 to the 1 approvers"},
      {R"({"required":2,"approvers":[)" + one + "]}", "2 is out of range"},
      {R"({"required":"1","approvers":[)" + one + "]}", "$.approvals.required: expected an integer"},
      {R"({"required":1,"approvers":[]})", "$.approvals.approvers: expected an array of 1 to 32"},
      {R"({"required":1,"approvers":[)" + one + "," + one + "]}", "$.approvals.approvers[1].name: duplicate approver name"},
      {R"({"required":1,"approvers":[)" + one + R"(,{"name":"b","public_key":")" + k + R"("}]})",
       "$.approvals.approvers[1].public_key: the same key is listed twice"},
      {R"({"required":1,"approvers":[{"name":"a b","public_key":")" + k + R"("}]})", "$.approvals.approvers[0].name"},
      {R"({"required":1,"approvers":[{"name":"a","public_key":"!!"}]})", "public_key: not base64"},
      {R"({"required":1,"approvers":[{"name":"a","public_key":"AAAA"}]})", "not a DER SubjectPublicKeyInfo"},
      {R"({"required":1,"approvers":[{"name":"a","public_key":")" + p256 + R"("}]})", "approver keys must be Ed25519"},
      {R"({"required":1,"approvers":[{"name":"a","public_key":")" + k + R"(","role":"x"}]})", "$.approvals.approvers[0]: unknown field 'role'"},
  };
  for (const auto& c : cases) {
    auto p = ParsePolicy(PolicyWithApprovals(c.approvals), "p.json");
    ASSERT_FALSE(p.has_value()) << c.approvals;
    EXPECT_EQ(p.error().code(), Code::kInvalidArgument);
    EXPECT_NE(p.error().message().find(c.message), std::string::npos) << p.error().message();
  }
  // Trailing bytes after the SubjectPublicKeyInfo.
  Bytes der = *Base64Decode(k);
  der.push_back(0);
  auto p = ParsePolicy(PolicyWithApprovals(R"({"required":1,"approvers":[{"name":"a","public_key":")" +
                                           Base64Encode(der) + R"("}]})"), "p.json");
  ASSERT_FALSE(p.has_value());
  EXPECT_NE(p.error().message().find("not a DER SubjectPublicKeyInfo"), std::string::npos);
}

}  // namespace
}  // namespace sigil::policy
