// The broker root key sealed to a real TPM 2.0 (swtpm): seal, TPM restart, unseal; PCR change
// refused with the documented error and recovered from the recovery copy; wrong password;
// tampered blobs; no transient object or session left behind.
#include <gtest/gtest.h>
#include <sodium.h>

#include <filesystem>

#include "attestation/tpm/signature.h"
#include "broker/data_dir.h"
#include "broker/keys/root_key.h"
#include "broker/tpm/tpm_seal.h"
#include "broker/tpm/tpm_seal_ak_public.h"
#include "broker/tpm/tpm_seal_pcrs.h"
#include "core/encoding.h"
#include "core/file_io.h"
#include "core/json.h"
#include "enclave/tpm/esys.h"
#include "tests/support/matchers.h"
#include "tests/support/process.h"
#include "tests/support/swtpm.h"
#include "tests/support/temp_dir.h"

namespace sigil::broker {
namespace {

using sigil::testing::Swtpm;
using sigil::testing::TempDir;

class TpmSealTest : public ::testing::Test {
 protected:
  void SetUp() override {
    state_ = tmp_.File("tpm");
    std::filesystem::create_directories(state_);
    StartTpm();
  }
  void StartTpm() {
    auto s = Swtpm::Start(state_);
    ASSERT_TRUE(s.has_value()) << s.error().message();
    tpm_ = std::make_unique<Swtpm>(std::move(*s));
  }
  // A reboot of the same TPM: PCRs back to their reset values, seeds kept.
  void RestartTpm() {
    tpm_->Stop();
    tpm_.reset();
    StartTpm();
  }
  void ExtendPcr(ESYS_TR pcr) {
    ASSERT_OK_AND_ASSIGN(enclave::tpm::EsysContext ctx, enclave::tpm::OpenTpm(tpm_->Tcti()));
    TPML_DIGEST_VALUES v{};
    v.count = 1;
    v.digests[0].hashAlg = TPM2_ALG_SHA256;
    v.digests[0].digest.sha256[0] = 0x42;  // an unexpected boot component
    ASSERT_EQ(Esys_PCR_Extend(ctx.get(), pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &v), TSS2_RC_SUCCESS);
  }
  // Transient objects plus loaded sessions currently in the TPM.
  std::uint32_t TpmHandlesInUse() {
    auto ctx = enclave::tpm::OpenTpm(tpm_->Tcti());
    EXPECT_TRUE(ctx.has_value());
    if (!ctx) return 999;
    std::uint32_t n = 0;
    for (UINT32 first : {TPM2_TRANSIENT_FIRST, TPM2_LOADED_SESSION_FIRST}) {
      TPMS_CAPABILITY_DATA* cap = nullptr;
      TPMI_YES_NO more = TPM2_NO;
      TSS2_RC rc = Esys_GetCapability(ctx->get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_HANDLES, first,
                                      TPM2_MAX_CAP_HANDLES, &more, &cap);
      EXPECT_EQ(rc, TSS2_RC_SUCCESS);
      if (cap != nullptr) n += cap->data.handles.count;
      Esys_Free(cap);
    }
    return n;
  }
  Result<SecretBytes> Load(const std::string& path, const SecretBytes* password = nullptr) {
    RootKeyUnlock u;
    u.tpm_tcti = tpm_->Tcti();  // the port changes on every restart
    u.seal_password = password;
    return LoadRootKey(path, u, nullptr);
  }
  static SecretBytes Secret(std::string_view s) { return *SecretBytes::CopyFrom(AsBytes(s)); }
  static bool Same(const SecretBytes& a, const SecretBytes& b) {
    return a.Reveal(SecretAccess::Get()).size() == b.Reveal(SecretAccess::Get()).size() &&
           sodium_memcmp(a.Reveal(SecretAccess::Get()).data(), b.Reveal(SecretAccess::Get()).data(), a.size()) == 0;
  }
  void EditRootKeyFile(const std::string& path, const std::function<void(Json&)>& edit) {
    auto text = ReadTextFile(path);
    ASSERT_TRUE(text.has_value());
    auto j = ParseJson(*text, path);
    ASSERT_TRUE(j.has_value());
    edit(*j);
    ASSERT_OK(WriteFileAtomic(path, AsBytes(j->dump(2)), 0600));
  }

