// A real HTTP/1.1 server on 127.0.0.1 (ephemeral port) standing in for Azure IMDS in the
// enclave/azure tests: it reads each request off a TCP connection, records it, and writes back
// the raw bytes a handler returns (so tests can send wrong statuses, oversize or broken bodies),
// or holds the connection open without answering. It stops by itself: the destructor ends it,
// and the serving thread also exits after kLifetime even if no destructor runs.
// POSIX sockets and poll(), not the client's Boost.Beast: the test must not share the code it
// tests.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sigil::testing {

struct ImdsRequest {
  std::string method, target, metadata, content_type;
  std::string body;
  bool has_metadata = false;
};

// A handler's answer: raw HTTP bytes, or kNeverAnswer to hold the connection silently.
inline const std::string kNeverAnswer = "\x01never";

inline std::string HttpAnswer(int status, const std::string& body,
                              const std::string& content_type = "application/json") {
  const char* reason = status == 200 ? "OK" : status == 400 ? "Bad Request" : "Error";
  return "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\nContent-Type: " +
         content_type + "\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

class FakeImds {
 public:
  using Handler = std::function<std::string(const ImdsRequest&)>;
  static constexpr std::chrono::seconds kLifetime{60};

  explicit FakeImds(Handler handler) : handler_(std::move(handler)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 8) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return;  // url() is then empty and the test fails on it
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeImds() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }
  FakeImds(const FakeImds&) = delete;
  FakeImds& operator=(const FakeImds&) = delete;

  std::string url() const { return port_ == 0 ? "" : "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<ImdsRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  static std::string Lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }

  bool Stopping() const {
    return stop_ || std::chrono::steady_clock::now() - started_ > kLifetime;
  }

  // Waits for fd to become readable, checking for stop every 20 ms.
  bool WaitReadable(int fd) const {
    while (!Stopping()) {
      pollfd p{fd, POLLIN, 0};
      const int n = ::poll(&p, 1, 20);
      if (n > 0) return true;
      if (n < 0) return false;
    }
    return false;
  }

  void Serve() {
    while (WaitReadable(fd_)) {
      const int conn = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn < 0) continue;
      Handle(conn);
      ::close(conn);
    }
  }

  void Handle(int conn) {
    std::string in;
    std::size_t header_end = std::string::npos, content_length = 0;
    char buf[4096];
    // The request: headers, then Content-Length bytes of body (bounded: a test client sends ~1.4 KB).
    while (in.size() < (1 << 20)) {
      if (header_end != std::string::npos && in.size() >= header_end + 4 + content_length) break;
      if (!WaitReadable(conn)) return;
      const ssize_t n = ::recv(conn, buf, sizeof buf, 0);
      if (n <= 0) return;
      in.append(buf, static_cast<std::size_t>(n));
      if (header_end == std::string::npos && (header_end = in.find("\r\n\r\n")) != std::string::npos) {
        const std::string head = Lower(in.substr(0, header_end));
        if (const auto cl = head.find("\r\ncontent-length:"); cl != std::string::npos) {
          content_length = std::stoul(head.substr(cl + 17));
        }
      }
    }
    ImdsRequest req;
    const std::string head = in.substr(0, header_end);
    const auto line_end = head.find("\r\n");
    const std::string request_line = head.substr(0, line_end);
    const auto sp1 = request_line.find(' '), sp2 = request_line.rfind(' ');
    req.method = request_line.substr(0, sp1);
    req.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::size_t pos = line_end;
    while (pos != std::string::npos && pos < head.size()) {
      const auto next = head.find("\r\n", pos + 2);
      const std::string line = head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
      const auto colon = line.find(':');
      if (colon != std::string::npos) {
        const std::string name = Lower(line.substr(0, colon));
        std::string value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        if (name == "metadata") {
          req.metadata = value;
          req.has_metadata = true;
        }
        if (name == "content-type") req.content_type = value;
      }
      pos = next;
    }
    req.body = in.substr(header_end + 4, content_length);
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(req);
    }
    const std::string answer = handler_(req);
    if (answer == kNeverAnswer) {
      while (!Stopping()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      return;
    }
    std::size_t sent = 0;
    while (sent < answer.size()) {
      const ssize_t n = ::send(conn, answer.data() + sent, answer.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;  // the client stopped reading (e.g. it refused an oversize answer)
      sent += static_cast<std::size_t>(n);
    }
  }

  Handler handler_;
  int fd_ = -1;
  unsigned short port_ = 0;
  std::atomic<bool> stop_{false};
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  mutable std::mutex mu_;
  std::vector<ImdsRequest> requests_;
  std::thread thread_;
};

// A TCP port on 127.0.0.1 with nothing listening (bound, then released).
inline std::string ClosedLocalUrl() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
}

}  // namespace sigil::testing
