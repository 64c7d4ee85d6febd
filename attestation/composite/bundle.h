// The composite evidence bundle: one CPU evidence (any TEE type) plus one attestation report per
// GPU, carried in the `evidence` field of POST /v1/attest (and read by `sigil attest verify`).
// UTF-8 JSON in canonical form (core/json.h CanonicalJson: keys sorted, no whitespace), exactly
//
//   {"cpu":"<b64url>","format":"sigil-gpu-composite/v1",
//    "gpus":[{"collateral":"<b64url>","report":"<b64url>"}, ...]}
//
// cpu: the CPU evidence exactly as the CPU TEE's verifier takes it alone (a raw SNP report, a
// purpose-bound envelope, a sigil-tpm-quote/v1 document, ...); its collateral stays in the
// request's `collateral` field. gpus: 1..kMaxGpus entries, each an NVIDIA report (raw or the hex
// text NVIDIA's tools write) and its own collateral (device chain PEM, leaf first, plus optional
// CRLs / OCSP responses; may be empty). base64url is RFC 4648 section 5 without padding.
// Canonical form means one encoding per bundle: no duplicate keys, no unknown fields.
// Thread-safety: pure functions (no I/O, no OpenSSL).
#pragma once

#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"

namespace sigil::attestation::composite {

inline constexpr std::string_view kGpuBundleFormat = "sigil-gpu-composite/v1";
inline constexpr std::size_t kMaxGpus = 16;                    // an HGX host has 8
inline constexpr std::size_t kMaxBundleSize = 2 * 1024 * 1024;  // 16 x (4 KiB report + chain)

struct GpuEntry {
  Bytes report;
  Bytes collateral;
  bool operator==(const GpuEntry&) const = default;
};

struct GpuBundle {
  Bytes cpu;
  std::vector<GpuEntry> gpus;
  bool operator==(const GpuBundle&) const = default;
};

// True if `evidence` starts as a bundle does (`{"cpu":`): the canonical key order puts "cpu"
// first, and no other evidence format Sigil reads starts that way. Only a prefix test: the
// bundle may still be malformed.
bool LooksLikeGpuBundle(ByteSpan evidence);

// Strict parse of the format above. kMalformedEvidence naming the problem: larger than
// kMaxBundleSize, not JSON, missing/unknown/mistyped fields, wrong format string, no GPU or more
// than kMaxGpus, bad base64url, an empty cpu or report, not canonical.
Result<GpuBundle> ParseGpuBundle(ByteSpan evidence);

// The canonical encoding (ParseGpuBundle's exact inverse for a bundle it accepts).
Bytes SerializeGpuBundle(const GpuBundle& bundle);

}  // namespace sigil::attestation::composite
