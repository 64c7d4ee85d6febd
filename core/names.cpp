#include "core/names.h"

#include <algorithm>
#include <string>

#include "core/text.h"

namespace sigil {

namespace {
bool LowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool NameChar(char c) { return LowerAlnum(c) || c == '.' || c == '_' || c == '-'; }
}  // namespace

Result<void> ValidateName(std::string_view name, std::string_view what) {
  const bool ok = !name.empty() && name.size() <= kMaxNameLength && LowerAlnum(name.front()) &&
                  std::all_of(name.begin(), name.end(), NameChar);
  if (!ok) {
    // Quote a bounded, escaped prefix only: the name comes from untrusted input (paths, bodies)
    // and the message reaches responses, logs and audit records.
    return Fail(Code::kInvalidArgument, std::string(what) + " '" + EscapeForDisplay(name, 64) +
                                            "' is invalid: use 1-64 characters a-z 0-9 . _ -, "
                                            "starting with a letter or digit");
  }
  return Ok();
}

}  // namespace sigil
