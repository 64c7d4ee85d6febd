#include "tests/support/audit_records.h"

namespace sigil::testing {

std::vector<Json> ParseAuditList(const std::string& cli_json_output) {
  std::vector<Json> out;
  auto listing = ParseJson(cli_json_output, "audit list");
  if (!listing || !listing->contains("records")) return out;
  for (const auto& row : (*listing)["records"]) {
    if (!row.contains("record") || !row["record"].is_string()) continue;
    if (auto record = ParseJson(row["record"].get<std::string>(), "record")) out.push_back(*record);
  }
  return out;
}

}  // namespace sigil::testing
