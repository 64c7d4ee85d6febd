#include "broker/audit/audit_wire.h"

#include "core/encoding.h"
#include "core/utf8.h"

namespace sigil::broker {
namespace {

void PutExact(Json& j, const std::string& name, const std::string& bytes) {
  if (IsValidUtf8(bytes)) {
    j[name] = bytes;
  } else {
    j[name + "_b64"] = Base64Encode(AsBytes(bytes));
  }
}

Result<std::string> GetExact(const Json& j, const std::string& name, std::string_view where) {
  const std::string b64 = name + "_b64";
  if (j.contains(name) && j.contains(b64)) {
    return Fail(Code::kInvalidArgument, std::string(where) + ": both " + name + " and " + b64);
  }
  if (!j.contains(b64)) return GetString(j, name, where);
  SIGIL_ASSIGN_OR_RETURN(std::string text, GetString(j, b64, where));
  auto bytes = Base64Decode(text);
  if (!bytes) return Fail(Code::kInvalidArgument, std::string(where) + "." + b64 + ": not base64");
  return std::string(bytes->begin(), bytes->end());
}

}  // namespace

Json AuditRowToJson(const AuditRow& row) {
  Json j = Json::object();
  if (row.seq != 0) j["seq"] = row.seq;
  PutExact(j, "record", row.record);
  PutExact(j, "hash", row.hash);
  if (!row.defect.empty()) PutExact(j, "defect", row.defect);
  return j;
}

Result<AuditRow> AuditRowFromJson(const Json& j) {
  if (!j.is_object()) return Fail(Code::kInvalidArgument, "record: expected an object");
  AuditRow row;
  if (j.contains("defect")) {
    SIGIL_ASSIGN_OR_RETURN(row.defect, GetString(j, "defect", "record"));
  }
  if (j.contains("seq") || row.defect.empty()) {
    SIGIL_ASSIGN_OR_RETURN(std::int64_t seq, GetInt(j, "seq", "record"));
    if (seq < 1) return Fail(Code::kInvalidArgument, "record.seq: must be >= 1");
    row.seq = static_cast<std::uint64_t>(seq);
  }
  SIGIL_ASSIGN_OR_RETURN(row.record, GetExact(j, "record", "record"));
  SIGIL_ASSIGN_OR_RETURN(row.hash, GetExact(j, "hash", "record"));
  return row;
}

Json CheckpointToJson(const Checkpoint& cp) {
  Json j{{"seq", cp.seq}, {"time", cp.time}};
  PutExact(j, "head", cp.head);
  PutExact(j, "signature", cp.signature);
  return j;
}

Result<Checkpoint> CheckpointFromJson(const Json& j) {
  if (!j.is_object()) return Fail(Code::kInvalidArgument, "checkpoint: expected an object");
  Checkpoint cp;
  SIGIL_ASSIGN_OR_RETURN(std::int64_t seq, GetInt(j, "seq", "checkpoint"));
  if (seq < 0) return Fail(Code::kInvalidArgument, "checkpoint.seq: must be >= 0");
  cp.seq = static_cast<std::uint64_t>(seq);
  SIGIL_ASSIGN_OR_RETURN(cp.time, GetInt(j, "time", "checkpoint"));
  SIGIL_ASSIGN_OR_RETURN(cp.head, GetExact(j, "head", "checkpoint"));
  SIGIL_ASSIGN_OR_RETURN(cp.signature, GetExact(j, "signature", "checkpoint"));
  return cp;
}

}  // namespace sigil::broker
