// Key rewrap through the real sigild, sigil and sigil-load (issue 12): after `sigil key rotate`,
// `sigil-load rewrap` (attested, workload.mode "rewrap") writes a container that names the new
// version, with a fresh salt and every chunk changed, which `run` and `cat` load to the original
// plaintext, and which still loads once the old version is destroyed (the old container then
// does not). A signed container must be re-signed by its owner (pinned keys accept it); the
// broker reseals only for a rewrap workload; a policy that requires sealed-memory refuses a
// rewrap; a tampered input leaves no output behind. Each test has its own broker (it rotates and
// destroys keys and changes the policy).
#include <filesystem>
#include <map>

#include "core/encoding.h"
#include "core/file_io.h"
#include "core/hpke.h"
#include "core/protocol.h"
#include "loader/container_reader.h"
#include "loader/owner_key.h"
#include "net/broker_client.h"
#include "tests/integration/broker_fixture.h"
#include "tests/integration/own_broker.h"
#include "tests/support/audit_records.h"
#include "tests/support/matchers.h"

namespace sigil::integration {
namespace {

using testing::BinPath;

std::string Measure(std::vector<std::string> extra) {
  std::vector<std::string> argv{BinPath("sigil-load"), "measure"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto m = sigil::testing::Run(argv);
  EXPECT_EQ(m.exit_code, 0) << m.err;
  return m.out.substr(0, 96);
}

std::vector<std::string> DirEntries(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path().filename());
  std::sort(out.begin(), out.end());
  return out;
}

class Rewrap : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(b_.Start({}));
    ASSERT_EQ(b_.Sigil({"key", "create", "acme/data", "--class", "dataset"}).exit_code, 0);
    // The engine `run` starts, cat's consumer, and sigil-load itself (what a rewrap measures).
    for (auto m : {Measure({"--engine", BinPath("sigil-infer")}), Measure({"--in-process", "--engine", BinPath("sigil-infer")}),
                   Measure({"--in-process", "--engine", BinPath("sigil-load")})}) {
      ASSERT_EQ(b_.Sigil({"refs", "add", "acme", "engines", m}).exit_code, 0);
    }
    auto mk = sigil::testing::Run({BinPath("sigil-infer"), "make-weights", dir_.File("w.safetensors"), "--seed", "9"});
    ASSERT_EQ(mk.exit_code, 0) << mk.err;
    ASSERT_OK_AND_ASSIGN(plaintext_, ReadFile(dir_.File("w.safetensors")));
  }
  void Encrypt(const std::string& key, const std::string& out, std::vector<std::string> extra = {}) {
    auto pub = b_.Sigil({"key", "public", key});
    ASSERT_EQ(pub.exit_code, 0) << pub.err;
    ASSERT_OK(WriteFileAtomic(dir_.File("k.pub"), AsBytes(pub.out), 0644));
    std::vector<std::string> argv{"model", "encrypt", "--recipient", dir_.File("k.pub")};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(dir_.File("w.safetensors"));
    argv.push_back(out);
    auto enc = b_.Sigil(argv);
    ASSERT_EQ(enc.exit_code, 0) << enc.err;
  }
  std::vector<std::string> LoaderArgs(const std::string& cmd) const {
    return {BinPath("sigil-load"), cmd, "--broker", b_.url(), "--ca", b_.ca(), "--tenant", "acme",
            "--dev-platform-key", b_.data_dir() + "/dev/platform.key"};
  }
  testing::CommandResult RewrapCmd(const std::string& in, const std::string& out, std::vector<std::string> extra = {}) {
    auto argv = LoaderArgs("rewrap");
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(in);
    argv.push_back(out);
    return sigil::testing::Run(argv);
  }
  testing::CommandResult RunCmd(const std::string& model) {
    auto argv = LoaderArgs("run");
    for (const auto& a : {std::string("--model"), model, std::string("--"), BinPath("sigil-infer"), std::string("run"),
                          std::string("{model}")}) {
      argv.push_back(a);
    }
    return sigil::testing::Run(argv);
  }
  testing::CommandResult CatCmd(const std::string& file) {
    auto argv = LoaderArgs("cat");
    for (const auto& a : {std::string("--measure"), BinPath("sigil-infer"), file}) argv.push_back(a);
    return sigil::testing::Run(argv);
  }
  Json LastRecord() const {
    auto recs = sigil::testing::ParseAuditList(b_.Sigil({"--json", "audit", "list", "acme"}).out);
    return recs.empty() ? Json::object() : recs.back();
  }

