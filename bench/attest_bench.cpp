// Verification throughput per evidence format with collateral cached (parsed and, for DCAP,
// signature-checked once), against the raw ECDSA verify rate of the curve that format's
// signature uses, measured in the same run (P-384 for SEV-SNP, P-256 for TDX/SGX). Real vectors
// from ../shared/vectors. The NVIDIA GPU report and the Arm CCA token are measured against the
// raw verification of the very signatures they carry (same evidence, same keys, same run):
//   gpu: the report's ECDSA P-384/SHA-384 signature with the leaf key of its chain (one verify);
//   cca: the platform token's ES384 signature with the CPAK and the realm token's ES384
//        signature with the RAK (both verifies of one token).
// Last line:
//   attest: snp_per_s=N snp_ratio=R tdx_per_s=N tdx_ratio=R sgx_per_s=N sgx_ratio=R
//           gpu_per_s=N gpu_ratio=R cca_per_s=N cca_ratio=R
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <functional>
#include <string>

#include "attestation/cca/anchors.h"
#include "attestation/cca/cca_verifier.h"
#include "attestation/cca/collection.h"
#include "attestation/cca/platform_claims.h"
#include "attestation/cca/realm_claims.h"
#include "attestation/dcap/collateral.h"
#include "attestation/dcap/verifier.h"
#include "attestation/dcap/x509.h"
#include "attestation/nvidia/collateral.h"
#include "attestation/nvidia/report.h"
#include "attestation/nvidia/verifier.h"
#include "attestation/snp/verifier.h"
#include "core/cbor.h"
#include "core/cose_key.h"
#include "core/cose_sign1.h"
#include "core/ec_key.h"
#include "core/encoding.h"
#include "core/file_io.h"
#include "core/ossl.h"

namespace {
using namespace sigil;
using Clock = std::chrono::steady_clock;

std::chrono::system_clock::time_point At(int y, int mo, int d, int h, int mi, int s) {
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

// Runs `f` repeatedly for about `seconds` and returns calls per second; aborts on failure.
double Rate(const std::function<bool()>& f, double seconds = 2.0) {
  auto start = Clock::now();
  long n = 0;
  while (std::chrono::duration<double>(Clock::now() - start).count() < seconds) {
    for (int i = 0; i < 16; ++i) {
      if (!f()) {
        std::fprintf(stderr, "attest bench: a verification failed\n");
        std::exit(1);
      }
    }
    n += 16;
  }
  return static_cast<double>(n) / std::chrono::duration<double>(Clock::now() - start).count();
}

double RawEcdsaRate(const char* curve, const EVP_MD* md) {
  EvpPkeyPtr key(EVP_EC_gen(curve));
  const unsigned char msg[] = "sigil attestation benchmark";
  unsigned char sig[256];
  size_t sig_len = sizeof sig;
  EvpMdCtxPtr sctx(EVP_MD_CTX_new());
  EVP_DigestSignInit(sctx.get(), nullptr, md, nullptr, key.get());
  EVP_DigestSign(sctx.get(), sig, &sig_len, msg, sizeof msg);
  return Rate([&] {
    EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    return EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key.get()) == 1 &&
           EVP_DigestVerify(ctx.get(), sig, sig_len, msg, sizeof msg) == 1;
  });
}

Bytes Load(const std::string& path) {
  auto b = ReadFile(path);
  if (!b) {
    std::fprintf(stderr, "attest bench: %s\n", b.error().message().c_str());
    std::exit(1);
  }
  return *b;
}

template <typename T>
T Must(Result<T> r, const char* what) {
  if (!r) {
    std::fprintf(stderr, "attest bench: %s: %s\n", what, r.error().message().c_str());
    std::exit(1);
  }
  return std::move(*r);
}

// NVIDIA Hopper report (nvtrust vector): NvidiaVerifier::Verify (decode, parse, chain to the
// device root, signature, FWID, nonce) against the raw verify of the same signature.
// Raw baseline, OpenSSL directly: EVP_DigestVerify (SHA-384 of the signed part, ECDSA P-384)
// with the leaf certificate's key; the raw r||s is converted to DER once, outside the loop.
struct GpuRates {
  double verifier = 0;
  double raw = 0;
};

GpuRates MeasureGpu(const std::string& vectors) {
  const std::string dir = vectors + "/nvidia-gpu/nvtrust";
  attestation::nvidia::NvidiaConfig cfg;
  cfg.roots.push_back(Load(dir + "/verifier_device_root.pem"));
  auto verifier = Must(attestation::nvidia::NvidiaVerifier::Create(std::move(cfg)), "nvidia verifier");
  const Bytes evidence = Load(dir + "/hopperAttestationReport.txt");  // hex text, as nvtrust writes it
  const Bytes chain_pem = Load(dir + "/hopperCertChain.pem");
  const Bytes nonce = Must(HexDecode("931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb"), "nonce");
  const auto now = At(2025, 1, 1, 0, 0, 0);  // the chain is valid 2022-03-01 .. 9999 (MANIFEST)
  GpuRates rates;
  rates.verifier = Rate([&] { return verifier->Verify({evidence, chain_pem, nonce, now}).has_value(); });

  const Bytes report_bytes = Must(attestation::nvidia::DecodeEvidence(evidence), "nvidia report decode");
  const auto report = Must(attestation::nvidia::ParseReport(report_bytes), "nvidia report parse");
  const auto collateral = Must(attestation::nvidia::ParseCollateral(chain_pem), "nvidia chain");
  if (collateral.chain.empty()) {
    std::fprintf(stderr, "attest bench: nvidia chain has no certificate\n");
    std::exit(1);
  }
  EVP_PKEY* leaf_key = X509_get0_pubkey(collateral.chain.front().get());
  using EcdsaSigPtr = CPtr<ECDSA_SIG, ECDSA_SIG_free>;
  constexpr int kScalar = 48;
  EcdsaSigPtr sig(ECDSA_SIG_new());
  ECDSA_SIG_set0(sig.get(), BN_bin2bn(report.signature.data(), kScalar, nullptr),
                 BN_bin2bn(report.signature.data() + kScalar, kScalar, nullptr));
  unsigned char* der = nullptr;
  const int der_len = i2d_ECDSA_SIG(sig.get(), &der);
  if (leaf_key == nullptr || der_len <= 0) {
    std::fprintf(stderr, "attest bench: nvidia raw signature setup failed\n");
    std::exit(1);
  }
  const ByteSpan signed_part = ByteSpan(report_bytes).first(attestation::nvidia::SignedSize(report));
  rates.raw = Rate([&] {
    EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    return EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha384(), nullptr, leaf_key) == 1 &&
           EVP_DigestVerify(ctx.get(), der, static_cast<size_t>(der_len), signed_part.data(),
                            signed_part.size()) == 1;
  });
  OPENSSL_free(der);
  return rates;
}

