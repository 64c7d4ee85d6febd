// The workload's whole path to plaintext weights: ephemeral X25519 key, challenge, evidence from
// the attester bound to (nonce, key), attest, release of the .sgl's DEK re-sealed to the key,
// then parallel decryption into a sealed, locked memfd. Nothing touches disk.
#pragma once

#include <string>

#include "core/result.h"
#include "core/secret_bytes.h"
#include "loader/container_reader.h"
#include "loader/locked_memfd.h"

namespace sigil::loader {

struct LoadOptions {
  std::string broker_url, ca_file, tenant, tee = "dev", dev_platform_key, model;
  bool debug = false;
  bool require_lock = false;
  unsigned threads = 0;
  int engine_binary_fd = -1;  // measured into the evidence
};

// The opened container and its DEK, released by the broker after attestation.
struct ReleasedModel {
  Container container;
  SecretBytes dek;
};
Result<ReleasedModel> AttestAndRelease(const LoadOptions& options);

// AttestAndRelease, then parallel decryption into a sealed, locked memfd.
Result<LockedMemfd> AttestAndDecrypt(const LoadOptions& options);

// The dev-TEE measurement of an open engine binary (enclave/measurement.h, empty sandbox config).
Result<std::string> MeasureEngineFd(int fd);

}  // namespace sigil::loader
