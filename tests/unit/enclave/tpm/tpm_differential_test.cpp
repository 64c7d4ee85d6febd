// Differential test: Sigil's TpmVerifier and tpm2-tools' tpm2_checkquote (an independent
// implementation, run offline) must reach the same verdict on >= 200 real swtpm quotes (RSASSA,
// ECDSA P-256 and P-384 AKs, several PCR selections, random qualifying data) and on single-byte
// mutations of each quote's attest blob, signature and PCR values. Any disagreement is reported
// with its case and tpm2_checkquote's own error output.
// RSA-PSS AKs are checked against the openssl CLI instead: tpm2_checkquote 5.4 (Debian 12) never
// verifies RSA-PSS (it tries PKCS#1 v1.5 only; even a quote made by tpm2_quote with
// `--scheme rsapss` is refused), so it cannot be the oracle there.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <random>
#include <sstream>

#include "attestation/tpm/evidence.h"
#include "attestation/tpm/verifier.h"
#include "core/encoding.h"
#include "core/file_io.h"
#include "enclave/tpm/ak.h"
#include "enclave/tpm/pcr_selection.h"
#include "enclave/tpm/quote.h"
#include "tests/support/matchers.h"
#include "tests/support/process.h"
#include "tests/support/swtpm.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/enclave/tpm/tpm_test_util.h"

namespace sigil::enclave::tpm {
namespace {

namespace att = attestation::tpm;
using sigil::testing::Swtpm;
using sigil::testing::TempDir;

constexpr int kQuotesPerCombination = 17;  // 3 AKs x 4 selections x 17 = 204 quotes
constexpr int kPssQuotesPerSelection = 4;

enum class Mutation { kNone, kAttest, kSignature, kPcr };
const char* MutationName(Mutation m) {
  switch (m) {
    case Mutation::kNone:
      return "none";
    case Mutation::kAttest:
      return "attest";
    case Mutation::kSignature:
      return "signature";
    case Mutation::kPcr:
      return "pcr";
  }
  return "?";
}

struct Case {
  std::string description;
  Mutation mutation = Mutation::kNone;
  att::Evidence evidence;
  Bytes binding;
  std::string ak_pem_file;
  std::string hash;       // tpm2_checkquote -g: the signing scheme's hash
  std::string selection;  // written into the PCR file
  bool sigil_ok = false;
};

// tpm2-tools' "serialized" PCR file (what tpm2_quote -o writes by default): the
// TPML_PCR_SELECTION struct, a UINT32 count and that many TPML_DIGEST structs (host layout),
// digests in selection order, at most 8 per list. The "values" format with -l is not used:
// tpm2-tools 5.4 loses the 8th digest of each list in that path
// (parse_selection_data_from_selection_string), so any selection of 8 or more PCRs fails there.
Result<Bytes> SerializedPcrFile(const std::string& selection, const att::PcrValues& values) {
  SIGIL_ASSIGN_OR_RETURN(TPML_PCR_SELECTION sel, ParsePcrSelection(selection));
  std::vector<TPML_DIGEST> lists;
  for (UINT32 i = 0; i < sel.count; ++i) {
    const TPMS_PCR_SELECTION& s = sel.pcrSelections[i];
    for (std::uint32_t pcr = 0; pcr < 8u * s.sizeofSelect; ++pcr) {
      if ((s.pcrSelect[pcr / 8] & (1u << (pcr % 8))) == 0) continue;
      auto bank = values.find(s.hash);
      if (bank == values.end() || !bank->second.contains(pcr)) {
        return Fail(Code::kInternal, "evidence lacks a selected PCR");
      }
      const Bytes& v = bank->second.at(pcr);
      if (lists.empty() || lists.back().count == 8) lists.push_back(TPML_DIGEST{});
      TPM2B_DIGEST& d = lists.back().digests[lists.back().count++];
      d.size = static_cast<UINT16>(v.size());
      std::copy(v.begin(), v.end(), d.buffer);
    }
  }
  UINT32 count = static_cast<UINT32>(lists.size());
  Bytes out;
  auto append = [&out](const void* p, std::size_t n) {
    const auto* b = static_cast<const std::uint8_t*>(p);
    out.insert(out.end(), b, b + n);
  };
  append(&sel, sizeof sel);
  append(&count, sizeof count);
  for (const TPML_DIGEST& l : lists) append(&l, sizeof l);
  return out;
}

std::string ShellQuote(const std::string& s) { return "'" + s + "'"; }

// One swtpm with non-trivial PCR values, quotes from primary AKs, and their mutations.
class QuoteCorpus {
 public:
  void Start() {
    auto sw = Swtpm::Start(state_.path());
    ASSERT_TRUE(sw.has_value()) << sw.error().message();
    swtpm_.emplace(std::move(*sw));
    auto ctx = OpenTpm(swtpm_->Tcti());
    ASSERT_TRUE(ctx.has_value()) << ctx.error().message();
    ctx_.emplace(std::move(*ctx));
    for (std::uint32_t pcr : {0u, 1u, 2u, 7u, 16u, 23u}) {
      ASSERT_OK(ExtendSha256Pcr(*ctx_, pcr, RandomBytes(32)));
    }
  }

