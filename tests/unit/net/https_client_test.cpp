// HttpsClient (net/https_client.h) against a scripted TLS server on 127.0.0.1: its deadlines hold
// against peers that accept and stall (before TLS, after TLS, mid-body), and its 64 MiB answer
// cap holds against a huge Content-Length and against chunked bodies, without storing the body.
#include "net/https_client.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "tests/support/temp_dir.h"

namespace sigil::net {
namespace {
namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// A self-signed P-256 certificate for 127.0.0.1 (CA:TRUE, so it is its own trust anchor), written
// as cert.pem and key.pem in `dir`.
void WriteSelfSignedCert(const std::string& dir) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("prime256v1"), EVP_PKEY_free);
  ASSERT_TRUE(key);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("stall test"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_set_pubkey(cert.get(), key.get());
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:TRUE"},
                            std::pair{NID_subject_alt_name, "IP:127.0.0.1"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    ASSERT_NE(ext, nullptr);
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  ASSERT_GT(X509_sign(cert.get(), key.get(), EVP_sha256()), 0);
  FILE* f = std::fopen((dir + "/cert.pem").c_str(), "w");
  ASSERT_NE(f, nullptr);
  PEM_write_X509(f, cert.get());
  std::fclose(f);
  f = std::fopen((dir + "/key.pem").c_str(), "w");
  ASSERT_NE(f, nullptr);
  PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
}

// Accepts one connection on 127.0.0.1 (ephemeral port) and runs `script` on it in its own thread.
// `Hold` waits until the test ends or kMaxHold passes, whichever is first, so a client that never
// gives up still gets its connection closed: a failing test fails slowly, it never hangs.
class ScriptedServer {
 public:
  static constexpr auto kMaxHold = 6s;
  using Stream = ssl::stream<tcp::socket>;
  // `tls`: handshake before the script runs (else the script gets the stream without a handshake).
  ScriptedServer(const std::string& dir, bool tls, std::function<void(ScriptedServer&, Stream&)> script)
      : tls_ctx_(ssl::context::tls_server), acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    tls_ctx_.use_certificate_chain_file(dir + "/cert.pem");
    tls_ctx_.use_private_key_file(dir + "/key.pem", ssl::context::pem);
    thread_ = std::thread([this, tls, script = std::move(script)] {
      Stream stream(io_, tls_ctx_);
      boost::system::error_code ec;
      acceptor_.accept(stream.next_layer(), ec);
      if (ec) return;
      if (tls) stream.handshake(ssl::stream_base::server, ec);
      if (!ec) script(*this, stream);
      stream.next_layer().close(ec);
    });
  }
  ~ScriptedServer() {
    done_ = true;
    boost::system::error_code ec;
    acceptor_.close(ec);  // unblocks accept if the client never came
    thread_.join();
  }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()); }

  void Hold() {
    const auto until = std::chrono::steady_clock::now() + kMaxHold;
    while (!done_ && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(10ms);
  }
  // Reads up to the end of the request's header (the client's requests here have no body).
  static void ReadRequest(Stream& s) {
    std::string got;
    char c[1024];
    boost::system::error_code ec;
    while (got.find("\r\n\r\n") == std::string::npos) {
      const std::size_t n = s.read_some(asio::buffer(c), ec);
      if (ec) return;
      got.append(c, n);
    }
  }
  static bool Write(Stream& s, const std::string& data) {
    boost::system::error_code ec;
    asio::write(s, asio::buffer(data), ec);
    return !ec;
  }

 private:
  asio::io_context io_;
  ssl::context tls_ctx_;
  tcp::acceptor acceptor_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

class HttpsClientTest : public ::testing::Test {
 protected:
  void SetUp() override { WriteSelfSignedCert(dir_.path()); }

  struct Outcome {
    Result<HttpResponse> result;
    std::chrono::milliseconds took;
  };
  // One GET with short deadlines: 500 ms to connect, 800 ms for the request.
  Outcome Get(const ScriptedServer& server, HttpsTimeouts timeouts = {500ms, 800ms}) {
    auto client = HttpsClient::Create(server.url(), ClientTlsConfig{dir_.File("cert.pem"), std::nullopt, std::nullopt});
    EXPECT_TRUE(client) << client.error().message();
    if (!client) return {Fail(Code::kInternal, "no client"), 0ms};
    (*client)->set_timeouts(timeouts);
    const auto start = std::chrono::steady_clock::now();
    auto r = (*client)->Send("GET", "/v1/status", "");
    return {std::move(r), std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start)};
  }

  testing::TempDir dir_;
};

// The server's hold (6 s) is the bound a client without working deadlines would wait.
constexpr auto kWellUnderTheHold = 3s;

TEST_F(HttpsClientTest, AnswersAreRead) {
  ScriptedServer server(dir_.path(), true, [](ScriptedServer&, ScriptedServer::Stream& s) {
    ScriptedServer::ReadRequest(s);
    ScriptedServer::Write(s, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n"
                             "Connection: close\r\n\r\n{\"ok\":true}");
  });
  auto [r, took] = Get(server);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "{\"ok\":true}");
}

TEST_F(HttpsClientTest, PeerThatAcceptsTcpAndNeverSpeaksTlsFailsAtTheConnectDeadline) {
  ScriptedServer server(dir_.path(), false, [](ScriptedServer& self, ScriptedServer::Stream&) { self.Hold(); });
  auto [r, took] = Get(server);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
  EXPECT_LT(took, kWellUnderTheHold) << r.error().message();
  EXPECT_GE(took, 400ms);
  EXPECT_NE(r.error().message().find("TLS handshake"), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find("500 ms"), std::string::npos) << r.error().message();
}