  OwnBroker b_;
  sigil::testing::TempDir dir_;
  Bytes plaintext_;
};

TEST_F(Rewrap, RotatedKeyRewrapsToTheNewVersionAndOutlivesTheOldOne) {
  ASSERT_NO_FATAL_FAILURE(Encrypt("acme/model", dir_.File("v1.sgl")));
  auto before = RunCmd(dir_.File("v1.sgl"));
  ASSERT_EQ(before.exit_code, 0) << before.err;
  ASSERT_EQ(b_.Sigil({"key", "rotate", "acme/model"}).exit_code, 0);

  auto r = RewrapCmd(dir_.File("v1.sgl"), dir_.File("v2.sgl"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("(acme/model v1) -> " + dir_.File("v2.sgl") + " (v2"), std::string::npos) << r.out;
  Json rec = LastRecord();
  EXPECT_EQ(rec.value("decision", ""), "allow") << rec.dump();
  EXPECT_NE(rec.value("reason", "").find("workload.mode=rewrap"), std::string::npos) << rec.dump();
  EXPECT_NE(rec.value("reason", "").find("rewrap to version 2"), std::string::npos) << rec.dump();

  ASSERT_OK_AND_ASSIGN(loader::Container in, loader::Container::Open(dir_.File("v1.sgl")));
  ASSERT_OK_AND_ASSIGN(loader::Container out, loader::Container::Open(dir_.File("v2.sgl")));
  EXPECT_EQ(in.header().key_version, 1u);
  EXPECT_EQ(out.header().key_version, 2u);
  EXPECT_NE(out.header().salt, in.header().salt);
  EXPECT_NE(out.header().enc, in.header().enc);
  ASSERT_EQ(out.layout().count(), in.layout().count());
  ASSERT_OK_AND_ASSIGN(Bytes a, ReadFile(dir_.File("v1.sgl")));
  ASSERT_OK_AND_ASSIGN(Bytes c, ReadFile(dir_.File("v2.sgl")));
  for (std::uint64_t i = 0; i < in.layout().count(); ++i) {
    auto chunk = [](const Bytes& f, const loader::Container& k, std::uint64_t j) {
      auto off = static_cast<std::ptrdiff_t>(k.layout().file_offset(j));
      return Bytes(f.begin() + off, f.begin() + off + static_cast<std::ptrdiff_t>(k.layout().plain_size(j) + 16));
    };
    EXPECT_NE(chunk(a, in, i), chunk(c, out, i)) << "chunk " << i;
  }
  auto after = RunCmd(dir_.File("v2.sgl"));
  ASSERT_EQ(after.exit_code, 0) << after.err;
  EXPECT_EQ(after.out, before.out) << "the engine's output from the rewrapped weights differs";

  // The newest version already: nothing to write, exit 0.
  auto again = RewrapCmd(dir_.File("v2.sgl"), dir_.File("v3.sgl"));
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("already at the newest version 2"), std::string::npos) << again.out;
  EXPECT_FALSE(std::filesystem::exists(dir_.File("v3.sgl")));

  // Version 1 destroyed: the old container is refused, the new one still loads.
  auto d = b_.Sigil({"key", "destroy", "--tenant", "acme", "--key", "model", "--version", "1", "--confirm", "model"});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  auto old_run = RunCmd(dir_.File("v1.sgl"));
  EXPECT_EQ(old_run.exit_code, 4) << old_run.err;
  auto new_run = RunCmd(dir_.File("v2.sgl"));
  EXPECT_EQ(new_run.exit_code, 0) << new_run.err;
  EXPECT_EQ(new_run.out, before.out);
}

