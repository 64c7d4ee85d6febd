// The registration points of TEE types (attestation/tee_catalog.h, loader/attester_factory.h):
// every catalog entry builds a verifier of its own type from real anchors, every attester has a
// verifier, and unknown types are refused with the supported list.
#include "attestation/tee_catalog.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <map>
#include <set>

#include "loader/attester_factory.h"

namespace sigil::attestation {
namespace {

Bytes ReadShared(const std::string& rel) {
  std::ifstream in(std::string(SIGIL_SHARED_DIR) + "/vectors/" + rel, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// One real anchor per TEE. A new TEE missing here fails
// EveryKindBuildsAVerifierOfItsOwnType until its anchor is added.
const std::map<std::string, std::string>& AnchorFiles() {
  static const std::map<std::string, std::string> m = {
      {"sev-snp", "sev-snp/go-sev-guest/ask_ark_milan.pem"},
      {"tdx", "sgx/dcap-qvl/TrustedRootCA.der"},
      {"sgx", "sgx/dcap-qvl/TrustedRootCA.der"},
      {"tpm", "tpm2/trustee/derived_ak_pub.der"},
      {"azure-snp-vtpm", "sev-snp/go-sev-guest/ask_ark_milan.pem"},
      {"azure-tdx-vtpm", "sgx/dcap-qvl/TrustedRootCA.der"},
      {"cca", "cca-psa/ccatoken/tf-rmm_cca_platform.pub.pem"},
      {"psa", "cca-psa/psatoken/public.pem"},
      {"nvidia-gpu", "nvidia-gpu/nvtrust/verifier_device_root.pem"},
  };
  return m;
}

TEST(TeeCatalog, EveryKindBuildsAVerifierOfItsOwnType) {
  for (const auto& kind : TeeKinds()) {
    SCOPED_TRACE(std::string(kind.tee));
    auto file = AnchorFiles().find(std::string(kind.tee));
    ASSERT_NE(file, AnchorFiles().end()) << "no test anchor for " << kind.tee;
    Bytes anchor = ReadShared(file->second);
    ASSERT_FALSE(anchor.empty()) << file->second;
    VerifierSetup setup;
    setup.trust_anchors.push_back(anchor);
    auto v = kind.build(std::move(setup));
    ASSERT_TRUE(v) << v.error().message();
    EXPECT_EQ((*v)->tee(), kind.tee);
    EXPECT_FALSE(kind.anchors.empty());
  }
}

TEST(TeeCatalog, TypesAreUniqueAndFoundByName) {
  std::set<std::string_view> seen;
  for (const auto& kind : TeeKinds()) {
    EXPECT_TRUE(seen.insert(kind.tee).second) << kind.tee;
    auto found = FindTeeKind(kind.tee);
    ASSERT_TRUE(found);
    EXPECT_EQ(*found, &kind);
  }
}

TEST(TeeCatalog, AnUnknownTypeIsRefusedNamingTheSupportedOnes) {
  auto found = FindTeeKind("sev");
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error().code(), Code::kInvalidArgument);
  for (const auto& kind : TeeKinds()) {
    EXPECT_NE(found.error().message().find(std::string(kind.tee)), std::string::npos) << found.error().message();
  }
}

// A garbage anchor is refused when the verifier is built, so sigild fails at start instead of
// at the first attestation.
TEST(TeeCatalog, AnAnchorThatIsNotAKeyOrCertificateIsRefusedAtBuild) {
  for (const auto& kind : TeeKinds()) {
    SCOPED_TRACE(std::string(kind.tee));
    VerifierSetup setup;
    setup.trust_anchors.push_back(ToBytes("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"));
    EXPECT_FALSE(kind.build(std::move(setup)));
  }
}

// A TEE refuses to be built without them, so an empty trust directory can
// never enable a verifier that trusts nothing (or everything).
TEST(TeeCatalog, ATeeThatNeedsAnchorsRefusesToBeBuiltWithoutThem) {
  for (const auto& kind : TeeKinds()) {
    if (kind.enabled_without_anchors) continue;
    SCOPED_TRACE(std::string(kind.tee));
    EXPECT_FALSE(kind.build(VerifierSetup{}));
  }
}

// Offline-only TEEs (empty trust_dir) are the ones whose evidence cannot stand alone in a release.
TEST(TeeCatalog, OnlyTheGpuIsOfflineOnly) {
  std::set<std::string_view> offline;
  for (const auto& kind : TeeKinds()) {
    if (kind.trust_dir.empty()) offline.insert(kind.tee);
  }
  EXPECT_EQ(offline, (std::set<std::string_view>{"nvidia-gpu"}));
}

TEST(AttesterFactory, EveryAttesterHasAVerifierExceptTheDevTee) {
  auto types = loader::AttesterTypes();
  EXPECT_NE(std::find(types.begin(), types.end(), "dev"), types.end());
  for (const auto& tee : types) {
    if (tee == "dev") continue;  // verified by attestation/dev, enabled by sigild init --dev-tee
    EXPECT_TRUE(FindTeeKind(tee)) << tee << " has an attester but no verifier";
  }
}

TEST(AttesterFactory, AnUnknownTypeIsRefusedNamingTheSupportedOnes) {
  loader::LoadOptions o;
  o.tee = "sev";
  auto a = loader::MakeAttester(o);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code(), Code::kInvalidArgument);
  for (const auto& tee : loader::AttesterTypes()) {
    EXPECT_NE(a.error().message().find(tee), std::string::npos) << a.error().message();
  }
}

}  // namespace
}  // namespace sigil::attestation
