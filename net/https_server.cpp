#include "net/https_server.h"

#include <openssl/x509.h>

#include <array>
#include <optional>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace sigil::net {
namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

PeerIdentity IdentifyPeer(SSL* ssl) {
  PeerIdentity id;
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return id;
  char cn[256] = {0};
  if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn) < 0) return id;
  id.has_client_certificate = true;
  id.subject_cn = cn;
  return id;
}

std::string ErrorBody(const char* code, const char* message) {
  return std::string("{\"error\":{\"code\":\"") + code + "\",\"message\":\"" + message + "\"}}";
}

// State every session shares with the listener; sessions keep it alive after Stop().
struct Shared {
  std::shared_ptr<asio::ssl::context> tls;
  ServerLimits limits;
  Handler handler;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<const Shared> shared)
      : stream_(std::move(socket), *shared->tls), shared_(shared), limits_(shared->limits),
        handler_(shared->handler) {}

  void Start() {
    boost::system::error_code ec;
    auto ep = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    if (!ec) client_ = ep.address().to_string();
    beast::get_lowest_layer(stream_).expires_after(limits_.read_timeout);
    stream_.async_handshake(asio::ssl::stream_base::server,
                            beast::bind_front_handler(&Session::OnHandshake, shared_from_this()));
  }

 private:
  void OnHandshake(beast::error_code ec) {
    if (ec) return;
    peer_ = IdentifyPeer(stream_.native_handle());
    DoRead(limits_.read_timeout);
  }

  void DoRead(std::chrono::seconds timeout) {
    parser_.emplace();
    parser_->body_limit(limits_.max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
    beast::get_lowest_layer(stream_).expires_after(timeout);
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream) return DoClose();
    if (ec == http::error::body_limit || ec == http::error::header_limit) {
      HttpResponse r{413, "application/json", ErrorBody("invalid_argument", "request too large")};
      drain_ = true;
      return Send(std::move(r), false);
    }
    if (ec) {
      if (ec == beast::error::timeout || ec == asio::error::operation_aborted) return;
      HttpResponse r{400, "application/json", ErrorBody("invalid_argument", "malformed HTTP request")};
      return Send(std::move(r), false);
    }
    auto req = parser_->release();
    HttpRequest in;
    in.method = std::string(req.method_string());
    in.target = std::string(req.target());
    for (const auto& f : req) {
      std::string name(f.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      in.headers[name] = std::string(f.value());
    }
    in.body = std::move(req.body());
    in.client_address = client_;
    in.peer = peer_;
    HttpResponse out = handler_(in);
    Send(std::move(out), req.keep_alive());
  }

  void Send(HttpResponse r, bool keep_alive) {
    auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(r.status), 11);
    res->set(http::field::server, "sigild");
    res->set(http::field::content_type, r.content_type);
    res->set(http::field::cache_control, "no-store");
    res->keep_alive(keep_alive);
    res->body() = std::move(r.body);
    res->prepare_payload();
    response_ = res;
    http::async_write(stream_, *res, beast::bind_front_handler(&Session::OnWrite, shared_from_this(), keep_alive));
  }

  void OnWrite(bool keep_alive, beast::error_code ec, std::size_t) {
    response_.reset();
    if (ec) return;
    if (!keep_alive) return drain_ ? DoDrain() : DoClose();
    DoRead(limits_.idle_timeout);
  }

  // After refusing an oversized request, read and discard what the client is still sending (up
  // to a budget and a deadline) so that closing does not reset the connection and destroy the
  // 413 answer before the client has read it.
  void DoDrain() {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
    stream_.async_read_some(asio::buffer(scratch_), beast::bind_front_handler(&Session::OnDrain, shared_from_this()));
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
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<void> response_;
  std::shared_ptr<const Shared> shared_;
  const ServerLimits& limits_;
  const Handler& handler_;
  std::string client_;
  PeerIdentity peer_;
  bool drain_ = false;
  std::size_t drain_budget_ = 16 << 20;
  std::array<char, 16384> scratch_{};
};

}  // namespace

class HttpsServer::Impl : public std::enable_shared_from_this<HttpsServer::Impl> {
 public:
  Impl(asio::io_context& io, std::shared_ptr<asio::ssl::context> tls, ServerLimits limits, Handler handler)
      : io_(io), acceptor_(asio::make_strand(io)),
        shared_(std::make_shared<Shared>(Shared{std::move(tls), limits, std::move(handler)})) {}

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
    if (!ec) std::make_shared<Session>(std::move(socket), shared_)->Start();
    Accept();
  }

  void Stop() {
    asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
      beast::error_code ec;
      self->acceptor_.close(ec);
    });
  }

  unsigned short port_ = 0;

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

HttpsServer::~HttpsServer() { Stop(); }
unsigned short HttpsServer::port() const { return impl_->port_; }
void HttpsServer::Stop() { impl_->Stop(); }

}  // namespace sigil::net
