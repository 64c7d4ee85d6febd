// `sigil collateral import|list` and the broker's collateral cache, end to end on the real AMD and
// Intel vectors in ../shared/vectors: the real CLI writes a data directory, the broker's
// CollateralCache reads it, and the real SEV-SNP and DCAP verifiers use it for evidence that
// arrives without collateral. Times are the vectors' verification times (their MANIFEST.md).
#include <gtest/gtest.h>

#include <ctime>
#include <filesystem>

#include "attestation/dcap/verifier.h"
#include "attestation/snp/verifier.h"
#include "broker/collateral/collateral_cache.h"
#include "core/file_io.h"
#include "tests/support/matchers.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace sigil {
namespace {

using testing::BinPath;
using testing::Run;
using testing::TempDir;
using TimePoint = std::chrono::system_clock::time_point;

std::string V(const std::string& rel) { return std::string(SIGIL_SHARED_DIR) + "/vectors/" + rel; }

Bytes Load(const std::string& rel) {
  auto b = ReadFile(V(rel));
  EXPECT_TRUE(b.has_value()) << rel;
  return b ? *b : Bytes{};
}

TimePoint At(const char* rfc3339) {
  std::tm tm{};
  strptime(rfc3339, "%Y-%m-%dT%H:%M:%S", &tm);
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

constexpr const char* kSnpTime = "2022-09-24T01:00:00Z";
constexpr const char* kTdxTime = "2025-07-19T10:00:34Z";

testing::CommandResult Import(const std::string& dir, const char* at, std::vector<std::string> files,
                              bool anchor = false) {
  std::vector<std::string> argv{BinPath("sigil"), "collateral", "import", "--data-dir", dir, "--at", at};
  if (anchor) argv.push_back("--anchor");
  for (auto& f : files) argv.push_back(V(f));
  return Run(argv);
}

std::size_t FileCount(const std::string& dir) {
  std::size_t n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       it != std::filesystem::recursive_directory_iterator(); ++it) {
    n += it->is_regular_file() ? 1 : 0;
  }
  return n;
}

// Imports the AMD Milan chain + VCEK and the Intel root + TDX collateral.
void ImportAll(const std::string& dir) {
  auto amd = Import(dir, kSnpTime,
                    {"sev-snp/go-sev-guest/ask_ark_milan.pem", "sev-snp/go-sev-guest/vcek.der"}, true);
  ASSERT_EQ(amd.exit_code, 0) << amd.err;
  auto intel = Import(dir, kTdxTime,
                      {"tdx/dcap-qvl/TrustedRootCA.der", "tdx/dcap-qvl/tdx_quote_collateral.json"}, true);
  ASSERT_EQ(intel.exit_code, 0) << intel.err;
}

std::shared_ptr<broker::CollateralCache> Cache(const std::string& dir, const char* at,
                                               std::vector<std::string>* warnings = nullptr) {
  broker::CollateralCacheOptions o;
  o.data_dir = dir;
  o.recheck = std::chrono::milliseconds(0);
  o.now = [t = At(at)] { return t; };
  o.warn = [warnings](const std::string& w) {
    if (warnings != nullptr) warnings->push_back(w);
  };
  return std::make_shared<broker::CollateralCache>(std::move(o));
}

std::unique_ptr<attestation::Verifier> Tdx(std::shared_ptr<broker::CollateralCache> cache) {
  attestation::dcap::DcapConfig cfg;
  cfg.trusted_root_certs = {Load("tdx/dcap-qvl/TrustedRootCA.der")};
  cfg.collateral_source = broker::CollateralCache::DcapSource(std::move(cache));
  auto v = attestation::dcap::DcapVerifier::Create(attestation::dcap::DcapTee::kTdx, cfg);
  EXPECT_TRUE(v.has_value());
  return std::move(v).value();
}

std::unique_ptr<attestation::Verifier> Snp(std::shared_ptr<broker::CollateralCache> cache,
                                           const char* anchor = "sev-snp/go-sev-guest/ask_ark_milan.pem") {
  attestation::snp::SnpConfig cfg;
  cfg.anchors.roots = {Load(anchor)};
  cfg.cert_source = broker::CollateralCache::SnpSource(std::move(cache));
  auto v = attestation::snp::SnpVerifier::Create(std::move(cfg));
  EXPECT_TRUE(v.has_value());
  return std::move(v).value();
}

TEST(HwCollateral, ImportedCollateralVerifiesEvidenceThatCarriesNone) {
  TempDir dir;
  ImportAll(dir.path());
  auto cache = Cache(dir.path(), kTdxTime);
  const Bytes quote = Load("tdx/dcap-qvl/tdx_quote.bin");
  ASSERT_OK_AND_ASSIGN(auto claims, Tdx(cache)->Verify({quote, {}, {}, At(kTdxTime)}));
  EXPECT_EQ(claims.ToJson()["tcb.status"], "UpToDate");
  const Bytes report = Load("sev-snp/go-sev-guest/attestation.bin");
  ASSERT_OK_AND_ASSIGN(auto snp_claims, Snp(cache)->Verify({report, {}, {}, At(kSnpTime)}));
  EXPECT_EQ(snp_claims.ToJson()["tee"], "sev-snp");
}

TEST(HwCollateral, CacheRereadsTheStoreWhenFilesChange) {
  TempDir dir;
  auto cache = Cache(dir.path(), kTdxTime);
  auto tdx = Tdx(cache);
  const Bytes quote = Load("tdx/dcap-qvl/tdx_quote.bin");
  auto before = tdx->Verify({quote, {}, {}, At(kTdxTime)});
  ASSERT_FALSE(before.has_value());
  EXPECT_EQ(before.error().code(), Code::kInvalidArgument);
  EXPECT_NE(before.error().message().find("sigil collateral import"), std::string::npos);
  ImportAll(dir.path());
  // Same verifier object: the broker need not restart after an import.
  EXPECT_OK(tdx->Verify({quote, {}, {}, At(kTdxTime)}));
}

TEST(HwCollateral, ExpiryWarningsAndList) {
  TempDir dir;
  ImportAll(dir.path());
  std::vector<std::string> warnings;
  Cache(dir.path(), kTdxTime, &warnings);
  bool tcb_warned = false;
  for (const auto& w : warnings) tcb_warned = tcb_warned || w.find("intel-tcb-info") != std::string::npos;
  EXPECT_TRUE(tcb_warned) << "TCB info expires 16 minutes after the vector's verification time";
  auto list = testing::Run({BinPath("sigil"), "--json", "collateral", "list", "--data-dir", dir.path(), "--at", kTdxTime});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  auto j = Json::parse(list.out);
  bool expiring = false, ok_root = false;
  for (const auto& e : j["collateral"]) {
    expiring = expiring || (e["kind"] == "intel-tcb-info" && e["state"] == "expiring" &&
                            e["not_after"] == "2025-07-19T10:16:03Z");
    ok_root = ok_root || (e["kind"] == "intel-root" && e["state"] == "ok");
  }
  EXPECT_TRUE(expiring) << list.out;
  EXPECT_TRUE(ok_root) << list.out;
}

TEST(HwCollateral, BadFilesAreRefusedByNameAndNothingIsStored) {
  TempDir dir;
  ImportAll(dir.path());
  const std::size_t before = FileCount(dir.path());
  // A VCEK whose ASK is not configured (Genoa chain absent), with a good file in the same call.
  auto genoa = Import(dir.path(), kSnpTime, {"sev-snp/virtee-sev/vcek_turin.der", "sgx/dcap-qvl/sgx_quote_collateral.json"});
  EXPECT_NE(genoa.exit_code, 0);
  EXPECT_NE(genoa.err.find("vcek_turin.der"), std::string::npos) << genoa.err;
  // A root without --anchor.
  auto root = Import(dir.path(), kSnpTime, {"sev-snp/go-sev-guest/ask_ark_genoa.pem"});
  EXPECT_NE(root.exit_code, 0);
  EXPECT_NE(root.err.find("--anchor"), std::string::npos) << root.err;
  // Collateral outside its validity period.
  auto late = Import(dir.path(), "2025-09-01T00:00:00Z", {"sgx/dcap-qvl/sgx_quote_collateral.json"});
  EXPECT_NE(late.exit_code, 0);
  EXPECT_NE(late.err.find("sgx_quote_collateral.json"), std::string::npos) << late.err;
  // Not collateral at all.
  auto junk = Import(dir.path(), kSnpTime, {"sev-snp/go-sev-guest/attestation.bin"});
  EXPECT_NE(junk.exit_code, 0);
  EXPECT_NE(junk.err.find("attestation.bin"), std::string::npos) << junk.err;
  EXPECT_EQ(FileCount(dir.path()), before);
}

TEST(HwCollateral, TamperedTcbInfoSignatureIsRefused) {
  TempDir dir;
  ImportAll(dir.path());
  std::string text = ToString(Load("tdx/dcap-qvl/tdx_quote_collateral.json"));
  const auto pos = text.find("UpToDate");
  ASSERT_NE(pos, std::string::npos);
  text.replace(pos, 8, "OutOfDat");
  ASSERT_OK(WriteFileAtomic(dir.File("bad.json"), AsBytes(text)));
  auto r = testing::Run({BinPath("sigil"), "collateral", "import", "--data-dir", dir.path(), "--at", kTdxTime,
                dir.File("bad.json")});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("bad.json"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("signature"), std::string::npos) << r.err;
}

// Evidence-carried chains count only if they end at a configured root.
TEST(HwCollateral, EvidenceChainsMustEndAtAConfiguredRoot) {
  TempDir dir;
  auto cache = Cache(dir.path(), kSnpTime);
  const Bytes report = Load("sev-snp/go-sev-guest/attestation.bin");
  Bytes milan_chain = Load("sev-snp/go-sev-guest/vcek.der");
  // SNP: the request carries VCEK only, but the broker trusts only Genoa's ARK.
  auto snp = Snp(cache, "sev-snp/go-sev-guest/ask_ark_genoa.pem");
  auto r = snp->Verify({report, milan_chain, {}, At(kSnpTime)});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kVerificationFailed);
  // Carrying its own (genuine) Milan ARK does not help: it is not configured.
  Bytes with_ark = Load("sev-snp/go-sev-guest/ask_ark_milan.pem");
  auto r2 = snp->Verify({report, with_ark, {}, At(kSnpTime)});
  EXPECT_FALSE(r2.has_value());
  // DCAP: a quote whose PCK chain ends at the Intel root, with the AMD ARK configured as "root".
  attestation::dcap::DcapConfig cfg;
  auto pem = ReadFile(V("sev-snp/go-sev-guest/ask_ark_milan.pem"));
  ASSERT_TRUE(pem.has_value());
  const std::string text = ToString(*pem);
  const auto second = text.find("-----BEGIN CERTIFICATE-----", 10);
  cfg.trusted_root_certs = {ToBytes(text.substr(second))};  // the ARK alone
  ASSERT_OK_AND_ASSIGN(auto tdx, attestation::dcap::DcapVerifier::Create(attestation::dcap::DcapTee::kTdx, cfg));
  auto q = tdx->Verify({Load("tdx/dcap-qvl/tdx_quote.bin"), Load("tdx/dcap-qvl/tdx_quote_collateral.json"), {},
                        At(kTdxTime)});
  ASSERT_FALSE(q.has_value());
  EXPECT_EQ(q.error().code(), Code::kVerificationFailed);
}

