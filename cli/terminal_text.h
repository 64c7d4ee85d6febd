// What the CLI prints for people comes from the broker, the store or evidence, none of which is
// trusted to be free of newlines or terminal escapes: every such string goes through here, so a
// value can never fake a line of output or rewrite the screen. --json output is exact instead.
#pragma once

#include <string>
#include <string_view>

#include "core/text.h"

namespace sigil::cli {

inline std::string ForTerminal(std::string_view text) { return EscapeForDisplay(text, 4096); }

}  // namespace sigil::cli
