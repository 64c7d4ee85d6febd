// enclave/sharded_model.h as the loader and sigil-infer use it: splitting a model into shards,
// loading it back through the index (from disk and through SIGIL_MODEL_FILES) with the same
// outputs as the single file, and the index parser's refusals.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

#include "core/file_io.h"
#include "enclave/sharded_model.h"
#include "enclave/weights.h"
#include "tests/support/matchers.h"
#include "tests/support/temp_dir.h"

namespace sigil::enclave {
namespace {

using ::sigil::testing::TempDir;
using ::testing::HasSubstr;

TEST(ShardedModel, ShardsLoadToTheSameMlpAsTheSingleFile) {
  TempDir dir;
  std::vector<std::size_t> dims{16, 32, 8};
  ASSERT_OK_AND_ASSIGN(Bytes weights, MakeWeights(dims, 9));
  ASSERT_OK(WriteFileAtomic(dir.File("single.safetensors"), weights, 0644));
  ASSERT_OK_AND_ASSIGN(ShardedModel m, ShardSafetensors(weights, 3));
  ASSERT_EQ(m.shards.size(), 3u);
  EXPECT_EQ(m.shards[0].name, "model-00001-of-00003.safetensors");
  for (const auto& s : m.shards) ASSERT_OK(WriteFileAtomic(dir.File(s.name), s.bytes, 0644));
  ASSERT_OK(WriteFileAtomic(dir.File("model.safetensors.index.json"), AsBytes(m.index_json), 0644));

  ASSERT_OK_AND_ASSIGN(Mlp single, LoadAnyMlp(dir.File("single.safetensors")));
  ASSERT_OK_AND_ASSIGN(Mlp sharded, LoadAnyMlp(dir.File("model.safetensors.index.json")));
  std::vector<float> x(16, 0.25f);
  ASSERT_OK_AND_ASSIGN(auto want, single.Forward(x));
  ASSERT_OK_AND_ASSIGN(auto got, sharded.Forward(x));
  EXPECT_EQ(got, want);

  // Through the SIGIL_MODEL_FILES view, with the shards under other paths.
  TempDir other;
  std::string env;
  for (const auto& s : m.shards) {
    ASSERT_OK(WriteFileAtomic(other.File("x-" + s.name), s.bytes, 0644));
    env += (env.empty() ? "" : ":") + s.name + "=" + other.File("x-" + s.name);
  }
  ASSERT_OK(WriteFileAtomic(other.File("index.json"), AsBytes(m.index_json), 0644));
  ::setenv("SIGIL_MODEL_FILES", env.c_str(), 1);
  auto via_env = LoadShardedMlp(other.File("index.json"));
  ::unsetenv("SIGIL_MODEL_FILES");
  ASSERT_OK(via_env);
  ASSERT_OK_AND_ASSIGN(auto got2, via_env->Forward(x));
  EXPECT_EQ(got2, want);

  // A missing shard is named.
  auto missing = LoadShardedMlp(other.File("index.json"));
  ASSERT_FALSE(missing.has_value());
  EXPECT_THAT(missing.error().message(), HasSubstr("model-00001-of-00003.safetensors"));
}

TEST(ShardedModel, IndexIsToldApartFromSafetensorsWhoseLengthStartsWithABrace) {
  EXPECT_TRUE(LooksLikeShardIndex(AsBytes(R"({"weight_map":{"a":"s"}})")));
  Bytes st = {0x7B, 0, 0, 0, 0, 0, 0, 0};  // a safetensors header length of 123
  EXPECT_FALSE(LooksLikeShardIndex(st));
  EXPECT_FALSE(LooksLikeShardIndex(Bytes{}));
}

TEST(ShardedModel, IndexParserIsStrict) {
  EXPECT_OK(ParseShardIndex(R"({"metadata":{},"weight_map":{"a":"s1.safetensors"}})", "i"));
  EXPECT_CODE(ParseShardIndex(R"({"weight_map":{}})", "i"), Code::kInvalidArgument);
  EXPECT_CODE(ParseShardIndex(R"({"weight_map":{"a":"../s1"}})", "i"), Code::kInvalidArgument);
  EXPECT_CODE(ParseShardIndex(R"({"weight_map":{"a":"x:y"}})", "i"), Code::kInvalidArgument);
  EXPECT_CODE(ParseShardIndex(R"({"weight_map":{"a":1}})", "i"), Code::kInvalidArgument);
  EXPECT_CODE(ParseShardIndex(R"({"weight_map":{"a":"s"},"x":{}})", "i"), Code::kInvalidArgument);
  EXPECT_CODE(ParseShardIndex(R"([1])", "i"), Code::kInvalidArgument);
}

TEST(ShardedModel, ModelFilesEnvParsing) {
  ASSERT_OK_AND_ASSIGN(auto m, ParseModelFilesEnv("a=/proc/self/fd/5:b.json=/proc/self/fd/6"));
  EXPECT_EQ(m.at("a"), "/proc/self/fd/5");
  EXPECT_EQ(m.at("b.json"), "/proc/self/fd/6");
  EXPECT_CODE(ParseModelFilesEnv("a=1:a=2"), Code::kInvalidArgument);
  EXPECT_CODE(ParseModelFilesEnv("a"), Code::kInvalidArgument);
  EXPECT_CODE(ParseModelFilesEnv("=x"), Code::kInvalidArgument);
}

}  // namespace
}  // namespace sigil::enclave