// The real sigild logs a warning at start for imported collateral that expires within the
// configured window (here everything Intel issued for the 2025 vectors is long expired).
TEST(HwCollateral, SigildWarnsAboutExpiringCollateralAtStart) {
  TempDir dir;
  const std::string data = dir.File("data");
  auto init = testing::Run({BinPath("sigild"), "init", "--data-dir", data, "--dev-root-key", "--listen", "127.0.0.1:0"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  ImportAll(data);
  {
    testing::BackgroundProcess sigild({BinPath("sigild"), "serve", "--data-dir", data, "--port-file", dir.File("port")},
                                      dir.File("sigild.log"));
    ASSERT_FALSE(testing::WaitForFile(dir.File("port"), 20).empty()) << "sigild did not start";
    sigild.Stop();
  }
  auto log = ReadTextFile(dir.File("sigild.log"));
  ASSERT_TRUE(log.has_value());
  EXPECT_NE(log->find("WARNING: collateral collateral/intel-tcb-info-"), std::string::npos) << *log;
  EXPECT_NE(log->find("expired at 2025-07-19T10:16:03Z"), std::string::npos) << *log;
  EXPECT_EQ(log->find("amd-vcek"), std::string::npos) << "the VCEK is valid until 2029";
}

}  // namespace
}  // namespace sigil
