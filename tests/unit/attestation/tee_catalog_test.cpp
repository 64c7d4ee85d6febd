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

// Purpose-bound (PurposeBoundVerifier) are the TEEs whose only per-load field is report data.
// The TPM-quote TEEs (tpm, azure-*-vtpm) prove it through the purpose PCR and its log instead
// (the Azure HCL report's data is written at boot); wrapping them would add a second way to
// claim a purpose, through the quote's qualifying data, with no PCR and no event history.
TEST(TeeCatalog, OnlyReportDataTeesArePurposeBound) {
  std::set<std::string_view> bound;
  for (const auto& kind : TeeKinds()) {
    if (kind.purpose_bound) bound.insert(kind.tee);
  }
  EXPECT_EQ(bound, (std::set<std::string_view>{"sev-snp", "tdx", "cca"}));
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


// BuildVerifier wraps every CPU TEE for composite CPU + GPU bundles (attestation/composite): with
// GPU roots a bundle reaches the CPU verifier (and fails there, this one being junk); without, it
// is refused for want of GPU anchors. nvidia-gpu itself takes no bundle.
namespace composite_wrap {
bool Mentions(const Result<Claims>& r, std::string_view text) {
  return !r.has_value() && r.error().message().find(text) != std::string::npos;
}
}  // namespace composite_wrap

TEST(TeeCatalog, BuildVerifierWrapsCpuTeesForGpuBundles) {
  const std::string junk_bundle =
      R"({"cpu":"YQ","format":"sigil-gpu-composite/v1","gpus":[{"collateral":"","report":"YQ"}]})";
  const Bytes evidence(junk_bundle.begin(), junk_bundle.end());
  const Bytes binding(64, 7);
  for (const auto& kind : TeeKinds()) {
    SCOPED_TRACE(std::string(kind.tee));
    VerifierSetup with_gpus;
    with_gpus.trust_anchors.push_back(ReadShared(AnchorFiles().at(std::string(kind.tee))));
    with_gpus.gpu_trust_anchors.push_back(ReadShared("nvidia-gpu/nvtrust/verifier_device_root.pem"));
    VerifierSetup without = with_gpus;
    without.gpu_trust_anchors.clear();
    auto a = BuildVerifier(kind, std::move(with_gpus));
    auto b = BuildVerifier(kind, std::move(without));
    ASSERT_TRUE(a && b);
    EXPECT_EQ((*a)->tee(), kind.tee);
    const VerifyInput in{evidence, {}, binding, std::chrono::system_clock::now(), ""};
    if (!kind.carries_gpus) {
      EXPECT_FALSE(composite_wrap::Mentions((*a)->Verify(in), "composite evidence"));
      continue;
    }
    // "gpu 0": the junk report does not decode, before any CPU or GPU check.
    EXPECT_TRUE(composite_wrap::Mentions((*a)->Verify(in), "gpu 0")) << (*a)->Verify(in).error().message();
    EXPECT_TRUE(composite_wrap::Mentions((*b)->Verify(in), "no GPU trust anchors"));
  }
  VerifierSetup bad;
  bad.trust_anchors.push_back(ReadShared(AnchorFiles().at("sev-snp")));
  bad.gpu_trust_anchors.push_back(Bytes{'x'});
  auto r = BuildVerifier(**FindTeeKind("sev-snp"), std::move(bad));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("GPU trust anchors"), std::string::npos) << r.error().message();
}

}  // namespace
}  // namespace sigil::attestation
