// Model sets (loader/model_set*.h): encrypting a model directory, then what the loader does
// after the batch release (OpenDek stands in for the broker: same HPKE open), and every way of
// altering a set on disk: swapping, dropping, adding, renaming members, mixing sets.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "core/encoding.h"
#include "core/file_io.h"
#include "core/hpke.h"
#include "enclave/sharded_model.h"
#include "enclave/weights.h"
#include "loader/container_keys.h"
#include "loader/memfd_decrypt.h"
#include "loader/model_set.h"
#include "loader/model_set_encrypt.h"
#include "tests/support/matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/loader/loader_test_util.h"

namespace sigil::loader {
namespace {

using ::sigil::testing::TempDir;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

struct Recipient {
  hpke::KeyPair kp;
  RecipientKey pub;
};

Recipient NewRecipient() {
  hpke::KeyPair kp = std::move(hpke::GenerateKeyPair(hpke::Kem::kX25519HkdfSha256)).value();
  RecipientKey pub{"acme", "llama3", 1, kp.public_key};
  return Recipient{std::move(kp), std::move(pub)};
}

// A 3-shard MLP with its index, a GGUF-looking file and a config, in `dir`.
void WriteModelDir(const std::string& dir, std::uint64_t seed) {
  fs::create_directories(dir);
  std::vector<std::size_t> dims{8, 16, 16, 4};
  Bytes weights = std::move(enclave::MakeWeights(dims, seed)).value();
  enclave::ShardedModel m = std::move(enclave::ShardSafetensors(weights, 3)).value();
  for (const auto& s : m.shards) testing::WriteBytes(dir + "/" + s.name, s.bytes);
  testing::WriteBytes(dir + "/model.safetensors.index.json", AsBytes(m.index_json));
  testing::WriteBytes(dir + "/config.json", AsBytes("{\"hidden\": 16}\n"));
  testing::WriteBytes(dir + "/.gitattributes", AsBytes("*.safetensors filter=lfs\n"));
}

SetEncryptOptions Small() {
  SetEncryptOptions o;
  o.file.chunk_size = 4096;
  return o;
}

std::vector<SecretBytes> OpenDeks(const ModelSet& set, const Recipient& r) {
  std::vector<SecretBytes> deks;
  for (const Container& c : set.containers) deks.push_back(std::move(OpenDek(c.header(), r.kp.private_key)).value());
  return deks;
}

class ModelSetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteModelDir(dir_.File("plain"), 5);
    auto m = EncryptModelSet(dir_.File("plain"), dir_.File("enc"), r_.pub, Small());
    ASSERT_OK(m);
    manifest_ = *m;
  }
  void RewriteManifest(const SetManifest& m) {
    ASSERT_OK(WriteFileAtomic(dir_.File("enc/sigil-set.json"), AsBytes(SerializeSetManifest(m)), 0644));
  }
  // Opens the set and checks the tags with the DEKs, as the loader does after the release.
  Result<void> OpenAndVerify() {
    SIGIL_ASSIGN_OR_RETURN(ModelSet set, OpenModelSet(dir_.File("enc")));
    return VerifySetTags(set, OpenDeks(set, r_));
  }

  TempDir dir_;
  Recipient r_ = NewRecipient();
  SetManifest manifest_;
};

TEST_F(ModelSetTest, EveryFileBecomesAMemberAndDecryptsToItsPlaintext) {
  std::vector<std::string> names;
  for (const auto& s : manifest_.members) names.push_back(s.name);
  EXPECT_THAT(names, ::testing::ElementsAre("config.json", "model-00001-of-00003.safetensors",
                                            "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors",
                                            "model.safetensors.index.json"));
  EXPECT_EQ(manifest_.main, "model.safetensors.index.json");
  EXPECT_FALSE(fs::exists(dir_.File("enc/.gitattributes.sgl")));
  ASSERT_OK_AND_ASSIGN(ModelSet set, OpenModelSet(dir_.File("enc")));
  EXPECT_EQ(set.manifest, manifest_);
  std::vector<SecretBytes> deks = OpenDeks(set, r_);
  ASSERT_OK(VerifySetTags(set, deks));
  for (std::size_t i = 0; i < set.containers.size(); ++i) {
    ASSERT_OK_AND_ASSIGN(LockedMemfd m, DecryptToMemfd(set.containers[i], deks[i]));
    EXPECT_EQ(testing::ReadFd(m.fd()), testing::ReadBytes(dir_.File("plain/" + manifest_.members[i].name)))
        << manifest_.members[i].name;
  }
  EXPECT_EQ(set.containers[0].header().content_type, "application/json");
  EXPECT_EQ(set.containers[1].header().content_type, "application/safetensors");
}

