#include "broker/audit/release_receipt.h"

#include <array>
#include <optional>
#include <vector>

#include "broker/audit/audit_tree.h"
#include "core/encoding.h"
#include "core/json.h"

namespace sigil::broker::receipt {
namespace {

// The line names after the header, in order (docs/protocol.md "Release receipts").
// The optional last line: the model owner key that signed the artifact (absent if unsigned).
constexpr const char* kSignerName = "signer";
constexpr std::array<const char*, 13> kNames = {"tenant",  "key",  "version", "artifact", "tee",
                                                "measurement", "evidence", "policy", "request",
                                                "time",    "seq",  "leaf_index", "leaf"};

Unexpected<Error> Malformed(const std::string& what) { return Fail(Code::kInvalidArgument, "receipt: " + what); }

bool IsToken(std::string_view v) {
  if (v.empty() || v.size() > kMaxValueSize) return false;
  for (char c : v) {
    if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e) return false;
  }
  return true;
}

std::optional<std::uint64_t> Decimal(std::string_view s, std::uint64_t max) {
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

std::vector<std::string> Values(const Receipt& r) {
  return {r.tenant,
          r.key,
          std::to_string(r.version),
          r.artifact_id,
          r.tee,
          r.measurement,
          r.evidence_digest,
          std::to_string(r.policy_version),
          r.request_id,
          std::to_string(r.time_ms),
          std::to_string(r.seq),
          std::to_string(r.seq - 1),
          Base64Encode(ByteSpan(r.leaf.data(), r.leaf.size()))};
}

// A string member of a record, required.
Result<std::string> Str(const Json& j, const char* name, std::uint64_t seq) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string()) {
    return Malformed("record " + std::to_string(seq) + " has no '" + name + "' (not a receipted release)");
  }
  return it->get<std::string>();
}

Result<std::int64_t> Int(const Json& j, const char* name, std::uint64_t seq, std::int64_t min, std::int64_t max) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_number_integer()) {
    return Malformed("record " + std::to_string(seq) + " has no integer '" + name + "' (not a receipted release)");
  }
  const std::int64_t v = it->get<std::int64_t>();
  if (v < min || v > max) return Malformed("record " + std::to_string(seq) + ": '" + name + "' out of range");
  return v;
}

}  // namespace

Result<Receipt> FromRecord(const AuditRow& row) {
  if (!row.defect.empty() || row.seq == 0) return Malformed("record is unreadable");
  SIGIL_ASSIGN_OR_RETURN(Json j, ParseJson(row.record, "record"));
  if (!j.is_object()) return Malformed("record " + std::to_string(row.seq) + " is not a JSON object");
  SIGIL_ASSIGN_OR_RETURN(std::string action, Str(j, "action", row.seq));
  SIGIL_ASSIGN_OR_RETURN(std::string decision, Str(j, "decision", row.seq));
  if (action != "release" || decision != "allow") {
    return Malformed("record " + std::to_string(row.seq) + " is not an allowed release");
  }
  Receipt r;
  SIGIL_ASSIGN_OR_RETURN(std::int64_t seq, Int(j, "seq", row.seq, 1, INT64_MAX));
  if (static_cast<std::uint64_t>(seq) != row.seq) return Malformed("record " + std::to_string(row.seq) + " names another seq");
  r.seq = row.seq;
  SIGIL_ASSIGN_OR_RETURN(r.tenant, Str(j, "tenant", row.seq));
  SIGIL_ASSIGN_OR_RETURN(r.key, Str(j, "key", row.seq));
  SIGIL_ASSIGN_OR_RETURN(std::int64_t version, Int(j, "version", row.seq, 1, 0xffffffffLL));
  r.version = static_cast<std::uint32_t>(version);
  SIGIL_ASSIGN_OR_RETURN(r.artifact_id, Str(j, "artifact_id", row.seq));
  SIGIL_ASSIGN_OR_RETURN(r.tee, Str(j, "tee", row.seq));
  r.measurement = kNoMeasurement;
  if (j.contains("measurement")) {
    SIGIL_ASSIGN_OR_RETURN(r.measurement, Str(j, "measurement", row.seq));
  }
  SIGIL_ASSIGN_OR_RETURN(r.evidence_digest, Str(j, "evidence_digest", row.seq));
  SIGIL_ASSIGN_OR_RETURN(r.policy_version, Int(j, "policy_version", row.seq, 1, INT64_MAX));
  SIGIL_ASSIGN_OR_RETURN(r.request_id, Str(j, "request_id", row.seq));
  SIGIL_ASSIGN_OR_RETURN(r.time_ms, Int(j, "time_ms", row.seq, 0, INT64_MAX));
  if (j.contains("signer")) {
    SIGIL_ASSIGN_OR_RETURN(r.signer, Str(j, "signer", row.seq));
  }
  r.leaf = merkle::LeafHash(AsBytes(row.record));
  return r;
}

Result<std::string> Text(const Receipt& r) {
  if (r.seq == 0) return Malformed("seq must be at least 1");
  if (r.time_ms < 0 || r.policy_version < 0) return Malformed("negative time or policy version");
  const std::vector<std::string> values = Values(r);
  std::string text = std::string(kHeader) + "\n";
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (!IsToken(values[i])) {
      return Malformed(std::string("'") + kNames[i] + "' must be 1 to 1024 printable ASCII characters without spaces");
    }
    text += std::string(kNames[i]) + " " + values[i] + "\n";
  }
  if (!r.signer.empty()) {
    if (!IsToken(r.signer)) return Malformed("'signer' must be 1 to 1024 printable ASCII characters without spaces");
    text += std::string(kSignerName) + " " + r.signer + "\n";
  }
  return text;
}

