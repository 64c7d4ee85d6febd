#include "tests/support/matchers.h"

namespace sigil::testing {
std::string Describe(const Error& e) {
  return std::string(CodeName(e.code())) + ": " + e.message();
}
}  // namespace sigil::testing
