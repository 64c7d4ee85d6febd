// A small synchronous HTTPS client (TLS 1.3, server certificate verified against a pinned CA and
// the URL's host; optional client certificate for the admin API). Keeps one connection alive and
// reconnects once if the broker closed it. Not thread-safe: one client per thread.
#pragma once

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

class HttpsClient {
 public:
  static Result<std::unique_ptr<HttpsClient>> Create(const std::string& url, const ClientTlsConfig& tls);
  ~HttpsClient();
  // Sends one request; a non-2xx status is a response, not an error. Fails with kUnavailable if
  // the broker cannot be reached or the TLS handshake fails (message says which).
  // `cookie`, if not empty, is sent as the Cookie header; a Set-Cookie answer is in set_cookie.
  Result<HttpResponse> Send(const std::string& method, const std::string& target, const std::string& body,
                            const std::string& bearer_token = "", const std::string& cookie = "");

  class Impl;

 private:
  explicit HttpsClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sigil::net
