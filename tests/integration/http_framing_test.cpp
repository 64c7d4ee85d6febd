// Hostile bytes on the socket of a real sigild (issue 10, findings 1 and 2): ambiguous HTTP/1.1
// framing is refused with 400 and the connection closed, the bytes after it never run as a
// second request; invalid UTF-8 in a body, or a high byte in a path, is a 4xx and never stops
// the broker; error bodies do not echo large input.
//
// RawTls sends exactly the bytes a test gives it (the HTTPS clients in net/ would normalise
// them), over TLS 1.3 to the broker, optionally with the operator client certificate.
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "core/json.h"
#include "net/https_client.h"
#include "tests/integration/broker_fixture.h"
#include "tests/support/matchers.h"

namespace sigil::integration {
namespace {

struct Exchange {
  std::string received;     // every byte the broker sent
  bool closed_by_broker = false;  // the broker ended the connection (vs. our read timeout)
};

// One TLS connection: writes `request`, then reads until the broker closes or `wait` passes
// without a byte.
Exchange RawTls(const std::string& request, bool operator_cert = false,
                std::chrono::seconds wait = std::chrono::seconds(5)) {
  Exchange ex;
  auto url = net::ParseHttpsUrl(BrokerEnv::Get().url());
  EXPECT_TRUE(url.has_value());
  if (!url) return ex;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(std::stoi(url->port)));
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
  timeval tv{static_cast<time_t>(wait.count()), 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);  // a FIN without close_notify reads as EOF
  EXPECT_EQ(SSL_CTX_load_verify_locations(ctx, BrokerEnv::Get().ca().c_str(), nullptr), 1);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (operator_cert) {
    const std::string dir = BrokerEnv::Get().admin_dir();
    EXPECT_EQ(SSL_CTX_use_certificate_chain_file(ctx, (dir + "/admin.pem").c_str()), 1);
    EXPECT_EQ(SSL_CTX_use_PrivateKey_file(ctx, (dir + "/admin.key").c_str(), SSL_FILETYPE_PEM), 1);
  }
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  if (SSL_connect(ssl) == 1) {
    std::size_t off = 0;
    while (off < request.size()) {
      int n = SSL_write(ssl, request.data() + off, static_cast<int>(std::min<std::size_t>(request.size() - off, 1 << 20)));
      if (n <= 0) break;  // the broker may refuse and close before reading everything
      off += static_cast<std::size_t>(n);
    }
    char buf[16384];
    for (;;) {
      int n = SSL_read(ssl, buf, sizeof buf);
      if (n > 0) {
        ex.received.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      int err = SSL_get_error(ssl, n);
      const bool timed_out = err == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK);
      ex.closed_by_broker = !timed_out;
      break;
    }
  } else {
    ADD_FAILURE() << "TLS handshake failed";
  }
  ERR_clear_error();
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  ::close(fd);
  return ex;
}

int CountResponses(const std::string& s) {
  int n = 0;
  for (std::size_t p = s.find("HTTP/1.1 "); p != std::string::npos; p = s.find("HTTP/1.1 ", p + 1)) ++n;
  return n;
}

int StatusOf(const std::string& s) {
  if (s.rfind("HTTP/1.1 ", 0) != 0 || s.size() < 12) return 0;
  return std::atoi(s.substr(9, 3).c_str());
}

std::string BodyOf(const std::string& s) {
  auto p = s.find("\r\n\r\n");
  return p == std::string::npos ? "" : s.substr(p + 4);
}

void ExpectAlive() {
  auto client = net::HttpsClient::Create(BrokerEnv::Get().url(), {BrokerEnv::Get().ca(), std::nullopt, std::nullopt});
  ASSERT_TRUE(client.has_value());
  ASSERT_OK_AND_ASSIGN(net::HttpResponse h, (*client)->Send("GET", "/healthz", ""));
  EXPECT_EQ(h.status, 200);
}

std::string Post(const std::string& method, const std::string& path, const std::string& body) {
  return method + " " + path + " HTTP/1.1\r\nHost: broker\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

bool AllAscii(const std::string& s) {
  for (unsigned char c : s) {
    if (c >= 0x80) return false;
  }
  return true;
}

// --- framing ---------------------------------------------------------------------------

struct Smuggle {
  const char* name;
  std::string head;  // first message's request line and headers, without the final CRLF CRLF
  std::string body;
};

void PrintTo(const Smuggle& s, std::ostream* os) { *os << s.name; }

class SmugglingRefused : public ::testing::TestWithParam<Smuggle> {};

// The second request is a complete GET /healthz: were the first message framed as the old
// server framed it, the broker would answer it with a second response (200).
TEST_P(SmugglingRefused, Answers400ClosesAndNeverRunsTheTrailingRequest) {
  const Smuggle& s = GetParam();
  Exchange ex = RawTls(s.head + "\r\n\r\n" + s.body + "GET /healthz HTTP/1.1\r\nHost: broker\r\n\r\n");
  EXPECT_EQ(StatusOf(ex.received), 400) << ex.received;
  EXPECT_EQ(CountResponses(ex.received), 1) << "the trailing request ran:\n" << ex.received;
  EXPECT_NE(ex.received.find("Connection: close\r\n"), std::string::npos) << ex.received;
  EXPECT_TRUE(ex.closed_by_broker) << "connection still open after the refusal";
  auto j = ParseJson(BodyOf(ex.received), "error body");
  ASSERT_TRUE(j.has_value()) << ex.received;
  EXPECT_EQ((*j)["error"].value("code", ""), "invalid_argument");
  ExpectAlive();
}

const char* kPost = "POST /v1/challenge HTTP/1.1\r\nHost: broker\r\n";
INSTANTIATE_TEST_SUITE_P(
    Rfc9112, SmugglingRefused,
    ::testing::Values(
        Smuggle{"te_chunked_identity", std::string(kPost) + "Transfer-Encoding: chunked, identity", ""},
        Smuggle{"te_identity", std::string(kPost) + "Transfer-Encoding: identity", ""},
        Smuggle{"te_gzip_chunked", std::string(kPost) + "Transfer-Encoding: gzip, chunked", "0\r\n\r\n"},
        Smuggle{"te_two_fields", std::string(kPost) + "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked", "0\r\n\r\n"},
        Smuggle{"te_gzip_with_cl", std::string(kPost) + "Transfer-Encoding: gzip\r\nContent-Length: 2", "{}"},
        Smuggle{"cl_then_te", std::string(kPost) + "Content-Length: 5\r\nTransfer-Encoding: chunked", "0\r\n\r\n"},
        Smuggle{"te_then_cl", std::string(kPost) + "Transfer-Encoding: chunked\r\nContent-Length: 5", "0\r\n\r\n"},
        Smuggle{"te_on_http10", "POST /v1/challenge HTTP/1.0\r\nHost: broker\r\nTransfer-Encoding: chunked", "0\r\n\r\n"},
        Smuggle{"cl_twice_equal", std::string(kPost) + "Content-Length: 2\r\nContent-Length: 2", "{}"},
        Smuggle{"cl_twice_different", std::string(kPost) + "Content-Length: 2\r\nContent-Length: 0", "{}"},
        Smuggle{"cl_list", std::string(kPost) + "Content-Length: 2, 2", "{}"},
        Smuggle{"obs_fold", std::string(kPost) + "X-Pad: a\r\n b\r\nContent-Length: 2", "{}"},
        Smuggle{"obs_fold_te", std::string(kPost) + "Transfer-Encoding:\r\n chunked", "0\r\n\r\n"},
        Smuggle{"nul_in_value", std::string(kPost) + "X-Pad: a" + std::string(1, '\0') + "b\r\nContent-Length: 2", "{}"},
        Smuggle{"ctl_in_value", std::string(kPost) + "X-Pad: a\x0b" "b\r\nContent-Length: 2", "{}"},
        Smuggle{"ctl_in_name", std::string(kPost) + "X\x01Pad: a\r\nContent-Length: 2", "{}"},
        Smuggle{"target_high_byte", "GET /healthz\xff HTTP/1.1\r\nHost: broker", ""}),
    [](const ::testing::TestParamInfo<Smuggle>& i) { return std::string(i.param.name); });

TEST(HttpFraming, WellFramedPipelinedRequestsAreAllAnswered) {
  // The positive control for the test above: two well-framed requests on one connection.
  Exchange ex = RawTls("POST /v1/challenge HTTP/1.1\r\nHost: broker\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "1d\r\n{\"tenant\":\"acme\",\"tee\":\"dev\"}\r\n0\r\n\r\n"
                       "GET /healthz HTTP/1.1\r\nHost: broker\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(CountResponses(ex.received), 2) << ex.received;
  EXPECT_EQ(StatusOf(ex.received), 200) << ex.received;
  EXPECT_NE(ex.received.find("{\"status\":\"ok\"}"), std::string::npos) << ex.received;
}

// --- never die on input -------------------------------------------------------------------

struct JsonEndpoint {
  const char* name;
  const char* method;
  const char* path;
  bool operator_cert;
};

void PrintTo(const JsonEndpoint& e, std::ostream* os) { *os << e.name; }

class InvalidUtf8 : public ::testing::TestWithParam<JsonEndpoint> {};

TEST_P(InvalidUtf8, IsA400WithACodeAndTheBrokerStaysUp) {
  const JsonEndpoint& e = GetParam();
  for (const std::string& body : {std::string("{\"tenant\":\"\xff\xfe\",\"tee\":\"dev\",\"name\":\"\xc3\"}"),
                                 std::string("{\"\xed\xa0\x80\":1}"), std::string("\x80")}) {
    Exchange ex = RawTls(Post(e.method, e.path, body), e.operator_cert);
    EXPECT_EQ(StatusOf(ex.received), 400) << ex.received;
    auto j = ParseJson(BodyOf(ex.received), "error body");
    ASSERT_TRUE(j.has_value()) << ex.received;
    EXPECT_EQ((*j)["error"].value("code", ""), "invalid_argument") << ex.received;
    EXPECT_TRUE(AllAscii(ex.received)) << "raw input echoed: " << ex.received;
    ExpectAlive();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Broker, InvalidUtf8,
    ::testing::Values(
        JsonEndpoint{"challenge", "POST", "/v1/challenge", false},
        JsonEndpoint{"attest", "POST", "/v1/attest", false},
        JsonEndpoint{"release", "POST", "/v1/release", false},
        JsonEndpoint{"tpm_enrol_start", "POST", "/v1/tpm/enrol/start", false},
        JsonEndpoint{"tpm_enrol_finish", "POST", "/v1/tpm/enrol/finish", false},
        JsonEndpoint{"admin_tenants_no_cert", "POST", "/v1/admin/tenants", false},
        JsonEndpoint{"admin_keys_no_cert", "POST", "/v1/admin/tenants/acme/keys", false},
        JsonEndpoint{"admin_policy_no_cert", "PUT", "/v1/admin/tenants/acme/policy", false},
        JsonEndpoint{"admin_refs_no_cert", "POST", "/v1/admin/tenants/acme/refs", false},
        JsonEndpoint{"admin_audit_query_no_cert", "POST", "/v1/admin/tenants/acme/audit/query", false},
        JsonEndpoint{"admin_tenants_operator", "POST", "/v1/admin/tenants", true},
        JsonEndpoint{"admin_policy_operator", "PUT", "/v1/admin/tenants/acme/policy", true},
        JsonEndpoint{"unknown_route", "POST", "/v1/nothing", false}),
    [](const ::testing::TestParamInfo<JsonEndpoint>& i) { return std::string(i.param.name); });

TEST(NeverDie, HighByteInThePathOfAnUnknownRouteIs4xx) {
  for (const std::string& path : std::vector<std::string>{"/v1/\x80", "/\xff\xfe", "/v1/admin/tenants/\xc3\xa9/keys", "/v1/nothing%80"}) {
    for (bool cert : {false, true}) {
      Exchange ex = RawTls("GET " + path + " HTTP/1.1\r\nHost: broker\r\nConnection: close\r\n\r\n", cert);
      const int status = StatusOf(ex.received);
      EXPECT_GE(status, 400) << ex.received;
      EXPECT_LT(status, 500) << ex.received;
      EXPECT_TRUE(AllAscii(ex.received)) << "raw path echoed: " << ex.received;
      ExpectAlive();
    }
  }
}

TEST(NeverDie, ErrorBodyForAHugeUnknownTenantIsShort) {
  const std::string name(900 << 10, 'n');
  Exchange ex = RawTls(Post("POST", "/v1/challenge", "{\"tenant\":\"" + name + "\",\"tee\":\"dev\"}"), false,
                       std::chrono::seconds(20));
  const int status = StatusOf(ex.received);
  EXPECT_GE(status, 400) << ex.received.substr(0, 300);
  EXPECT_LT(status, 500) << ex.received.substr(0, 300);
  EXPECT_LT(BodyOf(ex.received).size(), 1024u) << ex.received.substr(0, 300);
  ExpectAlive();
}

}  // namespace
}  // namespace sigil::integration
