#include "net/http_pipeline.h"

#include <algorithm>
#include <exception>
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http.hpp>
#include <openssl/rand.h>

#include "core/encoding.h"
#include "core/log.h"

namespace sigil::net {
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

// A partial message may sit in the buffer while more bytes arrive; beyond this, whatever it is
// (a header Beast has not yet measured against its limit, a chunk-size line with endless
// extensions) it is refused rather than buffered.
std::size_t MaxPending(const ServerLimits& limits) { return limits.max_header_bytes + (64 << 10); }

bool IsVisibleAscii(unsigned char c) { return c >= 0x21 && c <= 0x7e; }

// Checks Beast does not make, on a header it has accepted. `raw` is the header section exactly
// as received (request line to the empty line). Returns a fixed message, or nullptr if the
// message is framed unambiguously.
const char* FramingError(std::string_view raw, const http::request<http::string_body>& h) {
  if (h.version() < 10 || h.version() > 19) return "unsupported HTTP version (HTTP/1.0 and HTTP/1.1 only)";
  for (char c : h.target()) {
    if (!IsVisibleAscii(static_cast<unsigned char>(c))) {
      return "request target has a byte outside visible ASCII (percent-encode it)";
    }
  }
  // Beast unfolds obs-fold silently and accepts whitespace after the request line; RFC 9112
  // (sections 2.2 and 5.2) lets a server refuse both, and it must, because a proxy in front may
  // read such a header differently.
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const auto c = static_cast<unsigned char>(raw[i]);
    if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f) {
      return "header contains a control character";
    }
    if (c == '\n' && i + 1 < raw.size() && (raw[i + 1] == ' ' || raw[i + 1] == '\t')) {
      return "obsolete header line folding (or whitespace before the first header) is not accepted";
    }
  }
  int transfer_encodings = 0, content_lengths = 0;
  beast::string_view te, cl;
  for (const auto& f : h) {
    if (f.name() == http::field::transfer_encoding) {
      ++transfer_encodings;
      te = f.value();
    } else if (f.name() == http::field::content_length) {
      ++content_lengths;
      cl = f.value();
    }
  }
  if (transfer_encodings > 0) {
    if (h.version() < 11) return "Transfer-Encoding on an HTTP/1.0 request";
    if (transfer_encodings > 1) return "more than one Transfer-Encoding header";
    if (!beast::iequals(te, "chunked")) return "Transfer-Encoding other than exactly 'chunked'";
    if (content_lengths > 0) return "both Transfer-Encoding and Content-Length";
  }
  if (content_lengths > 1) return "more than one Content-Length header";
  if (content_lengths == 1) {
    if (cl.empty()) return "empty Content-Length";
    for (char c : cl) {
      if (c < '0' || c > '9') return "Content-Length must be a single decimal number";
    }
  }
  return nullptr;
}

HttpRequest ToRequest(http::request<http::string_body>&& req, const std::string& client, const PeerIdentity& peer) {
  HttpRequest in;
  in.method = std::string(req.method_string());
  in.target = std::string(req.target());
  for (const auto& f : req) {
    std::string name(f.name_string());
    for (auto& c : name) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    in.headers[name] = std::string(f.value());
  }
  in.body = std::move(req.body());
  in.client_address = client;
  in.peer = peer;
  return in;
}

void LogInternalError(const std::string& id, const HttpRequest& request, const char* detail) noexcept {
  try {
    log::Error(std::string("internal error (exception) handling a request: ") + detail,
               {{"request_id", id}, {"client", request.client_address}, {"method", request.method},
                {"target", request.target}});
  } catch (...) {
    log::Error("internal error (and describing it failed)", {{"request_id", id}});
  }
}

bool HasNoBody(int status) { return status < 200 || status == 204 || status == 304; }

}  // namespace

std::optional<std::string> NewRequestId() {
  std::uint8_t id[8];
  if (RAND_bytes(id, sizeof id) != 1) return std::nullopt;
  return HexEncode(ByteSpan(id, sizeof id));
}

std::string FixedErrorBody(std::string_view code, std::string_view message, std::string_view request_id) {
  std::string s = "{\"error\":{\"code\":\"";
  s += code;
  s += "\",\"message\":\"";
  s += message;
  s += "\",\"request_id\":\"";
  s += request_id;
  s += "\"}}";
  return s;
}

HttpResponse CallHandlerGuarded(const Handler& handler, const HttpRequest& request) noexcept {
  std::string id = "none";
  try {
    return handler(request);
  } catch (const std::exception& e) {
    id = NewRequestId().value_or("none");
    LogInternalError(id, request, e.what());
  } catch (...) {
    id = NewRequestId().value_or("none");
    LogInternalError(id, request, "unknown exception");
  }
  return HttpResponse{500, "application/json", FixedErrorBody("internal", "internal error", id)};
}