  TempDir tmp_;
  std::string state_;
  std::unique_ptr<Swtpm> tpm_;
};

TEST(TpmSealPcrs, ParsesAndFormats) {
  ASSERT_OK_AND_ASSIGN(PcrSelection s, ParsePcrSelection("sha256:7,0+sha1:2"));
  EXPECT_EQ(FormatPcrSelection(s), "sha256:0,7+sha1:2");
  TPML_PCR_SELECTION t = ToTpml(s);
  EXPECT_EQ(t.count, 2u);
  EXPECT_EQ(t.pcrSelections[0].hash, TPM2_ALG_SHA256);
  EXPECT_EQ(t.pcrSelections[0].pcrSelect[0], 0x81);
  EXPECT_EQ(t.pcrSelections[1].pcrSelect[0], 0x04);
  for (const char* bad : {"", "sha256", "sha256:", "sha256:24", "sha256:1,1", "md5:0", "sha256:0+sha256:1",
                          "sha256:-1", "sha256:0x1"}) {
    EXPECT_CODE(ParsePcrSelection(bad), Code::kInvalidArgument);
  }
}

TEST_F(TpmSealTest, SealRestartUnsealGivesTheSameKeyAndFlushesEverything) {
  SecretBytes root = *SecretBytes::Random(32);
  std::string path = tmp_.File("root.key");
  ASSERT_OK(WriteTpmRootKey(path, root, TpmSealSpec{tpm_->Tcti(), "sha256:0,7", nullptr}));
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  RestartTpm();
  ASSERT_OK_AND_ASSIGN(SecretBytes again, Load(path));
  EXPECT_TRUE(Same(root, again));
  EXPECT_EQ(TpmHandlesInUse(), 0u);
  // The same sealed file opened through OpenDataDir's path (mode reported as TPM).
  RootKeyMode mode = RootKeyMode::kPassphrase;
  RootKeyUnlock u;
  u.tpm_tcti = tpm_->Tcti();
  ASSERT_OK(LoadRootKey(path, u, &mode));
  EXPECT_EQ(mode, RootKeyMode::kTpm);
}

TEST_F(TpmSealTest, PcrChangeIsRefusedWithTheDocumentedErrorAndRecoveryRestoresService) {
  std::string data = tmp_.File("data");
  std::string rec = tmp_.File("recovery.txt");
  ASSERT_OK(WriteFileAtomic(rec, AsBytes(std::string("correct horse battery staple\n")), 0600));
  InitOptions init;
  init.data_dir = data;
  init.root_mode = RootKeyMode::kTpm;
  init.tpm_tcti = tpm_->Tcti();
  init.seal_pcrs = "sha256:0,7";
  init.recovery_passphrase_file = rec;
  init.listen = "127.0.0.1:0";
  ASSERT_OK(InitDataDir(init));
  OpenOptions open;
  open.tpm_tcti = tpm_->Tcti();
  ASSERT_OK_AND_ASSIGN(auto first, OpenDataDir(data, open));
  SecretBytes root = std::move(first->root_key);
  first.reset();

  RestartTpm();
  ExtendPcr(ESYS_TR_PCR7);
  open.tpm_tcti = tpm_->Tcti();
  auto refused = OpenDataDir(data, open);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), Code::kVerificationFailed);
  const std::string& msg = refused.error().message();
  EXPECT_NE(msg.find("PCRs changed"), std::string::npos) << msg;
  EXPECT_NE(msg.find("sha256:0,7"), std::string::npos) << msg;
  EXPECT_NE(msg.find("sigild recover-root-key --data-dir " + data), std::string::npos) << msg;
  EXPECT_EQ(TpmHandlesInUse(), 0u);

  // Recovery: a wrong passphrase is refused and changes nothing; the right one re-seals.
  std::string wrong = tmp_.File("wrong.txt");
  ASSERT_OK(WriteFileAtomic(wrong, AsBytes(std::string("not it\n")), 0600));
  RecoverOptions ro{data, wrong, tpm_->Tcti(), "", ""};
  EXPECT_CODE(RecoverRootKey(ro), Code::kUnauthenticated);
  EXPECT_CODE(OpenDataDir(data, open), Code::kVerificationFailed);
  ro.recovery_passphrase_file = rec;
  ASSERT_OK(RecoverRootKey(ro));
  ASSERT_OK_AND_ASSIGN(auto second, OpenDataDir(data, open));
  EXPECT_TRUE(Same(root, second->root_key));
  second.reset();
  // The new seal binds the new values: a reboot (PCR 7 back to its old value) is now refused.
  RestartTpm();
  open.tpm_tcti = tpm_->Tcti();
  EXPECT_CODE(OpenDataDir(data, open), Code::kVerificationFailed);
}

