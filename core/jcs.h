// RFC 8785 JSON Canonicalization Scheme (JCS) for the JSON the KBS protocol hashes: objects,
// arrays, strings, booleans, null and integers. Numbers that are not integers, or integers whose
// magnitude exceeds 2^53 - 1, are refused rather than canonicalised: JCS renders numbers as
// ECMAScript does (RFC 8785 section 3.2.2.3), and an approximation would make a hash that the
// other side computes differently, which fails only at the worst moment.
// Thread-safety: pure function.
#pragma once

#include <string>

#include "core/json.h"
#include "core/result.h"

namespace sigil {

// The canonical UTF-8 text of `value`: object members sorted by their names' UTF-16 code units
// (section 3.2.3), strings escaped as ECMAScript JSON.stringify does (section 3.2.2.2), no
// whitespace. kInvalidArgument naming the JSON path for a refused number.
Result<std::string> Jcs(const Json& value);

}  // namespace sigil
