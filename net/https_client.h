// A small synchronous HTTPS client (TLS 1.3, server certificate verified against a pinned CA and
// the URL's host; optional client certificate for the admin API). Keeps one connection alive and
// reconnects once if the broker closed it. Not thread-safe: one client per thread.
//
// Bounds, so a broker (or anything between, before the TLS handshake authenticates the broker)
// that accepts and then stalls, or answers without end, cannot hang or exhaust the caller:
//  - connecting (TCP connect and the TLS handshake) must finish within HttpsTimeouts::connect
//    (default 30 s), and each request (sending it and reading the whole answer) within
//    HttpsTimeouts::exchange (default 120 s): absolute deadlines, not idle timers, so a peer
//    trickling a byte at a time is cut too. Past one, Send fails with kUnavailable naming the
//    deadline and the step, and is not retried (the broker may have the request). Resolving
//    the host name is bounded by the system resolver's own timeouts, not by these.
//  - an answer's body may be at most kMaxHttpsResponseBytes (64 MiB), checked against the
//    Content-Length before any of the body is read or stored, and as chunks arrive.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "core/result.h"
#include "net/http_types.h"
#include "net/tls.h"

namespace sigil::net {

struct Url {
  std::string host;
  std::string port;
};
// Accepts https://HOST:PORT, https://[V6]:PORT and https://HOST (port 443); rejects others.
Result<Url> ParseHttpsUrl(const std::string& url);

inline constexpr std::size_t kMaxHttpsResponseBytes = std::size_t{64} << 20;

struct HttpsTimeouts {
  std::chrono::milliseconds connect{std::chrono::seconds(30)};
  std::chrono::milliseconds exchange{std::chrono::seconds(120)};
};

class HttpsClient {
 public:
  static Result<std::unique_ptr<HttpsClient>> Create(const std::string& url, const ClientTlsConfig& tls);
  ~HttpsClient();
  // Sends one request; a non-2xx status is a response, not an error. Fails with kUnavailable if
  // the broker cannot be reached or the TLS handshake fails (message says which).
  // `cookie`, if not empty, is sent as the Cookie header; a Set-Cookie answer is in set_cookie.
  Result<HttpResponse> Send(const std::string& method, const std::string& target, const std::string& body,
                            const std::string& bearer_token = "", const std::string& cookie = "");
  // Applies to the next connection and request.
  void set_timeouts(const HttpsTimeouts& timeouts);

  class Impl;

 private:
  explicit HttpsClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sigil::net
