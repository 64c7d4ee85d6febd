#include "net/https_server.h"

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <array>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>

#include "core/log.h"
#include "core/ossl.h"

namespace sigil::net {
namespace beast = boost::beast;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

PeerIdentity IdentifyPeer(SSL* ssl) {
  PeerIdentity id;
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return id;
  // The common name is informational (the principal is the URI name below): a certificate
  // without one is still identified.
  char cn[256] = {0};
  if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn) >= 0) id.subject_cn = cn;
  id.has_client_certificate = true;
  // Read once per connection: the URI names (the principal the broker authorizes) and the serial
  // (checked against revocation on every admin request).
  if (auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr))) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
      const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
      if (n->type != GEN_URI) continue;
      const ASN1_IA5STRING* uri = n->d.uniformResourceIdentifier;
      id.uri_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                                static_cast<std::size_t>(ASN1_STRING_length(uri)));
    }
    GENERAL_NAMES_free(names);
  }
  id.serial = CertSerialHex(cert);
  return id;
}

// Open connections, in all and per client address (ServerLimits::max_connections*).
class ConnectionCount {
 public:
  // nullptr (and the connection counted), or the bound that refuses it ("max_connections",
  // "per_address"; nothing counted but the refusal). The total is checked first.
  const char* Open(const std::string& address, const ServerLimits& limits) {
    std::lock_guard lock(mu_);
    auto& n = by_address_[address];
    const char* over = total_ >= limits.max_connections                ? "max_connections"
                       : n >= limits.max_connections_per_address ? "per_address"
                                                                       : nullptr;
    if (over != nullptr) {
      if (n == 0) by_address_.erase(address);
      ++refused_;
      return over;
    }
    ++n;
    ++total_;
    return nullptr;
  }
  void Close(const std::string& address) {
    std::lock_guard lock(mu_);
    auto it = by_address_.find(address);
    if (it == by_address_.end()) return;
    if (--it->second == 0) by_address_.erase(it);
    --total_;
  }
  std::size_t open() const {
    std::lock_guard lock(mu_);
    return total_;
  }
  std::uint64_t refused() const {
    std::lock_guard lock(mu_);
    return refused_;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::size_t> by_address_;
  std::size_t total_ = 0;
  std::uint64_t refused_ = 0;
};

// State every session shares with the listener; sessions keep it alive after Stop().
struct Shared {
  Shared(std::shared_ptr<asio::ssl::context> t, ServerLimits l, Handler h, std::shared_ptr<asio::thread_pool> pool)
      : tls(std::move(t)), limits(l), handler(std::move(h)), handler_pool(std::move(pool)) {}
  std::shared_ptr<asio::ssl::context> tls;
  ServerLimits limits;
  Handler handler;
  // Runs handlers when limits.handler_threads > 0. Stopped and joined by ~HttpsServer; sessions
  // that outlive it can still post, and what they post is dropped unrun.
  std::shared_ptr<asio::thread_pool> handler_pool;
  mutable ConnectionCount connections;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  // `client` was counted in shared->connections by the acceptor; the session gives it back.
  Session(tcp::socket socket, std::shared_ptr<const Shared> shared, std::string client)
      : stream_(std::move(socket), *shared->tls), shared_(std::move(shared)), client_(std::move(client)) {}
  ~Session() { shared_->connections.Close(client_); }

  void Start() {
    beast::get_lowest_layer(stream_).expires_after(shared_->limits.read_timeout);
    stream_.async_handshake(asio::ssl::stream_base::server,
                            beast::bind_front_handler(&Session::OnHandshake, shared_from_this()));
  }

 private:
  void OnHandshake(beast::error_code ec) {
    if (ec) return;
    conn_.emplace(shared_->limits, shared_->handler, client_, IdentifyPeer(stream_.native_handle()));
    // The deadline set before the handshake covers the first request as well.
    Process();
  }

  // Answers every complete request already buffered (pipelining), one write at a time, then
  // reads more. Nothing thrown here may reach the io_context: that would stop the server.
  // With a handler pool, the request is framed and handled there and the answer comes back to
  // this session's strand; nothing else touches the connection meanwhile (no read or write is
  // outstanding), so conn_ needs no lock.
  void Process() {
    try {
      if (shared_->handler_pool && conn_->HasInput()) {
        asio::post(*shared_->handler_pool, [self = shared_from_this()] {
          std::optional<HttpConnection::Output> out = self->conn_->Next();
          try {
            asio::post(self->stream_.get_executor(),
                       [self, out = std::move(out)]() mutable { self->Continue(std::move(out)); });
          } catch (...) {
            log::Error("internal error in a connection; dropped");
          }
        });
        return;
      }
      Continue(conn_->Next());
    } catch (...) {
      log::Error("internal error in a connection; dropped");
    }
  }

  void Continue(std::optional<HttpConnection::Output> out) {
    try {
      if (out) return Send(std::move(*out));
      stream_.async_read_some(asio::buffer(scratch_), beast::bind_front_handler(&Session::OnRead, shared_from_this()));
    } catch (...) {
      log::Error("internal error in a connection; dropped");
    }
  }

  void OnRead(beast::error_code ec, std::size_t n) {
    if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) return DoClose();
    if (ec) return;  // deadline (timeout), reset, TLS error: nothing more to say on this connection
    try {
      conn_->Receive(std::string_view(scratch_.data(), n));
    } catch (...) {
      log::Error("internal error in a connection; dropped");
      return;
    }
    Process();
  }

