// VerifyChain's revocation and time handling on a generated CA (the Intel CRLs in the vectors
// list no vector certificate and cannot be re-signed), and the raw-signature helpers.
#include <gtest/gtest.h>
#include <openssl/x509v3.h>

#include "attestation/dcap/x509.h"
#include "dcap_test_util.h"
#include "tests/support/matchers.h"

namespace sigil::attestation::dcap {
namespace {
using namespace testing;

constexpr std::int64_t kT0 = 1700000000;

EvpPkeyPtr NewKey() { return EvpPkeyPtr(EVP_EC_gen("prime256v1")); }

X509Ptr MakeCert(const char* cn, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key, long serial,
                 bool ca) {
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  ASN1_TIME_set(X509_getm_notBefore(cert.get()), kT0 - 100);
  ASN1_TIME_set(X509_getm_notAfter(cert.get()), kT0 + 100000);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                             -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509_set_pubkey(cert.get(), key);
  if (ca) {
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
    X509ExtPtr bc(X509V3_EXT_conf_nid(nullptr, &ctx, NID_basic_constraints, "critical,CA:TRUE"));
    X509ExtPtr ku(X509V3_EXT_conf_nid(nullptr, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign"));
    X509_add_ext(cert.get(), bc.get(), -1);
    X509_add_ext(cert.get(), ku.get(), -1);
  }
  X509_sign(cert.get(), issuer_key, EVP_sha256());
  return cert;
}

X509CrlPtr MakeCrl(X509* issuer, EVP_PKEY* key, std::vector<long> revoked) {
  X509CrlPtr crl(X509_CRL_new());
  X509_CRL_set_version(crl.get(), 1);
  X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(issuer));
  CPtr<ASN1_TIME, ASN1_TIME_free> last(ASN1_TIME_set(nullptr, kT0 - 50));
  CPtr<ASN1_TIME, ASN1_TIME_free> next(ASN1_TIME_set(nullptr, kT0 + 1000));
  X509_CRL_set1_lastUpdate(crl.get(), last.get());
  X509_CRL_set1_nextUpdate(crl.get(), next.get());
  for (long serial : revoked) {
    X509_REVOKED* r = X509_REVOKED_new();
    CPtr<ASN1_INTEGER, ASN1_INTEGER_free> s(ASN1_INTEGER_new());
    ASN1_INTEGER_set(s.get(), serial);
    X509_REVOKED_set_serialNumber(r, s.get());
    X509_REVOKED_set_revocationDate(r, last.get());
    X509_CRL_add0_revoked(crl.get(), r);
  }
  X509_CRL_sort(crl.get());
  X509_CRL_sign(crl.get(), key, EVP_sha256());
  return crl;
}

struct Pki {
  EvpPkeyPtr root_key = NewKey(), ca_key = NewKey(), leaf_key = NewKey();
  std::vector<X509Ptr> roots;
  X509Ptr ca, leaf;
  Pki() {
    roots.push_back(MakeCert("Test Root", root_key.get(), nullptr, root_key.get(), 1, true));
    ca = MakeCert("Test PCK CA", ca_key.get(), roots[0].get(), root_key.get(), 2, true);
    leaf = MakeCert("Test PCK", leaf_key.get(), ca.get(), ca_key.get(), 77, false);
  }
  Result<void> Check(X509_CRL* ca_crl, X509_CRL* root_crl, std::int64_t now) {
    return VerifyChain(roots, leaf.get(), {ca.get()}, {ca_crl, root_crl}, Unix(now), "test");
  }
};

TEST(DcapX509, RevokedLeafRefused) {
  Pki pki;
  X509CrlPtr root_crl = MakeCrl(pki.roots[0].get(), pki.root_key.get(), {});
  X509CrlPtr ok_crl = MakeCrl(pki.ca.get(), pki.ca_key.get(), {5, 6});
  X509CrlPtr revoking = MakeCrl(pki.ca.get(), pki.ca_key.get(), {5, 77});
  EXPECT_OK(pki.Check(ok_crl.get(), root_crl.get(), kT0));
  EXPECT_CODE(pki.Check(revoking.get(), root_crl.get(), kT0), Code::kVerificationFailed);
  // Revoked intermediate (listed in the root CRL).
  X509CrlPtr root_revoking = MakeCrl(pki.roots[0].get(), pki.root_key.get(), {2});
  EXPECT_CODE(pki.Check(ok_crl.get(), root_revoking.get(), kT0), Code::kVerificationFailed);
  // A CRL past its nextUpdate is expired collateral.
  EXPECT_CODE(pki.Check(ok_crl.get(), root_crl.get(), kT0 + 5000), Code::kExpired);
  // A CRL signed by the wrong key does not count.
  X509CrlPtr forged = MakeCrl(pki.ca.get(), pki.root_key.get(), {});
  EXPECT_CODE(pki.Check(forged.get(), root_crl.get(), kT0), Code::kVerificationFailed);
}

TEST(DcapX509, RawSignatureHelpers) {
  EXPECT_CODE(P256KeyFromRaw(Bytes(64, 0)), Code::kMalformedEvidence);  // not on the curve
  EXPECT_CODE(P256KeyFromRaw(Bytes(63, 1)), Code::kMalformedEvidence);
  EXPECT_CODE(ParseCrl(Bytes{0x30, 0x00}, "crl"), Code::kMalformedEvidence);
  EXPECT_CODE(ParsePemCerts(ToBytes("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
                            "pem"),
              Code::kMalformedEvidence);
}

}  // namespace
}  // namespace sigil::attestation::dcap
