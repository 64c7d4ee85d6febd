// Rendering untrusted bytes for people: error messages, logs, terminal listings. Anything that
// is not printable ASCII becomes a visible escape, so input can never forge a line, move the
// cursor or hide text on an operator's terminal.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sigil {

// Printable ASCII (0x20-0x7e) is kept except '\\', which doubles; every other byte (controls,
// DEL, bytes >= 0x80, NUL) becomes \xNN. At most `max_input_bytes` of `text` are rendered; a
// longer input ends with "..." so a truncated quote is never mistaken for the whole value.
std::string EscapeForDisplay(std::string_view text, std::size_t max_input_bytes = 80);

}  // namespace sigil
