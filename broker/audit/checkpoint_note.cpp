#include "broker/audit/checkpoint_note.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <utility>

#include "core/digest.h"
#include "core/ed25519.h"
#include "core/encoding.h"
#include "core/text.h"
#include "core/utf8.h"

namespace sigil::broker::tlog {
namespace {

// U+2014 EM DASH, U+0020 SPACE: the start of every signature line (signed-note, "Format").
constexpr std::string_view kSignaturePrefix = "\xE2\x80\x94 ";
constexpr std::string_view kTimeKeyword = "time";
constexpr std::size_t kRootBase64Size = 44;  // padded base64 of 32 bytes
constexpr std::size_t kMaxVerifierKeyTextSize = kMaxKeyNameSize + 1 + 8 + 1 + 44;

Unexpected<Error> Malformed(std::string what) {
  return Fail(Code::kInvalidArgument, std::move(what));
}

// The code point at s[i] of text already checked by FindInvalidUtf8; sets `len` to its size.
char32_t DecodeAt(std::string_view s, std::size_t i, std::size_t& len) {
  const auto b = [&](std::size_t k) {
    return static_cast<char32_t>(static_cast<unsigned char>(s[i + k]));
  };
  const char32_t c = b(0);
  if (c < 0x80) {
    len = 1;
    return c;
  }
  if (c < 0xe0) {
    len = 2;
    return (c & 0x1f) << 6 | (b(1) & 0x3f);
  }
  if (c < 0xf0) {
    len = 3;
    return (c & 0x0f) << 12 | (b(1) & 0x3f) << 6 | (b(2) & 0x3f);
  }
  len = 4;
  return (c & 0x07) << 18 | (b(1) & 0x3f) << 12 | (b(2) & 0x3f) << 6 | (b(3) & 0x3f);
}

// The Unicode White_Space property (Unicode 15 PropList.txt), the set Go's unicode.IsSpace
// tests and signed-note means by "Unicode spaces".
bool IsUnicodeWhiteSpace(char32_t c) {
  return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f ||
         c == 0x3000;
}

// signed-note "Format": notes MUST be valid UTF-8 with no ASCII control character but newline.
Result<void> CheckNoteBytes(std::string_view text, std::string_view what) {
  if (text.size() > kMaxNoteSize) {
    return Malformed(std::string(what) + " is " + std::to_string(text.size()) +
                     " bytes, more than the limit of " + std::to_string(kMaxNoteSize));
  }
  if (auto bad = FindInvalidUtf8(text)) {
    return Malformed(std::string(what) + " is not valid UTF-8 at byte " + std::to_string(*bad));
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (static_cast<unsigned char>(text[i]) < 0x20 && text[i] != '\n') {
      return Malformed(std::string(what) + " has a control character at byte " + std::to_string(i));
    }
  }
  return Ok();
}

// Canonical decimal: digits only, no leading zero unless the value is 0, at most `max`.
std::optional<std::uint64_t> ParseDecimal(std::string_view s, std::uint64_t max) {
  if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (v > (max - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

// Padded RFC 4648 section 4 base64, canonical (Base64Decode accepts one spelling per value), so
// a note cannot be altered without altering what it decodes to.
std::optional<Bytes> DecodeCanonicalBase64(std::string_view s) {
  auto decoded = Base64Decode(s);
  if (!decoded) return std::nullopt;
  return std::move(decoded).value();
}

std::string KeyLabel(std::string_view name, std::uint32_t id) {
  Bytes be;
  AppendU32(be, id);
  return EscapeForDisplay(name) + "+" + HexEncode(be);
}

Result<void> CheckVerifierKey(const NoteVerifierKey& key) {
  if (!IsValidKeyName(key.name) || key.name.size() > kMaxKeyNameSize) {
    return Malformed("verifier key has an invalid key name");
  }
  if (key.public_key.size() != kEd25519PublicKeySize) {
    return Malformed("verifier key is not a 32-byte Ed25519 public key");
  }
  if (Ed25519KeyId(key.name, key.public_key) != key.id) {
    return Malformed("verifier key id does not match its name and public key");
  }
  return Ok();
}

struct SignatureLine {
  std::string_view name;
  std::uint32_t id = 0;
  Bytes signature;  // without the key id
};

// "— <key name> <base64(key id || signature)>" (signed-note, "Signatures"); `number` is 1-based.
Result<SignatureLine> ParseSignatureLine(std::string_view line, std::size_t number) {
  const std::string where = "signature line " + std::to_string(number);
  if (line.substr(0, kSignaturePrefix.size()) != kSignaturePrefix) {
    return Malformed(where + " does not start with an em dash and a space");
  }
  line.remove_prefix(kSignaturePrefix.size());
  const std::size_t space = line.find(' ');
  if (space == std::string_view::npos) {
    return Malformed(where + " has no space between key name and signature");
  }
  SignatureLine out;
  out.name = line.substr(0, space);
  if (!IsValidKeyName(out.name)) return Malformed(where + " has an invalid key name");
  auto blob = DecodeCanonicalBase64(line.substr(space + 1));
  if (!blob) return Malformed(where + ": the signature is not canonical padded base64");
  if (blob->size() < 5) return Malformed(where + ": the signature is shorter than 5 bytes");
  out.id = ReadU32(*blob);
  out.signature.assign(blob->begin() + 4, blob->end());
  return out;
}

}  // namespace

bool IsValidKeyName(std::string_view name) {
  if (name.empty() || FindInvalidUtf8(name)) return false;
  for (std::size_t i = 0, len = 0; i < name.size(); i += len) {
    const char32_t c = DecodeAt(name, i, len);
    if (c < 0x20 || c == 0x7f || c == '+' || IsUnicodeWhiteSpace(c)) return false;
  }
  return true;
}

std::uint32_t Ed25519KeyId(std::string_view name, ByteSpan public_key) {
  const std::uint8_t sep_and_type[] = {'\n', kEd25519SignatureType};
  const Sha256Digest h = Sha256(Concat({AsBytes(name), sep_and_type, public_key}));
  return ReadU32(h);
}

Result<NoteVerifierKey> MakeVerifierKey(std::string_view name, ByteSpan public_key) {
  NoteVerifierKey key{std::string(name), 0, Bytes(public_key.begin(), public_key.end())};
  if (public_key.size() == kEd25519PublicKeySize && IsValidKeyName(name)) {
    key.id = Ed25519KeyId(name, public_key);
  }
  SIGIL_RETURN_IF_ERROR(CheckVerifierKey(key));
  return key;
}

std::string FormatVerifierKey(const NoteVerifierKey& key) {
  Bytes id;
  AppendU32(id, key.id);
  Bytes typed{kEd25519SignatureType};
  typed.insert(typed.end(), key.public_key.begin(), key.public_key.end());
  return key.name + "+" + HexEncode(id) + "+" + Base64Encode(typed);
}

Result<NoteVerifierKey> ParseVerifierKey(std::string_view text) {
  if (text.size() > kMaxVerifierKeyTextSize) {
    return Malformed("verifier key text is longer than " + std::to_string(kMaxVerifierKeyTextSize) +
                     " bytes");
  }
  const std::size_t plus1 = text.find('+');
  if (plus1 == std::string_view::npos) return Malformed("verifier key has no '+' after the name");
  const std::string_view name = text.substr(0, plus1);
  if (!IsValidKeyName(name)) return Malformed("verifier key has an invalid key name");
  const std::string_view rest = text.substr(plus1 + 1);
  const std::size_t plus2 = rest.find('+');
  if (plus2 == std::string_view::npos) return Malformed("verifier key has no '+' after the key id");
  const std::string_view hex = rest.substr(0, plus2);
  const bool lower_hex = std::all_of(hex.begin(), hex.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
  if (hex.size() != 8 || !lower_hex)
    return Malformed("verifier key id is not 8 lower-case hex digits");
  auto id = HexDecode(hex);
  if (!id) return Malformed("verifier key id is not 8 lower-case hex digits");
  auto typed = DecodeCanonicalBase64(rest.substr(plus2 + 1));
  if (!typed) return Malformed("verifier key material is not canonical padded base64");
  if (typed->size() != 1 + kEd25519PublicKeySize) {
    return Malformed("verifier key material is " + std::to_string(typed->size()) +
                     " bytes, not 33 (type byte and Ed25519 public key)");
  }
  if ((*typed)[0] != kEd25519SignatureType) {
    return Malformed("verifier key has signature type " + std::to_string((*typed)[0]) +
                     ", only 1 (Ed25519) is supported");
  }
  NoteVerifierKey key{std::string(name), ReadU32(*id), Bytes(typed->begin() + 1, typed->end())};
  SIGIL_RETURN_IF_ERROR(CheckVerifierKey(key));
  return key;
}

Result<std::string> CheckpointText(const Checkpoint& checkpoint) {
  if (!IsValidKeyName(checkpoint.origin) || checkpoint.origin.size() > kMaxKeyNameSize) {
    return Malformed("checkpoint origin must be 1-" + std::to_string(kMaxKeyNameSize) +
                     " bytes of UTF-8 without spaces, '+' or control characters");
  }
  if (checkpoint.time_ms < 0) return Malformed("checkpoint time must not be negative");
  return checkpoint.origin + "\n" + std::to_string(checkpoint.size) + "\n" +
         Base64Encode(checkpoint.root) + "\n" + std::string(kTimeKeyword) + " " +
         std::to_string(checkpoint.time_ms) + "\n";
}

Result<Checkpoint> ParseCheckpointText(std::string_view text) {
  SIGIL_RETURN_IF_ERROR(CheckNoteBytes(text, "checkpoint text"));
  if (text.empty() || text.back() != '\n')
    return Malformed("checkpoint text does not end in a newline");
  Checkpoint out;
  bool have_time = false;
  std::size_t number = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t end = text.find('\n', pos);
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    const std::string where = "checkpoint line " + std::to_string(++number);
    // tlog-checkpoint "Note text": at least three non-empty lines; extension lines non-empty.
    if (line.empty()) return Malformed(where + " is empty");
    if (number == 1) {
      out.origin = std::string(line);
    } else if (number == 2) {
      auto size = ParseDecimal(line, std::numeric_limits<std::uint64_t>::max());
      if (!size)
        return Malformed(where + " (tree size) is not a decimal below 2^64 without leading zeros");
      out.size = *size;
    } else if (number == 3) {
      auto root = DecodeCanonicalBase64(line);
      if (line.size() != kRootBase64Size || !root || root->size() != out.root.size()) {
        return Malformed(where + " (root hash) is not canonical padded base64 of 32 bytes");
      }
      std::copy(root->begin(), root->end(), out.root.begin());
    } else if (line.substr(0, line.find(' ')) == kTimeKeyword) {
      if (have_time) return Malformed(where + " is a second \"time\" line");
      auto ms = line.size() > kTimeKeyword.size() + 1
                    ? ParseDecimal(line.substr(kTimeKeyword.size() + 1),
                                   std::numeric_limits<std::int64_t>::max())
                    : std::nullopt;
      if (!ms) return Malformed(where + " is not \"time <decimal milliseconds below 2^63>\"");
      out.time_ms = static_cast<std::int64_t>(*ms);
      have_time = true;
    }
  }
  if (number < 3)
    return Malformed("checkpoint text has " + std::to_string(number) + " lines, not at least 3");
  if (!have_time) return Malformed("checkpoint text has no \"time\" line");
  return out;
}

Result<std::string> SignNote(std::string_view text, std::string_view key_name,
                             const SecretBytes& ed25519_seed) {
  if (ed25519_seed.size() != kEd25519SeedSize) return Malformed("Ed25519 seed must be 32 bytes");
  SIGIL_ASSIGN_OR_RETURN(Ed25519Signer signer, Ed25519Signer::FromSeed(ed25519_seed.Reveal(SecretAccess::Get())));
  return SignNote(text, key_name, signer);
}

Result<std::string> SignNote(std::string_view text, std::string_view key_name, const Ed25519Signer& signer) {
  if (!IsValidKeyName(key_name) || key_name.size() > kMaxKeyNameSize) {
    return Malformed("note key name must be 1-" + std::to_string(kMaxKeyNameSize) +
                     " bytes of UTF-8 without spaces, '+' or control characters");
  }
  SIGIL_RETURN_IF_ERROR(CheckNoteBytes(text, "note text"));
  if (text.empty() || text.back() != '\n') return Malformed("note text does not end in a newline");
  if (text.front() == '\n' || text.find("\n\n") != std::string_view::npos) {
    return Malformed("note text has an empty line");
  }
  const std::size_t note_size = text.size() + 1 + kSignaturePrefix.size() + key_name.size() + 1 +
                                Base64Encode(Bytes(4 + kEd25519SignatureSize)).size() + 1;
  if (note_size > kMaxNoteSize)
    return Malformed("signed note would exceed " + std::to_string(kMaxNoteSize) + " bytes");
  const Bytes signature = signer.Sign(AsBytes(text));
  Bytes blob;
  AppendU32(blob, Ed25519KeyId(key_name, signer.public_key()));
  blob.insert(blob.end(), signature.begin(), signature.end());
  std::string note;
  note.reserve(note_size);
  note.append(text).append("\n").append(kSignaturePrefix).append(key_name).append(" ");
  note.append(Base64Encode(blob)).append("\n");
  return note;
}

Result<std::string> OpenNote(std::string_view note, const NoteVerifierKey& key) {
  SIGIL_RETURN_IF_ERROR(CheckVerifierKey(key));
  SIGIL_RETURN_IF_ERROR(CheckNoteBytes(note, "note"));
  // signed-note "Format": the text is separated from the signatures by the last empty line.
  const std::size_t split = note.rfind("\n\n");
  if (split == std::string_view::npos)
    return Malformed("note has no blank line before its signatures");
  const std::string_view text = note.substr(0, split + 1);
  const std::string_view lines = note.substr(split + 2);
  if (lines.empty() || lines.back() != '\n') {
    return Malformed("note does not end with signature lines each ending in a newline");
  }
  const auto count = static_cast<std::size_t>(std::count(lines.begin(), lines.end(), '\n'));
  if (count > kMaxSignatureLines) {
    return Malformed("note has " + std::to_string(count) + " signature lines, more than " +
                     std::to_string(kMaxSignatureLines));
  }
  bool verified = false;
  std::size_t number = 0;
  for (std::size_t pos = 0; pos < lines.size();) {
    const std::size_t end = lines.find('\n', pos);
    SIGIL_ASSIGN_OR_RETURN(SignatureLine line,
                           ParseSignatureLine(lines.substr(pos, end - pos), ++number));
    pos = end + 1;
    // Name and id both match: this is the trusted key's line and MUST verify; otherwise the line
    // is by an unknown key and MUST be ignored (signed-note, "Signatures").
    if (line.name != key.name || line.id != key.id) continue;
    if (!Ed25519Verify(key.public_key, AsBytes(text), line.signature)) {
      return Fail(Code::kVerificationFailed, "signature line " + std::to_string(number) +
                                                 " by key " + KeyLabel(key.name, key.id) +
                                                 " does not verify");
    }
    verified = true;
  }
  if (!verified) {
    return Fail(Code::kVerificationFailed,
                "note has no signature by key " + KeyLabel(key.name, key.id));
  }
  return std::string(text);
}

Result<Checkpoint> OpenCheckpoint(std::string_view note, const NoteVerifierKey& key,
                                  std::string_view expected_origin) {
  SIGIL_ASSIGN_OR_RETURN(std::string text, OpenNote(note, key));
  SIGIL_ASSIGN_OR_RETURN(Checkpoint checkpoint, ParseCheckpointText(text));
  if (checkpoint.origin != expected_origin) {
    return Fail(Code::kVerificationFailed,
                "checkpoint origin " + EscapeForDisplay(checkpoint.origin) +
                    " is not the expected " + EscapeForDisplay(expected_origin));
  }
  return checkpoint;
}

}  // namespace sigil::broker::tlog
