// Tenant, key and reference-set names. They end up inside HPKE info / AEAD AAD (loader FORMAT.md)
// and in broker identities and store keys, so the broker and the loader must accept exactly the
// same set: one rule, here.
#pragma once

#include <cstddef>
#include <string_view>

#include "core/result.h"

namespace sigil {

inline constexpr std::size_t kMaxNameLength = 64;

// Accepts 1-64 characters of [a-z0-9._-] whose first character is a letter or digit. Fails with
// kInvalidArgument naming `what` and quoting (at most 80 bytes of) the rejected name.
Result<void> ValidateName(std::string_view name, std::string_view what);

}  // namespace sigil
