#include "broker/collateral/collateral_store.h"

#include <algorithm>
#include <filesystem>

#include "attestation/dcap/x509.h"
#include "core/encoding.h"
#include "core/file_io.h"
#include "core/json.h"

namespace sigil::broker {
namespace {

namespace dcap = attestation::dcap;

std::vector<std::string> RegularFiles(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return names;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.is_regular_file(ec)) names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Parses every file of `dir` into `out`; `rel` prefixes the entry names.
void LoadDir(const std::string& data_dir, const std::string& rel, std::vector<CollateralItem>& out,
             std::vector<CollateralEntry>& entries, std::vector<std::string>* problems) {
  for (const std::string& name : RegularFiles(data_dir + "/" + rel)) {
    const std::string file = rel + "/" + name;
    auto bytes = ReadFile(data_dir + "/" + file, 1 << 22);
    auto items = bytes ? ClassifyCollateral(*bytes) : Result<std::vector<CollateralItem>>(bytes.error());
    if (!items) {
      if (problems != nullptr) problems->push_back(file + ": " + items.error().message());
      continue;
    }
    for (CollateralItem& item : *items) {
      entries.push_back(CollateralEntry{file, item.kind, item.summary, item.not_after});
      out.push_back(std::move(item));
    }
  }
}

Bytes Pem(const CollateralItem& item) { return item.stored; }

// The newest item satisfying `pred` (by not_before: issueDate / thisUpdate).
template <class Pred>
const CollateralItem* Newest(const std::vector<CollateralItem>& items, Pred pred) {
  const CollateralItem* best = nullptr;
  for (const CollateralItem& i : items) {
    if (pred(i) && (best == nullptr || i.not_before > best->not_before)) best = &i;
  }
  return best;
}

// The TCB Signing certificate whose key verifies `doc`'s signature.
const CollateralItem* SignerOf(const std::vector<CollateralItem>& items, const CollateralItem& doc) {
  for (const CollateralItem& i : items) {
    if (i.kind != CollateralKind::kIntelCa || i.summary != "Intel SGX TCB Signing") continue;
    EVP_PKEY* key = X509_get0_pubkey(i.cert.get());
    if (key != nullptr &&
        dcap::VerifyEcdsaRaw(key, AsBytes(doc.signed_body), doc.signature, "signed collateral")) {
      return &i;
    }
  }
  return nullptr;
}

}  // namespace

std::string CollateralDir(const std::string& data_dir) { return data_dir + "/collateral"; }

std::string TrustDir(const std::string& data_dir, bool amd) {
  return data_dir + (amd ? "/trust/sev-snp" : "/trust/intel");
}

std::string_view ExpiryState(TimePoint not_after, TimePoint now, std::chrono::seconds warn) {
  if (now > not_after) return "expired";
  if (not_after - now <= warn) return "expiring";
  return "ok";
}

std::shared_ptr<const CollateralSnapshot> CollateralSnapshot::Load(
    const std::string& data_dir, std::vector<std::string>* problems) {
  auto s = std::make_shared<CollateralSnapshot>();
  std::vector<CollateralItem> trust;
  LoadDir(data_dir, "trust/sev-snp", trust, s->entries_, problems);
  LoadDir(data_dir, "trust/intel", trust, s->entries_, problems);
  for (CollateralItem& item : trust) {
    // A KDS cert_chain file in trust/sev-snp holds the ASK next to the ARK.
    (IsTrustAnchor(item.kind) ? s->anchors_ : s->items_).push_back(std::move(item));
  }
  LoadDir(data_dir, "collateral", s->items_, s->entries_, problems);
  return s;
}

std::vector<X509Ptr> CollateralSnapshot::SnpCertificates() const {
  std::vector<X509Ptr> out;
  for (const CollateralItem& i : items_) {
    if (i.cert && IsAmd(i.kind) && !IsTrustAnchor(i.kind) && X509_up_ref(i.cert.get()) == 1) {
      out.emplace_back(i.cert.get());
    }
  }
  return out;
}

std::optional<Bytes> CollateralSnapshot::DcapCollateral(attestation::dcap::DcapTee tee,
                                                        const std::array<std::uint8_t, 6>& fmspc,
                                                        std::string_view pck_ca_cn) const {
  const bool tdx = tee == attestation::dcap::DcapTee::kTdx;
  const std::string memo_key =
      std::string(tdx ? "tdx/" : "sgx/") + HexEncode(fmspc) + "/" + std::string(pck_ca_cn);
  std::lock_guard lock(mu_);
  if (auto it = dcap_memo_.find(memo_key); it != dcap_memo_.end()) return it->second;
  // Only hits are memoised: the FMSPC and CA name come from a not yet verified quote, so misses
  // must not grow the map.
  std::optional<Bytes> out;
  const CollateralItem* tcb = Newest(items_, [&](const CollateralItem& i) {
    return i.kind == CollateralKind::kIntelTcbInfo && i.id == (tdx ? "TDX" : "SGX") &&
           i.fmspc == fmspc;
  });
  const CollateralItem* qe = Newest(items_, [&](const CollateralItem& i) {
    return i.kind == CollateralKind::kIntelQeIdentity && i.id == (tdx ? "TD_QE" : "QE");
  });
  const CollateralItem* pck_crl = Newest(items_, [&](const CollateralItem& i) {
    return i.kind == CollateralKind::kCrl && i.id == pck_ca_cn;
  });
  const CollateralItem* root_crl = Newest(items_, [](const CollateralItem& i) {
    return i.kind == CollateralKind::kCrl && i.id == "Intel SGX Root CA";
  });
  const CollateralItem* root = Newest(anchors_, [](const CollateralItem& i) {
    return i.kind == CollateralKind::kIntelRoot;
  });
  if (!tcb || !qe || !pck_crl || !root_crl || !root) return out;
  const CollateralItem* tcb_signer = SignerOf(items_, *tcb);
  const CollateralItem* qe_signer = SignerOf(items_, *qe);
  if (!tcb_signer || !qe_signer) return out;
  auto chain = [&](const CollateralItem& signer) {
    Bytes pem = Pem(signer);
    Bytes r = Pem(*root);
    pem.insert(pem.end(), r.begin(), r.end());
    return ToString(pem);
  };
  Json j{{"tcb_info", tcb->signed_body},
         {"tcb_info_signature", HexEncode(tcb->signature)},
         {"tcb_info_issuer_chain", chain(*tcb_signer)},
         {"qe_identity", qe->signed_body},
         {"qe_identity_signature", HexEncode(qe->signature)},
         {"qe_identity_issuer_chain", chain(*qe_signer)},
         {"pck_crl", HexEncode(pck_crl->stored)},
         {"root_ca_crl", HexEncode(root_crl->stored)}};
  out = ToBytes(j.dump());
  dcap_memo_.emplace(memo_key, out);
  return out;
}

}  // namespace sigil::broker
