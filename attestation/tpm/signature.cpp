#include "attestation/tpm/signature.h"

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <string>

#include "attestation/tpm/attest.h"

namespace sigil::attestation::tpm {
namespace {

using EcdsaSigPtr = CPtr<ECDSA_SIG, ECDSA_SIG_free>;

const EVP_MD* SigningMd(std::uint16_t hash_alg) {
  switch (hash_alg) {
    case kAlgSha256:
      return EVP_sha256();
    case kAlgSha384:
      return EVP_sha384();
    default:
      return nullptr;  // SHA-1 and anything else: refused
  }
}

std::string CurveName(EVP_PKEY& key) {
  char name[64] = {};
  std::size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(&key, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name), &len) !=
      1) {
    return "";
  }
  return std::string(name, len);
}

Result<void> DigestVerify(EVP_PKEY& key, const EVP_MD* md, int padding, ByteSpan attest,
                          ByteSpan sig) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, &key) != 1) {
    return OpenSslError(Code::kInternal, "EVP_DigestVerifyInit");
  }
  if (padding != 0) {
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, padding) != 1) {
      return OpenSslError(Code::kInternal, "EVP_PKEY_CTX_set_rsa_padding");
    }
    // TPMs use a salt as long as the digest (Part 1 "RSASSA-PSS"); AUTO also accepts the
    // maximum length some implementations use, and is still bound to the hash.
    if (padding == RSA_PKCS1_PSS_PADDING &&
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) != 1) {
      return OpenSslError(Code::kInternal, "EVP_PKEY_CTX_set_rsa_pss_saltlen");
    }
  }
  if (EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), attest.data(), attest.size()) != 1) {
    (void)OpenSslError(Code::kVerificationFailed, "");  // clear the queue
    return Fail(Code::kVerificationFailed, "quote signature does not verify with the AK");
  }
  return Ok();
}

}  // namespace

Result<EvpPkeyPtr> LoadAk(ByteSpan spki, Code code) {
  EvpPkeyPtr key;
  const unsigned char* p = spki.data();
  key.reset(d2i_PUBKEY(nullptr, &p, static_cast<long>(spki.size())));
  if (key && p != spki.data() + spki.size()) {
    return Fail(code, "AK DER has trailing bytes");
  }
  if (!key) {
    (void)OpenSslError(code, "");
    BioPtr bio(BIO_new_mem_buf(spki.data(), static_cast<int>(spki.size())));
    if (bio) {
      key.reset(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
    }
  }
  if (!key) {
    return OpenSslError(code, "AK is neither a DER nor a PEM SubjectPublicKeyInfo");
  }
  const int id = EVP_PKEY_get_base_id(key.get());
  if (id == EVP_PKEY_RSA) {
    if (EVP_PKEY_get_bits(key.get()) < 2048) {
      return Fail(code, "RSA AK is shorter than 2048 bits");
    }
  } else if (id == EVP_PKEY_EC) {
    const std::string curve = CurveName(*key);
    if (curve != "prime256v1" && curve != "secp384r1") {
      return Fail(code, "EC AK curve '" + curve + "' is not P-256 or P-384");
    }
  } else {
    return Fail(code, "AK is neither RSA nor EC");
  }
  return key;
}

Result<Bytes> AkDer(EVP_PKEY& key) {
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(&key, &der);
  if (len <= 0) {
    return OpenSslError(Code::kInternal, "i2d_PUBKEY");
  }
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

Result<std::uint16_t> VerifyQuoteSignature(EVP_PKEY& ak, ByteSpan attest, ByteSpan signature) {
  const bool rsa = EVP_PKEY_get_base_id(&ak) == EVP_PKEY_RSA;
  if (rsa && signature.size() == static_cast<std::size_t>(EVP_PKEY_get_size(&ak))) {
    // Raw RSASSA-PKCS1-v1_5/SHA-256 signature (no TPMT_SIGNATURE header).
    SIGIL_RETURN_IF_ERROR(DigestVerify(ak, EVP_sha256(), RSA_PKCS1_PADDING, attest, signature));
    return kAlgSha256;
  }
  SIGIL_ASSIGN_OR_RETURN(Signature sig, ParseSignature(signature));
  const EVP_MD* md = SigningMd(sig.hash_alg);
  if (md == nullptr) {
    return Fail(Code::kVerificationFailed,
                "signature hash algorithm " + std::to_string(sig.hash_alg) + " is not SHA-256/384");
  }
  if (sig.sig_alg == kAlgRsassa || sig.sig_alg == kAlgRsapss) {
    if (!rsa) {
      return Fail(Code::kVerificationFailed, "RSA signature scheme but the AK is not RSA");
    }
    const int padding = sig.sig_alg == kAlgRsassa ? RSA_PKCS1_PADDING : RSA_PKCS1_PSS_PADDING;
    SIGIL_RETURN_IF_ERROR(DigestVerify(ak, md, padding, attest, sig.rsa_sig));
    return sig.hash_alg;
  }
  // kAlgEcdsa (ParseSignature accepts nothing else).
  if (rsa) {
    return Fail(Code::kVerificationFailed, "ECDSA signature scheme but the AK is RSA");
  }
  EcdsaSigPtr ecdsa(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(sig.ecdsa_r.data(), static_cast<int>(sig.ecdsa_r.size()), nullptr);
  BIGNUM* s = BN_bin2bn(sig.ecdsa_s.data(), static_cast<int>(sig.ecdsa_s.size()), nullptr);
  if (!ecdsa || r == nullptr || s == nullptr || ECDSA_SIG_set0(ecdsa.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return OpenSslError(Code::kInternal, "ECDSA_SIG_set0");
  }
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(ecdsa.get(), &der);
  if (len <= 0) {
    return OpenSslError(Code::kInternal, "i2d_ECDSA_SIG");
  }
  const Bytes der_sig(der, der + len);
  OPENSSL_free(der);
  SIGIL_RETURN_IF_ERROR(DigestVerify(ak, md, 0, attest, der_sig));
  return sig.hash_alg;
}

}  // namespace sigil::attestation::tpm