  // Quotes for `kind` over every selection, `per_selection` each, each with all four mutations.
  void Add(AkKind kind, int per_selection) {
    const char* selections[] = {"sha256:0,1,2,3,4,5,6,7", "sha256:0,7+sha1:0,1",
                                "sha1:16+sha256:16,23",
                                "sha256:0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16"};
    ASSERT_OK_AND_ASSIGN(LoadedAk ak, CreatePrimaryAk(*ctx_, kind));
    ASSERT_OK_AND_ASSIGN(std::string pem, PublicAreaToSpkiPem(ak.pub));
    std::string pem_file = dir_.File(std::string(AkKindName(kind)) + ".pem");
    ASSERT_OK(WriteFileAtomic(pem_file, AsBytes(pem), 0644));
    registered_.push_back(ToBytes(pem));
    std::string hash = kind == AkKind::kEccP384Sha384 ? "sha384" : "sha256";
    for (const char* sel_text : selections) {
      ASSERT_OK_AND_ASSIGN(TPML_PCR_SELECTION sel, ParsePcrSelection(sel_text));
      for (int i = 0; i < per_selection; ++i) {
        Bytes binding = RandomBytes(64);
        ASSERT_OK_AND_ASSIGN(att::Evidence e,
                             TakeQuote(*ctx_, ak, sel, ByteSpan(binding).first(32)));
        for (Mutation m :
             {Mutation::kNone, Mutation::kAttest, Mutation::kSignature, Mutation::kPcr}) {
          Case c;
          c.evidence = e;
          c.mutation = m;
          std::ostringstream d;
          d << AkKindName(kind) << " " << sel_text << " quote " << i << " mutation "
            << MutationName(m);
          if (m == Mutation::kAttest) {
            std::size_t pos = rng_() % c.evidence.attest.size();
            c.evidence.attest[pos] ^= static_cast<std::uint8_t>(1 + rng_() % 255);
            d << " at byte " << pos;
          } else if (m == Mutation::kSignature) {
            std::size_t pos = rng_() % c.evidence.signature.size();
            c.evidence.signature[pos] ^= static_cast<std::uint8_t>(1 + rng_() % 255);
            d << " at byte " << pos;
          } else if (m == Mutation::kPcr) {
            auto bank = c.evidence.pcrs.begin();
            std::advance(bank, rng_() % c.evidence.pcrs.size());
            auto pcr = bank->second.begin();
            std::advance(pcr, rng_() % bank->second.size());
            std::size_t pos = rng_() % pcr->second.size();
            pcr->second[pos] ^= static_cast<std::uint8_t>(1 + rng_() % 255);
            d << " bank " << att::HashName(bank->first) << " pcr " << pcr->first << " byte " << pos;
          }
          c.description = d.str();
          c.binding = binding;
          c.ak_pem_file = pem_file;
          c.hash = hash;
          c.selection = sel_text;
          cases_.push_back(std::move(c));
        }
      }
    }
  }