// `sigil model rewrap ARGS` is `sigil-load rewrap ARGS` (docs/cli.md): the admin CLI hands its
// arguments over unchanged and the attested loader does the work, exit code and messages included.
TEST_F(Rewrap, SigilModelRewrapRunsTheAttestedLoader) {
  ASSERT_NO_FATAL_FAILURE(Encrypt("acme/model", dir_.File("v1.sgl")));
  ASSERT_EQ(b_.Sigil({"key", "rotate", "acme/model"}).exit_code, 0);
  std::vector<std::string> argv{BinPath("sigil"), "model", "rewrap", "--broker", b_.url(), "--ca", b_.ca(),
                                "--tenant", "acme", "--dev-platform-key", b_.data_dir() + "/dev/platform.key",
                                dir_.File("v1.sgl"), dir_.File("v2.sgl")};
  auto r = sigil::testing::Run(argv);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("(acme/model v1) -> " + dir_.File("v2.sgl") + " (v2"), std::string::npos) << r.out;
  ASSERT_OK_AND_ASSIGN(loader::Container out, loader::Container::Open(dir_.File("v2.sgl")));
  EXPECT_EQ(out.header().key_version, 2u);
  auto run = RunCmd(dir_.File("v2.sgl"));
  EXPECT_EQ(run.exit_code, 0) << run.err;
  // A refusal is sigil-load's own: OUT exists and --force was not given.
  auto via_sigil = sigil::testing::Run(argv);
  auto direct = RewrapCmd(dir_.File("v1.sgl"), dir_.File("v2.sgl"));
  EXPECT_NE(direct.exit_code, 0);
  EXPECT_EQ(via_sigil.exit_code, direct.exit_code) << via_sigil.err;
  EXPECT_EQ(via_sigil.err, direct.err);
}

TEST_F(Rewrap, DatasetRewrapCatsToTheExactPlaintext) {
  ASSERT_NO_FATAL_FAILURE(Encrypt("acme/data", dir_.File("d1.sgl")));
  ASSERT_EQ(b_.Sigil({"key", "rotate", "acme/data"}).exit_code, 0);
  auto r = RewrapCmd(dir_.File("d1.sgl"), dir_.File("d2.sgl"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto cat = CatCmd(dir_.File("d2.sgl"));
  ASSERT_EQ(cat.exit_code, 0) << cat.err;
  EXPECT_TRUE(cat.out == ToString(plaintext_)) << cat.out.size() << " bytes";
}

TEST_F(Rewrap, SignedContainerMustBeResignedByItsOwner) {
  for (const char* who : {"owner", "other"}) {
    const std::string pem = dir_.File(std::string(who) + ".pem");
    ASSERT_EQ(sigil::testing::Run({"/usr/bin/openssl", "genpkey", "-algorithm", "ed25519", "-out", pem}).exit_code, 0);
    ASSERT_EQ(sigil::testing::Run({"/usr/bin/openssl", "pkey", "-in", pem, "-pubout", "-out",
                                   dir_.File(std::string(who) + ".pub")}).exit_code, 0);
  }
  ASSERT_NO_FATAL_FAILURE(Encrypt("acme/model", dir_.File("s1.sgl"), {"--sign", dir_.File("owner.pem")}));
  ASSERT_EQ(b_.Sigil({"key", "owners", "acme/model", "--owner", dir_.File("owner.pub")}).exit_code, 0);
  ASSERT_EQ(b_.Sigil({"key", "rotate", "acme/model"}).exit_code, 0);

  auto unsigned_out = RewrapCmd(dir_.File("s1.sgl"), dir_.File("s2.sgl"));
  EXPECT_EQ(unsigned_out.exit_code, 2) << unsigned_out.err;
  EXPECT_NE(unsigned_out.err.find("give --sign"), std::string::npos) << unsigned_out.err;
  auto other = RewrapCmd(dir_.File("s1.sgl"), dir_.File("s2.sgl"), {"--sign", dir_.File("other.pem")});
  EXPECT_EQ(other.exit_code, 2) << other.err;
  EXPECT_NE(other.err.find("--allow-new-signer"), std::string::npos) << other.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.File("s2.sgl")));

  auto ok = RewrapCmd(dir_.File("s1.sgl"), dir_.File("s2.sgl"), {"--sign", dir_.File("owner.pem")});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  auto inspect = b_.Sigil({"model", "inspect", dir_.File("s2.sgl")});
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  auto j = ParseJson(inspect.out, "inspect");
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ(j->value("key_version", 0), 2);
  ASSERT_OK_AND_ASSIGN(Bytes owner, loader::ReadOwnerPublicKeyFile(dir_.File("owner.pub")));
  EXPECT_EQ(j->value("signer", ""), protocol::OwnerKeyId(owner));
  // The pinned key accepts the re-signed container.
  auto run = RunCmd(dir_.File("s2.sgl"));
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(LastRecord().value("reason", "").find("artifact signed by owner key " + protocol::OwnerKeyId(owner)),
            std::string::npos);
  // Another signer is possible only when asked for, and that key's pins then decide.
  auto moved = RewrapCmd(dir_.File("s1.sgl"), dir_.File("s3.sgl"), {"--sign", dir_.File("other.pem"), "--allow-new-signer"});
  ASSERT_EQ(moved.exit_code, 0) << moved.err;
  EXPECT_EQ(RunCmd(dir_.File("s3.sgl")).exit_code, 4) << "the key pins the original owner only";
}

