// Fuzz target over the whole request path, as sigild serves it minus TLS: raw bytes ->
// HttpConnection (Beast parser, framing checks, limits; net/http_pipeline.h) -> Route (the real
// router and handlers) on a real BrokerContext -> serialised response. The broker is a data
// directory made once per process by InitDataDir (dev root key, dev TEE) on tmpfs where there is
// one, provisioned through the same path with tenant "acme", key "demo-model", the demo policy
// and a reference set.
//
// Input: byte 0 chooses how the request arrives, the rest is what the client sends.
//   bit 0     the connection carries an admin client certificate identity (admin API): the
//             operator's (the one `sigild init` registered), or with bit 4 the tenant-admin of
//             "acme" (registered here as the admin API registers the certificates it issues)
//   bits 1-3  k: bytes arrive in pieces of 2^(k-1) (k = 0: all at once), exercising the
//             parser's partial-input paths the way TCP segments do
// Findings: an exception out of Route (the server's last-resort guard would hide it as a 500),
// or a response that is not one well-formed HTTP/1.1 response.
#include <unistd.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "broker/data_dir.h"
#include "broker/http/principal.h"
#include "broker/http/router.h"
#include "broker/tpm/tpm_enrol_api.h"
#include "core/file_io.h"
#include "core/json.h"
#include "core/ossl.h"
#include "net/http_pipeline.h"

namespace {
using namespace sigil;

[[noreturn]] void Die(const char* what, const std::string& detail) {
  std::fprintf(stderr, "http_request_fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

struct Broker {
  std::string dir;
  std::unique_ptr<broker::OpenBroker> open;
  std::unique_ptr<broker::TpmEnrolment> tpm;
  net::PeerIdentity operator_peer, tenant_admin_peer;
};

// Who a connection is, as net/https_server.cpp reads it from a verified certificate.
enum class Identity { kNone, kOperator, kTenantAdmin };

Broker* g_broker = nullptr;

void RemoveDir() {
  if (g_broker == nullptr) return;
  std::error_code ec;
  std::filesystem::remove_all(g_broker->dir, ec);
}

// Every accepted request may add audit records, and some endpoints return or scan the whole
// log, so a broker that lives for millions of inputs gets slower with each one. A fresh broker
// every kFreshEvery inputs keeps an input's cost independent of its predecessors (a finding
// that needs more state than that is still found: the crash input is saved as usual).
constexpr std::uint64_t kFreshEvery = 2000;
std::uint64_t g_inputs = 0;

net::HttpResponse RouteOrTrap(const net::HttpRequest& r) {
  try {
    return broker::Route(g_broker->open->context, r);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "http_request_fuzz: exception out of Route: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "http_request_fuzz: unknown exception out of Route\n");
  }
  __builtin_trap();
}

void CheckWellFormed(const std::string& wire);

// Serves `input` on one connection; returns everything written back.
std::string Serve(const std::string& input, Identity who, std::size_t piece) {
  net::PeerIdentity peer;
  if (who == Identity::kOperator) peer = g_broker->operator_peer;
  if (who == Identity::kTenantAdmin) peer = g_broker->tenant_admin_peer;
  net::HttpConnection conn(net::ServerLimits{}, RouteOrTrap, "192.0.2.7", peer);
  std::string out;
  bool closed = false;
  auto drain = [&] {
    while (auto o = conn.Next()) {
      CheckWellFormed(o->wire);
      out += o->wire;
      closed = closed || o->close;
    }
  };
  if (piece == 0) piece = input.size() + 1;
  for (std::size_t i = 0; i < input.size() && !closed; i += piece) {
    conn.Receive(std::string_view(input).substr(i, piece));
    drain();
  }
  return out;
}

void Provision() {
  const char* policy = R"({"version":1,"rules":[{"name":"demo-engine","keys":["demo-*"],"when":{"allOf":[)"
                       R"({"claim":"tee","equals":"dev"},{"claim":"debug","equals":false},)"
                       R"({"claim":"measurement","in_reference":"demo-engines"}]}}]})";
  const std::string measurement(96, 'a');
  auto body = [](const std::string& json) {
    return "Content-Type: application/json\r\nContent-Length: " + std::to_string(json.size()) + "\r\n\r\n" + json;
  };
  std::string policy_json = std::string(R"({"policy":)") + Json(policy).dump() + R"(,"source":"demo-dev.json"})";
  const std::string requests[] = {
      "POST /v1/admin/tenants HTTP/1.1\r\nHost: b\r\n" + body(R"({"name":"acme"})"),
      "POST /v1/admin/tenants/acme/keys HTTP/1.1\r\nHost: b\r\n" + body(R"({"name":"demo-model"})"),
      "PUT /v1/admin/tenants/acme/policy HTTP/1.1\r\nHost: b\r\n" + body(policy_json),
      "POST /v1/admin/tenants/acme/refs HTTP/1.1\r\nHost: b\r\n" +
          body(R"({"set":"demo-engines","value":")" + measurement + R"("})"),
  };
  for (const auto& r : requests) {
    const bool tenant_route = r.find("/v1/admin/tenants/acme/") != std::string::npos;
    std::string res = Serve(r, tenant_route ? Identity::kTenantAdmin : Identity::kOperator, 0);
    if (res.rfind("HTTP/1.1 200 ", 0) != 0) Die("provisioning failed", res);
  }
}

void Setup() {
  static bool registered = false;
  if (!registered) std::atexit(RemoveDir);
  registered = true;
  g_broker = new Broker;
  std::string base = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  std::string tmpl = base + "/sigil-http-fuzz-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) Die("mkdtemp", tmpl);
  g_broker->dir = tmpl;
  broker::InitOptions init;
  init.data_dir = g_broker->dir + "/data";
  init.root_mode = broker::RootKeyMode::kDevPlaintext;
  init.dev_tee = true;
  if (auto r = broker::InitDataDir(init); !r) Die("init", r.error().message());
  auto opened = broker::OpenDataDir(init.data_dir, "");
  if (!opened) Die("open", opened.error().message());
  g_broker->open = std::move(*opened);
  auto tpm = broker::TpmEnrolment::Open(init.data_dir);
  if (!tpm) Die("tpm enrolment", tpm.error().message());
  g_broker->tpm = std::move(*tpm);
  g_broker->open->context.tpm_enrol = g_broker->tpm.get();
  // The operator certificate `sigild init` wrote and registered; a tenant-admin of acme registered
  // as the admin API registers what it issues (the serial is what a certificate would carry).
  auto pem = ReadFile(init.data_dir + "/admin/admin.pem");
  if (!pem) Die("operator certificate", pem.error().message());
  BioPtr bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())));
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) Die("operator certificate", "does not parse");
  g_broker->operator_peer = {true, "operator", {broker::PrincipalUri(broker::Role::kOperator, "")}, CertSerialHex(cert.get())};
  g_broker->tenant_admin_peer = {true, "tenant-admin:acme", {broker::PrincipalUri(broker::Role::kTenantAdmin, "acme")}, "f022"};
  if (auto r = g_broker->open->store->PutAdminCert(
          broker::AdminCertRow{"f022", "tenant-admin", "acme", 4102444800, 0, 0, "http_request_fuzz", {}});
      !r) {
    Die("register tenant-admin", r.error().message());
  }
  Provision();
}

