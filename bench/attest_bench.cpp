// Verification throughput per evidence format with collateral cached (parsed and, for DCAP,
// signature-checked once), against the raw ECDSA verify rate of the curve that format's
// signature uses, measured in the same run (P-384 for SEV-SNP, P-256 for TDX/SGX). Real vectors
// from ../shared/vectors. Last line:
//   attest: snp_per_s=N snp_ratio=R tdx_per_s=N tdx_ratio=R sgx_per_s=N sgx_ratio=R
#include <openssl/evp.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <functional>
#include <string>

#include "attestation/dcap/collateral.h"
#include "attestation/dcap/verifier.h"
#include "attestation/dcap/x509.h"
#include "attestation/snp/verifier.h"
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
  double p384 = RawEcdsaRate("P-384", EVP_sha384());
  double p256 = RawEcdsaRate("P-256", EVP_sha256());
  std::printf("raw ecdsa verify/s: p384=%.0f p256=%.0f (one core)\n", p384, p256);
  std::printf("format    verifies/s  ratio_vs_raw_verify\n");
  std::printf("sev-snp   %10.0f  %.3f\n", snp_rate, snp_rate / p384);
  std::printf("tdx       %10.0f  %.3f\n", tdx_rate, tdx_rate / p256);
  std::printf("sgx       %10.0f  %.3f\n", sgx_rate, sgx_rate / p256);
  std::printf("attest: snp_per_s=%.0f snp_ratio=%.3f tdx_per_s=%.0f tdx_ratio=%.3f sgx_per_s=%.0f sgx_ratio=%.3f\n",
              snp_rate, snp_rate / p384, tdx_rate, tdx_rate / p256, sgx_rate, sgx_rate / p256);
  return 0;
}
