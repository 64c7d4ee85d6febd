// Transport-neutral HTTP request/response values. Handlers in broker/ take and return these,
// so they are unit-testable without sockets and independent of Beast.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace sigil::net {

struct PeerIdentity {
  bool has_client_certificate = false;  // a client certificate that chains to the admin CA
  std::string subject_cn;               // its subject common name
  std::vector<std::string> uri_names;   // its URI subjectAltNames (the admin principal, broker/http/principal.h)
  std::string serial;                   // its serial number, lower-case hex without leading zeros
};

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query, e.g. "/v1/challenge"
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string client_address;
  PeerIdentity peer;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  int retry_after_seconds = 0;  // > 0: sent as Retry-After (with 429 and 503)
  // Non-empty: sent as one Set-Cookie header (the KBS session, broker/kbs/). Built by the broker
  // from its own values; CR, LF and other control characters make it dropped, never sent.
  std::string set_cookie;
};

}  // namespace sigil::net
