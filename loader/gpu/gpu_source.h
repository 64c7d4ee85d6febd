// Where sigil-load gets the GPU reports of a composite attestation (docs/cli.md "GPU reports"):
// the operator's command, run once per attestation with that attestation's GPU nonce, or
// reports captured beforehand (files). Either yields ParseGpuReportLines' format.
// Thread-safety: a GpuCollector may be called concurrently (each call runs its own command or
// reads the files afresh).
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "attestation/composite/bundle.h"
#include "core/digest.h"
#include "core/result.h"

namespace sigil::loader::gpu {

// The GPU reports for one attestation whose GPU nonce is the argument, in GPU order.
using GpuCollector = std::function<Result<std::vector<attestation::composite::GpuEntry>>(const Sha256Digest&)>;

struct GpuSourceConfig {
  // --gpu-report-cmd, as the operator typed it (split by SplitCommandLine; "{nonce}" becomes the
  // 64 lowercase hex digits of the GPU nonce). Empty: no command.
  std::string command;
  std::chrono::milliseconds timeout{60000};
  std::size_t max_output = 1 << 20;  // 16 reports with chains and CRLs fit many times over
  // --gpu-report files, each in the same format, concatenated in the order given. Their reports
  // carry the nonce they were captured with: for tests and offline checks only.
  std::vector<std::string> report_files;

  bool empty() const { return command.empty() && report_files.empty(); }
};

// The collector for `config`. kInvalidArgument if it names both a command and files, neither,
// or a command that does not split. A collector fails as RunCapture / ReadFile /
// ParseGpuReportLines do, or with kMalformedEvidence for more than kMaxGpus reports in total.
Result<GpuCollector> MakeGpuCollector(GpuSourceConfig config);

}  // namespace sigil::loader::gpu