TEST_F(TpmSealTest, RecoveryNeedsACopyMadeAtInit) {
  std::string data = tmp_.File("data");
  InitOptions init;
  init.data_dir = data;
  init.root_mode = RootKeyMode::kTpm;
  init.tpm_tcti = tpm_->Tcti();
  init.listen = "127.0.0.1:0";
  ASSERT_OK(InitDataDir(init));
  std::string rec = tmp_.File("recovery.txt");
  ASSERT_OK(WriteFileAtomic(rec, AsBytes(std::string("pass\n")), 0600));
  EXPECT_CODE(RecoverRootKey(RecoverOptions{data, rec, tpm_->Tcti(), "", ""}), Code::kNotFound);
}

TEST_F(TpmSealTest, PasswordIsRequiredAndChecked) {
  SecretBytes root = *SecretBytes::Random(32);
  SecretBytes pw = Secret("s3cret seal password that is longer than thirty-two bytes");
  std::string path = tmp_.File("root.key");
  ASSERT_OK(WriteTpmRootKey(path, root, TpmSealSpec{tpm_->Tcti(), "sha256:0,1,7", &pw}));
  EXPECT_CODE(Load(path), Code::kUnauthenticated);
  SecretBytes wrong = Secret("s3cret seal password that is longer than thirty-two byteS");
  auto r = Load(path, &wrong);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kUnauthenticated);
  EXPECT_NE(r.error().message().find("wrong seal password"), std::string::npos) << r.error().message();
  ASSERT_OK_AND_ASSIGN(SecretBytes again, Load(path, &pw));
  EXPECT_TRUE(Same(root, again));
  EXPECT_EQ(TpmHandlesInUse(), 0u);
}

TEST_F(TpmSealTest, TamperedSealedBlobsAreRefusedCleanly) {
  SecretBytes root = *SecretBytes::Random(32);
  std::string path = tmp_.File("root.key");
  ASSERT_OK(WriteTpmRootKey(path, root, TpmSealSpec{tpm_->Tcti(), "sha256:0", nullptr}));
  ASSERT_OK_AND_ASSIGN(std::string original, ReadTextFile(path));
  auto flip = [&](const char* field, std::size_t at) {
    EditRootKeyFile(path, [&](Json& j) {
      Bytes b = *Base64UrlDecode(j[field].get<std::string>());
      b[at % b.size()] ^= 0x01;
      j[field] = Base64UrlEncode(b);
    });
  };
  // The encrypted private area: the TPM's integrity check (TPM_RC_INTEGRITY) refuses it.
  for (std::size_t at : {4u, 20u, 40u, 80u}) {
    flip("private", at);
    EXPECT_CODE(Load(path), Code::kUnauthenticated);
    ASSERT_OK(WriteFileAtomic(path, AsBytes(original), 0600));
  }
  // The public area: its authPolicy no longer matches, or the TPM's name check fails.
  for (std::size_t at : {12u, 20u, 40u}) {
    flip("public", at);
    auto r = Load(path);
    ASSERT_FALSE(r.has_value()) << at;
    EXPECT_TRUE(r.error().code() == Code::kInvalidArgument || r.error().code() == Code::kUnauthenticated)
        << r.error().message();
    ASSERT_OK(WriteFileAtomic(path, AsBytes(original), 0600));
  }
  // Truncated and oversized TPM2B structures.
  EditRootKeyFile(path, [](Json& j) {
    Bytes b = *Base64UrlDecode(j["public"].get<std::string>());
    b.resize(b.size() - 3);
    j["public"] = Base64UrlEncode(b);
  });
  EXPECT_CODE(Load(path), Code::kInvalidArgument);
  ASSERT_OK(WriteFileAtomic(path, AsBytes(original), 0600));
  EditRootKeyFile(path, [](Json& j) {
    Bytes b = *Base64UrlDecode(j["private"].get<std::string>());
    b.push_back(0);
    j["private"] = Base64UrlEncode(b);
  });
  EXPECT_CODE(Load(path), Code::kInvalidArgument);
  ASSERT_OK(WriteFileAtomic(path, AsBytes(original), 0600));
  // A recorded policy digest that is not the object's.
  EditRootKeyFile(path, [](Json& j) { j["policy_digest"] = std::string(64, 'a'); });
  EXPECT_CODE(Load(path), Code::kInvalidArgument);
  ASSERT_OK(WriteFileAtomic(path, AsBytes(original), 0600));
  EditRootKeyFile(path, [](Json& j) { j["version"] = 2; });
  EXPECT_CODE(Load(path), Code::kInvalidArgument);
  ASSERT_OK(WriteFileAtomic(path, AsBytes(original), 0600));
  EXPECT_EQ(TpmHandlesInUse(), 0u);
  ASSERT_OK_AND_ASSIGN(SecretBytes again, Load(path));
  EXPECT_TRUE(Same(root, again));
}

