#include "net/https_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <optional>

namespace sigil::net {
namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Result<Url> ParseHttpsUrl(const std::string& url) {
  const std::string scheme = "https://";
  if (url.rfind(scheme, 0) != 0) return Fail(Code::kInvalidArgument, "broker URL must start with https:// (got '" + url + "')");
  std::string rest = url.substr(scheme.size());
  if (auto slash = rest.find('/'); slash != std::string::npos) rest = rest.substr(0, slash);
  Url u;
  if (!rest.empty() && rest[0] == '[') {
    auto close = rest.find(']');
    if (close == std::string::npos) return Fail(Code::kInvalidArgument, "broker URL: unterminated [IPv6] host");
    u.host = rest.substr(1, close - 1);
    rest = rest.substr(close + 1);
    u.port = rest.empty() ? "443" : (rest[0] == ':' ? rest.substr(1) : "");
  } else {
    auto colon = rest.rfind(':');
    u.host = rest.substr(0, colon);
    u.port = colon == std::string::npos ? "443" : rest.substr(colon + 1);
  }
  if (u.host.empty() || u.port.empty() || u.port.find_first_not_of("0123456789") != std::string::npos) {
    return Fail(Code::kInvalidArgument, "broker URL '" + url + "': expected https://HOST:PORT");
  }
  return u;
}

namespace {
using Clock = std::chrono::steady_clock;

// "500 ms", "30 s": for the deadline messages.
std::string Describe(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
  return std::to_string(d.count()) + " ms";
}
}  // namespace

// Every network step is an asynchronous operation run on the private io_context against one
// absolute deadline (Await). Beast's expires_after/expires_at are enforced only by asynchronous
// operations: the synchronous connect, handshake, write and read this client used before waited
// forever on a peer that accepted and said nothing (tests/unit/net/https_client_test.cpp).
class HttpsClient::Impl {
 public:
  Impl(Url url, std::shared_ptr<asio::ssl::context> tls, std::string local_address)
      : url_(std::move(url)), tls_(std::move(tls)), local_address_(std::move(local_address)) {}

  bool connected() const { return stream_.has_value(); }
  bool last_timed_out() const { return last_timed_out_; }
  HttpsTimeouts timeouts_;

  // On failure no stream is kept: a half-built one (TCP refused, handshake failed) must not be
  // mistaken for an open connection by the next call.
  Result<void> Connect() {
    auto r = ConnectOnce();
    if (!r) stream_.reset();
    return r;
  }

  Result<void> ConnectOnce() {
    stream_.reset();
    stream_.emplace(io_, *tls_);
    // Bytes left from a connection that failed mid-answer must not be parsed as this one's.
    buffer_.clear();
    const std::string where = url_.host + ":" + url_.port;
    beast::error_code ec;
    // Name resolution stays synchronous (bounded by the system resolver's own timeouts): an
    // asynchronous one cannot be abandoned at the deadline, its handler waits for getaddrinfo.
    tcp::resolver resolver(io_);
    auto results = resolver.resolve(url_.host, url_.port, ec);
    if (ec) return Fail(Code::kUnavailable, "cannot resolve " + url_.host + ": " + ec.message());
    const auto deadline = Clock::now() + timeouts_.connect;
    auto& tcp_stream = beast::get_lowest_layer(*stream_);
    if (local_address_.empty()) {
      ec = Await(deadline, [&](auto handler) { tcp_stream.async_connect(results, std::move(handler)); });
    } else {
      const auto local = asio::ip::make_address(local_address_, ec);
      if (ec) return Fail(Code::kInvalidArgument, "local address '" + local_address_ + "': " + ec.message());
      auto& socket = tcp_stream.socket();
      ec = asio::error::host_not_found;
      for (const auto& entry : results) {
        if (entry.endpoint().protocol() != tcp::endpoint(local, 0).protocol()) continue;
        socket.close(ec);
        socket.open(entry.endpoint().protocol(), ec);
        if (!ec) socket.bind(tcp::endpoint(local, 0), ec);
        if (!ec) ec = Await(deadline, [&](auto handler) { socket.async_connect(entry.endpoint(), std::move(handler)); });
        if (!ec || ec == asio::error::timed_out) break;
      }
    }
    if (ec == asio::error::timed_out) {
      last_timed_out_ = true;
      return Fail(Code::kUnavailable, "cannot connect to the broker at " + where + ": not connected within " +
                                          Describe(timeouts_.connect) + " (is sigild running and listening there?)");
    }
    if (ec) {
      return Fail(Code::kUnavailable, "cannot connect to the broker at " + where + ": " + ec.message() +
                                          " (is sigild running and listening there?)");
    }
    SSL_set_tlsext_host_name(stream_->native_handle(), url_.host.c_str());
    stream_->set_verify_callback(asio::ssl::host_name_verification(url_.host), ec);
    ec = Await(deadline, [&](auto handler) { stream_->async_handshake(asio::ssl::stream_base::client, std::move(handler)); });
    if (ec == asio::error::timed_out) {
      last_timed_out_ = true;
      return Fail(Code::kUnavailable, "TLS handshake with " + where + " failed: not done within " +
                                          Describe(timeouts_.connect) + " of connecting");
    }
    if (ec) return Fail(Code::kUnavailable, "TLS handshake with " + where + " failed: " + ec.message());
    return Ok();
  }

