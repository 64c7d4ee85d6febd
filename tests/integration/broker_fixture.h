// A real sigild process on 127.0.0.1 (random port) with a fresh data directory, provisioned
// through the real `sigil` CLI: tenants acme (policy + keys), bob (no policy), carol (policy).
// Shared by every integration test in one binary; it stops when the suite ends (or the test
// process dies: PR_SET_PDEATHSIG).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/bytes.h"
#include "core/hpke.h"
#include "core/secret_bytes.h"
#include "net/broker_client.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace sigil::integration {

inline constexpr const char* kMeasurementA =
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
inline constexpr const char* kAcmePolicy = R"({
  // acme admits the dev TEE, non-debug, approved engines, for keys "model" (model-weights) and
  // "data" (a dataset) only
  "version": 1,
  "rules": [{"name": "approved-engines", "keys": ["model", "data"],
             "when": {"allOf": [{"claim": "tee", "equals": "dev"},
                                {"claim": "debug", "equals": false},
                                {"claim": "measurement", "in_reference": "engines"}]}}]
})";
inline constexpr const char* kMeasurementB =
    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

class BrokerEnv : public ::testing::Environment {
 public:
  void SetUp() override;
  void TearDown() override;

  static BrokerEnv& Get();
  std::string url() const { return url_; }
  std::string data_dir() const { return dir_->File("broker"); }
  std::string admin_dir() const { return data_dir() + "/admin"; }
  std::string ca() const { return admin_dir() + "/ca.pem"; }
  // sigild's stderr (its log) so far.
  std::string log() const;
  // Runs `sigil ARGS...` against this broker.
  testing::CommandResult Sigil(std::vector<std::string> args) const;
  std::unique_ptr<net::BrokerClient> Client() const;
  Result<SecretBytes> PlatformSeed() const;
  // The recipient public key of tenant/key (newest version), from `sigil key public`.
  Bytes PublicKey(const std::string& tenant, const std::string& key) const;

 private:
  std::unique_ptr<testing::TempDir> dir_;
  std::unique_ptr<testing::BackgroundProcess> sigild_;
  std::string url_;
};

// A workload identity: ephemeral X25519 key pair plus helpers to build evidence and artifacts.
struct Workload {
  hpke::KeyPair key;
  // The purpose the evidence states (workload.mode; engine = the measurement, sandbox = SHA-256
  // of ""): "sealed-memory" as sigil-load run would, "stream" as cat would, "" for none.
  std::string mode = "sealed-memory";
  static Workload Make();
  // Dev evidence over Binding(nonce, bound_key) (defaults to this workload's key).
  Bytes Evidence(ByteSpan nonce, const std::string& measurement, bool debug, ByteSpan bound_key = {}) const;
  // The same, signed with another broker's dev platform key.
  Bytes EvidenceFor(const SecretBytes& platform_seed, ByteSpan nonce, const std::string& measurement, bool debug,
                    ByteSpan bound_key = {}) const;
};

// An artifact sealed to tenant/key version 1 with a random DEK (returned for comparison).
struct TestArtifact {
  net::ReleaseArtifact artifact;
  SecretBytes dek;
};
TestArtifact MakeArtifact(const std::string& tenant, const std::string& key);

// A fresh dev workload with `measurement` (not debug) attests for `tenant` and asks for
// `artifact`: whether the broker released it.
bool DevWorkloadReleased(const std::string& tenant, const TestArtifact& artifact, const std::string& measurement);

// The first column of the first row `sql` (with text parameters `args`) selects from the SQLite
// file `db_path`, opened read-only; empty if there is none. For tests that look at the raw store.
Bytes ReadSqliteBlob(const std::string& db_path, const std::string& sql, const std::vector<std::string>& args);

// The audit records of `tenant` as JSON objects (newest last).
std::vector<Json> AuditRecords(const std::string& tenant);

}  // namespace sigil::integration