// Each response must be one complete HTTP/1.1 response with a status the router uses: a
// header, then exactly Content-Length body bytes (or none: the answer to HEAD).
void CheckWellFormed(const std::string& wire) {
  namespace http = boost::beast::http;
  http::response_parser<http::string_body> p;
  p.body_limit(64 << 20);
  boost::beast::error_code ec;
  const std::size_t n = p.put(boost::asio::buffer(wire.data(), wire.size()), ec);
  if (ec || !p.is_header_done()) Die("malformed response header", wire.substr(0, 200));
  const int status = p.get().result_int();
  if (status < 200 || status > 599) Die("bad status", wire.substr(0, 200));
  const auto length = p.content_length();
  if (!length || (wire.size() - n != *length && wire.size() != n)) Die("body does not match Content-Length", wire.substr(0, 200));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (g_broker != nullptr && ++g_inputs % kFreshEvery == 0) {
    const std::string dir = g_broker->dir;
    delete g_broker;  // closes the store first
    g_broker = nullptr;
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  if (g_broker == nullptr) Setup();
  if (size == 0) return 0;
  const Identity who = (data[0] & 1) == 0 ? Identity::kNone : (data[0] & 16) != 0 ? Identity::kTenantAdmin : Identity::kOperator;
  const unsigned k = (data[0] >> 1) & 7;
  const std::size_t piece = k == 0 ? 0 : std::size_t{1} << (k - 1);
  std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);
  Serve(input, who, piece);
  return 0;
}