  Result<HttpResponse> Once(const std::string& method, const std::string& target, const std::string& body,
                            const std::string& bearer, const std::string& cookie) {
    last_timed_out_ = false;
    if (!stream_) SIGIL_RETURN_IF_ERROR(Connect());
    http::request<http::string_body> req(http::string_to_verb(method), target, 11);
    req.set(http::field::host, url_.host);
    req.set(http::field::user_agent, "sigil");
    req.set(http::field::content_type, "application/json");
    if (!bearer.empty()) req.set(http::field::authorization, "Bearer " + bearer);
    if (!cookie.empty()) req.set(http::field::cookie, cookie);
    req.keep_alive(true);
    req.body() = body;
    req.prepare_payload();
    const auto deadline = Clock::now() + timeouts_.exchange;
    auto timed_out = [&](const char* step) {
      stream_.reset();
      last_timed_out_ = true;
      return Fail(Code::kUnavailable, "no complete response from broker within " + Describe(timeouts_.exchange) +
                                          " (" + step + ")");
    };
    const beast::error_code write_ec =
        Await(deadline, [&](auto handler) { http::async_write(*stream_, req, std::move(handler)); });
    if (write_ec == asio::error::timed_out) return timed_out("sending the request");
    // A server may answer before reading the whole body (413 for an oversized one) and close:
    // the answer is still worth reading when the write fails.
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxHttpsResponseBytes);
    // The header alone first: Boost 1.74's parser, reading a whole message in one operation,
    // goes on into the body after a Content-Length above body_limit and loses that error (a
    // 1 TB Content-Length was reserved: std::bad_alloc). Read alone, the header reports it, and
    // the Content-Length is checked here once more before any body byte is stored.
    beast::error_code ec =
        Await(deadline, [&](auto handler) { http::async_read_header(*stream_, buffer_, parser, std::move(handler)); });
    if (!ec && parser.content_length() && *parser.content_length() > kMaxHttpsResponseBytes) ec = http::error::body_limit;
    if (!ec && !parser.is_done()) {
      ec = Await(deadline, [&](auto handler) { http::async_read(*stream_, buffer_, parser, std::move(handler)); });
    }
    if (ec) {
      stream_.reset();
      if (ec == asio::error::timed_out) return timed_out(parser.is_header_done() ? "reading the body" : "waiting for the answer");
      if (ec == http::error::body_limit) {
        return Fail(Code::kUnavailable, "the broker's answer is larger than " +
                                            std::to_string(kMaxHttpsResponseBytes >> 20) + " MiB: refused");
      }
      if (write_ec) return Fail(Code::kUnavailable, "send failed: " + write_ec.message());
      return Fail(Code::kUnavailable, "no response from broker: " + ec.message());
    }
    auto res = parser.release();
    HttpResponse out;
    out.status = static_cast<int>(res.result_int());
    out.content_type = std::string(res[http::field::content_type]);
    const auto retry_after = res[http::field::retry_after];
    if (!retry_after.empty() && retry_after.size() <= 6 &&
        retry_after.find_first_not_of("0123456789") == beast::string_view::npos) {
      out.retry_after_seconds = std::stoi(std::string(retry_after));
    }
    out.set_cookie = std::string(res[http::field::set_cookie]);
    out.body = std::move(res.body());
    if (!res.keep_alive() || write_ec) stream_.reset();
    return out;
  }

 private:
  // Starts one asynchronous operation (`start` is given its completion handler) and runs the
  // io_context until it completes or `deadline` passes. Returns the operation's error, or
  // asio::error::timed_out: then the socket is closed, which ends the operation, and the caller
  // drops the stream. Every handler has run when this returns, so the operations may refer to
  // the caller's locals.
  template <class Start>
  beast::error_code Await(Clock::time_point deadline, Start&& start) {
    beast::error_code result;
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    io_.restart();
    io_.run_until(deadline);
    // run_until returns early only when no work is left (the io_context then counts as
    // stopped): the operation completed.
    if (io_.stopped()) return result;
    beast::get_lowest_layer(*stream_).close();
    io_.restart();
    io_.run();
    return asio::error::timed_out;
  }

  Url url_;
  std::shared_ptr<asio::ssl::context> tls_;
  std::string local_address_;
  asio::io_context io_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> stream_;
  beast::flat_buffer buffer_;
  bool last_timed_out_ = false;
};

Result<std::unique_ptr<HttpsClient>> HttpsClient::Create(const std::string& url, const ClientTlsConfig& tls) {
  SIGIL_ASSIGN_OR_RETURN(Url u, ParseHttpsUrl(url));
  SIGIL_ASSIGN_OR_RETURN(auto ctx, MakeClientTlsContext(tls));
  return std::unique_ptr<HttpsClient>(new HttpsClient(std::make_unique<Impl>(std::move(u), std::move(ctx), tls.local_address)));
}

void HttpsClient::set_timeouts(const HttpsTimeouts& timeouts) { impl_->timeouts_ = timeouts; }

HttpsClient::HttpsClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpsClient::~HttpsClient() = default;

Result<HttpResponse> HttpsClient::Send(const std::string& method, const std::string& target, const std::string& body,
                                       const std::string& bearer_token, const std::string& cookie) {
  const bool reused = impl_->connected();
  auto r = impl_->Once(method, target, body, bearer_token, cookie);
  if (!r && reused && r.error().code() == Code::kUnavailable && !impl_->last_timed_out()) {
    // The broker may have closed an idle keep-alive connection: retry once on a new one. (A
    // fresh connection that failed is not retried: its error, e.g. refused, is the answer. Nor
    // is a request past its deadline: the broker may be working on it, and a stalled broker
    // would double the wait.)
    return impl_->Once(method, target, body, bearer_token, cookie);
  }
  return r;
}

}  // namespace sigil::net
