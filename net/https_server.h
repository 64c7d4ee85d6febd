// HTTPS server on Boost.Beast/Asio (TLS 1.3): a Listener accepting connections and a Session per
// connection (read with a deadline, body size limit, keep-alive), in the shape of Beast's async
// server example. Business logic lives in the handler; this file knows only HTTP.
// Thread-safety: Run() may be called from several threads; Stop() from any thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "core/result.h"
#include "net/http_types.h"

namespace sigil::net {

struct ServerLimits {
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_header_bytes = 16 << 10;
  std::chrono::seconds read_timeout{10};   // whole request, including the TLS handshake
  std::chrono::seconds idle_timeout{30};   // between keep-alive requests
};

using Handler = std::function<HttpResponse(const HttpRequest&)>;

class HttpsServer {
 public:
  // Binds and listens on address:port (port 0 picks a free port). Fails with kUnavailable if
  // the address cannot be bound.
  static Result<std::unique_ptr<HttpsServer>> Create(boost::asio::io_context& io,
                                                     std::shared_ptr<boost::asio::ssl::context> tls,
                                                     const std::string& address, unsigned short port,
                                                     ServerLimits limits, Handler handler);
  ~HttpsServer();
  unsigned short port() const;
  // Stops accepting; open sessions finish on their own deadlines.
  void Stop();

  class Impl;

 private:
  explicit HttpsServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace sigil::net
