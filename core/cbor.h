// Strict CBOR (RFC 8949) decoding on top of libcbor 0.8, for bytes that come from outside (COSE
// messages, attestation tokens). The input is first walked by a bounds-checked, non-recursive
// scanner (cbor_scan.cpp) that enforces the limits below; only input that passes reaches
// cbor_load, so libcbor never sees an impossible length, an unbounded nesting or trailing bytes.
// Thread-safety: every function here is thread-safe; an Item is not shared between threads.
#pragma once

#include <cbor.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/ossl.h"
#include "core/result.h"

namespace sigil::cbor {

// libcbor's decref takes cbor_item_t** (and frees the item, recursively, at zero references).
inline void Decref(cbor_item_t* p) noexcept { cbor_decref(&p); }
using ItemPtr = CPtr<cbor_item_t, Decref>;

struct Limits {
  std::size_t max_size = 64 * 1024;  // whole encoded item, bytes
  std::size_t max_depth = 16;        // arrays, maps and tags, each one level
  // Tag numbers the caller expects anywhere in the item; any other tag is refused.
  std::vector<std::uint64_t> allowed_tags;
};

// Checks that `bytes` is exactly one well-formed CBOR data item within `limits`: no indefinite
// lengths, no reserved additional-information values, no simple values below 32 in the two-byte
// form, text strings valid UTF-8, only allowed tags, nesting at most max_depth, no trailing
// bytes. Fails with kMalformedEvidence naming `what` and the byte offset. Never recurses.
Result<void> Scan(ByteSpan bytes, const Limits& limits, std::string_view what);

// Scan(), then cbor_load, then refuses maps with duplicate keys and map keys that are not
// integers or text strings (kMalformedEvidence naming `what`). The caller owns the result.
Result<ItemPtr> Decode(ByteSpan bytes, const Limits& limits, std::string_view what);

// Typed accessors over a decoded item. Each fails with kMalformedEvidence naming `what`.
Result<std::int64_t> GetInt(const cbor_item_t* item, std::string_view what);
Result<Bytes> GetBytes(const cbor_item_t* item, std::string_view what);
Result<std::string> GetText(const cbor_item_t* item, std::string_view what);
// The value under integer key `key` in `map`, or nullptr if absent (map must be a map).
const cbor_item_t* MapFind(const cbor_item_t* map, std::int64_t key);
// The same, failing with kMalformedEvidence naming `what` if absent.
Result<const cbor_item_t*> MapGet(const cbor_item_t* map, std::int64_t key, std::string_view what);
// The integer value of a map key; kMalformedEvidence naming `what` if it is not an integer.
Result<std::int64_t> KeyAsInt(const cbor_item_t* key, std::string_view what);

// Deterministic encoding helpers (RFC 8949 section 4.2.1, preferred argument encoding).
void AppendHead(Bytes& out, std::uint8_t major, std::uint64_t argument);
void AppendBytes(Bytes& out, ByteSpan bytes);      // major type 2
void AppendText(Bytes& out, std::string_view text);  // major type 3

}  // namespace sigil::cbor
