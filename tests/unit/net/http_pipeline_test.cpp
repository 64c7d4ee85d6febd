// HttpConnection (net/http_pipeline.h) without sockets: what it frames, what it refuses, and
// that nothing after a refused message ever reaches the handler.
#include "net/http_pipeline.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace sigil::net {
namespace {

struct Served {
  std::vector<HttpRequest> seen;  // requests the handler received
  std::string wire;               // every response byte, in order
  bool closed = false;
};

// Feeds `input` (in pieces of `piece` bytes, 0 = all at once) and collects every response.
Served Serve(const std::string& input, std::size_t piece = 0, ServerLimits limits = {}) {
  Served run;
  HttpConnection conn(limits, [&run](const HttpRequest& r) {
    run.seen.push_back(r);
    return HttpResponse{200, "application/json", "{\"n\":" + std::to_string(run.seen.size()) + "}"};
  }, "192.0.2.1", {});
  auto drain = [&] {
    while (auto out = conn.Next()) {
      run.wire += out->wire;
      if (out->close) run.closed = true;
    }
  };
  if (piece == 0) {
    conn.Receive(input);
    drain();
  } else {
    for (std::size_t i = 0; i < input.size(); i += piece) {
      conn.Receive(std::string_view(input).substr(i, piece));
      drain();
    }
  }
  return run;
}

const std::string kSmuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";

TEST(HttpPipeline, PipelinedRequestsAreAnsweredInOrder) {
  const std::string in = "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                         "POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ndef\r\n0\r\n\r\n"
                         "GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  for (std::size_t piece : {0, 1, 7}) {
    Served r = Serve(in, piece);
    ASSERT_EQ(r.seen.size(), 3u) << "piece " << piece;
    EXPECT_EQ(r.seen[0].target, "/a");
    EXPECT_EQ(r.seen[0].body, "abc");
    EXPECT_EQ(r.seen[1].body, "def");
    EXPECT_EQ(r.seen[2].target, "/c");
    EXPECT_EQ(r.seen[2].client_address, "192.0.2.1");
    EXPECT_TRUE(r.closed);
    EXPECT_NE(r.wire.find("{\"n\":3}"), std::string::npos);
    EXPECT_NE(r.wire.find("Connection: close\r\n"), std::string::npos);
  }
}

TEST(HttpPipeline, HeaderNamesAreLowerCased) {
  Served r = Serve("GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n\r\n");
  ASSERT_EQ(r.seen.size(), 1u);
  EXPECT_EQ(r.seen[0].headers.at("authorization"), "Bearer t");
  EXPECT_FALSE(r.closed);
}

struct Framing {
  const char* name;
  std::string head;  // request line and headers, without the final CRLF
  std::string body;
};

void PrintTo(const Framing& f, std::ostream* os) { *os << f.name; }

class RefusedFraming : public ::testing::TestWithParam<Framing> {};

