// How stored audit rows and checkpoints travel as JSON: the admin API's audit responses
// (GET /v1/admin/tenants/T/audit, POST .../audit/query) and the lines of `sigil audit export`.
// Stored bytes travel exactly, whatever they are: a field whose bytes are valid UTF-8 is a JSON
// string ("record", "hash"); one whose bytes are not (a damaged store) goes as "<field>_b64",
// standard base64 of the exact bytes. So a damaged record never breaks a listing or an export,
// and verification recomputes the chain over precisely what is stored and names the record.
#pragma once

#include "broker/store/store.h"
#include "core/json.h"
#include "core/result.h"

namespace sigil::broker {

// {"seq", "record" | "record_b64", "hash" | "hash_b64"} plus "defect" when the store could not
// read the row as written; "seq" is left out when it is unreadable.
Json AuditRowToJson(const AuditRow& row);
// Reads what AuditRowToJson wrote. A malformed object (field missing or of the wrong type, bad
// base64) is an error naming the field: callers turn it into a defective row of the chain, so
// one bad element is named by verification instead of failing the whole listing.
Result<AuditRow> AuditRowFromJson(const Json& j);

// {"seq", "head" | "head_b64", "time", "signature" | "signature_b64"}.
Json CheckpointToJson(const Checkpoint& cp);
Result<Checkpoint> CheckpointFromJson(const Json& j);

}  // namespace sigil::broker