// Arm CCA token (TF-RMM vector, legacy tag 399 framing): CcaVerifier::Verify (framing, both
// COSE_Sign1 and claim sets parsed, CPAK lookup, both signatures, platform-realm binding, realm
// challenge) against the raw verifies one token needs. Raw baseline: core/cose_sign1.h
// VerifySign1 on the two pre-parsed Sign1 objects (platform with the CPAK, realm with the RAK,
// both keys parsed once); VerifySign1 builds each Sig_structure and runs OpenSSL ES384 verify.
struct CcaRates {
  double verifier = 0;
  double raw = 0;  // full tokens' signature pairs per second
};

CcaRates MeasureCca(const std::string& vectors) {
  namespace cca = attestation::cca;
  const std::string dir = vectors + "/cca-psa/ccatoken";
  const Bytes cpak_file = Load(dir + "/tf-rmm_cca_platform.pub.pem");
  cca::CcaConfig cfg;
  cfg.cpaks = Must(cca::KeyAnchorsFromFiles({cpak_file}, "CCA CPAK"), "CCA CPAK");
  auto anchors = Must(cca::AnchorSet::Create(cfg.cpaks, "CCA CPAK"), "CCA CPAK");
  auto verifier = Must(cca::CcaVerifier::Create(std::move(cfg)), "cca verifier");
  const Bytes token = Load(dir + "/tf-rmm_cca_token.cbor");
  const Bytes binding(64, 0xab);
  CcaRates rates;
  rates.verifier = Rate([&] { return verifier->Verify({token, {}, binding, {}}).has_value(); });

  const auto collection = Must(cca::ParseCollection(token), "CCA collection");
  const cose::ParseOptions opts{.tag = cose::TagRule::kOptional, .max_size = cca::kMaxTokenSize};
  const auto platform = Must(cose::ParseSign1(collection.platform, opts, "CCA platform token"), "platform token");
  const auto realm = Must(cose::ParseSign1(collection.realm, opts, "CCA realm token"), "realm token");
  const auto platform_claims =
      Must(cca::ParsePlatformClaims(platform.payload, cca::TokenKind::kCcaPlatform), "platform claims");
  const auto realm_claims = Must(cca::ParseRealmClaims(realm.payload), "realm claims");
  EvpPkeyPtr rak;
  if (realm_claims.rak_is_cose_key) {
    auto map = Must(cbor::Decode(realm_claims.rak, cbor::Limits{.max_size = 1024, .max_depth = 2}, "RAK"), "RAK");
    rak = Must(cose::PublicKeyFromCoseKey(map.get(), "RAK"), "RAK");
  } else {
    rak = Must(EcPublicKeyFromPoint(EcCurve::kP384, realm_claims.rak), "RAK");
  }
  const auto cpaks = anchors.Candidates(platform_claims.instance_id);
  if (cpaks.empty()) {
    std::fprintf(stderr, "attest bench: no CPAK for the token's instance id\n");
    std::exit(1);
  }
  const EVP_PKEY* cpak = cpaks.front();
  rates.raw = Rate([&] {
    return cose::VerifySign1(platform, cpak, "platform").has_value() &&
           cose::VerifySign1(realm, rak.get(), "realm").has_value();
  });
  return rates;
}

}  // namespace