Result<Receipt> ParseText(std::string_view text) {
  if (text.size() > tlog::kMaxNoteSize) return Malformed("too large");
  std::vector<std::string_view> lines;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) return Malformed("does not end in a newline");
    lines.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  // A signed artifact's receipt has one more line, its signer, last.
  if ((lines.size() != kNames.size() + 1 && lines.size() != kNames.size() + 2) || lines[0] != kHeader) {
    return Malformed(std::string("expected the line '") + kHeader + "' and " + std::to_string(kNames.size()) +
                     " field lines (and a signer line for a signed artifact)");
  }
  std::string signer;
  if (lines.size() == kNames.size() + 2) {
    const std::string_view line = lines.back();
    const std::string prefix = std::string(kSignerName) + " ";
    if (line.substr(0, prefix.size()) != prefix || !IsToken(line.substr(prefix.size()))) {
      return Malformed("line " + std::to_string(lines.size()) + " is not '" + kSignerName + " <value>'");
    }
    signer = std::string(line.substr(prefix.size()));
  }
  std::vector<std::string_view> v;
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    const std::string_view line = lines[i + 1];
    const std::string prefix = std::string(kNames[i]) + " ";
    if (line.substr(0, prefix.size()) != prefix || !IsToken(line.substr(prefix.size()))) {
      return Malformed("line " + std::to_string(i + 2) + " is not '" + kNames[i] + " <value>'");
    }
    v.push_back(line.substr(prefix.size()));
  }
  auto number = [&](std::size_t i, std::uint64_t max) -> Result<std::uint64_t> {
    auto n = Decimal(v[i], max);
    if (!n) return Malformed(std::string("'") + kNames[i] + "' is not a canonical decimal number in range");
    return *n;
  };
  Receipt r;
  r.tenant = v[0];
  r.key = v[1];
  SIGIL_ASSIGN_OR_RETURN(std::uint64_t version, number(2, 0xffffffffULL));
  if (version == 0) return Malformed("'version' must be at least 1");
  r.version = static_cast<std::uint32_t>(version);
  r.artifact_id = v[3];
  r.tee = v[4];
  r.measurement = v[5];
  r.evidence_digest = v[6];
  SIGIL_ASSIGN_OR_RETURN(std::uint64_t policy, number(7, INT64_MAX));
  r.policy_version = static_cast<std::int64_t>(policy);
  r.request_id = v[8];
  SIGIL_ASSIGN_OR_RETURN(std::uint64_t time, number(9, INT64_MAX));
  r.time_ms = static_cast<std::int64_t>(time);
  SIGIL_ASSIGN_OR_RETURN(r.seq, number(10, UINT64_MAX));
  if (r.seq == 0) return Malformed("'seq' must be at least 1");
  SIGIL_ASSIGN_OR_RETURN(std::uint64_t leaf_index, number(11, UINT64_MAX));
  if (leaf_index != r.seq - 1) return Malformed("'leaf_index' is not seq - 1");
  auto leaf = Base64Decode(v[12]);
  if (!leaf || leaf->size() != r.leaf.size()) return Malformed("'leaf' is not canonical base64 of 32 bytes");
  std::copy(leaf->begin(), leaf->end(), r.leaf.begin());
  r.signer = std::move(signer);
  return r;
}

Result<std::string> Sign(const Receipt& r, const Ed25519Signer& audit_key) {
  SIGIL_ASSIGN_OR_RETURN(std::string text, Text(r));
  return tlog::SignNote(text, AuditTreeOrigin(r.tenant), audit_key);
}

Result<Receipt> Open(std::string_view note, ByteSpan audit_public_key) {
  if (note.size() > tlog::kMaxNoteSize) return Malformed("too large");
  // The tenant names the key; read it from the (not yet trusted) text, then verify.
  const std::string head = std::string(kHeader) + "\ntenant ";
  if (note.substr(0, head.size()) != head) return Malformed(std::string("does not start with '") + kHeader + "'");
  const std::size_t end = note.find('\n', head.size());
  if (end == std::string_view::npos) return Malformed("has no tenant line");
  const std::string tenant(note.substr(head.size(), end - head.size()));
  SIGIL_ASSIGN_OR_RETURN(tlog::NoteVerifierKey key, tlog::MakeVerifierKey(AuditTreeOrigin(tenant), audit_public_key));
  SIGIL_ASSIGN_OR_RETURN(std::string text, tlog::OpenNote(note, key));
  return ParseText(text);
}

Result<void> MatchesRecord(const Receipt& r, const AuditRow& record) {
  if (merkle::LeafHash(AsBytes(record.record)) != r.leaf) {
    return Fail(Code::kVerificationFailed, "the record's leaf hash is not the receipt's leaf");
  }
  auto derived = FromRecord(record);
  if (!derived) return Fail(Code::kVerificationFailed, derived.error().message());
  const std::vector<std::string> want = Values(r), got = Values(*derived);
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (want[i] != got[i]) {
      return Fail(Code::kVerificationFailed, std::string("the receipt's '") + kNames[i] + "' differs from its record's");
    }
  }
  return Ok();
}

}  // namespace sigil::broker::receipt
