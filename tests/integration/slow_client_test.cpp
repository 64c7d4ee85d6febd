// Slow clients (slowloris) against the real sigild, started with short deadlines
// (--request-timeout 2 --idle-timeout 3) so the test waits seconds, not minutes: a client that
// trickles its request header one byte every 100 ms, one that sends a complete header and then
// trickles its body, and one that sends a first request and then trickles the second on the same
// connection are each disconnected unanswered within their documented deadline (docs/cli.md:
// first request within --request-timeout of the accept, later ones within --idle-timeout of the
// previous answer); meanwhile another client's challenges are all answered promptly.
// Bounds: cut no earlier than the deadline minus 0.5 s and no later than the deadline plus 4 s
// (slack for a loaded 2-core CI under ASan); each prompt challenge under 2 s.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include "net/broker_client.h"
#include "tests/integration/own_broker.h"
#include "tests/support/matchers.h"

namespace sigil::integration {
namespace {

using Clock = std::chrono::steady_clock;
constexpr double kRequestTimeout = 2, kIdleTimeout = 3, kSlack = 4;

struct SlowResult {
  bool cut = false;          // the broker closed the connection
  bool answered = false;     // it sent anything first (it must not: the request never completed)
  double seconds = 0;        // from the TCP connect (or from the first answer, see `after_answer`)
  std::string first_answer;  // the answer to `first_request`, if one was sent
};

// Connects over TLS, sends `first_request` whole (if any) and reads its answer, then sends
// `slow` one byte every 100 ms until the broker closes the connection (or 30 s pass).
// `seconds` counts from the connect, or from the first answer if there was a first request.
SlowResult Trickle(const OwnBroker& b, const std::string& first_request, const std::string& slow) {
  SlowResult out;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in remote{};
  remote.sin_family = AF_INET;
  ::inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr);
  remote.sin_port = htons(b.port());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof remote) != 0) {
    ::close(fd);
    return out;
  }
  auto start = Clock::now();
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);  // a FIN without close_notify reads as EOF
  SSL_CTX_load_verify_locations(ctx, b.ca().c_str(), nullptr);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  char buf[4096];
  if (SSL_connect(ssl) == 1) {
    bool ok = true;
    if (!first_request.empty()) {
      ok = SSL_write(ssl, first_request.data(), static_cast<int>(first_request.size())) > 0;
      const int n = ok ? SSL_read(ssl, buf, sizeof buf) : 0;
      ok = n > 0;
      if (ok) out.first_answer.assign(buf, static_cast<std::size_t>(n));
      start = Clock::now();
    }
    for (std::size_t i = 0; ok && Clock::now() - start < std::chrono::seconds(30); ++i) {
      if (SSL_write(ssl, slow.data() + i % slow.size(), 1) <= 0) break;  // (the header never ends)
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) > 0) {
        const int n = SSL_read(ssl, buf, sizeof buf);
        if (n > 0) out.answered = true;
        break;
      }
    }
  }
  out.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  char c;
  out.cut = ::recv(fd, &c, 1, MSG_DONTWAIT) == 0 || SSL_get_shutdown(ssl) != 0 || out.seconds < 30;
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  ::close(fd);
  return out;
}

TEST(SlowClients, SlowHeadersBodiesAndKeptAliveRequestsAreCutAtTheirDeadlinesWhileOthersAreServed) {
  std::signal(SIGPIPE, SIG_IGN);  // writes to a connection the broker closed fail instead
  OwnBroker b;
  ASSERT_NO_FATAL_FAILURE(b.Start({"--request-timeout", "2", "--idle-timeout", "3"}));

  // The other client: a challenge every 100 ms for as long as the slow ones run.
  std::atomic<bool> stop{false};
  std::vector<double> prompt_ms;
  int failed = 0;
  std::thread other([&] {
    while (!stop) {
      const auto t0 = Clock::now();
      auto c = net::BrokerClient::Connect(b.url(), b.ca());
      auto nonce = c ? (*c)->Challenge("acme", "dev") : Result<Bytes>(Fail(Code::kInternal, "connect"));
      if (nonce) {
        prompt_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      } else {
        ++failed;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });

  const std::string header = "POST /v1/challenge HTTP/1.1\r\nHost: sigil\r\nContent-Type: application/json\r\n";
  SlowResult slow_header, slow_body, slow_second;
  std::thread t1([&] { slow_header = Trickle(b, "", header + "X-Slow: " + std::string(4096, 'a')); });
  std::thread t2([&] {
    slow_body = Trickle(b, "", header + "Content-Length: 100000\r\n\r\n{\"tenant\":\"acme\",\"tee\":\"dev\",\"x\":\"" +
                                   std::string(90000, 'b'));
  });
  std::thread t3([&] {
    slow_second = Trickle(b, header + "Content-Length: 29\r\n\r\n{\"tenant\":\"acme\",\"tee\":\"dev\"}", header +
                                                                                                   "X-Slow: " + std::string(4096, 'c'));
  });
  t1.join();
  t2.join();
  t3.join();
  stop = true;
  other.join();

  for (const auto& [name, r, deadline] : {std::tuple{"slow header", &slow_header, kRequestTimeout},
                                          std::tuple{"slow body", &slow_body, kRequestTimeout},
                                          std::tuple{"slow second request", &slow_second, kIdleTimeout}}) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(r->cut) << "not disconnected";
    EXPECT_FALSE(r->answered) << "an incomplete request was answered";
    EXPECT_GE(r->seconds, deadline - 0.5) << "cut before its deadline";
    EXPECT_LE(r->seconds, deadline + kSlack) << "cut too late";
  }
  EXPECT_EQ(slow_second.first_answer.rfind("HTTP/1.1 200", 0), 0u) << slow_second.first_answer;
  EXPECT_EQ(failed, 0) << "the other client was refused while the slow ones ran";
  ASSERT_GE(prompt_ms.size(), 10u);
  for (double ms : prompt_ms) EXPECT_LT(ms, 2000.0) << "the other client waited";
  std::printf("slow header cut after %.1f s, slow body %.1f s, slow second request %.1f s; %zu challenges meanwhile, "
              "slowest %.0f ms\n",
              slow_header.seconds, slow_body.seconds, slow_second.seconds, prompt_ms.size(),
              *std::max_element(prompt_ms.begin(), prompt_ms.end()));
}

}  // namespace
}  // namespace sigil::integration