TEST_F(ModelSetTest, ManifestRoundTripsAndParsesStrictly) {
  std::string text = SerializeSetManifest(manifest_);
  ASSERT_OK_AND_ASSIGN(SetManifest back, ParseSetManifest(text, "m"));
  EXPECT_EQ(back, manifest_);
  Json j = Json::parse(text);
  j["extra"] = 1;
  EXPECT_CODE(ParseSetManifest(j.dump(), "m"), Code::kInvalidArgument);
  j = Json::parse(text);
  std::swap(j["members"][0], j["members"][1]);
  EXPECT_CODE(ParseSetManifest(j.dump(), "m"), Code::kInvalidArgument);
  j = Json::parse(text);
  j["members"][0]["file"] = "other.sgl";
  EXPECT_CODE(ParseSetManifest(j.dump(), "m"), Code::kInvalidArgument);
  j = Json::parse(text);
  j["main"] = "absent.json";
  EXPECT_CODE(ParseSetManifest(j.dump(), "m"), Code::kInvalidArgument);
  j = Json::parse(text);
  j["members"][0]["name"] = "../x";
  j["members"][0]["file"] = "../x.sgl";
  EXPECT_CODE(ParseSetManifest(j.dump(), "m"), Code::kInvalidArgument);
}

TEST_F(ModelSetTest, SwappedContainerFilesAreRefusedBeforeAnyRelease) {
  fs::rename(dir_.File("enc/model-00001-of-00003.safetensors.sgl"), dir_.File("enc/tmp"));
  fs::rename(dir_.File("enc/model-00002-of-00003.safetensors.sgl"), dir_.File("enc/model-00001-of-00003.safetensors.sgl"));
  fs::rename(dir_.File("enc/tmp"), dir_.File("enc/model-00002-of-00003.safetensors.sgl"));
  auto set = OpenModelSet(dir_.File("enc"));
  EXPECT_CODE(set, Code::kVerificationFailed);
  EXPECT_THAT(set.error().message(), HasSubstr("model-00001-of-00003.safetensors"));
}

TEST_F(ModelSetTest, MissingContainerFileIsRefused) {
  fs::remove(dir_.File("enc/model-00003-of-00003.safetensors.sgl"));
  EXPECT_CODE(OpenModelSet(dir_.File("enc")), Code::kNotFound);
}

TEST_F(ModelSetTest, DroppedMemberFailsTheTags) {
  SetManifest m = manifest_;
  m.members.erase(m.members.begin() + 2);  // forge a manifest without shard 2, keep the rest
  RewriteManifest(m);
  auto r = OpenAndVerify();
  EXPECT_CODE(r, Code::kVerificationFailed);
  EXPECT_THAT(r.error().message(), HasSubstr("tag"));
}

TEST_F(ModelSetTest, RenamedMemberFailsTheTags) {
  // Shards 1 and 2 trade names: the files are swapped on disk and the forger moves every field
  // OpenModelSet checks (and the tags) along with them, so only the names changed places. The
  // engine would otherwise see shard 1's bytes under shard 2's name.
  fs::rename(dir_.File("enc/model-00001-of-00003.safetensors.sgl"), dir_.File("enc/tmp"));
  fs::rename(dir_.File("enc/model-00002-of-00003.safetensors.sgl"), dir_.File("enc/model-00001-of-00003.safetensors.sgl"));
  fs::rename(dir_.File("enc/tmp"), dir_.File("enc/model-00002-of-00003.safetensors.sgl"));
  SetManifest m = manifest_;
  SetMember& a = m.members[1];
  SetMember& b = m.members[2];
  std::swap(a.size, b.size);
  std::swap(a.artifact_id, b.artifact_id);
  std::swap(a.header_sha256, b.header_sha256);
  std::swap(a.tag, b.tag);
  RewriteManifest(m);
  ASSERT_OK(OpenModelSet(dir_.File("enc")));
  EXPECT_CODE(OpenAndVerify(), Code::kVerificationFailed);
}

TEST_F(ModelSetTest, MemberFromAnotherSetFailsTheTags) {
  // A second set of the same model layout (other weights), encrypted to the same key.
  WriteModelDir(dir_.File("plain2"), 6);
  ASSERT_OK_AND_ASSIGN(SetManifest other, EncryptModelSet(dir_.File("plain2"), dir_.File("enc2"), r_.pub, Small()));
  const std::string shard = "model-00002-of-00003.safetensors.sgl";
  fs::copy_file(dir_.File("enc2/" + shard), dir_.File("enc/" + shard), fs::copy_options::overwrite_existing);
  EXPECT_CODE(OpenModelSet(dir_.File("enc")), Code::kVerificationFailed);  // header digest differs
  // A forger who also copies that member's manifest entry (digest, id, even its tag) still fails.
  SetManifest m = manifest_;
  m.members[2] = other.members[2];
  RewriteManifest(m);
  EXPECT_CODE(OpenAndVerify(), Code::kVerificationFailed);
}

