// What `sigil audit verify` remembers, as a Certificate Transparency monitor does: for each audit
// key and tenant, the size and RFC 9162 Merkle root (broker/audit/audit_tree.h) of the last log
// it accepted, in the user's state directory ($XDG_STATE_HOME/sigil, else ~/.local/state/sigil).
// A log verified later must extend it: at least that many records, whose first `size` hash to
// the remembered root. The verifier holds every record, so it recomputes that root itself (a
// stronger check than a consistency proof from the broker). Restoring an older store or export,
// or a rewritten history re-signed with the audit key, then fails verification instead of
// silently dropping the newest records.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "broker/audit/audit_chain.h"
#include "broker/audit/merkle.h"
#include "broker/store/store.h"
#include "core/bytes.h"
#include "core/result.h"

namespace sigil::cli {

// The state directory for `sigil`: $XDG_STATE_HOME/sigil if XDG_STATE_HOME is an absolute path,
// else $HOME/.local/state/sigil.
Result<std::string> SigilStateDir();

// The log this user last accepted for (audit_key, tenant), if any: its size and RFC 9162 root,
// and the file that holds them.
struct RememberedLog {
  std::uint64_t size = 0;
  broker::merkle::Hash root{};
  std::string file;
};
Result<std::optional<RememberedLog>> RecallLog(ByteSpan audit_key, const std::string& tenant);
// Remembers (size, root) as the newest log accepted for (audit_key, tenant); returns the file.
// Callers remember only what they checked extends the remembered log.
Result<std::string> RememberLog(ByteSpan audit_key, const std::string& tenant, std::uint64_t size,
                                const broker::merkle::Hash& root);

// For a report that verified (report.ok): adds a problem if `rows` do not extend the log this
// user last accepted for (audit_key, tenant); otherwise remembers `rows` as the newest accepted
// log. `said` receives a line for the person running the command (first sighting, or growth).
// An error means the memory could not be read or written (nothing was decided).
Result<void> CheckAgainstMemory(ByteSpan audit_key, const std::string& tenant, const std::vector<broker::AuditRow>& rows,
                                broker::AuditVerifyReport& report, std::string* said);

}  // namespace sigil::cli
