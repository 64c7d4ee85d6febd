// HTTPS server on Boost.Beast/Asio (TLS 1.3): a Listener accepting connections and a Session per
// connection that moves bytes between TLS and an HttpConnection (net/http_pipeline.h: framing,
// limits, the handler's last-resort guard, serialisation), with a deadline per request and
// keep-alive. Business logic lives in the handler.
// Thread-safety: Run() may be called from several threads; Stop() from any thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "net/http_pipeline.h"
#include "net/http_types.h"

namespace sigil::net {

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
  // Connections open now, and connections closed at accept for being over a bound (since start).
  std::size_t open_connections() const;
  std::uint64_t refused_connections() const;
  // Called on an I/O thread for every connection closed at accept, with the bound it was over:
  // "max_connections" (all open connections) or "per_address". Set before the io_context runs.
  using RefusalObserver = std::function<void(std::string_view reason)>;
  void SetRefusalObserver(RefusalObserver observer);
  // Stops accepting; open sessions finish on their own deadlines.
  void Stop();

  class Impl;

 private:
  explicit HttpsServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace sigil::net
