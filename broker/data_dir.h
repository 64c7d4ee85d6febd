// The broker's data directory layout (docs/architecture.md) and the two start-up paths:
// `sigild init` creates it, `sigild serve` opens it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "attestation/verifier.h"
#include "broker/audit/audit_log.h"
#include "broker/audit/unauth_activity.h"
#include "broker/broker_context.h"
#include "broker/broker_metrics.h"
#include "broker/keys/key_service.h"
#include "broker/keys/root_key.h"
#include "broker/keys/token.h"
#include "broker/store/store.h"

namespace sigil::broker {

struct DataDir {
  explicit DataDir(std::string root) : root_(std::move(root)) {}
  std::string Path(const std::string& rel) const { return root_ + "/" + rel; }
  std::string root_key() const { return Path("root.key"); }
  // TPM mode's opt-in recovery copy: the root key wrapped by a passphrase (Argon2id).
  std::string root_key_recovery() const { return Path("root.key.recovery"); }
  std::string store() const { return Path("store.db"); }
  // This broker's erasure chain (broker/keys/erasure_chain.h), wrapped by the root key.
  std::string shred_key() const { return Path("shred.key"); }
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
  // RootKeyMode::kTpm (tpm_seal.h): TCTI, PCRs, optional seal password, optional recovery copy.
  std::string tpm_tcti;
  std::string seal_pcrs = "sha256:0,7";
  std::string seal_password_file;
  std::string recovery_passphrase_file;
  std::string listen = "127.0.0.1:8443";
  bool dev_tee = false;
  std::vector<std::string> tls_names;
  // Where the store lives (store_open.h): empty for DATA/store.db, or a postgresql:// URL
  // shared by a fleet of brokers.
  std::string store;
  // Init: if set, keeps a copy of the root key in the store wrapped by this passphrase
  // (Argon2id), which `sigild join` needs. Join: the passphrase that unwraps that copy.
  std::string join_passphrase_file;
};

// Creates the data directory (refusing to overwrite an existing one), the root key, the store
// with the wrapped token and audit signing keys, TLS and admin credentials, and (with dev_tee)
// the development TEE platform key.
Result<void> InitDataDir(const InitOptions& options);

// Makes a data directory for another broker of a fleet that shares `options.store`: unwraps
// the store's shared root key copy with the join passphrase, checks it is the fleet's root key,
// protects this broker's own copy the way `options.root_mode` says (passphrase, TPM seal or dev
// plain text), issues this broker a server certificate from the fleet's CA (kept in the store,
// wrapped by the root key) and writes the configuration. The store is only read.
Result<void> JoinDataDir(const InitOptions& options);

// Writes DATA/admin/broker.json, the URL the admin CLI connects to, for `listen` (ADDRESS:PORT;
// a wildcard address becomes 127.0.0.1). `sigild serve` calls it again with the port it bound
// when the configured port is 0, so the CLI never sees port 0.
Result<void> WriteAdminBrokerUrl(const DataDir& d, const std::string& listen);

// A running broker's state: opened store, unwrapped keys, verifiers.
struct OpenBroker {
  std::unique_ptr<Store> store;
  std::unique_ptr<AuditLog> audit;
  std::unique_ptr<UnauthenticatedActivity> unauth;
  std::unique_ptr<attestation::Registry> verifiers;
  std::unique_ptr<PolicyCache> policies = std::make_unique<PolicyCache>();
  std::unique_ptr<BrokerMetrics> metrics;  // broker/broker_metrics.h (its collateral source set)
  SecretBytes root_key;
  std::unique_ptr<KeyService> keys;  // over store and root_key
  std::optional<Ed25519Signer> token_signer;
  IssuedTokens issued_tokens;
  Bytes admin_ca_pem;        // the admin CA certificate
  SecretBytes admin_ca_key;  // its key, unwrapped from the store
  std::string listen;
  bool dev_root_key = false;
  BrokerContext context;
};

Result<std::unique_ptr<OpenBroker>> OpenDataDir(const std::string& data_dir, const std::string& passphrase_file);

// How `sigild serve` unlocks the root key: passphrase mode, or TPM mode (TCTI override and seal
// password).
struct OpenOptions {
  std::string passphrase_file;
  std::string tpm_tcti;
  std::string seal_password_file;
  // Upgrade from a store written before rows were tagged (store_auth.h): tag every untagged
  // authority row as it stands. Only after the operator has checked the store.
  bool tag_existing_rows = false;
};
Result<std::unique_ptr<OpenBroker>> OpenDataDir(const std::string& data_dir, const OpenOptions& options);

// Writes (or replaces) the fleet's join copy in the store: the root key and this broker's
// erasure chain, each sealed with the passphrase in `join_passphrase_file` (Argon2id). A key
// destruction deletes the chain's copy (it would open the store copies the destruction shreds),
// so a fleet that destroyed a key publishes a new one, with a new passphrase, before another
// broker joins. Returns the erasure epoch published.
Result<std::uint64_t> PublishJoinCopy(const std::string& data_dir, const OpenOptions& options,
                                      const std::string& join_passphrase_file);

// TPM mode recovery after a PCR change the operator has checked: unwraps the recovery copy with
// its passphrase, checks it is this broker's root key (it must unwrap the store's token key),
// and re-seals it to the PCRs' current values, replacing root.key. Empty tpm_tcti / seal_pcrs
// keep the values recorded in root.key.
struct RecoverOptions {
  std::string data_dir;
  std::string recovery_passphrase_file;
  std::string tpm_tcti;
  std::string seal_pcrs;
  std::string seal_password_file;
};
Result<void> RecoverRootKey(const RecoverOptions& options);

}  // namespace sigil::broker
