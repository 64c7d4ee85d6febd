// A real sigild of a test's own, for tests that start it with options of their own (log format,
// timeouts, connection bounds): a fresh data directory, `sigild serve` on 127.0.0.1 (random
// port) with the given extra options, and tenant "acme" provisioned through the real `sigil` CLI
// with the fixture's policy (dev TEE, measurement A) and key acme/model.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/secret_bytes.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace sigil::integration {

class OwnBroker {
 public:
  // Call with ASSERT_NO_FATAL_FAILURE. The rate limits are off unless `serve_options` sets them.
  void Start(const std::vector<std::string>& serve_options);
  ~OwnBroker();

  const std::string& url() const { return url_; }
  unsigned short port() const { return port_; }
  std::string data_dir() const { return dir_.File("d"); }
  std::string ca() const { return dir_.File("d") + "/admin/ca.pem"; }
  std::string admin_dir() const { return dir_.File("d") + "/admin"; }
  // sigild's stderr so far.
  std::string log() const;
  // SIGTERM, then wait: sigild's exit status (its last records are in log() afterwards).
  int Stop();
  testing::CommandResult Sigil(std::vector<std::string> args) const;
  // The dev platform key's seed (to sign evidence) and acme/model's recipient public key.
  const SecretBytes& platform_seed() const { return *seed_; }
  const Bytes& model_key() const { return model_key_; }
  // GET /metrics with the admin certificate ("" if it failed).
  std::string ScrapeMetrics() const;

 private:
  testing::TempDir dir_;
  std::unique_ptr<testing::BackgroundProcess> sigild_;
  std::string url_;
  unsigned short port_ = 0;
  Bytes model_key_;
  std::optional<SecretBytes> seed_;
};

}  // namespace sigil::integration