TEST_F(ModelSetTest, AddedMemberFailsTheTags) {
  WriteModelDir(dir_.File("plain2"), 6);
  ASSERT_OK_AND_ASSIGN(SetManifest other, EncryptModelSet(dir_.File("plain2"), dir_.File("enc2"), r_.pub, Small()));
  fs::copy_file(dir_.File("enc2/config.json.sgl"), dir_.File("enc/aaa.json.sgl"));
  SetManifest m = manifest_;
  SetMember extra = other.members[0];
  extra.name = "aaa.json";
  extra.file = "aaa.json.sgl";
  m.members.insert(m.members.begin(), extra);
  RewriteManifest(m);
  EXPECT_CODE(OpenAndVerify(), Code::kVerificationFailed);
}

TEST_F(ModelSetTest, UnalteredSetVerifies) { EXPECT_OK(OpenAndVerify()); }

class ModelSetRefusal : public ::testing::Test {
 protected:
  void SetUp() override { WriteModelDir(dir_.File("plain"), 5); }
  void ExpectRefused(const std::string& what) {
    auto m = EncryptModelSet(dir_.File("plain"), dir_.File("enc"), r_.pub, Small());
    ASSERT_FALSE(m.has_value());
    EXPECT_EQ(m.error().code(), Code::kInvalidArgument) << m.error().message();
    EXPECT_THAT(m.error().message(), HasSubstr(what));
    EXPECT_FALSE(fs::exists(dir_.File("enc/sigil-set.json")));
  }
  TempDir dir_;
  Recipient r_ = NewRecipient();
};

TEST_F(ModelSetRefusal, IndexNamingAMissingShard) {
  fs::remove(dir_.File("plain/model-00002-of-00003.safetensors"));
  ExpectRefused("model-00002-of-00003.safetensors");
}

TEST_F(ModelSetRefusal, ShardTheIndexDoesNotReference) {
  fs::copy_file(dir_.File("plain/model-00001-of-00003.safetensors"), dir_.File("plain/stray.safetensors"));
  ExpectRefused("stray.safetensors");
}

TEST_F(ModelSetRefusal, TensorInTheWrongShard) {
  ASSERT_OK_AND_ASSIGN(Bytes idx, ReadFile(dir_.File("plain/model.safetensors.index.json")));
  Json j = Json::parse(ToString(idx));
  j["weight_map"]["layers.0.weight"] = "model-00003-of-00003.safetensors";
  testing::WriteBytes(dir_.File("plain/model.safetensors.index.json"), AsBytes(j.dump()));
  ExpectRefused("layers.0.weight");
}

TEST_F(ModelSetRefusal, CorruptSafetensorsHeader) {
  Bytes b = testing::ReadBytes(dir_.File("plain/model-00003-of-00003.safetensors"));
  b[10] = '!';  // inside the JSON header
  testing::WriteBytes(dir_.File("plain/model-00003-of-00003.safetensors"), b);
  ExpectRefused("model-00003-of-00003.safetensors");
}

TEST_F(ModelSetRefusal, SubdirectoryAndBadNames) {
  fs::create_directories(dir_.File("plain/sub"));
  ExpectRefused("not a regular file");
  fs::remove(dir_.File("plain/sub"));
  testing::WriteBytes(dir_.File("plain/a b.bin"), AsBytes("x"));
  ExpectRefused("a b.bin");
}

TEST(ModelSetSingle, AnyFileTypeIsAMemberAndTheOnlyFileIsMain) {
  TempDir dir;
  Recipient r = NewRecipient();
  fs::create_directories(dir.File("in"));
  Bytes gguf = testing::Pseudorandom(10000, 3);
  std::memcpy(gguf.data(), "GGUF\x03\0\0\0", 8);
  testing::WriteBytes(dir.File("in/model.gguf"), gguf);
  ASSERT_OK_AND_ASSIGN(SetManifest m, EncryptModelSet(dir.File("in"), dir.File("out"), r.pub, Small()));
  EXPECT_EQ(m.main, "model.gguf");
  ASSERT_OK_AND_ASSIGN(ModelSet set, OpenModelSet(dir.File("out")));
  std::vector<SecretBytes> deks = OpenDeks(set, r);
  ASSERT_OK(VerifySetTags(set, deks));
  EXPECT_EQ(set.containers[0].header().content_type, "application/x-gguf");
  ASSERT_OK_AND_ASSIGN(LockedMemfd mem, DecryptToMemfd(set.containers[0], deks[0]));
  EXPECT_EQ(testing::ReadFd(mem.fd()), gguf);
}

}  // namespace
}  // namespace sigil::loader