  // Sigil's verdicts on the broker's path: AKs registered, the 64-byte binding expected.
  void VerifyWithSigil() {
    att::TpmConfig config;
    config.registered_aks = registered_;
    ASSERT_OK_AND_ASSIGN(auto verifier, att::TpmVerifier::Create(config));
    for (Case& c : cases_) {
      c.evidence.ak.reset();  // every registered AK is tried, as tpm2_checkquote tries its one key
      Bytes json = att::SerializeEvidence(c.evidence);
      attestation::VerifyInput in;
      in.evidence = json;
      in.expected_binding = c.binding;
      in.now = std::chrono::system_clock::now();
      c.sigil_ok = verifier->Verify(in).has_value();
    }
  }

  // Runs one command line per case (all in one shell, to keep process spawning cheap) and
  // returns each exit status.
  std::vector<std::string> RunAll(const std::vector<std::vector<std::string>>& commands) {
    std::string script;
    for (const auto& argv : commands) {
      for (const std::string& arg : argv) script += ShellQuote(arg) + " ";
      script += ">/dev/null 2>&1; echo $?\n";
    }
    std::vector<std::string> out;
    auto w = WriteFileAtomic(dir_.File("check.sh"), AsBytes(script), 0644);
    if (!w) return out;
    auto run = sigil::testing::Run({"/bin/sh", dir_.File("check.sh")});
    std::istringstream lines(run.out);
    for (std::string line; std::getline(lines, line);) out.push_back(line);
    return out;
  }

  std::string File(const std::string& name) const { return dir_.File(name); }
  std::vector<Case>& cases() { return cases_; }
  const std::vector<Case>& cases() const { return cases_; }

 private:
  Bytes RandomBytes(std::size_t n) {
    Bytes b(n);
    for (auto& x : b) x = static_cast<std::uint8_t>(rng_());
    return b;
  }

