// Signed checkpoints of the per-tenant transparency log, in the C2SP formats: a checkpoint body
// (c2sp.org/tlog-checkpoint) inside a signed note (c2sp.org/signed-note v1.0.0) with an Ed25519
// signature (signature type 0x01). The output opens with golang.org/x/mod/sumdb/note and any
// other implementation of those specs.
//
// A Sigil checkpoint is exactly four lines:
//   <origin>                 caller-chosen, e.g. "sigil/<broker id>/<tenant>"
//   <tree size>              decimal, no leading zeros ("0" for the empty tree), < 2^64
//   <root hash>              standard base64 (RFC 4648 section 4, padded) of the 32-byte MTH
//   time <unix ms>           one extension line: signing time, decimal milliseconds since the
//                            Unix epoch, 0 <= t < 2^63, no leading zeros
// then a blank line and one signature line "— <key name> <base64(key id || signature)>".
//
// Parsing accepts other extension lines and ignores them (tlog-checkpoint: extension lines are
// opaque and optional), so a checkpoint co-signed or extended by other software still parses;
// it refuses a missing, duplicated or malformed "time" line, since Sigil's freshness checks
// depend on it. A line is a "time" line if its first space-separated word is "time".
//
// Every function here is a pure function of its arguments and thread-safe. Errors never quote
// raw input: they give line numbers and byte offsets, and names go through EscapeForDisplay.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "broker/audit/merkle.h"
#include "core/bytes.h"
#include "core/result.h"
#include "core/ed25519.h"
#include "core/secret_bytes.h"

namespace sigil::broker::tlog {

// Notes and checkpoint texts larger than this are refused before any other check. Go's note
// package caps notes at 100 signatures; a Sigil note is a few hundred bytes.
inline constexpr std::size_t kMaxNoteSize = std::size_t{1} << 20;
// The signed-note spec requires accepting at least 16; Go's note package refuses more than 100.
inline constexpr std::size_t kMaxSignatureLines = 100;
// Key names and origins that Sigil writes are at most this long (parsing other logs' origins is
// bounded by kMaxNoteSize only).
inline constexpr std::size_t kMaxKeyNameSize = 1024;
// Signature type identifier of Ed25519 (signed-note, "Signature types").
inline constexpr std::uint8_t kEd25519SignatureType = 0x01;

struct Checkpoint {
  std::string origin;
  std::uint64_t size = 0;
  merkle::Hash root{};
  std::int64_t time_ms = 0;
};

// An Ed25519 note verifier key: a key name, its key id and the 32-byte public key. Build one
// with MakeVerifierKey or ParseVerifierKey; OpenNote refuses one whose id does not match.
struct NoteVerifierKey {
  std::string name;
  std::uint32_t id = 0;
  Bytes public_key;
};

// True if `name` may be a key name: non-empty, valid UTF-8, no '+', no character with the Unicode
// White_Space property, no ASCII control character (signed-note, "Format").
bool IsValidKeyName(std::string_view name);

// The key id of signed-note "Ed25519 signatures": the first four bytes, big-endian, of
// SHA-256(name || 0x0A || 0x01 || public_key). The caller checks the name and the key size.
std::uint32_t Ed25519KeyId(std::string_view name, ByteSpan public_key);

// A verifier key for `name` and a 32-byte Ed25519 public key. kInvalidArgument if the name is
// not a valid key name (or longer than kMaxKeyNameSize) or the key is not 32 bytes.
Result<NoteVerifierKey> MakeVerifierKey(std::string_view name, ByteSpan public_key);

// "<name>+<8 lower-case hex digits of the key id>+<base64(0x01 || public key)>", the verifier
// key text of golang.org/x/mod/sumdb/note. `key` must come from MakeVerifierKey/ParseVerifierKey.
std::string FormatVerifierKey(const NoteVerifierKey& key);

// Parses the text FormatVerifierKey writes, and only that: exactly 8 lower-case hex digits,
// canonical padded base64 of 33 bytes starting with 0x01, and a key id that matches the name and
// the key. Fails with kInvalidArgument saying which part is wrong.
Result<NoteVerifierKey> ParseVerifierKey(std::string_view text);

// The checkpoint text of `checkpoint` (four lines, as above). Fails with kInvalidArgument if the
// origin is not a valid key name of at most kMaxKeyNameSize bytes (tlog-checkpoint: the origin
// SHOULD contain neither Unicode spaces nor '+', and the log's key name SHOULD match it) or
// time_ms is negative.
Result<std::string> CheckpointText(const Checkpoint& checkpoint);

// Parses a checkpoint text: only text that OpenNote has returned is worth parsing. Fails with
// kInvalidArgument if the text is over kMaxNoteSize, not UTF-8, has a control character other
// than '\n', does not end in '\n', has an empty line or fewer than three lines, a tree size that
// is not canonical decimal below 2^64, a root that is not canonical base64 of 32 bytes, or not
// exactly one well-formed "time" line. Unknown extension lines are ignored.
Result<Checkpoint> ParseCheckpointText(std::string_view text);

// Signs `text` as a note with the Ed25519 key whose 32-byte seed is `ed25519_seed`, returning
// text || "\n" || "— " || key_name || " " || base64(key id || signature) || "\n". Fails with
// kInvalidArgument if the text is empty, does not end in '\n', is not UTF-8, has a control
// character other than '\n' or an empty line (Sigil only signs checkpoints, which have none;
// refusing them keeps every reader's choice of separator equal), if the note would exceed
// kMaxNoteSize, or if the key name is invalid or the seed is not 32 bytes. The seed is read
// once and not retained.
Result<std::string> SignNote(std::string_view text, std::string_view key_name,
                             const SecretBytes& ed25519_seed);
// The same with a key expanded once (core/ed25519.h), for signers that sign often.
Result<std::string> SignNote(std::string_view text, std::string_view key_name, const Ed25519Signer& signer);

// Verifies a signed note against one trusted key and returns its text (up to and including the
// newline before the blank line that separates the signatures, signed-note "Format"). The text
// may contain empty lines; the last blank line separates the signatures. Refuses, with
//   kInvalidArgument    a note over kMaxNoteSize, not UTF-8, with a control character other
//                       than '\n', without a blank line followed by signature lines, with more
//                       than kMaxSignatureLines signature lines (counted before any
//                       verification), or with a line not of the form "— <valid key name>
//                       <canonical padded base64 of at least 5 bytes>"; also a `key` whose id
//                       does not match its name and public key;
//   kVerificationFailed a line with `key`'s name and id whose signature is not a valid 64-byte
//                       Ed25519 signature of the text (one such line refuses the whole note,
//                       as signed-note says clients SHOULD), or no line by `key` at all.
// Lines by other keys (another name or another id) are parsed and ignored.
Result<std::string> OpenNote(std::string_view note, const NoteVerifierKey& key);

// OpenNote, then ParseCheckpointText, then a check that the origin is `expected_origin`
// (kVerificationFailed if not: a valid signature over another log's checkpoint).
Result<Checkpoint> OpenCheckpoint(std::string_view note, const NoteVerifierKey& key,
                                  std::string_view expected_origin);

}  // namespace sigil::broker::tlog
