// Negative tests built by mutating the real quotes and collateral: every byte of the signed
// header+body, the signature data, certificates, roots, times, collateral and binding.
#include <gtest/gtest.h>

#include "attestation/dcap/quote.h"
#include "attestation/dcap/verifier.h"
#include "core/json.h"
#include "dcap_test_util.h"
#include "tests/support/matchers.h"

namespace sigil::attestation::dcap {
namespace {
using namespace testing;

struct Case {
  const char* name;
  const char* quote;
  DcapTee tee;
  const char* collateral;  // nullptr: chain-only (VerifyDcapQuote without collateral)
  std::int64_t now;        // unix seconds
};

const Case kCases[] = {
    {"Tdx1V4", kTdx1, DcapTee::kTdx, nullptr, 1688173200},  // 2023-07-01T01:00:00Z
    {"Tdx2V5", kTdx2, DcapTee::kTdx, nullptr, 1770080400},  // 2026-02-03T01:00:00Z
    {"Tdx3V4", kTdx3, DcapTee::kTdx, kTdx3Collateral, 1752919234},
    {"Sgx1V3", kSgx1, DcapTee::kSgx, kSgx1Collateral, 1752919277},
};

class DcapMutation : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    quote_ = Load(GetParam().quote);
    roots_ = Roots();
    if (GetParam().collateral != nullptr) {
      auto raw = ParseCollateral(Load(GetParam().collateral));
      ASSERT_OK(raw);
      auto vc = VerifyCollateral(std::move(raw).value(), roots_, Unix(GetParam().now));
      ASSERT_OK(vc);
      collateral_.emplace(std::move(vc).value());
    }
    auto q = ParseQuote(quote_);
    ASSERT_OK(q);
    signed_size_ = q->signed_region.size();
    pem_offset_ = static_cast<std::size_t>(q->pck_chain_pem.data() - quote_.data());
    binding_.assign(ReportData(*q).begin(), ReportData(*q).end());
  }
  static ByteSpan ReportData(const Quote& q) {
    if (q.td) return q.td->report_data;
    return q.sgx->report_data;
  }
  Result<Claims> Run(ByteSpan quote, ByteSpan binding) const {
    return VerifyDcapQuote(GetParam().tee, quote, roots_, collateral_ ? &*collateral_ : nullptr,
                           binding, Unix(GetParam().now));
  }
  Bytes quote_;
  std::vector<X509Ptr> roots_;
  std::optional<VerifiedCollateral> collateral_;
  std::size_t signed_size_ = 0;
  std::size_t pem_offset_ = 0;
  Bytes binding_;
};

TEST_P(DcapMutation, UnmodifiedPasses) { EXPECT_OK(Run(quote_, binding_)); }

// Exhaustive: one bit flipped at every position of header||body is refused.
TEST_P(DcapMutation, EveryHeaderOrBodyByteFlipRefused) {
  std::size_t accepted = 0;
  for (std::size_t i = 0; i < signed_size_; ++i) {
    Bytes m = quote_;
    m[i] ^= 0x01;
    if (Run(m, {})) {
      ++accepted;
      ADD_FAILURE() << "flip at offset " << i << " accepted";
    }
  }
  EXPECT_EQ(accepted, 0u);
}

// Every byte of the signature data before the PEM chain: length, quote signature, attestation
// key, certification data headers, QE report, QE report signature, QE auth data.
TEST_P(DcapMutation, EverySignatureDataByteFlipRefused) {
  for (std::size_t i = signed_size_; i < pem_offset_; ++i) {
    Bytes m = quote_;
    m[i] ^= 0x01;
    EXPECT_FALSE(Run(m, {}).has_value()) << "flip at offset " << i << " accepted";
  }
}

// A byte inside each certificate's signature (the last bytes of each PEM block's base64) and in
// the leaf's body.
TEST_P(DcapMutation, PckChainCorruptionRefused) {
  const std::string pem(quote_.begin() + static_cast<std::ptrdiff_t>(pem_offset_), quote_.end());
  std::size_t pos = 0;
  int certs = 0;
  while ((pos = pem.find("-----END CERTIFICATE-----", pos)) != std::string::npos) {
    for (std::size_t back : {8u, 20u, 40u, 300u}) {
      Bytes m = quote_;
      char& ch = reinterpret_cast<char&>(m[pem_offset_ + pos - back]);
      if (ch == '\n') continue;
      ch = ch == 'A' ? 'B' : 'A';
      EXPECT_FALSE(Run(m, {}).has_value()) << "cert " << certs << " back " << back;
    }
    ++certs;
    ++pos;
  }
  EXPECT_EQ(certs, 3);
}

TEST_P(DcapMutation, BindingMismatchRefused) {
  Bytes wrong = binding_;
  wrong[63] ^= 0x01;
  EXPECT_CODE(Run(quote_, wrong), Code::kVerificationFailed);
  EXPECT_CODE(Run(quote_, ByteSpan(binding_).first(32)), Code::kInvalidArgument);
  EXPECT_OK(Run(quote_, {}));  // empty: binding not checked (documented)
}

TEST_P(DcapMutation, WrongRootRefused) {
  // The AMD ARK (a self-signed root unrelated to Intel) as the only trust anchor.
  auto amd = ParsePemCerts(Load("sev-snp/go-sev-guest/ask_ark_milan.pem"), "amd");
  ASSERT_OK(amd);
  std::vector<X509Ptr> roots;
  roots.push_back(std::move((*amd)[1]));
  EXPECT_CODE(VerifyDcapQuote(GetParam().tee, quote_, roots, nullptr, binding_,
                              Unix(GetParam().now)),
              Code::kVerificationFailed);
}

TEST_P(DcapMutation, TruncatedAndWrongTeeRefused) {
  for (std::size_t n : {std::size_t{0}, std::size_t{47}, signed_size_ - 1, signed_size_ + 3,
                        pem_offset_}) {
    SCOPED_TRACE(n);
    EXPECT_CODE(Run(ByteSpan(quote_).first(n), {}), Code::kMalformedEvidence);
  }
  const DcapTee other = GetParam().tee == DcapTee::kTdx ? DcapTee::kSgx : DcapTee::kTdx;
  EXPECT_CODE(VerifyDcapQuote(other, quote_, roots_, nullptr, {}, Unix(GetParam().now)),
              Code::kMalformedEvidence);
}

INSTANTIATE_TEST_SUITE_P(Vectors, DcapMutation, ::testing::ValuesIn(kCases),
                         [](const auto& p) { return std::string(p.param.name); });

// go-tdx-guest TestNegativeVerification on TDX-1 (quote[index] = value).
TEST(DcapNegative, GoTdxGuestTable) {
  const Bytes quote = Load(kTdx1);
  const std::pair<std::size_t, std::uint8_t> table[] = {
      {0x00, 3}, {0x278, 0x10}, {0x1343, 0x32}, {0x1329, 0x32},
      {0xF5F, 0x32}, {0xB77, 0x32}, {0x1E, 0x32}, {0x3C, 0x32}};
  for (const auto& [index, value] : table) {
    Bytes m = quote;
    m[index] = value;
    EXPECT_FALSE(VerifyDcapQuote(DcapTee::kTdx, m, Roots(), nullptr, {}, At(2023, 7, 1, 1, 0, 0))
                     .has_value())
        << "index " << index;
  }
}

}  // namespace
}  // namespace sigil::attestation::dcap
