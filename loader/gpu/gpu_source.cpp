#include "loader/gpu/gpu_source.h"

#include "core/encoding.h"
#include "core/file_io.h"
#include "loader/gpu/command_line.h"
#include "loader/gpu/command_runner.h"
#include "loader/gpu/report_lines.h"

namespace sigil::loader::gpu {
namespace {

using attestation::composite::GpuEntry;

GpuCollector CommandCollector(std::vector<std::string> argv, const GpuSourceConfig& config) {
  return [argv = std::move(argv), timeout = config.timeout,
          max = config.max_output](const Sha256Digest& nonce) -> Result<std::vector<GpuEntry>> {
    CommandSpec spec{SubstituteNonce(argv, HexEncode(nonce)), timeout, max};
    SIGIL_ASSIGN_OR_RETURN(std::string out, RunCapture(spec));
    return ParseGpuReportLines(out, "GPU report command output");
  };
}

// The files are read at each attestation, not once at start: like the command, the source is
// consulted when the evidence is made.
GpuCollector FileCollector(std::vector<std::string> files, std::size_t max_output) {
  return [files = std::move(files), max_output](const Sha256Digest&) -> Result<std::vector<GpuEntry>> {
    std::vector<GpuEntry> all;
    for (const auto& f : files) {
      SIGIL_ASSIGN_OR_RETURN(Bytes text, ReadFile(f, max_output));
      SIGIL_ASSIGN_OR_RETURN(std::vector<GpuEntry> some, ParseGpuReportLines(ToString(text), "--gpu-report " + f));
      all.insert(all.end(), std::make_move_iterator(some.begin()), std::make_move_iterator(some.end()));
    }
    if (all.size() > attestation::composite::kMaxGpus) {
      return Fail(Code::kMalformedEvidence, "--gpu-report: " + std::to_string(all.size()) + " GPU reports, at most " +
                                                std::to_string(attestation::composite::kMaxGpus));
    }
    return all;
  };
}

}  // namespace

Result<GpuCollector> MakeGpuCollector(GpuSourceConfig config) {
  if (!config.command.empty() && !config.report_files.empty()) {
    return Fail(Code::kInvalidArgument, "--gpu-report-cmd and --gpu-report exclude each other");
  }
  if (config.empty()) return Fail(Code::kInvalidArgument, "no GPU report source (--gpu-report-cmd or --gpu-report)");
  if (config.report_files.empty()) {
    SIGIL_ASSIGN_OR_RETURN(std::vector<std::string> argv, SplitCommandLine(config.command));
    return CommandCollector(std::move(argv), config);
  }
  return FileCollector(std::move(config.report_files), config.max_output);
}

}  // namespace sigil::loader::gpu
