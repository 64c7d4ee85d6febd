// Policy and reference-set inputs of the offline policy commands (`policy validate|test|diff`),
// read by the broker's own rules so that a dry run never judges by other rules than a release.
#pragma once

#include <string>
#include <utility>

#include "core/json.h"
#include "core/result.h"
#include "policies/policy.h"

namespace sigil::cli {

// Claims, reference and policy files are small; the cap keeps a wrong path from reading a disk image.
inline constexpr std::size_t kMaxInputFile = std::size_t{1} << 20;

// The file's text and the parsed policy (errors name file, JSON path and problem).
Result<std::pair<std::string, policy::Policy>> LoadPolicyFile(const std::string& path);

// Reference sets {"set": ["value", ...], ...}, held to the broker's rules for `refs add`: set
// names by sigil::ValidateName, values strings of 1-512 bytes without control characters (as
// AdminAddReference). Anything else is refused rather than skipped, so a dry run never tests
// other sets than the broker would hold. `where` names the source in errors.
Result<policy::MapReferenceSets> ReferenceSetsFromJson(const Json& j, const std::string& where);
// The same, from a JSON file.
Result<policy::MapReferenceSets> LoadReferenceFile(const std::string& path);

}  // namespace sigil::cli
