// Aggregated audit of unauthenticated requests (challenges, TPM enrolment starts). Anyone can send
// these, so one permanent audit record each would let an anonymous client grow a tenant's log and
// the store without bound. Instead each tenant gets at most one summary record per interval:
// counts per client and outcome, with the number of distinct clients listed by name capped (the
// rest are counted together). Everything that reaches a decision (attest, release, enrolment
// finish) still gets its own full record.
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "broker/audit/audit_log.h"

namespace sigil::broker {

class UnauthenticatedActivity {
 public:
  using TimePoint = std::chrono::system_clock::time_point;
  static constexpr std::size_t kMaxNamedClients = 32;

  UnauthenticatedActivity(AuditLog& log, std::chrono::seconds interval) : log_(log), interval_(interval) {}

  // Counts one request of `kind` ("challenge", "tpm.enrol.start") with `outcome` ("ok", "deny")
  // from `client` for an existing tenant. Writes the tenant's previous summary first when its
  // interval has ended; fails only if that write fails.
  Result<void> Record(const std::string& tenant, std::string_view kind, std::string_view outcome,
                      std::string_view client, TimePoint now);

  // Writes the summaries of intervals that have ended by `now` (every open one if `all`): from a
  // timer, so quiet tenants are summarised too, and at shutdown.
  Result<void> Flush(TimePoint now, bool all);

 private:
  using Counts = std::map<std::string, std::uint64_t>;  // "kind outcome" -> count
  struct Window {
    TimePoint start;
    std::uint64_t total = 0;
    std::map<std::string, Counts, std::less<>> clients;  // at most kMaxNamedClients
    Counts other_clients;
    std::uint64_t other_client_requests = 0;
  };

  Result<void> Write(const std::string& tenant, const Window& w, TimePoint end);

  AuditLog& log_;
  std::chrono::seconds interval_;
  std::mutex mu_;
  std::map<std::string, Window> open_;  // by tenant; tenants exist, so this is bounded
  std::mutex write_mu_;                 // keeps one tenant's summaries in time order
};

}  // namespace sigil::broker
