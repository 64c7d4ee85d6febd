#include "net/https_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
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

class HttpsClient::Impl {
 public:
  Impl(Url url, std::shared_ptr<asio::ssl::context> tls, std::string local_address)
      : url_(std::move(url)), tls_(std::move(tls)), local_address_(std::move(local_address)) {}

  bool connected() const { return stream_.has_value(); }

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
    beast::error_code ec;
    tcp::resolver resolver(io_);
    auto results = resolver.resolve(url_.host, url_.port, ec);
    if (ec) return Fail(Code::kUnavailable, "cannot resolve " + url_.host + ": " + ec.message());
    beast::get_lowest_layer(*stream_).expires_after(std::chrono::seconds(30));
    if (local_address_.empty()) {
      beast::get_lowest_layer(*stream_).connect(results, ec);
    } else {
      const auto local = asio::ip::make_address(local_address_, ec);
      if (ec) return Fail(Code::kInvalidArgument, "local address '" + local_address_ + "': " + ec.message());
      auto& socket = beast::get_lowest_layer(*stream_).socket();
      ec = asio::error::host_not_found;
      for (const auto& entry : results) {
        if (entry.endpoint().protocol() != tcp::endpoint(local, 0).protocol()) continue;
        socket.close(ec);
        socket.open(entry.endpoint().protocol(), ec);
        if (!ec) socket.bind(tcp::endpoint(local, 0), ec);
        if (!ec) socket.connect(entry.endpoint(), ec);
        if (!ec) break;
      }
    }
    if (ec) {
      return Fail(Code::kUnavailable, "cannot connect to the broker at " + url_.host + ":" + url_.port + ": " +
                                          ec.message() + " (is sigild running and listening there?)");
    }
    SSL_set_tlsext_host_name(stream_->native_handle(), url_.host.c_str());
    stream_->set_verify_callback(asio::ssl::host_name_verification(url_.host), ec);
    stream_->handshake(asio::ssl::stream_base::client, ec);
    if (ec) return Fail(Code::kUnavailable, "TLS handshake with " + url_.host + ":" + url_.port + " failed: " + ec.message());
    return Ok();
  }

  Result<HttpResponse> Once(const std::string& method, const std::string& target, const std::string& body,
                            const std::string& bearer, const std::string& cookie) {
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
    beast::error_code ec;
    beast::get_lowest_layer(*stream_).expires_after(std::chrono::seconds(120));
    http::write(*stream_, req, ec);
    // A server may answer before reading the whole body (413 for an oversized one) and close:
    // the answer is still worth reading when the write fails.
    beast::error_code write_ec = ec;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    http::read(*stream_, buffer_, parser, ec);
    if (ec) {
      stream_.reset();
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
  Url url_;
  std::shared_ptr<asio::ssl::context> tls_;
  std::string local_address_;
  asio::io_context io_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> stream_;
  beast::flat_buffer buffer_;
};

Result<std::unique_ptr<HttpsClient>> HttpsClient::Create(const std::string& url, const ClientTlsConfig& tls) {
  SIGIL_ASSIGN_OR_RETURN(Url u, ParseHttpsUrl(url));
  SIGIL_ASSIGN_OR_RETURN(auto ctx, MakeClientTlsContext(tls));
  return std::unique_ptr<HttpsClient>(new HttpsClient(std::make_unique<Impl>(std::move(u), std::move(ctx), tls.local_address)));
}

HttpsClient::HttpsClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpsClient::~HttpsClient() = default;

Result<HttpResponse> HttpsClient::Send(const std::string& method, const std::string& target, const std::string& body,
                                       const std::string& bearer_token, const std::string& cookie) {
  const bool reused = impl_->connected();
  auto r = impl_->Once(method, target, body, bearer_token, cookie);
  if (!r && reused && r.error().code() == Code::kUnavailable) {
    // The broker may have closed an idle keep-alive connection: retry once on a new one. (A
    // fresh connection that failed is not retried: its error, e.g. refused, is the answer.)
    return impl_->Once(method, target, body, bearer_token, cookie);
  }
  return r;
}

}  // namespace sigil::net
