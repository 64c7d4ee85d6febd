// Fuzz target: tee-evidence.primary_evidence as a KBS guest sends it (broker/kbs/
// trustee_evidence.h). Input: one byte choosing the KBS tee name, then the JSON text, which goes
// through ParseJson as a request body does. Must never crash; what converts must be within the
// limits, a converted SEV-SNP object is always one 1184-byte report, and only snp and
// az-snp-vtpm (the VCEK) yield collateral.
#include <cstdint>
#include <string>
#include <string_view>

#include "broker/kbs/trustee_evidence.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static constexpr std::string_view kTees[] = {"tdx", "sgx", "snp", "dev", "tpm", "az-snp-vtpm", "az-tdx-vtpm"};
  const std::string_view tee = kTees[data[0] % (sizeof(kTees) / sizeof(kTees[0]))];
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  auto json = sigil::ParseJson(text, "fuzz");
  if (!json) return 0;
  auto r = sigil::broker::KbsPrimaryEvidence(tee, *json);
  if (!r) {
    if (r.error().message().rfind("tee-evidence.primary_evidence", 0) != 0) __builtin_trap();
    return 0;
  }
  if (r->evidence.size() > sigil::broker::kMaxKbsEvidenceBytes ||
      r->collateral.size() > sigil::broker::kMaxKbsEvidenceBytes) {
    __builtin_trap();
  }
  if (tee == "snp" && json->is_object() && r->evidence.size() != 1184) __builtin_trap();
  if (tee != "snp" && tee != "az-snp-vtpm" && !r->collateral.empty()) __builtin_trap();
  return 0;
}
