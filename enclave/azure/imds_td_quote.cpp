#include "enclave/azure/imds_td_quote.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "attestation/azure/hcl_report.h"
#include "core/encoding.h"
#include "core/json.h"

namespace sigil::enclave::azure {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// Response headers IMDS sends are a few hundred bytes.
constexpr std::uint32_t kMaxImdsHeaderBytes = 8 * 1024;
// How much of a refusal's body goes into the error: enough for IMDS's {"error": "..."}.
constexpr std::size_t kErrorExcerptBytes = 200;

Error Malformed(std::string_view what) {
  return Error(Code::kMalformedEvidence, "IMDS TD quote answer: " + std::string(what));
}

// IMDS's error text is useful to an operator, but it is untrusted bytes on a terminal: only
// printable ASCII is kept.
std::string Printable(std::string_view body) {
  std::string out;
  for (const char c : body.substr(0, kErrorExcerptBytes)) {
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  if (body.size() > kErrorExcerptBytes) out += "...";
  return out;
}

// RFC 4648 section 5 allows '=' padding; Sigil's own decoder (one spelling per value) refuses
// it. IMDS's encoder is not ours, so padding is accepted, but only the amount the length needs.
Result<Bytes> DecodeBase64UrlMaybePadded(std::string_view text) {
  std::size_t pad = 0;
  while (pad < text.size() && pad < 3 && text[text.size() - 1 - pad] == '=') ++pad;
  if (pad > 0) {
    const std::size_t data = text.size() - pad;
    if (text.size() % 4 != 0 || pad > 2 || data % 4 != 4 - pad) {
      return Fail(Code::kInvalidArgument, "wrong '=' padding");
    }
    text.remove_suffix(pad);
  }
  return Base64UrlDecode(text);
}

}  // namespace

Result<ImdsEndpoint> ParseImdsUrl(std::string_view url) {
  const auto bad = [&](std::string_view why) {
    return Fail(Code::kInvalidArgument, "IMDS URL '" + std::string(url) + "': " +
                                            std::string(why) + " (expected http://HOST[:PORT])");
  };
  constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme) return bad("not http://");
  std::string_view rest = url.substr(kScheme.size());
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#@") != std::string_view::npos) {
    return bad("only a host and port may follow http:// (the path is /acc/tdquote)");
  }
  ImdsEndpoint out;
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return bad("unterminated [IPv6] host");
    out.host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return bad("junk after [IPv6] host");
      port = rest.substr(1);
      if (port.empty()) return bad("empty port");
    }
  } else {
    const auto colon = rest.find(':');
    out.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = rest.substr(colon + 1);
      if (port.empty()) return bad("empty port");
    }
  }
  // An address, not a name: IMDS has a fixed link-local address, and a DNS lookup is a step
  // the request timeout could not bound.
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(out.host, ec);
  if (ec || out.host.empty()) return bad("the host must be an IPv4 address or [IPv6] address");
  if (address.is_v6() && url.substr(kScheme.size(), 1) != "[") return bad("write IPv6 as [ADDR]");
  if (port.empty()) {
    out.port = "80";
  } else {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos ||
        std::stoul(std::string(port)) == 0 || std::stoul(std::string(port)) > 65535) {
      return bad("the port must be a number 1-65535");
    }
    out.port = std::string(port);
  }
  return out;
}

Result<std::string> TdQuoteRequestBody(ByteSpan td_report) {
  if (td_report.size() != attestation::azure::kTdReportSize) {
    return Fail(Code::kInvalidArgument,
                "a TDREPORT is 1024 bytes, got " + std::to_string(td_report.size()));
  }
  Json body = Json::object();
  body["report"] = Base64UrlEncode(td_report);
  return DumpJson(body);
}

Result<Bytes> ParseTdQuoteResponse(std::string_view body) {
  auto parsed = ParseJson(body, "IMDS TD quote answer");
  if (!parsed) return Error(Code::kMalformedEvidence, parsed.error().message());
  const Json& root = *parsed;
  if (!root.is_object()) return Malformed("not a JSON object");
  const auto quote = root.find("quote");
  if (quote == root.end()) return Malformed("no \"quote\" member");
  if (root.size() != 1) return Malformed("members other than \"quote\"");
  if (!quote->is_string()) return Malformed("\"quote\" is not a string");
  const std::string& text = quote->get_ref<const std::string&>();
  if (text.empty()) return Malformed("\"quote\" is empty");
  auto bytes = DecodeBase64UrlMaybePadded(text);
  if (!bytes) return Malformed("\"quote\" is not base64url: " + bytes.error().message());
  return std::move(bytes).value();
}