  void Send(HttpConnection::Output out) {
    wire_ = std::move(out.wire);
    asio::async_write(stream_, asio::buffer(wire_),
                      beast::bind_front_handler(&Session::OnWrite, shared_from_this(), out.close, out.drain));
  }

  void OnWrite(bool close, bool linger, beast::error_code ec, std::size_t) {
    wire_.clear();
    if (ec) return;
    if (linger) return LingeringClose();
    if (close) return DoClose();
    beast::get_lowest_layer(stream_).expires_after(shared_->limits.idle_timeout);
    Process();
  }

  // After refusing a request, the client may still be sending (an oversized body, the bytes
  // after an ambiguous message). Closing with unread input makes the kernel reset the
  // connection, which can destroy the answer before the client has read it. So: end our
  // direction (the client sees end of stream after the answer), then read and discard up to a
  // budget and a deadline. Nothing read here is parsed.
  void LingeringClose() {
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_send, ignored);
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
    DoDrain();
  }
  void DoDrain() {
    beast::get_lowest_layer(stream_).async_read_some(
        asio::buffer(scratch_), beast::bind_front_handler(&Session::OnDrain, shared_from_this()));
  }
  void OnDrain(beast::error_code ec, std::size_t n) {
    drain_budget_ = n > drain_budget_ ? 0 : drain_budget_ - n;
    if (ec || drain_budget_ == 0) return;
    DoDrain();
  }

  void DoClose() {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
    stream_.async_shutdown(beast::bind_front_handler(&Session::OnShutdown, shared_from_this()));
  }
  void OnShutdown(beast::error_code) {}

  beast::ssl_stream<beast::tcp_stream> stream_;
  std::shared_ptr<const Shared> shared_;
  std::optional<HttpConnection> conn_;
  std::string wire_;
  const std::string client_;
  std::size_t drain_budget_ = 16 << 20;
  std::array<char, 16384> scratch_{};
};

}  // namespace

class HttpsServer::Impl : public std::enable_shared_from_this<HttpsServer::Impl> {
 public:
  Impl(asio::io_context& io, std::shared_ptr<asio::ssl::context> tls, ServerLimits limits, Handler handler)
      : io_(io), acceptor_(asio::make_strand(io)),
        shared_(std::make_shared<Shared>(
            std::move(tls), limits, std::move(handler),
            limits.handler_threads > 0 ? std::make_shared<asio::thread_pool>(limits.handler_threads) : nullptr)) {}

  Result<void> Listen(const std::string& address, unsigned short port) {
    beast::error_code ec;
    auto addr = asio::ip::make_address(address, ec);
    if (ec) return Fail(Code::kInvalidArgument, "listen address '" + address + "': " + ec.message());
    tcp::endpoint ep(addr, port);
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Fail(Code::kUnavailable, "cannot listen on " + address + ":" + std::to_string(port) + ": " + ec.message());
    port_ = acceptor_.local_endpoint().port();
    return Ok();
  }

  void Accept() {
    acceptor_.async_accept(asio::make_strand(io_), beast::bind_front_handler(&Impl::OnAccept, shared_from_this()));
  }

  void OnAccept(beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec) {
      boost::system::error_code ep_ec;
      auto ep = socket.remote_endpoint(ep_ec);
      std::string client = ep_ec ? std::string("unknown") : ep.address().to_string();
      if (const char* over = shared_->connections.Open(client, shared_->limits); over == nullptr) {
        std::make_shared<Session>(std::move(socket), shared_, std::move(client))->Start();
      } else {
        socket.close(ep_ec);  // over the bound: closed before any TLS work
        if (on_refused_) {
          try {
            on_refused_(over);
          } catch (...) {  // (counting must not stop the acceptor)
          }
        }
      }
    }
    Accept();
  }

  void Stop() {
    asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
      beast::error_code ec;
      self->acceptor_.close(ec);
    });
  }

  // Handlers already running finish; queued ones are dropped. Joined here, on the thread that
  // destroys the server, never on a pool thread.
  void StopHandlers() {
    if (!shared_->handler_pool) return;
    shared_->handler_pool->stop();
    shared_->handler_pool->join();
  }

  unsigned short port_ = 0;
  HttpsServer::RefusalObserver on_refused_;  // set before the io_context runs, read by OnAccept
  std::size_t open_connections() const { return shared_->connections.open(); }
  std::uint64_t refused_connections() const { return shared_->connections.refused(); }

 private:
  asio::io_context& io_;
  tcp::acceptor acceptor_;
  std::shared_ptr<const Shared> shared_;
};

Result<std::unique_ptr<HttpsServer>> HttpsServer::Create(asio::io_context& io, std::shared_ptr<asio::ssl::context> tls,
                                                         const std::string& address, unsigned short port,
                                                         ServerLimits limits, Handler handler) {
  auto impl = std::make_shared<Impl>(io, std::move(tls), limits, std::move(handler));
  SIGIL_RETURN_IF_ERROR(impl->Listen(address, port));
  impl->Accept();
  return std::unique_ptr<HttpsServer>(new HttpsServer(std::move(impl)));
}

HttpsServer::~HttpsServer() {
  Stop();
  impl_->StopHandlers();
}
unsigned short HttpsServer::port() const { return impl_->port_; }
std::size_t HttpsServer::open_connections() const { return impl_->open_connections(); }
std::uint64_t HttpsServer::refused_connections() const { return impl_->refused_connections(); }
void HttpsServer::SetRefusalObserver(RefusalObserver observer) { impl_->on_refused_ = std::move(observer); }
void HttpsServer::Stop() { impl_->Stop(); }

}  // namespace sigil::net
