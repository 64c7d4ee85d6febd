// The dev attester and the engine measurement.
#include "enclave/dev_attester.h"

#include <gtest/gtest.h>

#include "attestation/dev/verifier.h"
#include "core/digest.h"
#include "core/encoding.h"
#include "core/file_io.h"
#include "tests/support/matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/attestation/dev_test_util.h"

namespace sigil::enclave {
namespace {

using namespace sigil::testing;

TEST(DevAttester, EvidenceVerifiesWithTheInjectedClock) {
  ASSERT_OK_AND_ASSIGN(AttesterPtr attester,
                       DevAttester::Create(TestSeed(), TestMeasurement(), false, [] { return TestNow(); }));
  EXPECT_EQ(attester->tee(), "dev");
  ASSERT_OK_AND_ASSIGN(Bytes evidence, attester->Evidence(TestBinding()));
  EXPECT_EQ(evidence, MakeDevEvidence(TestSeed(), TestBinding(), TestMeasurement(), false, TestNow()).value());
  ASSERT_OK_AND_ASSIGN(auto verifier, attestation::dev::DevVerifier::Create(TestPublicKey()));
  Bytes binding = TestBinding();
  ASSERT_OK_AND_ASSIGN(auto claims, verifier->Verify({evidence, {}, binding, TestNow()}));
  EXPECT_EQ(claims.GetString("measurement"), TestMeasurement());
  EXPECT_CODE(attester->Evidence(Bytes(32, 0)), Code::kInvalidArgument);
}

TEST(DevAttester, RefusesBadInputs) {
  EXPECT_CODE(DevAttester::Create(SecretBytes::CopyFrom(Bytes(16, 1)).value(), TestMeasurement(), false),
              Code::kInvalidArgument);
  EXPECT_CODE(DevAttester::Create(TestSeed(), "ABCD", false), Code::kInvalidArgument);
  std::string upper = TestMeasurement();
  upper[0] = 'A';
  upper[1] = 'B';
  EXPECT_CODE(MakeDevEvidence(TestSeed(), TestBinding(), upper, false, TestNow()), Code::kInvalidArgument);
  EXPECT_CODE(MakeDevEvidence(TestSeed(), TestBinding(), TestMeasurement(), false,
                              std::chrono::system_clock::time_point(std::chrono::seconds(-5))),
              Code::kInvalidArgument);
}

std::string Expected(const Bytes& engine, std::string_view config) {
  Bytes m = engine;
  Bytes tail = ToBytes(kSandboxConfigContext);
  tail.push_back(0);
  tail.insert(tail.end(), config.begin(), config.end());
  AppendU64(tail, config.size());
  AppendU64(tail, engine.size());
  m.insert(m.end(), tail.begin(), tail.end());
  return HexEncode(Sha384(m));
}

TEST(MeasureEngine, IsTheDocumentedConstruction) {
  TempDir dir;
  // 3 MiB + 5 bytes: crosses the 1 MiB streaming chunk boundary.
  Bytes engine((3u << 20) + 5);
  for (std::size_t i = 0; i < engine.size(); ++i) engine[i] = static_cast<std::uint8_t>(i * 31 + 7);
  ASSERT_OK(WriteFileAtomic(dir.File("engine"), engine));
  ASSERT_OK_AND_ASSIGN(std::string empty_cfg, MeasureEngine(dir.File("engine"), ""));
  EXPECT_EQ(empty_cfg, Expected(engine, ""));
  ASSERT_OK_AND_ASSIGN(std::string with_cfg, MeasureEngine(dir.File("engine"), "seccomp=strict"));
  EXPECT_EQ(with_cfg, Expected(engine, "seccomp=strict"));
  EXPECT_NE(with_cfg, empty_cfg);
  EXPECT_EQ(with_cfg.size(), 96u);
}

// Known answer for an empty engine and empty config, so other implementations can check theirs:
// SHA-384("sigil/v1/engine-sandbox" 00 || 16 zero bytes).
TEST(MeasureEngine, KnownAnswerForEmptyInputs) {
  TempDir dir;
  ASSERT_OK(WriteFileAtomic(dir.File("e"), Bytes{}));
  EXPECT_EQ(MeasureEngine(dir.File("e"), "").value(), Expected({}, ""));
}

TEST(MeasureEngine, IoErrors) {
  TempDir dir;
  EXPECT_CODE(MeasureEngine(dir.File("absent"), ""), Code::kNotFound);
  EXPECT_CODE(MeasureEngine(dir.path(), ""), Code::kInvalidArgument);
}

}  // namespace
}  // namespace sigil::enclave
