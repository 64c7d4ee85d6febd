// The GPU report format sigil-load reads from the operator's command (--gpu-report-cmd) and from
// captured files (--gpu-report), docs/cli.md "GPU reports": JSON lines, one GPU per line,
//
//   {"report":"<hex>","cert_chain":"<PEM>"}
//
// report: the SPDM GET_MEASUREMENTS request || MEASUREMENTS response as ASCII hex, exactly what
// nvtrust's tools print and save (hopperAttestationReport.txt); cert_chain: the device's
// certificate chain as PEM, leaf first (what nvtrust gets from nvmlDeviceGetConfComputeGpuCertificate),
// optionally followed by CRL PEM blocks. JSON because a PEM chain spans lines: one line per GPU
// keeps the report and its own chain together, in GPU order, and a JSON string is what a
// Python wrapper around nvtrust writes with json.dumps. Blank lines are ignored.
// Thread-safety: pure function.
#pragma once

#include <string_view>
#include <vector>

#include "attestation/composite/bundle.h"
#include "core/result.h"

namespace sigil::loader::gpu {

// One entry per GPU line: the report decoded from hex (and parsed, so a damaged report fails
// here, naming its line, not at the broker) and the chain as collateral. kMalformedEvidence
// naming `source` and the line: not a JSON object with exactly the string fields report and
// cert_chain, report not hex or not an NVIDIA report, cert_chain without a certificate; no GPU
// line at all, or more than attestation::composite::kMaxGpus.
Result<std::vector<attestation::composite::GpuEntry>> ParseGpuReportLines(std::string_view text,
                                                                          std::string_view source);

}  // namespace sigil::loader::gpu
