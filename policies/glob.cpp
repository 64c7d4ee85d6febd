#include "policies/glob.h"

namespace sigil::policy {

bool KeyPatternMatches(std::string_view pattern, std::string_view key_name) {
  // Greedy matching with one backtrack point: the most recent `*`. When a later literal fails,
  // the star absorbs one more character and matching resumes after it. A newer star supersedes
  // the older one, which is why one backtrack point suffices.
  constexpr std::size_t kNone = std::string_view::npos;
  std::size_t p = 0;
  std::size_t k = 0;
  std::size_t star = kNone;
  std::size_t star_k = 0;
  while (k < key_name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_k = k;
    } else if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == key_name[k])) {
      ++p;
      ++k;
    } else if (star != kNone) {
      p = star + 1;
      k = ++star_k;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace sigil::policy
