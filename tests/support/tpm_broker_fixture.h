// A per-test TPM broker for the integration tests whose sigild must own a TPM of its own
// (tpm_enrol_test, tpm_ek_enrol_test): a real swtpm (state in DIR/swtpm) and a real sigild whose
// root key is sealed to it (`sigild init --seal tpm`), serving on 127.0.0.1 (random port, data in
// DIR/broker), provisioned through the real `sigil` CLI. Both processes stop in TearDown or when
// the test process dies (PR_SET_PDEATHSIG, see process.h and swtpm.h).
// Nothing starts in SetUp but the swtpm: each test chooses when to Init(), StartBroker() and
// Provision(), because some of them change the TPM or the data directory in between.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/json.h"
#include "core/result.h"
#include "tests/support/process.h"
#include "tests/support/swtpm.h"
#include "tests/support/temp_dir.h"

namespace sigil::testing {

class TpmBrokerFixture : public ::testing::Test {
 protected:
  // The PCRs `Init()` seals the root key to.
  static constexpr const char* kSealPcrs = "sha256:0,7";
  // Where `Provision()` persists the swtpm's AK (`sigil-load tpm-ak --persist`).
  static constexpr const char* kAkHandle = "0x81010002";

  // Starts the swtpm and writes the recovery passphrase file DIR/recovery.txt.
  void SetUp() override;
  // Stops sigild, then the swtpm.
  void TearDown() override;

  std::string State() const { return dir_.File("swtpm"); }
  std::string Data() const { return dir_.File("broker"); }
  std::string Ca() const { return Data() + "/admin/ca.pem"; }

  // Starts a swtpm on State(); starting again on the same state is a reboot of the same TPM.
  void StartTpm();
  void RestartTpm();
  // Runs `sigild ARGS...`.
  CommandResult Sigild(std::vector<std::string> args);
  // `sigild init --seal tpm` on Data(), sealed to kSealPcrs of the current swtpm.
  CommandResult Init();
  // Starts `sigild serve` (unsealing through the current swtpm) and sets url_; false if it
  // exits before writing its port file (its log is DIR/sigild.log).
  bool StartBroker();
  void StopBroker();
  // Runs `sigil --admin-dir DATA/admin --broker URL ARGS...`.
  CommandResult Sigil(std::vector<std::string> args) const;
  // Tenants acme and bob, each with a policy releasing key "model" to the claim tee == tpm, and
  // the swtpm's AK persisted at kAkHandle with its public key in DIR/ak.pem (not registered).
  void Provision();
  // Challenge + attest for `tenant` with a fresh quote (PCRs sha256:0,1,7) from the AK at
  // kAkHandle, bound to a fresh X25519 key: the broker's answer (a token) or its refusal.
  Result<std::string> Attest(const std::string& tenant);
  // "sigil-tpm-quote/v1" evidence: a fresh quote (PCRs sha256:0,1,7) by the AK at kAkHandle with
  // the first 32 bytes of `binding` as qualifying data.
  Result<Bytes> QuoteEvidence(ByteSpan binding);
  // The audit records of `tenant` as JSON objects (newest last); empty if the listing fails.
  std::vector<Json> Audit(const std::string& tenant) const;

  TempDir dir_;
  std::optional<Swtpm> swtpm_;
  std::unique_ptr<BackgroundProcess> sigild_;
  std::string url_;
};

}  // namespace sigil::testing
