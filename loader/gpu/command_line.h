// The operator's GPU report command (sigil-load --gpu-report-cmd, docs/cli.md): split into an
// argv without a shell, and the per-attestation `{nonce}` substitution. No shell means no
// expansion of any kind ($VAR, globs, ~, backticks, redirections, ;): what the operator typed is
// what runs, whatever the nonce or the environment contain.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace sigil::loader::gpu {

// Splits `line` into words as a POSIX shell would split a simple command without expansions:
// blanks separate words; '...' quotes literally; "..." quotes with \" \\ \$ \` as the only
// escapes; a backslash outside quotes escapes the next character. kInvalidArgument for an
// unterminated quote, a trailing backslash, or no word at all.
Result<std::vector<std::string>> SplitCommandLine(std::string_view line);

// `argv` with every "{nonce}" in every argument (the program name included) replaced by
// `nonce_hex`.
std::vector<std::string> SubstituteNonce(const std::vector<std::string>& argv, std::string_view nonce_hex);

}  // namespace sigil::loader::gpu
