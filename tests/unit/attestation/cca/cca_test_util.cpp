#include "tests/unit/attestation/cca/cca_test_util.h"

#include <openssl/ecdsa.h>
#include <openssl/pem.h>

#include <algorithm>
#include <fstream>
#include <iterator>

#include "core/ec_key.h"

namespace sigil::testing::cca {
namespace {
using EcdsaSigPtr = CPtr<ECDSA_SIG, ECDSA_SIG_free>;
void Abort(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

Bytes ReadVector(const std::string& rel) {
  std::ifstream in(std::string(SIGIL_SHARED_DIR) + "/vectors/cca-psa/" + rel, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

Bytes Cca1Token() { return ReadVector("ccatoken/tf-rmm_cca_token.cbor"); }
Bytes Cca1Cpak() { return ReadVector("ccatoken/tf-rmm_cca_platform.pub.pem"); }
Bytes Cca2Token() { return ReadVector("ccatoken/derived_testGoodCCAToken.cbor"); }
Bytes Cca2Cpak() { return ReadVector("ccatoken/derived_testIAK_pub.pem"); }
Bytes Psa1Token() { return ReadVector("psatoken/psa-2_0_0_sign1.cbor"); }
Bytes Psa1Iak() { return ReadVector("psatoken/public.pem"); }

Bytes Frame399(ByteSpan platform, ByteSpan realm) {
  Bytes out{0xd9, 0x01, 0x8f, 0xa2, 0x19, 0xac, 0xca};
  cbor::AppendBytes(out, platform);
  out.insert(out.end(), {0x19, 0xac, 0xd1});
  cbor::AppendBytes(out, realm);
  return out;
}

Bytes Frame907(ByteSpan platform, ByteSpan realm) {
  Bytes out{0xd9, 0x03, 0x8b, 0xa2, 0x19, 0xac, 0xca, 0x82, 0x19, 0x01, 0x07};
  cbor::AppendBytes(out, platform);
  out.insert(out.end(), {0x19, 0xac, 0xd1, 0x82, 0x19, 0x01, 0x07});
  cbor::AppendBytes(out, realm);
  return out;
}

EvpPkeyPtr NewKey(const char* curve) {
  EvpPkeyPtr key(EVP_EC_gen(curve));
  Abort(key != nullptr);
  return key;
}

Bytes PublicPem(const EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  Abort(bio && PEM_write_bio_PUBKEY(bio.get(), const_cast<EVP_PKEY*>(key)) == 1);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return Bytes(data, data + n);
}

Bytes SignSign1(ByteSpan payload, EVP_PKEY* key) {
  const bool p256 = EcCurveOf(key).value() == EcCurve::kP256;
  const Bytes prot = p256 ? Bytes{0xa1, 0x01, 0x26} : Bytes{0xa1, 0x01, 0x38, 0x22};
  Bytes tbs;
  cbor::AppendHead(tbs, 4, 4);
  cbor::AppendText(tbs, "Signature1");
  cbor::AppendBytes(tbs, prot);
  cbor::AppendBytes(tbs, {});
  cbor::AppendBytes(tbs, payload);
  EvpMdCtxPtr md(EVP_MD_CTX_new());
  Abort(md && EVP_DigestSignInit(md.get(), nullptr, p256 ? EVP_sha256() : EVP_sha384(), nullptr, key) == 1);
  std::size_t len = 0;
  Abort(EVP_DigestSign(md.get(), nullptr, &len, tbs.data(), tbs.size()) == 1);
  Bytes der(len);
  Abort(EVP_DigestSign(md.get(), der.data(), &len, tbs.data(), tbs.size()) == 1);
  const unsigned char* p = der.data();
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(len)));
  Abort(sig != nullptr);
  const int n = p256 ? 32 : 48;
  Bytes rs(static_cast<std::size_t>(2 * n));
  Abort(BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), rs.data(), n) == n);
  Abort(BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), rs.data() + n, n) == n);
  Bytes out{0xd2, 0x84};
  cbor::AppendBytes(out, prot);
  out.push_back(0xa0);
  cbor::AppendBytes(out, payload);
  cbor::AppendBytes(out, rs);
  return out;
}

Bytes ReplaceClaim(ByteSpan payload, std::int64_t key, cbor::ItemPtr value) {
  cbor::ItemPtr map = cbor::Decode(payload, cbor::Limits{}, "payload").value();
  cbor_pair* pairs = cbor_map_handle(map.get());
  for (std::size_t i = 0; i < cbor_map_size(map.get()); ++i) {
    auto k = cbor::GetInt(pairs[i].key, "key");
    if (k && *k == key) {
      cbor_item_t* old = pairs[i].value;
      pairs[i].value = value.release();
      cbor::Decref(old);
    }
  }
  unsigned char* buffer = nullptr;
  std::size_t size = 0;
  const std::size_t n = cbor_serialize_alloc(map.get(), &buffer, &size);
  Abort(n > 0);
  Bytes out(buffer, buffer + n);
  std::free(buffer);
  return out;
}

std::size_t Find(ByteSpan haystack, ByteSpan needle) {
  auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end());
  return it == haystack.end() ? SIZE_MAX : static_cast<std::size_t>(it - haystack.begin());
}

}  // namespace sigil::testing::cca