TEST_F(HttpsClientTest, BrokerThatNeverAnswersTheRequestFailsAtTheRequestDeadline) {
  ScriptedServer server(dir_.path(), true, [](ScriptedServer& self, ScriptedServer::Stream& s) {
    ScriptedServer::ReadRequest(s);
    self.Hold();
  });
  auto [r, took] = Get(server);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
  EXPECT_LT(took, kWellUnderTheHold) << r.error().message();
  EXPECT_GE(took, 700ms);
  EXPECT_NE(r.error().message().find("800 ms"), std::string::npos) << r.error().message();
}

TEST_F(HttpsClientTest, AnswerStalledMidBodyFailsAtTheRequestDeadline) {
  ScriptedServer server(dir_.path(), true, [](ScriptedServer& self, ScriptedServer::Stream& s) {
    ScriptedServer::ReadRequest(s);
    ScriptedServer::Write(s, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"partial\":");
    self.Hold();
  });
  auto [r, took] = Get(server);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
  EXPECT_LT(took, kWellUnderTheHold) << r.error().message();
  EXPECT_NE(r.error().message().find("800 ms"), std::string::npos) << r.error().message();
}

// A peer trickling bytes keeps any idle timer alive; the deadline is absolute.
TEST_F(HttpsClientTest, AnswerTrickledAByteAtATimeFailsAtTheRequestDeadline) {
  ScriptedServer server(dir_.path(), true, [](ScriptedServer&, ScriptedServer::Stream& s) {
    ScriptedServer::ReadRequest(s);
    ScriptedServer::Write(s, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
    for (int i = 0; i < 60 && ScriptedServer::Write(s, "x"); ++i) std::this_thread::sleep_for(100ms);
  });
  auto [r, took] = Get(server);
  ASSERT_FALSE(r);
  EXPECT_LT(took, kWellUnderTheHold) << r.error().message();
}

TEST_F(HttpsClientTest, HugeContentLengthIsRefusedBeforeTheBody) {
  ScriptedServer server(dir_.path(), true, [](ScriptedServer& self, ScriptedServer::Stream& s) {
    ScriptedServer::ReadRequest(s);
    ScriptedServer::Write(s, "HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\n" + std::string(4096, 'x'));
    self.Hold();
  });
  // Reserving the announced 1 TB would throw (or take the machine's memory): a clean error shows
  // the body was never allocated.
  auto [r, took] = Get(server);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
  EXPECT_NE(r.error().message().find("64 MiB"), std::string::npos) << r.error().message();
  EXPECT_LT(took, kWellUnderTheHold) << r.error().message();
}

TEST_F(HttpsClientTest, ContentLengthJustOverTheCapIsRefused) {
  ScriptedServer server(dir_.path(), true, [](ScriptedServer& self, ScriptedServer::Stream& s) {
    ScriptedServer::ReadRequest(s);
    ScriptedServer::Write(s, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(kMaxHttpsResponseBytes + 1) +
                                 "\r\n\r\n" + std::string(4096, 'x'));
    self.Hold();
  });
  auto [r, took] = Get(server);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("64 MiB"), std::string::npos) << r.error().message();
  EXPECT_LT(took, kWellUnderTheHold) << r.error().message();
}

TEST_F(HttpsClientTest, HugeChunkIsRefused) {
  ScriptedServer server(dir_.path(), true, [](ScriptedServer& self, ScriptedServer::Stream& s) {
    ScriptedServer::ReadRequest(s);
    ScriptedServer::Write(s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nE8D4A51000\r\n" + std::string(4096, 'x'));
    self.Hold();
  });
  auto [r, took] = Get(server);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("64 MiB"), std::string::npos) << r.error().message();
  EXPECT_LT(took, kWellUnderTheHold) << r.error().message();
}

TEST_F(HttpsClientTest, ChunksAddingUpPastTheCapAreRefused) {
  std::atomic<std::size_t> sent{0};
  ScriptedServer server(dir_.path(), true, [&sent](ScriptedServer&, ScriptedServer::Stream& s) {
    ScriptedServer::ReadRequest(s);
    if (!ScriptedServer::Write(s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")) return;
    const std::string chunk = "100000\r\n" + std::string(1 << 20, 'x') + "\r\n";  // 1 MiB each
    while (sent < kMaxHttpsResponseBytes + (8u << 20) && ScriptedServer::Write(s, chunk)) sent += 1 << 20;
    ScriptedServer::Write(s, "0\r\n\r\n");
  });
  auto [r, took] = Get(server, {500ms, 10s});
  ASSERT_FALSE(r) << "accepted a body of " << r->body.size() << " bytes";
  EXPECT_NE(r.error().message().find("64 MiB"), std::string::npos) << r.error().message();
}

TEST_F(HttpsClientTest, AnswerOfExactlyTheCapIsRead) {
  ScriptedServer server(dir_.path(), true, [](ScriptedServer&, ScriptedServer::Stream& s) {
    ScriptedServer::ReadRequest(s);
    ScriptedServer::Write(s, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(kMaxHttpsResponseBytes) +
                                 "\r\nConnection: close\r\n\r\n" + std::string(kMaxHttpsResponseBytes, 'x'));
  });
  auto [r, took] = Get(server, {500ms, 10s});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->body.size(), kMaxHttpsResponseBytes);
}

}  // namespace
}  // namespace sigil::net