std::string SerializeResponse(const HttpResponse& response, bool keep_alive, bool head) {
  // Statuses that cannot carry a length-delimited body would desynchronise the client.
  int status = response.status;
  if (status > 599 || HasNoBody(status)) status = 500;
  bool printable = !response.content_type.empty();
  for (char c : response.content_type) {
    if (c < 0x20 || c > 0x7e) printable = false;
  }
  std::string out;
  out.reserve(192 + response.body.size());
  out += "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  const beast::string_view reason = http::obsolete_reason(static_cast<http::status>(status));
  out.append(reason.data(), reason.size());
  out += "\r\nServer: sigild\r\nContent-Type: ";
  out += printable ? std::string_view(response.content_type) : std::string_view("application/octet-stream");
  if (response.retry_after_seconds > 0) {
    out += "\r\nRetry-After: ";
    out += std::to_string(response.retry_after_seconds);
  }
  if (!response.set_cookie.empty() &&
      std::all_of(response.set_cookie.begin(), response.set_cookie.end(), [](char c) { return c >= 0x20 && c <= 0x7e; })) {
    out += "\r\nSet-Cookie: ";
    out += response.set_cookie;
  }
  out += "\r\nCache-Control: no-store\r\nContent-Length: ";
  out += std::to_string(response.body.size());
  out += keep_alive ? "\r\nConnection: keep-alive\r\n\r\n" : "\r\nConnection: close\r\n\r\n";
  if (!head) out += response.body;
  return out;
}

struct HttpConnection::Parser {
  http::request_parser<http::string_body> p;
  bool header_checked = false;
};

HttpConnection::HttpConnection(ServerLimits limits, Handler handler, std::string client_address, PeerIdentity peer)
    : limits_(limits), handler_(std::move(handler)), client_(std::move(client_address)), peer_(std::move(peer)) {}

HttpConnection::~HttpConnection() = default;

void HttpConnection::Receive(std::string_view bytes) {
  if (!closed_) in_.append(bytes);
}

HttpConnection::Output HttpConnection::Reject(int status, const char* message, bool drain) {
  closed_ = true;
  parser_.reset();
  in_.clear();
  // Refused before the router saw it, so logged here, under an id the client also gets.
  const std::string id = NewRequestId().value_or("none");
  log::Info(std::string("request refused before routing: ") + message,
            {{"request_id", id}, {"client", client_}, {"status", status}, {"code", "invalid_argument"}});
  HttpResponse r{status, "application/json", FixedErrorBody("invalid_argument", message, id)};
  return Output{SerializeResponse(r, false), true, drain};
}

std::optional<HttpConnection::Output> HttpConnection::Next() noexcept {
  try {
    return NextUnguarded();
  } catch (...) {
    closed_ = true;
    try {
      const std::string id = NewRequestId().value_or("none");
      log::Error("internal error framing a request; connection closed", {{"request_id", id}, {"client", client_}});
      HttpResponse r{500, "application/json", FixedErrorBody("internal", "internal error", id)};
      return Output{SerializeResponse(r, false), true, true};
    } catch (...) {
      return std::nullopt;
    }
  }
}

std::optional<HttpConnection::Output> HttpConnection::NextUnguarded() {
  if (closed_) return std::nullopt;
  if (!parser_) {
    parser_ = std::make_unique<Parser>();
    parser_->p.body_limit(limits_.max_body_bytes);
    parser_->p.header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
  }
  auto& p = parser_->p;
  while (!p.is_done()) {
    if (in_.empty()) return std::nullopt;
    beast::error_code ec;
    const std::size_t n = p.put(boost::asio::buffer(in_.data(), in_.size()), ec);
    if (ec == http::error::body_limit || ec == http::error::header_limit) {
      return Reject(413, "request too large", true);
    }
    if (ec && ec != http::error::need_more) return Reject(400, "malformed HTTP request", true);
    if (!parser_->header_checked && p.is_header_done()) {
      // Without eager parsing, the put() that completes the header consumes exactly the header.
      if (const char* why = FramingError(std::string_view(in_.data(), n), p.get())) {
        return Reject(400, why, true);
      }
      parser_->header_checked = true;
    }
    in_.erase(0, n);
    if (ec == http::error::need_more || n == 0) {
      if (in_.size() > MaxPending(limits_)) return Reject(413, "request too large", true);
      return std::nullopt;
    }
  }
  const bool keep_alive = p.keep_alive();
  const bool head = p.get().method() == http::verb::head;
  HttpRequest request = ToRequest(p.release(), client_, peer_);
  parser_.reset();
  HttpResponse response = CallHandlerGuarded(handler_, request);
  if (!keep_alive) closed_ = true;
  return Output{SerializeResponse(response, keep_alive, head), !keep_alive, false};
}

}  // namespace sigil::net
