#include "cli/policy_files.h"

#include "core/file_io.h"
#include "core/names.h"

namespace sigil::cli {
namespace {
constexpr std::size_t kMaxReferenceValue = 512;  // as the broker's `refs add` (admin API)
}  // namespace

Result<std::pair<std::string, policy::Policy>> LoadPolicyFile(const std::string& path) {
  SIGIL_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path, kMaxInputFile));
  SIGIL_ASSIGN_OR_RETURN(policy::Policy p, policy::ParsePolicy(text, path));
  return std::make_pair(std::move(text), std::move(p));
}

Result<policy::MapReferenceSets> ReferenceSetsFromJson(const Json& j, const std::string& where_from) {
  if (!j.is_object()) return Fail(Code::kInvalidArgument, where_from + ": expected {\"set\": [values]}");
  policy::MapReferenceSets refs;
  for (auto it = j.begin(); it != j.end(); ++it) {
    SIGIL_RETURN_IF_ERROR(ValidateName(it.key(), where_from + ": reference set name"));
    const std::string where = where_from + ": set '" + it.key() + "'";
    if (!it.value().is_array()) return Fail(Code::kInvalidArgument, where + ": expected an array of strings");
    refs.AddSet(it.key());
    for (const Json& v : it.value()) {
      if (!v.is_string()) return Fail(Code::kInvalidArgument, where + ": every value must be a string");
      const auto& value = v.get_ref<const std::string&>();
      if (value.empty() || value.size() > kMaxReferenceValue) {
        return Fail(Code::kInvalidArgument, where + ": values are 1 to 512 characters");
      }
      for (unsigned char c : value) {
        if (c < 0x20 || c == 0x7f) return Fail(Code::kInvalidArgument, where + ": control characters are not allowed");
      }
      refs.Add(it.key(), value);
    }
  }
  return refs;
}

Result<policy::MapReferenceSets> LoadReferenceFile(const std::string& path) {
  SIGIL_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path, kMaxInputFile));
  SIGIL_ASSIGN_OR_RETURN(Json j, ParseJson(text, path));
  return ReferenceSetsFromJson(j, path);
}

}  // namespace sigil::cli