TEST_F(Rewrap, BrokerResealsOnlyForARewrapWorkload) {
  ASSERT_OK_AND_ASSIGN(auto c, net::BrokerClient::Connect(b_.url(), b_.ca()));
  ASSERT_OK_AND_ASSIGN(auto dek, SecretBytes::Random(32));
  // A v1 artifact of each key, then both keys rotated.
  std::map<std::string, hpke::Sealed> sealed;
  for (const char* key : {"model", "data"}) {
    auto pub = b_.Sigil({"key", "public", std::string("acme/") + key});
    auto j = ParseJson(pub.out, "key public");
    ASSERT_TRUE(j.has_value()) << pub.err;
    ASSERT_OK_AND_ASSIGN(Bytes pk, Base64UrlDecode(j->value("public_key", "")));
    ASSERT_OK_AND_ASSIGN(sealed[key], hpke::Seal(hpke::kSigilSuite, pk, protocol::DekSealInfo("acme", key, 1), {},
                                                 dek.Reveal(SecretAccess::Get())));
    ASSERT_EQ(b_.Sigil({"key", "rotate", std::string("acme/") + key}).exit_code, 0);
  }
  auto release = [&](const std::string& mode, const std::string& key, bool rewrap) {
    Workload w = Workload::Make();
    w.mode = mode;
    auto nonce = c->Challenge("acme", "dev");
    EXPECT_OK(nonce);
    auto token = c->Attest("acme", "dev", *nonce, w.EvidenceFor(b_.platform_seed(), *nonce, kMeasurementA, false),
                           w.key.public_key);
    EXPECT_OK(token);
    net::ReleaseArtifact a{"acme/" + key, 1, sealed[key].enc, sealed[key].ciphertext};
    a.rewrap = rewrap;
    return c->Release(*token, w.key.public_key, {a});
  };
  // The purpose rule would refuse model weights to "stream" anyway: the dataset shows the
  // reseal rule itself. Each refusal is audited.
  for (auto [mode, key] : {std::pair{"stream", "data"}, std::pair{"sealed-memory", "model"}}) {
    SCOPED_TRACE(mode);
    auto r = release(mode, key, true);
    EXPECT_CODE(r, Code::kPermissionDenied);
    EXPECT_NE(r.error().message().find("rewrap: only a workload whose evidence proves workload.mode 'rewrap'"),
              std::string::npos) << r.error().message();
    EXPECT_EQ(LastRecord().value("decision", ""), "deny");
    EXPECT_TRUE(release(mode, key, false).has_value()) << "the same workload without the reseal is released as before";
  }
  auto no_reseal = release("rewrap", "model", false);
  EXPECT_CODE(no_reseal, Code::kPermissionDenied);
  ASSERT_OK_AND_ASSIGN(auto ok, release("rewrap", "model", true));
  ASSERT_EQ(ok.size(), 1u);
  ASSERT_TRUE(ok[0].rewrap.has_value());
  EXPECT_EQ(ok[0].rewrap->version, 2u);
  EXPECT_EQ(ok[0].rewrap->enc.size(), 32u);
  EXPECT_EQ(ok[0].rewrap->sealed_dek.size(), 48u);
  EXPECT_EQ(ok[0].version, 1u);
}

