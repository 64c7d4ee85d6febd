#include "broker/audit/unauth_activity.h"

#include <optional>
#include <vector>

#include "broker/broker_context.h"
#include "core/json.h"

namespace sigil::broker {

Result<void> UnauthenticatedActivity::Record(const std::string& tenant, std::string_view kind,
                                             std::string_view outcome, std::string_view client, TimePoint now) {
  std::optional<Window> due;
  TimePoint due_end;
  {
    std::lock_guard lock(mu_);
    auto it = open_.find(tenant);
    if (it != open_.end() && now >= it->second.start + interval_) {
      due = std::move(it->second);
      due_end = now;
      open_.erase(it);
      it = open_.end();
    }
    if (it == open_.end()) it = open_.emplace(tenant, Window{now}).first;
    Window& w = it->second;
    const std::string what = std::string(kind) + " " + std::string(outcome);
    ++w.total;
    auto c = w.clients.find(client);
    if (c == w.clients.end() && w.clients.size() < kMaxNamedClients) {
      c = w.clients.emplace(std::string(client), Counts{}).first;
    }
    if (c != w.clients.end()) {
      ++c->second[what];
    } else {
      ++w.other_clients[what];
      ++w.other_client_requests;
    }
  }
  if (due) return Write(tenant, *due, due_end);
  return Ok();
}

Result<void> UnauthenticatedActivity::Flush(TimePoint now, bool all) {
  std::vector<std::pair<std::string, Window>> due;
  {
    std::lock_guard lock(mu_);
    for (auto it = open_.begin(); it != open_.end();) {
      if (all || now >= it->second.start + interval_) {
        due.emplace_back(it->first, std::move(it->second));
        it = open_.erase(it);
      } else {
        ++it;
      }
    }
  }
  Result<void> result = Ok();
  for (const auto& [tenant, w] : due) {
    if (auto r = Write(tenant, w, now); !r && result) result = std::move(r);
  }
  return result;
}

Result<void> UnauthenticatedActivity::Write(const std::string& tenant, const Window& w, TimePoint end) {
  Json clients = Json::object();
  for (const auto& [client, counts] : w.clients) clients[client] = counts;
  Json detail{{"from", Rfc3339(w.start)}, {"to", Rfc3339(end)}, {"requests", w.total}, {"clients", clients}};
  if (w.other_client_requests > 0) {
    detail["other_clients"] = Json{{"requests", w.other_client_requests}, {"counts", w.other_clients}};
  }
  AuditEvent ev;
  ev.actor = "anonymous";
  ev.action = "unauthenticated.summary";
  ev.decision = "ok";
  ev.reason = std::to_string(w.total) + " unauthenticated request(s) from " +
              std::to_string(w.clients.size()) + (w.other_client_requests > 0 ? "+" : "") +
              " client(s) between " + Rfc3339(w.start) + " and " + Rfc3339(end);
  ev.detail = CanonicalJson(detail);
  std::lock_guard lock(write_mu_);
  SIGIL_RETURN_IF_ERROR(log_.Append(tenant, ev));
  return Ok();
}

}  // namespace sigil::broker
