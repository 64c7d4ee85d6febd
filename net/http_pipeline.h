// The transport-free half of the HTTPS server: bytes in, response bytes out. HttpConnection
// frames HTTP/1.1 requests out of whatever the socket delivered (pipelined requests included),
// refuses every framing it cannot read unambiguously, calls the handler inside a last-resort
// guard and serialises the answer. The Session in https_server.cpp only moves bytes between TLS
// and this class, so the request-path fuzz target (tests/unit/net/http_request_fuzz.cpp) runs
// exactly the code the server runs.
//
// Framing rules (RFC 9112 section 6; refused with 400 and the connection closed, because after
// an ambiguous message no later byte on the connection can be trusted to start a request):
//   - Transfer-Encoding other than exactly one "chunked" coding, or on an HTTP/1.0 request;
//   - Transfer-Encoding together with Content-Length; more than one Content-Length, or a list;
//   - obs-fold (a header line starting with SP or HTAB) and whitespace after the request line;
//   - control characters, DEL or NUL in a header name or value (Beast refuses these itself);
//   - a request target with a byte outside visible ASCII (0x21-0x7e).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "net/http_types.h"

namespace sigil::net {

struct ServerLimits {
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_header_bytes = 16 << 10;
  std::chrono::seconds read_timeout{10};   // whole request, including the TLS handshake
  std::chrono::seconds idle_timeout{30};   // between keep-alive requests
  // Threads that run the handler (and frame the request before it), so verification, key
  // agreement, signing and waits on the store never hold an I/O thread: TLS handshakes, reads and
  // writes of every other connection go on meanwhile. 0 runs the handler on the I/O thread.
  std::size_t handler_threads = 0;
  // Open connections (TLS handshake included) at once, in all and from one client address; a
  // connection over either bound is closed as soon as it is accepted, before any TLS work, so
  // thousands of idle or slow connections cannot take the broker's memory or starve others.
  std::size_t max_connections = 1024;
  std::size_t max_connections_per_address = 64;
};

using Handler = std::function<HttpResponse(const HttpRequest&)>;

// A fresh request id: 16 lowercase hex digits from the CSPRNG, or nullopt if it failed (then
// the caller must not hand out nonces or keys either). Every answer, error or not, carries one
// and every refusal is logged under it, so an operator can find the line a client reports.
std::optional<std::string> NewRequestId();

// {"error":{"code":CODE,"message":MESSAGE,"request_id":ID}}; all three are fixed strings or
// NewRequestId() output, never input ("none" when no id could be made).
std::string FixedErrorBody(std::string_view code, std::string_view message, std::string_view request_id);

// Calls handler(request). Any exception becomes a 500 with a fixed JSON body (and a request id)
// and one log record under that id, with the method and target escaped (core/log.h), so
// input cannot forge log lines.
// (noexcept: only running out of memory while building the 500 itself would terminate.)
HttpResponse CallHandlerGuarded(const Handler& handler, const HttpRequest& request) noexcept;

// The wire form of a response: status line, Server, Content-Type, Cache-Control: no-store,
// Content-Length, Connection. Total over every HttpResponse: a status outside 100-599 is sent
// as 500, a content type with bytes outside printable ASCII as application/octet-stream; the
// body is sent as is (it is length-delimited), except in the answer to a HEAD request.
std::string SerializeResponse(const HttpResponse& response, bool keep_alive, bool head = false);

class HttpConnection {
 public:
  HttpConnection(ServerLimits limits, Handler handler, std::string client_address, PeerIdentity peer);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Appends bytes received from the peer.
  void Receive(std::string_view bytes);

  struct Output {
    std::string wire;        // serialised response to send
    bool close = false;      // send it, then close the connection
    bool drain = false;      // close after reading and discarding what the client still sends
  };
  // The response to the next complete request in the buffer (or to a framing error), or
  // nullopt if more bytes are needed. Never throws; after an Output with close set, returns
  // nullopt forever.
  std::optional<Output> Next() noexcept;
  // Whether Next() could produce anything: false when nothing is buffered (it would return
  // nullopt), so the server need not hand the connection to a handler thread just to learn that.
  bool HasInput() const { return !closed_ && !in_.empty(); }


 private:
  struct Parser;
  std::optional<Output> NextUnguarded();
  Output Reject(int status, const char* message, bool drain);

  ServerLimits limits_;
  Handler handler_;
  std::string client_;
  PeerIdentity peer_;
  std::string in_;
  std::unique_ptr<Parser> parser_;  // the current message's (Beast kept out of this header)
  bool closed_ = false;
};

}  // namespace sigil::net
