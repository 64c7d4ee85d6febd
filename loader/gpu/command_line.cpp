#include "loader/gpu/command_line.h"

namespace sigil::loader::gpu {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\n'; }

// Inside "...", POSIX (XCU 2.2.3) keeps a backslash literal unless it precedes one of these.
bool EscapableInDoubleQuotes(char c) { return c == '"' || c == '\\' || c == '$' || c == '`'; }

}  // namespace

Result<std::vector<std::string>> SplitCommandLine(std::string_view line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (IsBlank(c)) {
      if (in_word) words.push_back(std::exchange(word, {}));
      in_word = false;
      continue;
    }
    in_word = true;  // '' and "" make an (empty) word too
    if (c == '\'') {
      const std::size_t end = line.find('\'', i + 1);
      if (end == std::string_view::npos) return Fail(Code::kInvalidArgument, "--gpu-report-cmd: unterminated '");
      word.append(line.substr(i + 1, end - i - 1));
      i = end;
    } else if (c == '"') {
      std::size_t j = i + 1;
      for (; j < line.size() && line[j] != '"'; ++j) {
        if (line[j] == '\\' && j + 1 < line.size() && EscapableInDoubleQuotes(line[j + 1])) ++j;
        word.push_back(line[j]);
      }
      if (j >= line.size()) return Fail(Code::kInvalidArgument, "--gpu-report-cmd: unterminated \"");
      i = j;
    } else if (c == '\\') {
      if (i + 1 >= line.size()) return Fail(Code::kInvalidArgument, "--gpu-report-cmd: trailing backslash");
      word.push_back(line[++i]);
    } else {
      word.push_back(c);
    }
  }
  if (in_word) words.push_back(std::move(word));
  if (words.empty()) return Fail(Code::kInvalidArgument, "--gpu-report-cmd: empty command");
  return words;
}

std::vector<std::string> SubstituteNonce(const std::vector<std::string>& argv, std::string_view nonce_hex) {
  constexpr std::string_view kPlaceholder = "{nonce}";
  std::vector<std::string> out;
  out.reserve(argv.size());
  for (std::string s : argv) {
    for (auto pos = s.find(kPlaceholder); pos != std::string::npos;
         pos = s.find(kPlaceholder, pos + nonce_hex.size())) {
      s.replace(pos, kPlaceholder.size(), nonce_hex);
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace sigil::loader::gpu
