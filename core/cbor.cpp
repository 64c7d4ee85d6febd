// core/cbor.h: decoding after the strict pre-scan, typed accessors and deterministic encoders.
#include "core/cbor.h"

#include <algorithm>
#include <limits>
#include <tuple>

namespace sigil::cbor {

// cbor_scan.cpp: Scan() that also lists the offsets of one-byte tag heads (0xc0..0xd7).
Result<void> ScanForDecode(ByteSpan bytes, const Limits& limits, std::string_view what,
                           std::vector<std::size_t>& short_tags);

namespace {

Unexpected<Error> Malformed(std::string_view what, std::string_view why) {
  return Fail(Code::kMalformedEvidence, std::string(what) + ": " + std::string(why));
}

// A map key reduced to a comparable value: (kind, integer, text). Only integer and text keys
// are accepted (COSE labels and EAT claim keys are one or the other, RFC 9052 section 1.5).
using KeyValue = std::tuple<int, std::int64_t, std::string>;

Result<KeyValue> KeyOf(const cbor_item_t* key, std::string_view what) {
  if (cbor_isa_uint(key) || cbor_isa_negint(key)) {
    SIGIL_ASSIGN_OR_RETURN(const std::int64_t v, GetInt(key, what));
    return KeyValue{0, v, {}};
  }
  if (cbor_isa_string(key)) {
    SIGIL_ASSIGN_OR_RETURN(std::string s, GetText(key, what));
    return KeyValue{1, 0, std::move(s)};
  }
  return Malformed(what, "map key is neither an integer nor a text string");
}

// Depth is bounded by the scan (Limits::max_depth), so this recursion is bounded too.
Result<void> CheckMaps(const cbor_item_t* item, std::string_view what) {
  if (cbor_isa_array(item)) {
    cbor_item_t** children = cbor_array_handle(item);
    for (std::size_t i = 0; i < cbor_array_size(item); ++i) {
      SIGIL_RETURN_IF_ERROR(CheckMaps(children[i], what));
    }
  } else if (cbor_isa_tag(item)) {
    ItemPtr child(cbor_tag_item(item));  // cbor_tag_item returns a new reference
    SIGIL_RETURN_IF_ERROR(CheckMaps(child.get(), what));
  } else if (cbor_isa_map(item)) {
    const cbor_pair* pairs = cbor_map_handle(item);
    std::vector<KeyValue> keys;
    keys.reserve(cbor_map_size(item));
    for (std::size_t i = 0; i < cbor_map_size(item); ++i) {
      SIGIL_ASSIGN_OR_RETURN(KeyValue k, KeyOf(pairs[i].key, what));
      keys.push_back(std::move(k));
      SIGIL_RETURN_IF_ERROR(CheckMaps(pairs[i].value, what));
    }
    std::sort(keys.begin(), keys.end());
    auto dup = std::adjacent_find(keys.begin(), keys.end());
    if (dup != keys.end()) {
      const std::string name =
          std::get<0>(*dup) == 0 ? std::to_string(std::get<1>(*dup)) : "\"" + std::get<2>(*dup) + "\"";
      return Malformed(what, "duplicate map key " + name);
    }
  }
  return Ok();
}

}  // namespace

Result<ItemPtr> Decode(ByteSpan bytes, const Limits& limits, std::string_view what) {
  std::vector<std::size_t> short_tags;
  SIGIL_RETURN_IF_ERROR(ScanForDecode(bytes, limits, what, short_tags));
  // libcbor 0.8's decoder refuses tags 6..20 in their one-byte form (0xc6..0xd4, "unassigned" in
  // its table), which includes COSE_Sign1's tag 18 (0xd2). The scan has validated the item, so
  // re-encoding each one-byte tag head as 0xd8 nn gives libcbor the same value in a form it reads.
  // Only the tree is built from the copy; callers never see its bytes or offsets.
  Bytes copy;
  ByteSpan input = bytes;
  if (!short_tags.empty()) {
    copy.reserve(bytes.size() + short_tags.size());
    std::size_t from = 0;
    for (const std::size_t at : short_tags) {
      copy.insert(copy.end(), bytes.begin() + static_cast<std::ptrdiff_t>(from),
                  bytes.begin() + static_cast<std::ptrdiff_t>(at));
      copy.push_back(0xd8);
      copy.push_back(static_cast<std::uint8_t>(bytes[at] & 0x1f));
      from = at + 1;
    }
    copy.insert(copy.end(), bytes.begin() + static_cast<std::ptrdiff_t>(from), bytes.end());
    input = copy;
  }
  cbor_load_result load{};
  ItemPtr item(cbor_load(input.data(), input.size(), &load));
  if (!item || load.error.code != CBOR_ERR_NONE) {
    // The scan accepted it, so this is libcbor running out of memory or disagreeing with us.
    return Malformed(what, "libcbor refused the item (error " +
                               std::to_string(static_cast<int>(load.error.code)) + " at offset " +
                               std::to_string(load.error.position) + ")");
  }
  if (load.read != input.size()) return Malformed(what, "trailing bytes after the CBOR item");
  SIGIL_RETURN_IF_ERROR(CheckMaps(item.get(), what));
  return item;
}

Result<std::int64_t> GetInt(const cbor_item_t* item, std::string_view what) {
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (cbor_isa_uint(item)) {
    const std::uint64_t v = cbor_get_int(item);
    if (v > kMax) return Malformed(what, "integer out of range");
    return static_cast<std::int64_t>(v);
  }
  if (cbor_isa_negint(item)) {
    const std::uint64_t n = cbor_get_int(item);  // the value is -1 - n
    if (n > kMax) return Malformed(what, "integer out of range");
    return -1 - static_cast<std::int64_t>(n);
  }
  return Malformed(what, "expected an integer");
}

Result<Bytes> GetBytes(const cbor_item_t* item, std::string_view what) {
  if (!cbor_isa_bytestring(item) || !cbor_bytestring_is_definite(item)) {
    return Malformed(what, "expected a byte string");
  }
  const std::uint8_t* data = cbor_bytestring_handle(item);
  const std::size_t n = cbor_bytestring_length(item);
  return n == 0 ? Bytes{} : Bytes(data, data + n);
}

Result<std::string> GetText(const cbor_item_t* item, std::string_view what) {
  if (!cbor_isa_string(item) || !cbor_string_is_definite(item)) {
    return Malformed(what, "expected a text string");
  }
  const std::size_t n = cbor_string_length(item);
  return n == 0 ? std::string{}
                : std::string(reinterpret_cast<const char*>(cbor_string_handle(item)), n);
}

const cbor_item_t* MapFind(const cbor_item_t* map, std::int64_t key) {
  if (!cbor_isa_map(map)) return nullptr;
  const cbor_pair* pairs = cbor_map_handle(map);
  for (std::size_t i = 0; i < cbor_map_size(map); ++i) {
    auto k = GetInt(pairs[i].key, "");
    if (k && *k == key) return pairs[i].value;
  }
  return nullptr;
}

Result<const cbor_item_t*> MapGet(const cbor_item_t* map, std::int64_t key, std::string_view what) {
  const cbor_item_t* v = MapFind(map, key);
  if (v == nullptr) return Malformed(what, "missing (key " + std::to_string(key) + ")");
  return v;
}

Result<std::int64_t> KeyAsInt(const cbor_item_t* key, std::string_view what) {
  return GetInt(key, what);
}

void AppendHead(Bytes& out, std::uint8_t major, std::uint64_t argument) {
  const auto m = static_cast<std::uint8_t>(major << 5);
  if (argument < 24) {
    out.push_back(static_cast<std::uint8_t>(m | argument));
    return;
  }
  int n = argument <= 0xff ? 1 : argument <= 0xffff ? 2 : argument <= 0xffffffff ? 4 : 8;
  const std::uint8_t ai = n == 1 ? 24 : n == 2 ? 25 : n == 4 ? 26 : 27;
  out.push_back(static_cast<std::uint8_t>(m | ai));
  for (int i = n - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(argument >> (8 * i)));
}

void AppendBytes(Bytes& out, ByteSpan bytes) {
  AppendHead(out, 2, bytes.size());
  out.insert(out.end(), bytes.begin(), bytes.end());
}

void AppendText(Bytes& out, std::string_view text) {
  AppendHead(out, 3, text.size());
  out.insert(out.end(), text.begin(), text.end());
}

}  // namespace sigil::cbor