// ParseAkPublic against tpm2-tools' own reading of real AK public areas: the Name equals what
// `tpm2_readpublic -n` writes and the SPKI equals its PEM export, for RSA and ECC.
TEST_F(TpmSealTest, AkPublicAreaNameAndKeyMatchTpm2Tools) {
  const std::vector<std::string> env = {"TPM2TOOLS_TCTI=" + tpm_->ToolsTcti()};
  for (const char* alg : {"rsa2048:rsassa-sha256:null", "ecc256:ecdsa-sha256:null", "ecc384:ecdsa-sha384:null"}) {
    SCOPED_TRACE(alg);
    auto create = sigil::testing::Run({"/usr/bin/tpm2_createprimary", "-C", "o", "-g", "sha256", "-G", alg, "-a",
                                       "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign", "-c",
                                       tmp_.File("ak.ctx")}, env);
    ASSERT_EQ(create.exit_code, 0) << create.err;
    auto read = sigil::testing::Run({"/usr/bin/tpm2_readpublic", "-c", tmp_.File("ak.ctx"), "-o", tmp_.File("ak.pub"),
                                     "-n", tmp_.File("ak.name")}, env);
    ASSERT_EQ(read.exit_code, 0) << read.err;
    auto pem = sigil::testing::Run({"/usr/bin/tpm2_readpublic", "-c", tmp_.File("ak.ctx"), "-f", "pem", "-o",
                                    tmp_.File("ak.pem")}, env);
    ASSERT_EQ(pem.exit_code, 0) << pem.err;
    ASSERT_EQ(sigil::testing::Run({"/usr/bin/tpm2_flushcontext", "-t"}, env).exit_code, 0);
    ASSERT_OK_AND_ASSIGN(Bytes pub, ReadFile(tmp_.File("ak.pub")));
    ASSERT_OK_AND_ASSIGN(Bytes name, ReadFile(tmp_.File("ak.name")));
    ASSERT_OK_AND_ASSIGN(Bytes pem_text, ReadFile(tmp_.File("ak.pem")));
    ASSERT_OK_AND_ASSIGN(AkPublic ak, ParseAkPublic(pub));
    EXPECT_EQ(HexEncode(ak.name), HexEncode(name));
    ASSERT_OK_AND_ASSIGN(EvpPkeyPtr key, attestation::tpm::LoadAk(pem_text, Code::kInvalidArgument));
    ASSERT_OK_AND_ASSIGN(Bytes der, attestation::tpm::AkDer(*key));
    EXPECT_EQ(ak.spki_der, der);
    pub.push_back(0);
    EXPECT_CODE(ParseAkPublic(pub), Code::kInvalidArgument);
  }
  // A storage key (restricted decrypt) is not an AK.
  auto srk = sigil::testing::Run({"/usr/bin/tpm2_createprimary", "-C", "o", "-G", "ecc256", "-c", tmp_.File("srk.ctx")},
                                 env);
  ASSERT_EQ(srk.exit_code, 0) << srk.err;
  ASSERT_EQ(sigil::testing::Run({"/usr/bin/tpm2_readpublic", "-c", tmp_.File("srk.ctx"), "-o", tmp_.File("srk.pub")},
                                env).exit_code, 0);
  ASSERT_EQ(sigil::testing::Run({"/usr/bin/tpm2_flushcontext", "-t"}, env).exit_code, 0);
  ASSERT_OK_AND_ASSIGN(Bytes srk_pub, ReadFile(tmp_.File("srk.pub")));
  EXPECT_CODE(ParseAkPublic(srk_pub), Code::kInvalidArgument);
}

}  // namespace
}  // namespace sigil::broker