TEST_F(Rewrap, PolicyRequiringSealedMemoryRefusesRewrap) {
  ASSERT_NO_FATAL_FAILURE(Encrypt("acme/model", dir_.File("v1.sgl")));
  ASSERT_EQ(b_.Sigil({"key", "rotate", "acme/model"}).exit_code, 0);
  ASSERT_OK(WriteFileAtomic(dir_.File("p.json"), AsBytes(std::string(R"({"version": 1, "rules": [{"name": "sealed-only",
    "keys": ["model"], "when": {"allOf": [{"claim": "tee", "equals": "dev"},
      {"claim": "measurement", "in_reference": "engines"},
      {"claim": "workload.mode", "equals": "sealed-memory"}]}}]})")), 0644));
  auto set = b_.Sigil({"policy", "set", "acme", dir_.File("p.json")});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  auto r = RewrapCmd(dir_.File("v1.sgl"), dir_.File("v2.sgl"));
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("workload.mode"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.File("v2.sgl")));
  EXPECT_EQ(LastRecord().value("decision", ""), "deny");
  EXPECT_EQ(RunCmd(dir_.File("v1.sgl")).exit_code, 0) << "the same policy still admits a sealed load";
}

TEST_F(Rewrap, TamperedInputOrBadOutputLeavesNothingBehind) {
  ASSERT_NO_FATAL_FAILURE(Encrypt("acme/model", dir_.File("v1.sgl")));
  ASSERT_EQ(b_.Sigil({"key", "rotate", "acme/model"}).exit_code, 0);
  std::filesystem::create_directory(dir_.File("out"));
  ASSERT_OK_AND_ASSIGN(Bytes f, ReadFile(dir_.File("v1.sgl")));
  f[f.size() - 40] ^= 0x01;  // in the last chunk: every earlier chunk was already re-encrypted
  ASSERT_OK(WriteFileAtomic(dir_.File("bad.sgl"), f, 0600));
  auto r = RewrapCmd(dir_.File("bad.sgl"), dir_.File("out/new.sgl"));
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("failed authentication"), std::string::npos) << r.err;
  EXPECT_TRUE(DirEntries(dir_.File("out")).empty()) << "left behind: " << DirEntries(dir_.File("out")).front();

  // Refused before attesting: OUT exists (unless --force), OUT is IN, a model set.
  ASSERT_OK(WriteFileAtomic(dir_.File("out/exists.sgl"), AsBytes(std::string("x")), 0600));
  auto exists = RewrapCmd(dir_.File("v1.sgl"), dir_.File("out/exists.sgl"));
  EXPECT_EQ(exists.exit_code, 2) << exists.err;
  EXPECT_NE(exists.err.find("--force"), std::string::npos) << exists.err;
  auto same = RewrapCmd(dir_.File("v1.sgl"), dir_.File("v1.sgl"));
  EXPECT_EQ(same.exit_code, 2) << same.err;
  auto forced = RewrapCmd(dir_.File("v1.sgl"), dir_.File("out/exists.sgl"), {"--force"});
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_EQ(DirEntries(dir_.File("out")), std::vector<std::string>{"exists.sgl"});
  auto set = b_.Sigil({"model", "encrypt", "--recipient", dir_.File("k.pub"), dir_.File("out"), dir_.File("set")});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  auto set_dir = RewrapCmd(dir_.File("set"), dir_.File("set2"));
  EXPECT_EQ(set_dir.exit_code, 2) << set_dir.err;
  EXPECT_NE(set_dir.err.find("model sets are not supported"), std::string::npos) << set_dir.err;
  auto member = RewrapCmd(dir_.File("set/exists.sgl.sgl"), dir_.File("m2.sgl"));
  EXPECT_EQ(member.exit_code, 2) << member.err;
  EXPECT_NE(member.err.find("member of a model set"), std::string::npos) << member.err;
}

}  // namespace
}  // namespace sigil::integration
