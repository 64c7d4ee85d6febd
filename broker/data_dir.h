// The broker's data directory layout (docs/architecture.md) and the two start-up paths:
// `sigild init` creates it, `sigild serve` opens it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "attestation/verifier.h"
#include "broker/audit_log.h"
#include "broker/broker_context.h"
#include "broker/root_key.h"
#include "broker/store.h"

namespace sigil::broker {

struct DataDir {
  explicit DataDir(std::string root) : root_(std::move(root)) {}
  std::string Path(const std::string& rel) const { return root_ + "/" + rel; }
  std::string root_key() const { return Path("root.key"); }
  std::string store() const { return Path("store.db"); }
  std::string config() const { return Path("sigild.json"); }
  std::string tls(const std::string& f) const { return Path("tls/" + f); }
  std::string admin(const std::string& f) const { return Path("admin/" + f); }
  std::string dev(const std::string& f) const { return Path("dev/" + f); }

 private:
  std::string root_;
};

struct InitOptions {
  std::string data_dir;
  RootKeyMode root_mode = RootKeyMode::kPassphrase;
  std::string passphrase_file;
  std::string listen = "127.0.0.1:8443";
  bool dev_tee = false;
  std::vector<std::string> tls_names;
};

// Creates the data directory (refusing to overwrite an existing one), the root key, the store
// with the wrapped token and audit signing keys, TLS and admin credentials, and (with dev_tee)
// the development TEE platform key.
Result<void> InitDataDir(const InitOptions& options);

// A running broker's state: opened store, unwrapped keys, verifiers.
struct OpenBroker {
  std::unique_ptr<Store> store;
  std::unique_ptr<AuditLog> audit;
  std::unique_ptr<attestation::Registry> verifiers;
  std::unique_ptr<PolicyCache> policies = std::make_unique<PolicyCache>();
  SecretBytes root_key;
  SecretBytes token_seed;
  std::string listen;
  bool dev_root_key = false;
  BrokerContext context;
};

Result<std::unique_ptr<OpenBroker>> OpenDataDir(const std::string& data_dir, const std::string& passphrase_file);

}  // namespace sigil::broker