  TempDir dir_, state_;
  std::optional<Swtpm> swtpm_;
  std::optional<EsysContext> ctx_;
  std::mt19937_64 rng_{20261122};
  std::vector<Case> cases_;
  std::vector<Bytes> registered_;
};

// Compares each case's Sigil verdict with the oracle's exit status ("0" = accepted).
void ExpectAgreement(const std::vector<Case>& cases, const std::vector<std::string>& exits,
                     const std::vector<std::vector<std::string>>& commands, const char* oracle) {
  ASSERT_EQ(exits.size(), cases.size()) << oracle << " did not report on every case";
  std::size_t disagreements = 0, accepted = 0;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    accepted += c.sigil_ok;
    if ((exits[i] == "0") != c.sigil_ok) {
      // The first few with the oracle's own words, re-run alone.
      std::string why = ++disagreements <= 3 ? sigil::testing::Run(commands[i]).err : "";
      ADD_FAILURE() << "disagreement on case " << i << " (" << c.description << "): sigil "
                    << (c.sigil_ok ? "accepts" : "refuses") << ", " << oracle << " exit "
                    << exits[i] << " " << why;
    }
  }
  EXPECT_EQ(disagreements, 0u);
  // Every unmutated quote verifies, so the comparison is not only over refusals.
  std::size_t unmutated = 0;
  for (const Case& c : cases) unmutated += c.mutation == Mutation::kNone;
  EXPECT_GE(accepted, unmutated);
}

TEST(TpmDifferentialTest, SigilAgreesWithTpm2Checkquote) {
  QuoteCorpus corpus;
  ASSERT_NO_FATAL_FAILURE(corpus.Start());
  for (AkKind kind : {AkKind::kRsaSsaSha256, AkKind::kEccP256Sha256, AkKind::kEccP384Sha384}) {
    ASSERT_NO_FATAL_FAILURE(corpus.Add(kind, kQuotesPerCombination));
  }
  ASSERT_GE(corpus.cases().size(), 4u * 200u);
  ASSERT_NO_FATAL_FAILURE(corpus.VerifyWithSigil());

  std::vector<std::vector<std::string>> commands;
  for (std::size_t i = 0; i < corpus.cases().size(); ++i) {
    const Case& c = corpus.cases()[i];
    std::string base = corpus.File("c" + std::to_string(i));
    ASSERT_OK(WriteFileAtomic(base + ".msg", c.evidence.attest, 0644));
    ASSERT_OK(WriteFileAtomic(base + ".sig", c.evidence.signature, 0644));
    auto pcr_file = SerializedPcrFile(c.selection, c.evidence.pcrs);
    ASSERT_TRUE(pcr_file.has_value()) << c.description << ": " << pcr_file.error().message();
    ASSERT_OK(WriteFileAtomic(base + ".pcrs", *pcr_file, 0644));
    commands.push_back({"/usr/bin/tpm2_checkquote", "-u", c.ak_pem_file, "-m", base + ".msg", "-s",
                        base + ".sig", "-f", base + ".pcrs", "-g", c.hash, "-q",
                        HexEncode(ByteSpan(c.binding).first(32))});
  }
  ExpectAgreement(corpus.cases(), corpus.RunAll(commands), commands, "tpm2_checkquote");
}

TEST(TpmDifferentialTest, RsaPssSignaturesAgreeWithOpensslCli) {
  QuoteCorpus corpus;
  ASSERT_NO_FATAL_FAILURE(corpus.Start());
  ASSERT_NO_FATAL_FAILURE(corpus.Add(AkKind::kRsaPssSha256, kPssQuotesPerSelection));
  ASSERT_NO_FATAL_FAILURE(corpus.VerifyWithSigil());
  // The oracle checks the signature only (RSA-PSS, SHA-256, salt = digest length as TPMs use,
  // Part 1 Annex B.7), so it judges the unmutated, attest- and signature-mutated cases; a PCR
  // mutation leaves the signature valid and must be refused by the pcrDigest check alone.
  std::vector<Case> signed_cases;
  std::vector<std::vector<std::string>> commands;
  for (const Case& c : corpus.cases()) {
    if (c.mutation == Mutation::kPcr) {
      EXPECT_FALSE(c.sigil_ok) << c.description;
      continue;
    }
    std::string base = corpus.File("p" + std::to_string(signed_cases.size()));
    ASSERT_OK(WriteFileAtomic(base + ".msg", c.evidence.attest, 0644));
    // TPMT_SIGNATURE for RSA-PSS (Part 2 s.11.3.4): sigAlg(2) hashAlg(2) size(2) then the
    // signature. A mutation of the header makes a blob Sigil refuses; the oracle, fed the
    // body only, must then refuse too unless the mutation hit a header byte.
    Bytes body(c.evidence.signature.begin() + std::min<std::size_t>(6, c.evidence.signature.size()),
               c.evidence.signature.end());
    ASSERT_OK(WriteFileAtomic(base + ".sig", body, 0644));
    commands.push_back({"/usr/bin/openssl", "dgst", "-sha256", "-sigopt", "rsa_padding_mode:pss",
                        "-sigopt", "rsa_pss_saltlen:digest", "-verify", c.ak_pem_file, "-signature",
                        base + ".sig", base + ".msg"});
    signed_cases.push_back(c);
  }
  std::vector<std::string> exits = corpus.RunAll(commands);
  // A mutated signature header (first 6 bytes) is invisible to the body-only oracle: there
  // Sigil must refuse regardless.
  for (std::size_t i = 0; i < signed_cases.size() && i < exits.size(); ++i) {
    const Case& c = signed_cases[i];
    if (c.mutation == Mutation::kSignature &&
        c.description.find(" at byte ") != std::string::npos &&
        std::stoul(c.description.substr(c.description.rfind(' ') + 1)) < 6) {
      EXPECT_FALSE(c.sigil_ok) << c.description;
      exits[i] = "1";
    }
  }
  ExpectAgreement(signed_cases, exits, commands, "openssl dgst (RSA-PSS)");
}

}  // namespace
}  // namespace sigil::enclave::tpm
