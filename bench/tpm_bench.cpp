// TPM quote verification throughput (Google Benchmark): TpmVerifier::Verify of a real quote with
// the AK registered and loaded once (the broker's cached state), against the raw signature
// verify of the same RSASSA-PKCS1-v1_5/SHA-256 signature with the same key (EVP_DigestVerify),
// measured in the same run. Rates are per CPU-second (Google Benchmark's default), so a busy
// machine slows the run down but does not skew the ratio much. The quote is the trustee vector of
// ../shared/vectors/tpm2 (a real TPM's RSA-2048 AK, 24 SHA-256 PCRs). Last line:
//   tpm: verifies_per_s=N ratio_vs_raw_sig=R
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "attestation/tpm/evidence.h"
#include "attestation/tpm/signature.h"
#include "attestation/tpm/verifier.h"
#include "core/file_io.h"
#include "core/ossl.h"

namespace {
using namespace sigil;
namespace att = attestation::tpm;

Bytes Load(const std::string& path) {
  auto b = ReadFile(path);
  if (!b) {
    std::fprintf(stderr, "tpm bench: %s\n", b.error().message().c_str());
    std::exit(1);
  }
  return *b;
}

struct Inputs {
  Bytes evidence;  // sigil-tpm-quote/v1
  Bytes attest;
  Bytes raw_signature;  // the RSASSA signature inside the TPMT_SIGNATURE
  Bytes ak_der;
};

Inputs LoadInputs(const std::string& vectors) {
  const std::string dir = vectors + "/tpm2/trustee";
  Inputs in;
  in.attest = Load(dir + "/derived_attest.bin");
  Bytes sig = Load(dir + "/derived_tpmt_signature.bin");
  in.ak_der = Load(dir + "/derived_ak_pub.der");
  auto ev =
      att::EvidenceFromTpm2Tools(in.attest, sig, Load(dir + "/derived_pcrs_sha256.txt"), in.ak_der);
  if (!ev) {
    std::fprintf(stderr, "tpm bench: evidence: %s\n", ev.error().message().c_str());
    std::exit(1);
  }
  in.evidence = *ev;
  auto parsed = att::ParseSignature(sig);
  if (!parsed || parsed->sig_alg != att::kAlgRsassa) {
    std::fprintf(stderr, "tpm bench: the vector's signature is not RSASSA\n");
    std::exit(1);
  }
  in.raw_signature = parsed->rsa_sig;
  return in;
}

// Captures items_per_second of each benchmark while printing the usual console table.
class CapturingReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      auto it = r.counters.find("items_per_second");
      if (it != r.counters.end()) rates[r.benchmark_name()] = it->second.value;
    }
    ConsoleReporter::ReportRuns(runs);
  }
  std::map<std::string, double> rates;
};

}  // namespace

int main(int argc, char** argv) {
  std::string vectors = "../shared/vectors";
  if (argc > 1 && argv[1][0] != '-') {
    vectors = argv[1];
    argv[1] = argv[0];
    ++argv;
    --argc;
  }
  const Inputs in = LoadInputs(vectors);
  att::TpmConfig config;
  config.registered_aks = {in.ak_der};
  auto verifier = att::TpmVerifier::Create(config);
  auto ak = att::LoadAk(in.ak_der, Code::kInvalidArgument);
  if (!verifier || !ak) {
    std::fprintf(stderr, "tpm bench: cannot load the AK\n");
    return 1;
  }
  // Sanity: both paths accept the vector before anything is timed.
  attestation::VerifyInput vin{in.evidence, {}, {}, std::chrono::system_clock::now()};
  if (!(*verifier)->Verify(vin)) {
    std::fprintf(stderr, "tpm bench: the vector does not verify\n");
    return 1;
  }

  benchmark::RegisterBenchmark("tpm_quote_verify", [&](benchmark::State& state) {
    for (auto _ : state) {
      auto claims = (*verifier)->Verify(vin);
      if (!claims) state.SkipWithError("verification failed");
      benchmark::DoNotOptimize(claims);
    }
    state.SetItemsProcessed(state.iterations());
  });
  // Diagnostic: the same quote without the optional "ak" field (the verifier then tries its
  // registered AKs instead of parsing the evidence's own SPKI on every call).
  auto no_ak = att::ParseEvidence(in.evidence);
  no_ak->ak.reset();
  const Bytes evidence_no_ak = att::SerializeEvidence(*no_ak);
  attestation::VerifyInput vin_no_ak{evidence_no_ak, {}, {}, vin.now};
  benchmark::RegisterBenchmark("tpm_quote_verify_without_ak_field", [&](benchmark::State& state) {
    for (auto _ : state) {
      auto claims = (*verifier)->Verify(vin_no_ak);
      if (!claims) state.SkipWithError("verification failed");
      benchmark::DoNotOptimize(claims);
    }
    state.SetItemsProcessed(state.iterations());
  });
  benchmark::RegisterBenchmark("raw_rsassa_sha256_verify", [&](benchmark::State& state) {
    for (auto _ : state) {
      EvpMdCtxPtr ctx(EVP_MD_CTX_new());
      bool ok = EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, ak->get()) == 1 &&
                EVP_DigestVerify(ctx.get(), in.raw_signature.data(), in.raw_signature.size(),
                                 in.attest.data(), in.attest.size()) == 1;
      if (!ok) state.SkipWithError("raw verify failed");
    }
    state.SetItemsProcessed(state.iterations());
  });
  benchmark::Initialize(&argc, argv);
  CapturingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  double quote = reporter.rates["tpm_quote_verify"];
  double raw = reporter.rates["raw_rsassa_sha256_verify"];
  if (quote <= 0 || raw <= 0) {
    std::fprintf(stderr, "tpm bench: missing results\n");
    return 1;
  }
  std::printf("tpm: verifies_per_s=%.0f ratio_vs_raw_sig=%.3f\n", quote, quote / raw);
  return 0;
}
