// The MLP forward pass on a hand-computed network, model loading errors, and make-weights.
#include "enclave/mlp.h"

#include <gtest/gtest.h>

#include <limits>

#include "core/digest.h"
#include "core/encoding.h"
#include "core/file_io.h"
#include "enclave/infer_io.h"
#include "enclave/safetensors_writer.h"
#include "enclave/weights.h"
#include "tests/support/matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/enclave/safetensors_test_util.h"

namespace sigil::enclave {
namespace {

// 2 -> 3 -> 3. Input [2, 1]:
//   hidden pre-activation = W0 x + b0 = [2-1+0, 1+2-1, -2-1+0.5] = [1, 2, -2.5]
//   ReLU                  = [1, 2, 0]      (the third unit's 4s would show if ReLU were missing)
//   logits = W1 h + b1    = [1, 2, 3]
//   softmax([1,2,3])      = [e^-2, e^-1, 1] / (1 + e^-1 + e^-2) = [0.090031, 0.244728, 0.665241]
std::vector<DenseLayer> HandNetwork() {
  return {DenseLayer{2, 3, {1, -1, 0.5f, 2, -1, -1}, {0, -1, 0.5f}},
          DenseLayer{3, 3, {1, 0, 4, 0, 1, 4, 1, 1, 4}, {0, 0, 0}}};
}
const std::vector<float> kHandInput = {2.0f, 1.0f};
constexpr std::string_view kDefaultWeightsSha256 =
    "bfd018a9eb28bbc5caa51f2f533c823f6e1cc1f96fc8557b0cf122bd484f43c8";

TEST(Mlp, HandComputedNetworkGivesExactNumbers) {
  ASSERT_OK_AND_ASSIGN(Mlp mlp, Mlp::FromLayers(HandNetwork()));
  EXPECT_EQ(mlp.input_size(), 2u);
  EXPECT_EQ(mlp.output_size(), 3u);
  ASSERT_OK_AND_ASSIGN(std::vector<float> logits, mlp.Logits(kHandInput));
  EXPECT_EQ(logits, (std::vector<float>{1.0f, 2.0f, 3.0f}));
  ASSERT_OK_AND_ASSIGN(std::vector<float> out, mlp.Forward(kHandInput));
  EXPECT_EQ(ArgMax(out), 2u);
  EXPECT_EQ(FormatOutput(out, ArgMax(out), false), "output: 0.090031,0.244728,0.665241\nargmax: 2\n");
  EXPECT_EQ(FormatOutput(out, ArgMax(out), true), "{\"argmax\":2,\"output\":[0.090031,0.244728,0.665241]}\n");
}

Bytes HandFile(bool stray = false) {
  auto layers = HandNetwork();
  std::vector<Bytes> blobs;
  std::vector<TensorToWrite> t;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    blobs.push_back(F32ToBytes(layers[i].weight));
    blobs.push_back(F32ToBytes(layers[i].bias));
  }
  t.push_back({"layers.0.weight", {3, 2}, blobs[0]});
  t.push_back({"layers.0.bias", {3}, blobs[1]});
  t.push_back({"layers.1.weight", {3, 3}, blobs[2]});
  t.push_back({"layers.1.bias", {3}, blobs[3]});
  if (stray) t.push_back({"head.scale", {3}, blobs[1]});
  return SerializeSafetensors({}, t).value();
}

TEST(Mlp, SameNumbersThroughASafetensorsFile) {
  sigil::testing::TempDir dir;
  ASSERT_OK(WriteFileAtomic(dir.File("m.safetensors"), HandFile()));
  ASSERT_OK_AND_ASSIGN(Mlp mlp, LoadMlp(dir.File("m.safetensors")));
  EXPECT_EQ(mlp.layer_count(), 2u);
  ASSERT_OK_AND_ASSIGN(std::vector<float> logits, mlp.Logits(kHandInput));
  EXPECT_EQ(logits, (std::vector<float>{1.0f, 2.0f, 3.0f}));
}

Result<Mlp> FromFile(const Bytes& file) {
  SIGIL_ASSIGN_OR_RETURN(SafetensorsIndex index, ParseSafetensors(file));
  return Mlp::FromSafetensors(file, index);
}

TEST(Mlp, RefusesTensorsThatAreNotPartOfTheModel) {
  auto r = FromFile(HandFile(/*stray=*/true));
  EXPECT_CODE(r, Code::kInvalidArgument);
  EXPECT_NE(r.error().message().find("tensor 'head.scale' is not part of an MLP"), std::string::npos);
}

TEST(Mlp, RefusesMissingOrMisshapenTensors) {
  Bytes b3 = F32ToBytes(std::vector<float>(3)), b6 = F32ToBytes(std::vector<float>(6)),
        b2 = F32ToBytes(std::vector<float>(2)), b1 = F32ToBytes(std::vector<float>(1));
  std::vector<TensorToWrite> no_bias = {{"layers.0.weight", {3, 2}, b6}};
  auto r = FromFile(SerializeSafetensors({}, no_bias).value());
  EXPECT_NE(r.error().message().find("tensor 'layers.0.bias' is missing"), std::string::npos);

  std::vector<TensorToWrite> bad_bias = {{"layers.0.weight", {3, 2}, b6}, {"layers.0.bias", {2}, b2}};
  r = FromFile(SerializeSafetensors({}, bad_bias).value());
  EXPECT_NE(r.error().message().find("'layers.0.bias' has shape [2], expected [3]"), std::string::npos);

  std::vector<TensorToWrite> rank3 = {{"layers.0.weight", {3, 2, 1}, b6}, {"layers.0.bias", {3}, b3}};
  r = FromFile(SerializeSafetensors({}, rank3).value());
  EXPECT_NE(r.error().message().find("expected [out,in]"), std::string::npos);

  std::vector<TensorToWrite> none = {};
  r = FromFile(SerializeSafetensors({}, none).value());
  EXPECT_NE(r.error().message().find("at least one layer"), std::string::npos);

  std::vector<TensorToWrite> no_chain = {{"layers.0.weight", {3, 2}, b6}, {"layers.0.bias", {3}, b3},
                                         {"layers.1.weight", {1, 2}, b2}, {"layers.1.bias", {1}, b1}};
  r = FromFile(SerializeSafetensors({}, no_chain).value());
  EXPECT_NE(r.error().message().find("layer 1 takes 2 inputs but layer 0 produces 3"), std::string::npos);
}

// The parser accepts any safetensors dtype; this engine computes in F32 and must say so rather
// than reinterpret BF16 bytes as floats.
TEST(Mlp, RefusesWeightsThatAreNotF32) {
  const std::string header = R"({"layers.0.weight":{"dtype":"BF16","shape":[1,2],"data_offsets":[0,4]},)"
                             R"("layers.0.bias":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})";
  auto r = FromFile(sigil::testing::FileWithHeader(header, Bytes(8, 0)));
  EXPECT_CODE(r, Code::kInvalidArgument);
  EXPECT_NE(r.error().message().find("tensor 'layers.0.weight' is BF16; this engine computes in F32 only"),
            std::string::npos)
      << r.error().message();
}

TEST(Mlp, RefusesNonFiniteWeightsAndInputs) {
  auto layers = HandNetwork();
  layers[1].weight[4] = std::numeric_limits<float>::quiet_NaN();
  auto r = Mlp::FromLayers(layers);
  EXPECT_CODE(r, Code::kInvalidArgument);
  EXPECT_NE(r.error().message().find("layer 1 weight[4] is NaN or infinite"), std::string::npos);

  ASSERT_OK_AND_ASSIGN(Mlp mlp, Mlp::FromLayers(HandNetwork()));
  EXPECT_CODE(mlp.Forward(std::vector<float>{1.0f}), Code::kInvalidArgument);
  EXPECT_CODE(mlp.Forward(std::vector<float>{1.0f, std::numeric_limits<float>::infinity()}), Code::kInvalidArgument);

  std::vector<DenseLayer> huge = {DenseLayer{1, 1, {3e38f}, {3e38f}}};
  ASSERT_OK_AND_ASSIGN(Mlp big, Mlp::FromLayers(huge));
  EXPECT_CODE(big.Forward(std::vector<float>{10.0f}), Code::kInvalidArgument);
}

TEST(SplitMix64, MatchesTheReferenceSequence) {
  // First outputs of the reference splitmix64.c (Vigna) with state 0.
  SplitMix64 rng(0);
  EXPECT_EQ(rng.Next(), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(rng.Next(), 0x6e789e6aa1b965f4ULL);
  EXPECT_EQ(rng.Next(), 0x06c45d188009454fULL);
  SplitMix64 c(0);
  EXPECT_EQ(c.NextCentered(), static_cast<float>(0xe220a8397b1dcdafULL >> 40) / 16777216.0f - 0.5f);
  for (int i = 0; i < 10000; ++i) {
    float v = c.NextCentered();
    ASSERT_TRUE(v >= -0.5f && v < 0.5f) << v;
  }
}

TEST(MakeWeights, IsDeterministicAndValid) {
  const std::vector<std::size_t> dims = {16, 64, 64, 8};
  ASSERT_OK_AND_ASSIGN(Bytes a, MakeWeights(dims, 7));
  ASSERT_OK_AND_ASSIGN(Bytes b, MakeWeights(dims, 7));
  ASSERT_OK_AND_ASSIGN(Bytes c, MakeWeights(dims, 8));
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  ASSERT_OK_AND_ASSIGN(SafetensorsIndex index, ParseSafetensors(a));
  EXPECT_EQ(index.metadata.at("dims"), "16,64,64,8");
  EXPECT_EQ(index.metadata.at("seed"), "7");
  ASSERT_OK_AND_ASSIGN(Mlp mlp, Mlp::FromSafetensors(a, index));
  EXPECT_EQ(mlp.layer_count(), 3u);
  EXPECT_EQ(index.Find("layers.1.weight")->shape, (std::vector<std::uint64_t>{64, 64}));
  // The first weight is the first PRNG draw: ties the file layout to the documented stream.
  SplitMix64 rng(7);
  EXPECT_EQ(ReadF32(a, index, *index.Find("layers.0.weight"))[0], rng.NextCentered());
  // Cross-machine pin for the default model (seed 0): demos compare these bytes.
  ASSERT_OK_AND_ASSIGN(Bytes d, MakeWeights(dims, 0));
  EXPECT_EQ(HexEncode(Sha256(d)), kDefaultWeightsSha256);
}

TEST(MakeWeights, ParseDimsValidates) {
  ASSERT_OK_AND_ASSIGN(auto dims, ParseDims("16,64,64,8"));
  EXPECT_EQ(dims, (std::vector<std::size_t>{16, 64, 64, 8}));
  for (const char* bad : {"", "16", "16,", ",8", "16,0", "16,x", "16, 8", "16,65537", "-1,2", "65536,65536"}) {
    SCOPED_TRACE(bad);
    EXPECT_CODE(ParseDims(bad), Code::kInvalidArgument);
  }
}

TEST(InferIo, ParsesInputVectorsStrictly) {
  ASSERT_OK_AND_ASSIGN(auto v, ParseInputVector("0.5, -1,2e-1"));
  EXPECT_EQ(v, (std::vector<float>{0.5f, -1.0f, 0.2f}));
  for (const char* bad : {"", "1,", "1,,2", "abc", "1x", "nan", "inf", "1e99"}) {
    SCOPED_TRACE(bad);
    EXPECT_CODE(ParseInputVector(bad), Code::kInvalidArgument);
  }
  EXPECT_EQ(DefaultInput(4), (std::vector<float>{0.25f, 0.5f, 0.75f, 1.0f}));
}

}  // namespace
}  // namespace sigil::enclave