// Each ambiguous message is answered with 400 and the connection closed; the bytes after it (a
// complete second request) never reach the handler, whether it all arrives at once or bytewise.
TEST_P(RefusedFraming, Is400AndNothingAfterItRuns) {
  const Framing& f = GetParam();
  const std::string in = f.head + "\r\n\r\n" + f.body + kSmuggled;
  for (std::size_t piece : {0, 1}) {
    Served r = Serve(in, piece);
    EXPECT_TRUE(r.seen.empty()) << "piece " << piece << ": handler saw " << r.seen.front().target;
    EXPECT_EQ(r.wire.rfind("HTTP/1.1 400 ", 0), 0u) << r.wire;
    EXPECT_NE(r.wire.find("Connection: close\r\n"), std::string::npos) << r.wire;
    EXPECT_EQ(r.wire.find("HTTP/1.1", 1), std::string::npos) << "more than one response: " << r.wire;
    EXPECT_TRUE(r.closed);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Rfc9112, RefusedFraming,
    ::testing::Values(
        // Added by http_pipeline (Beast 1.74 accepts these):
        Framing{"te_chunked_identity", "POST /v1/challenge HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity", ""},
        Framing{"te_identity", "POST /v1/challenge HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity", ""},
        Framing{"te_gzip_chunked", "POST /v1/challenge HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked", "0\r\n\r\n"},
        Framing{"te_twice", "POST /v1/challenge HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked", "0\r\n\r\n"},
        Framing{"te_gzip_then_cl", "POST /v1/challenge HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nContent-Length: 2", "{}"},
        Framing{"te_on_http10", "POST /v1/challenge HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked", "0\r\n\r\n"},
        Framing{"cl_twice_same", "POST /v1/challenge HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2", "{}"},
        Framing{"cl_list", "POST /v1/challenge HTTP/1.1\r\nHost: x\r\nContent-Length: 2, 2", "{}"},
        Framing{"obs_fold", "POST /v1/challenge HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\nContent-Length: 2", "{}"},
        Framing{"obs_fold_te", "POST /v1/challenge HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked", "0\r\n\r\n"},
        Framing{"space_after_request_line", "POST /v1/challenge HTTP/1.1\r\n Host: x\r\nContent-Length: 2", "{}"},
        Framing{"target_high_byte", "GET /v1/\x80zz HTTP/1.1\r\nHost: x", ""},
        Framing{"target_utf8", "GET /v1/\xc3\xa9 HTTP/1.1\r\nHost: x", ""},
        Framing{"http20", "GET / HTTP/2.0\r\nHost: x", ""},
        // Refused by Beast itself (kept here so an upgrade cannot silently drop them):
        Framing{"cl_then_te", "POST /v1/challenge HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked", "0\r\n\r\n"},
        Framing{"te_then_cl", "POST /v1/challenge HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5", "0\r\n\r\n"},
        Framing{"cl_conflicting", "POST /v1/challenge HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3", "{}"},
        Framing{"cl_negative", "POST /v1/challenge HTTP/1.1\r\nHost: x\r\nContent-Length: -2", "{}"},
        Framing{"te_chunked_twice", "POST /v1/challenge HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked", "0\r\n\r\n"},
        Framing{"nul_in_value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a" + std::string(1, '\0') + "b", ""},
        Framing{"ctl_in_value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01" "b", ""},
        Framing{"del_in_value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x7f" "b", ""},
        Framing{"ctl_in_name", "GET / HTTP/1.1\r\nHost: x\r\nX\x01A: a", ""},
        Framing{"space_before_colon", "POST /v1/challenge HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked", "0\r\n\r\n"},
        Framing{"bare_lf", "GET / HTTP/1.1\nHost: x", ""},
        Framing{"bare_cr", "GET / HTTP/1.1\r\nHost: x\rX-A: b", ""},
        Framing{"target_ctl", "GET /\x01 HTTP/1.1\r\nHost: x", ""},
        Framing{"bad_chunk_size", "POST /v1/challenge HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked", "zz\r\n{}\r\n0\r\n\r\n"}),
    [](const ::testing::TestParamInfo<Framing>& i) { return std::string(i.param.name); });

TEST(HttpPipeline, ChunkedIdentityIsNotAnEmptyBodyFollowedByASecondRequest) {
  // The reported smuggling: before, the handler saw POST /v1/challenge with an empty body and
  // then GET /smuggled.
  Served r = Serve("POST /v1/challenge HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n" + kSmuggled);
  EXPECT_TRUE(r.seen.empty());
  EXPECT_NE(r.wire.find("Transfer-Encoding other than exactly 'chunked'"), std::string::npos) << r.wire;
}

TEST(HttpPipeline, AnswerToHeadHasNoBodySoTheNextResponseStaysFramed) {
  Served r = Serve("HEAD /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(r.seen.size(), 2u);
  EXPECT_EQ(r.wire.find("{\"n\":1}"), std::string::npos) << r.wire;
  EXPECT_NE(r.wire.find("Content-Length: 7\r\nConnection: keep-alive\r\n\r\nHTTP/1.1 200 "), std::string::npos) << r.wire;
}

TEST(HttpPipeline, ChunkedIsCaseInsensitive) {
  Served r = Serve("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ChUnKeD\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
  ASSERT_EQ(r.seen.size(), 1u);
  EXPECT_EQ(r.seen[0].body, "{}");
}

TEST(HttpPipeline, OversizedBodyAndHeaderAre413) {
  ServerLimits small;
  small.max_body_bytes = 16;
  small.max_header_bytes = 256;
  Served body = Serve("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 17\r\n\r\n" + std::string(17, 'x'), 0, small);
  EXPECT_EQ(body.wire.rfind("HTTP/1.1 413 ", 0), 0u) << body.wire;
  EXPECT_TRUE(body.seen.empty());
  Served chunked = Serve("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n11\r\n" + std::string(17, 'x') +
                          "\r\n0\r\n\r\n", 3, small);
  EXPECT_EQ(chunked.wire.rfind("HTTP/1.1 413 ", 0), 0u) << chunked.wire;
  Served header = Serve("GET / HTTP/1.1\r\nX-A: " + std::string(300, 'a') + "\r\n\r\n", 5, small);
  EXPECT_EQ(header.wire.rfind("HTTP/1.1 413 ", 0), 0u) << header.wire;
  EXPECT_TRUE(header.closed);
  // Refused before any handler ran, and still with a request id, like every error.
  EXPECT_NE(body.wire.find(R"("request_id":")"), std::string::npos) << body.wire;
}

TEST(HttpPipeline, EndlessChunkExtensionIsRefusedNotBuffered) {
  ServerLimits small;
  small.max_header_bytes = 256;
  Served r = Serve("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1;a=" + std::string(100 << 10, 'b'), 4096,
                small);
  EXPECT_TRUE(r.closed);
  EXPECT_EQ(r.wire.rfind("HTTP/1.1 4", 0), 0u) << r.wire.substr(0, 100);
}

TEST(HttpPipeline, HandlerExceptionIsA500WithAFixedBodyAndTheConnectionGoesOn) {
  int calls = 0;
  HttpConnection conn({}, [&calls](const HttpRequest& r) -> HttpResponse {
    ++calls;
    if (r.target == "/throw") throw std::runtime_error("boom \x1b[31m\xff");
    return HttpResponse{200, "application/json", "{}"};
  }, "c", {});
  conn.Receive("GET /throw HTTP/1.1\r\nHost: x\r\n\r\nGET /ok HTTP/1.1\r\nHost: x\r\n\r\n");
  auto first = conn.Next();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->wire.rfind("HTTP/1.1 500 ", 0), 0u);
  EXPECT_NE(first->wire.find(R"({"error":{"code":"internal","message":"internal error","request_id":")"),
            std::string::npos);
  EXPECT_EQ(first->wire.find("boom"), std::string::npos);
  EXPECT_FALSE(first->close);
  auto second = conn.Next();
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->wire.rfind("HTTP/1.1 200 ", 0), 0u);
  EXPECT_EQ(calls, 2);
}

TEST(HttpPipeline, SerialisationIsTotal) {
  std::string any_bytes;
  for (int i = 0; i < 256; ++i) any_bytes.push_back(static_cast<char>(i));
  std::string s = SerializeResponse(HttpResponse{1000, "text/plain\r\nX-Evil: 1", any_bytes}, true);
  EXPECT_EQ(s.rfind("HTTP/1.1 500 ", 0), 0u);
  EXPECT_NE(s.find("Content-Type: application/octet-stream\r\n"), std::string::npos);
  EXPECT_EQ(s.find("X-Evil"), std::string::npos);
  EXPECT_NE(s.find("Content-Length: 256\r\n"), std::string::npos);
  EXPECT_EQ(s.substr(s.size() - 256), any_bytes);
  // Statuses that cannot carry a body are not sent with one.
  EXPECT_EQ(SerializeResponse(HttpResponse{204, "application/json", "{}"}, true).rfind("HTTP/1.1 500 ", 0), 0u);
  EXPECT_EQ(SerializeResponse(HttpResponse{-1, "", ""}, false).rfind("HTTP/1.1 500 ", 0), 0u);
}

}  // namespace
}  // namespace sigil::net
