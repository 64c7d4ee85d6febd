// Fuzz target for the Azure HCL report parsers (attestation/azure/hcl_report.h, tdreport.h,
// runtime_data.h) and the binding step. Never crashes; a parsed report's spans lie inside the
// input and its lengths agree with each other; the evidence parser never crashes either.
// Corpus: tests/fuzz/corpus/azure_hcl_report/ (both real HCL reports, their runtime data, and
// truncated / mutated ones).
#include <cstddef>
#include <cstdint>

#include "attestation/azure/evidence.h"
#include "attestation/azure/hcl_report.h"
#include "attestation/azure/hcl_verify.h"
#include "attestation/azure/runtime_data.h"
#include "attestation/azure/tdreport.h"
#include "core/result.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sigil;
  using namespace sigil::attestation::azure;
  const ByteSpan input(data, size);
  if (auto hcl = ParseHclReport(input)) {
    SIGIL_CHECK(hcl->report_size + hcl->padding == size);
    SIGIL_CHECK(hcl->runtime_data.data() == data + kRuntimeDataOffset);
    SIGIL_CHECK(kRuntimeDataOffset + hcl->runtime_data.size() == hcl->report_size);
    SIGIL_CHECK(hcl->hardware_report.size() ==
                (hcl->report_type == HclReportType::kSnp ? kSnpReportSize : kTdReportSize));
    (void)ParseAndBindHclReport(input);
  }
  (void)ParseRuntimeData(input);
  (void)ParseTdReport(input);
  (void)ParseAzureEvidence(input);
  return 0;
}
