// The workload's whole path to plaintext weights: ephemeral X25519 key, challenge, evidence from
// the attester bound to (nonce, key), attest, release of the .sgl's DEK re-sealed to the key,
// then parallel decryption into a sealed, locked memfd. Nothing touches disk.
#pragma once

#include <string>
#include <vector>

#include "attestation/purpose.h"
#include "attestation/tpm/evidence.h"
#include "core/result.h"
#include "core/secret_bytes.h"
#include "loader/container_reader.h"
#include "loader/container_writer.h"
#include "loader/gpu/gpu_source.h"
#include "loader/locked_memfd.h"
#include "loader/sandbox_config.h"
#include "net/broker_client.h"

namespace sigil::loader {

struct LoadOptions {
  std::string broker_url, ca_file, tenant, tee = "dev", dev_platform_key, model;
  bool debug = false;
  bool require_lock = false;
  unsigned threads = 0;
  bool verify_digest = false;  // DecryptOptions::verify_digest (sigil-load --verify-digest)
  ProgressFn progress;  // decryption progress (bytes), e.g. a ProgressReporter (loader/progress.h)
  int engine_binary_fd = -1;  // measured into the evidence
  // tee "tpm" (enclave/tpm/tpm_attester.h): TCTI ("" = tpm2-tss default), PCR selection, and
  // the AK: a persistent handle ("0x81..."), else a primary AK of tpm_ak_kind.
  std::string tpm_tcti, tpm_pcrs = "sha256:0,1,2,3,4,5,6,7", tpm_ak_handle, tpm_ak_kind = "ecc-p256";
  // tee "sev-snp" / "tdx" (enclave/tsm/tsm_attester.h): the configfs-tsm report directory.
  std::string tsm_root = "/sys/kernel/config/tsm/report";
  // tee "azure-tdx-vtpm" (enclave/azure/imds_td_quote.h): the Azure IMDS the TD quote comes
  // from, http://IP[:PORT] (the default is Azure's; tests point it at a local server).
  std::string azure_imds_url = "http://169.254.169.254";
  // Measured with the engine: the canonical form of the sandbox it runs under ("" when nothing
  // is sandboxed by sigil-load: the C API, and the consumer of `cat`).
  std::string sandbox_config = CanonicalSandboxConfig({});
  // What the plaintext is for, attested with the engine and sandbox (attestation/purpose.h):
  // "sealed-memory" (run, C API), "stream" (cat) or "rewrap" (rewrap: every artifact then asks
  // for its DEK resealed to the key's newest version). The broker releases model-weights keys
  // only to "sealed-memory" and "rewrap" (broker/api/release_purpose.h).
  std::string mode = "sealed-memory";
  // tee "tpm": the PCR (SHA-256 bank) the purpose event is extended into before the quote, and
  // the event log kept across loads since boot ("" = TpmPurposeLogPath(pcr), under /run).
  unsigned tpm_purpose_pcr = attestation::tpm::kDefaultPurposePcr;
  std::string tpm_purpose_log;
  // Model owners whose signature this load requires (raw Ed25519 public keys, sigil-load
  // --trust-owner): if non-empty, every container must be signed by one of them. Empty: a
  // signed container's signature is still verified (a modified one is refused) and sent to the
  // broker, whose pins for the key decide (docs/protocol.md), and an unsigned one is sent as such.
  std::vector<Bytes> trusted_owners;
  // Composite CPU + GPU evidence (sigil-load --gpu-report-cmd / --gpu-report, docs/cli.md "GPU
  // reports"): when set, MakeAttester wraps the attester for `tee` in GpuCompositeAttester.
  gpu::GpuSourceConfig gpu;
};

// The opened container and its DEK, released by the broker after attestation.
struct ReleasedModel {
  Container container;
  SecretBytes dek;
};
Result<ReleasedModel> AttestAndRelease(const LoadOptions& options);

// One attestation and one batch release (all-or-nothing, docs/protocol.md) for the DEKs of
// every container, returned in the same order; each released key is checked to be for the
// artifact asked for. Used for model sets (model_set_load.h). `options.model` is not read.
Result<std::vector<SecretBytes>> AttestAndReleaseAll(const LoadOptions& options,
                                                     const std::vector<const Container*>& containers);

// sigil-load rewrap: the container, its DEK, and the broker's reseal of that DEK to the key's
// newest version (reseal.version == the container's version, with empty enc/sealed_dek, if it
// already was the newest), for `container` (opened and checked by the caller; `options.model`
// is not read). `options.mode` must be "rewrap". The reseal is the broker's word: the loader
// cannot open it and fetches no public key (docs/protocol.md "POST /v1/release").
struct RewrapRelease {
  Container container;
  SecretBytes dek;
  net::HeaderReseal reseal;
};
Result<RewrapRelease> AttestAndReleaseForRewrap(const LoadOptions& options, Container container);

// AttestAndRelease, then parallel decryption into a sealed, locked memfd.
Result<LockedMemfd> AttestAndDecrypt(const LoadOptions& options);

// The purpose `options` describe: its mode, MeasureEngineFd(engine_binary_fd, sandbox_config) and
// SHA-256(sandbox_config). kInvalidArgument for an unknown mode.
Result<attestation::WorkloadPurpose> LoadPurpose(const LoadOptions& options);

// The dev-TEE measurement of an open engine binary under a sandbox configuration
// (enclave/measurement.h; `sandbox_config` is CanonicalSandboxConfig() of what RunEngine applies).
Result<std::string> MeasureEngineFd(int fd, const std::string& sandbox_config);

}  // namespace sigil::loader