int main(int argc, char** argv) {
  std::string vectors = argc > 1 ? argv[1] : "../shared/vectors";
  // SEV-SNP: go-sev-guest Milan report, VCEK in the verifier's cache (collateral cached).
  attestation::snp::SnpConfig snp_cfg;
  snp_cfg.anchors.roots.push_back(Load(vectors + "/sev-snp/go-sev-guest/ask_ark_milan.pem"));
  snp_cfg.vcek_cache.push_back(Load(vectors + "/sev-snp/go-sev-guest/vcek.der"));
  auto snp = attestation::snp::SnpVerifier::Create(std::move(snp_cfg));
  Bytes report = Load(vectors + "/sev-snp/go-sev-guest/attestation.bin");
  auto snp_time = At(2022, 9, 24, 1, 0, 0);
  double snp_rate = Rate([&] { return (*snp)->Verify({report, {}, {}, snp_time}).has_value(); });

  // TDX and SGX: dcap-qvl quotes with collateral verified once.
  auto dcap_rate = [&](attestation::dcap::DcapTee tee, const std::string& dir, const std::string& quote_file,
                       const std::string& collateral_file, std::chrono::system_clock::time_point now) {
    std::vector<X509Ptr> roots;
    auto root = attestation::dcap::ParseCert(Load(dir + "/TrustedRootCA.der"));
    roots.push_back(std::move(*root));
    auto parsed = attestation::dcap::ParseCollateral(Load(dir + "/" + collateral_file));
    auto verified = attestation::dcap::VerifyCollateral(std::move(*parsed), roots, now);
    if (!verified) {
      std::fprintf(stderr, "attest bench: collateral: %s\n", verified.error().message().c_str());
      std::exit(1);
    }
    Bytes quote = Load(dir + "/" + quote_file);
    return Rate([&] {
      return attestation::dcap::VerifyDcapQuote(tee, quote, roots, &*verified, {}, now).has_value();
    });
  };
  double tdx_rate = dcap_rate(attestation::dcap::DcapTee::kTdx, vectors + "/tdx/dcap-qvl", "tdx_quote.bin",
                              "tdx_quote_collateral.json", At(2025, 7, 19, 10, 0, 34));
  double sgx_rate = dcap_rate(attestation::dcap::DcapTee::kSgx, vectors + "/sgx/dcap-qvl", "sgx_quote.bin",
                              "sgx_quote_collateral.json", At(2025, 7, 19, 10, 1, 17));
  const GpuRates gpu = MeasureGpu(vectors);
  const CcaRates cca = MeasureCca(vectors);
  double p384 = RawEcdsaRate("P-384", EVP_sha384());
  double p256 = RawEcdsaRate("P-256", EVP_sha256());
  std::printf("raw ecdsa verify/s: p384=%.0f p256=%.0f (one core)\n", p384, p256);
  std::printf("format    verifies/s  ratio_vs_raw_verify\n");
  std::printf("sev-snp   %10.0f  %.3f\n", snp_rate, snp_rate / p384);
  std::printf("tdx       %10.0f  %.3f\n", tdx_rate, tdx_rate / p256);
  std::printf("sgx       %10.0f  %.3f\n", sgx_rate, sgx_rate / p256);
  std::printf("raw report/token signature verify/s: gpu=%.0f (1 x P-384) cca=%.0f (2 x ES384 per token)\n",
              gpu.raw, cca.raw);
  std::printf("nvidia-gpu%10.0f  %.3f\n", gpu.verifier, gpu.verifier / gpu.raw);
  std::printf("cca       %10.0f  %.3f\n", cca.verifier, cca.verifier / cca.raw);
  std::printf("attest: snp_per_s=%.0f snp_ratio=%.3f tdx_per_s=%.0f tdx_ratio=%.3f sgx_per_s=%.0f sgx_ratio=%.3f "
              "gpu_per_s=%.0f gpu_ratio=%.3f cca_per_s=%.0f cca_ratio=%.3f\n",
              snp_rate, snp_rate / p384, tdx_rate, tdx_rate / p256, sgx_rate, sgx_rate / p256, gpu.verifier,
              gpu.verifier / gpu.raw, cca.verifier, cca.verifier / cca.raw);
  return 0;
}
