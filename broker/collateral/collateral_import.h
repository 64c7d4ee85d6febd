// `sigil collateral import`: classifies and validates collateral files, then stores them in the
// data directory (collateral_store.h). All or nothing: if any file is bad, the error names the
// file and the problem and nothing is written.
// Thread-safety: run by one CLI process; concurrent imports into one directory only race on
// which identical file wins (each write is atomic and content-addressed).
#pragma once

#include <string>
#include <vector>

#include "broker/collateral/collateral_store.h"

namespace sigil::broker {

struct ImportFile {
  std::string name;  // for messages
  Bytes bytes;
};

struct ImportOptions {
  std::string data_dir;
  // Roots (AMD ARK, Intel SGX Root CA) become trust anchors only with this set: trusting a new
  // root is a separate, explicit decision from loading collateral under an existing one.
  bool allow_anchors = false;
  TimePoint now;  // validity periods are checked at this time
};

struct ImportedItem {
  std::string file;  // path relative to the data directory
  CollateralKind kind;
  std::string summary;
  TimePoint not_after;
  bool already_present = false;
};

// Validates every item of every file against the configured roots (DATA/trust/...), the stored
// collateral and the other files of this import, then writes them. Checks per kind:
//  - ARK / Intel root: allow_anchors, self-signed signature verifies, valid at `now`;
//  - ASK/ASVK: signed by a trusted ARK (RSASSA-PSS, pub. 57230), valid at `now`;
//  - VCEK/VLEK: the full attestation/snp/chain.h check (pinned ARK, product names, validity);
//  - Intel CA / PCK certificate: chains to a trusted Intel root at `now`;
//  - CRL: signed by a known, chaining issuer; current at `now` (thisUpdate <= now < nextUpdate);
//  - TCB info / QE identity: ECDSA signature by a TCB Signing certificate chaining to the root,
//    issueDate <= now < nextUpdate.
// kInvalidArgument "FILE: problem" (or kVerificationFailed / kExpired with the file named).
Result<std::vector<ImportedItem>> ImportCollateral(const ImportOptions& options,
                                                   const std::vector<ImportFile>& files);

}  // namespace sigil::broker