Result<Bytes> FetchTdQuote(const ImdsConfig& config, ByteSpan td_report) {
  SIGIL_ASSIGN_OR_RETURN(const ImdsEndpoint endpoint, ParseImdsUrl(config.url));
  SIGIL_ASSIGN_OR_RETURN(std::string body, TdQuoteRequestBody(td_report));
  const std::string where = "IMDS at " + config.url;

  http::request<http::string_body> req(http::verb::post, kImdsTdQuotePath, 11);
  const bool v6 = endpoint.host.find(':') != std::string::npos;
  std::string host = v6 ? "[" + endpoint.host + "]" : endpoint.host;
  if (endpoint.port != "80") host += ":" + endpoint.port;
  req.set(http::field::host, host);
  req.set("Metadata", "true");
  req.set(http::field::content_type, "application/json");
  req.set(http::field::accept, "application/json");
  req.set(http::field::user_agent, "sigil-load");
  req.keep_alive(false);
  req.body() = std::move(body);
  req.prepare_payload();

  http::response_parser<http::string_body> parser;
  parser.header_limit(kMaxImdsHeaderBytes);
  parser.body_limit(kMaxImdsResponseBytes);

  // Asynchronous operations on one thread: beast::tcp_stream enforces its deadline only on
  // asynchronous operations, and one absolute deadline covers connect, request and answer.
  asio::io_context io;
  beast::tcp_stream stream(io);
  beast::flat_buffer buffer;
  beast::error_code failure;
  std::string stage = "connect";
  const auto deadline = std::chrono::steady_clock::now() + config.timeout;
  boost::system::error_code address_ec;
  const auto address = asio::ip::make_address(endpoint.host, address_ec);
  if (address_ec) return Fail(Code::kInvalidArgument, where + ": " + address_ec.message());
  // ParseImdsUrl checked the port: 1-5 digits, 1-65535.
  const tcp::endpoint peer(address, static_cast<unsigned short>(std::stoul(endpoint.port)));
  stream.expires_at(deadline);
  stream.async_connect(peer, [&](beast::error_code ec) {
    if (ec) {
      failure = ec;
      return;
    }
    stage = "send the TDREPORT";
    stream.expires_at(deadline);
    http::async_write(stream, req, [&](beast::error_code wec, std::size_t) {
      if (wec) {
        failure = wec;
        return;
      }
      stage = "read the answer";
      stream.expires_at(deadline);
      // The header first: Boost 1.74's parser, reading a whole message (eager), goes on into the
      // body after finding a Content-Length above body_limit and loses that error; read alone,
      // the header reports it.
      http::async_read_header(stream, buffer, parser, [&](beast::error_code hec, std::size_t) {
        if (hec) {
          failure = hec;
          return;
        }
        stream.expires_at(deadline);
        http::async_read(stream, buffer, parser, [&](beast::error_code rec, std::size_t) {
          failure = rec;
        });
      });
    });
  });
  io.run();
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);

  if (failure == beast::error::timeout) {
    return Fail(Code::kUnavailable,
                where + ": no answer within " + std::to_string(config.timeout.count()) +
                    " ms (" + stage + ")" +
                    (stage == "connect" ? " (is this an Azure TDX confidential VM?)" : ""));
  }
  if (failure == http::error::body_limit || failure == http::error::header_limit) {
    return Fail(Code::kUnavailable, where + ": the answer is larger than " +
                                        std::to_string(kMaxImdsResponseBytes / 1024) +
                                        " KiB: not a TD quote");
  }
  if (failure) {
    return Fail(Code::kUnavailable, where + ": cannot " + stage + ": " + failure.message() +
                                        " (is this an Azure TDX confidential VM?)");
  }
  const auto& res = parser.get();
  if (res.body().size() > kMaxImdsResponseBytes) {  // the parser's limit, checked once more
    return Fail(Code::kUnavailable, where + ": the answer is larger than " +
                                        std::to_string(kMaxImdsResponseBytes / 1024) +
                                        " KiB: not a TD quote");
  }
  if (res.result() != http::status::ok) {
    return Fail(Code::kUnavailable, where + " answered " + std::to_string(res.result_int()) +
                                        " to " + kImdsTdQuotePath + ": " + Printable(res.body()));
  }
  auto quote = ParseTdQuoteResponse(res.body());
  if (!quote) return std::move(quote).error().Wrap(where);
  return quote;
}

}  // namespace sigil::enclave::azure
