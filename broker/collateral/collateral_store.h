// The broker's offline collateral store: DATA/collateral/<kind>-<sha256 prefix>.<ext>, written
// by `sigil collateral import` (collateral_import.h), next to the trust anchors in
// DATA/trust/sev-snp/ (AMD ARKs) and DATA/trust/intel/ (Intel SGX Root CA). A CollateralSnapshot
// is one immutable reading of both; the verifiers draw on it when a request carries no
// collateral. Nothing in the store is trusted by being there: the SEV-SNP and DCAP verifiers
// chain everything to the configured roots on every use.
// Thread-safety: a snapshot is immutable after Load and safe to share between threads.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "attestation/dcap/verifier.h"
#include "broker/collateral/collateral_item.h"

namespace sigil::broker {

// Where the store lives inside a data directory.
std::string CollateralDir(const std::string& data_dir);
std::string TrustDir(const std::string& data_dir, bool amd);

// One stored item, for listing and expiry warnings.
struct CollateralEntry {
  std::string file;  // path relative to the data directory
  CollateralKind kind;
  std::string summary;
  TimePoint not_after;
};

// "expired" if now > not_after, "expiring" if not_after - now <= warn, else "ok".
std::string_view ExpiryState(TimePoint not_after, TimePoint now, std::chrono::seconds warn);

class CollateralSnapshot {
 public:
  // Reads the trust directories and the collateral directory (both may be absent). A file that
  // does not parse is skipped and described in `problems` (the store is written only by a
  // validating import, so this means someone edited it by hand).
  static std::shared_ptr<const CollateralSnapshot> Load(const std::string& data_dir,
                                                        std::vector<std::string>* problems);

  // AMD ASK/ASVK, VCEK and VLEK certificates (new references), for SnpConfig::cert_source.
  std::vector<X509Ptr> SnpCertificates() const;
  // A DCAP collateral bundle (attestation/dcap/README.md) for `tee`, the PCK certificate's FMSPC
  // and its issuing CA: the newest matching TCB info and QE identity, the TCB Signing chain, the
  // newest CRL of that CA and of the root. nullopt if a part is missing. Hits are memoised.
  std::optional<Bytes> DcapCollateral(attestation::dcap::DcapTee tee,
                                      const std::array<std::uint8_t, 6>& fmspc,
                                      std::string_view pck_ca_cn) const;

  const std::vector<CollateralEntry>& entries() const { return entries_; }
  // Items of the store and the anchors, parsed (for import validation).
  const std::vector<CollateralItem>& items() const { return items_; }
  const std::vector<CollateralItem>& anchors() const { return anchors_; }

 private:
  std::vector<CollateralItem> items_;
  std::vector<CollateralItem> anchors_;
  std::vector<CollateralEntry> entries_;
  mutable std::mutex mu_;
  mutable std::map<std::string, std::optional<Bytes>> dcap_memo_;
};

}  // namespace sigil::broker
