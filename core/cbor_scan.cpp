// The strict pre-scan of core/cbor.h: walks the encoded item with an explicit stack (never
// recursion), so hostile nesting is refused before any recursive code (libcbor's decref, our own
// walks) could see it. RFC 8949 section 3 (encoding), 3.2 (indefinite lengths, refused here),
// 3.3 (simple values), 3.4 (tags).
#include <algorithm>
#include <string>

#include "core/cbor.h"
#include "core/utf8.h"

namespace sigil::cbor {
namespace {

constexpr std::uint8_t kMajorUint = 0, kMajorNegint = 1, kMajorBytes = 2, kMajorText = 3,
                       kMajorArray = 4, kMajorMap = 5, kMajorTag = 6, kMajorSimple = 7;

class Scanner {
 public:
  Scanner(ByteSpan bytes, const Limits& limits, std::string_view what, std::vector<std::size_t>* short_tags)
      : bytes_(bytes), limits_(limits), what_(what), short_tags_(short_tags) {}

  Result<void> Run() {
    if (bytes_.empty()) return Bad("empty input");
    if (bytes_.size() > limits_.max_size) {
      return Fail(Code::kMalformedEvidence, std::string(what_) + ": " +
                                                std::to_string(bytes_.size()) + " bytes > limit " +
                                                std::to_string(limits_.max_size));
    }
    do {
      SIGIL_RETURN_IF_ERROR(Item());
    } while (!open_.empty());
    if (pos_ != bytes_.size()) return Bad("trailing bytes after the CBOR item");
    return Ok();
  }

 private:
  Unexpected<Error> Bad(const std::string& why) const {
    return Fail(Code::kMalformedEvidence,
                std::string(what_) + ": " + why + " at offset " + std::to_string(item_start_));
  }
  std::size_t Left() const { return bytes_.size() - pos_; }

  // The argument of the head at pos_ (RFC 8949 section 3): ai < 24 inline, 24..27 follow-on bytes.
  Result<std::uint64_t> Argument(std::uint8_t ai) {
    if (ai < 24) return std::uint64_t{ai};
    if (ai == 31) return Bad("indefinite length or break (refused)");
    if (ai > 27) return Bad("reserved additional information " + std::to_string(ai));
    const std::size_t n = std::size_t{1} << (ai - 24);
    if (Left() < n) return Bad("truncated argument");
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = (v << 8) | bytes_[pos_ + i];
    pos_ += n;
    return v;
  }

  Result<void> Open(std::uint64_t children) {
    if (open_.size() + 1 > limits_.max_depth) {
      return Bad("nesting deeper than " + std::to_string(limits_.max_depth));
    }
    if (children == 0) return Close();
    open_.push_back(children);
    return Ok();
  }

  // One item is complete: count it against its enclosing containers, closing the ones it fills.
  Result<void> Close() {
    while (!open_.empty()) {
      if (--open_.back() != 0) break;
      open_.pop_back();
    }
    return Ok();
  }

  Result<void> Item() {
    item_start_ = pos_;
    if (Left() == 0) return Bad("truncated: item expected");
    const std::uint8_t initial = bytes_[pos_++];
    const std::uint8_t major = initial >> 5;
    const std::uint8_t ai = initial & 0x1f;
    if (major == kMajorSimple) return Simple(ai);
    SIGIL_ASSIGN_OR_RETURN(const std::uint64_t arg, Argument(ai));
    switch (major) {
      case kMajorUint:
      case kMajorNegint:
        return Close();
      case kMajorBytes:
      case kMajorText: {
        if (arg > Left()) return Bad("string length " + std::to_string(arg) + " exceeds input");
        const std::string_view text(reinterpret_cast<const char*>(bytes_.data() + pos_), arg);
        if (major == kMajorText && !IsValidUtf8(text)) return Bad("text string not UTF-8");
        pos_ += arg;
        return Close();
      }
      case kMajorArray:
        if (arg > Left()) return Bad("array count " + std::to_string(arg) + " exceeds input");
        return Open(arg);
      case kMajorMap:
        if (arg > Left() / 2) return Bad("map count " + std::to_string(arg) + " exceeds input");
        return Open(arg * 2);
      case kMajorTag:
        if (ai < 24 && short_tags_ != nullptr) short_tags_->push_back(item_start_);
        if (std::find(limits_.allowed_tags.begin(), limits_.allowed_tags.end(), arg) ==
            limits_.allowed_tags.end()) {
          return Bad("unexpected tag " + std::to_string(arg));
        }
        return Open(1);
      default:
        return Bad("impossible major type");
    }
  }

  // Major type 7: false/true/null/undefined and floats. Unassigned simple values are refused
  // (nothing we parse uses them); a two-byte simple value below 32 is not well-formed (3.3).
  Result<void> Simple(std::uint8_t ai) {
    if (ai >= 20 && ai <= 23) return Close();
    if (ai >= 25 && ai <= 27) {
      const std::size_t n = std::size_t{1} << (ai - 24);
      if (Left() < n) return Bad("truncated float");
      pos_ += n;
      return Close();
    }
    if (ai == 31) return Bad("break outside an indefinite-length item");
    return Bad("unassigned or reserved simple value " + std::to_string(ai));
  }

  ByteSpan bytes_;
  const Limits& limits_;
  std::string_view what_;
  std::size_t pos_ = 0;
  std::size_t item_start_ = 0;
  std::vector<std::uint64_t> open_;  // items still expected by each open container
  std::vector<std::size_t>* short_tags_;
};

}  // namespace

Result<void> Scan(ByteSpan bytes, const Limits& limits, std::string_view what) {
  return Scanner(bytes, limits, what, nullptr).Run();
}

Result<void> ScanForDecode(ByteSpan bytes, const Limits& limits, std::string_view what,
                           std::vector<std::size_t>& short_tags) {
  return Scanner(bytes, limits, what, &short_tags).Run();
}

}  // namespace sigil::cbor
