// The INSECURE development attester: signs sigil-dev-evidence/v1 (attestation/dev/README.md)
// with the dev platform seed. It proves nothing about hardware; it exists so the whole attest ->
// release -> load flow runs on any Linux box, and the broker only honours it for tenants whose
// policy names tee "dev".
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include <optional>

#include "attestation/purpose.h"
#include "core/bytes.h"
#include "core/result.h"
#include "core/secret_bytes.h"
#include "enclave/attester.h"
#include "enclave/measurement.h"  // MeasureEngine: what the measurement normally is

namespace sigil::enclave {

// Builds dev evidence: payload {binding, debug, measurement, issued_at = floor(now) in Unix
// seconds, insecure, platform[, workload]}, signed by `platform_seed`. Fails with
// kInvalidArgument if the seed is not 32 bytes, the binding not 64 bytes, the measurement not 96
// lowercase hex digits, `now` is before 1970, or `workload` is invalid (ValidatePurpose) or
// names another engine than `measurement_hex`. Without `workload` the evidence proves no purpose
// and the broker releases no model-weights key for it. Thread-safe.
Result<Bytes> MakeDevEvidence(const SecretBytes& platform_seed, ByteSpan binding,
                              std::string_view measurement_hex, bool debug,
                              std::chrono::system_clock::time_point now,
                              const std::optional<attestation::WorkloadPurpose>& workload = std::nullopt);

using NowFn = std::function<std::chrono::system_clock::time_point()>;

class DevAttester final : public Attester {
 public:
  // Takes ownership of the seed. `now` defaults to the system clock (tests inject one).
  // kInvalidArgument on a seed that is not 32 bytes or a malformed measurement.
  static Result<AttesterPtr> Create(SecretBytes&& platform_seed, std::string measurement_hex,
                                    bool debug, NowFn now = {},
                                    std::optional<attestation::WorkloadPurpose> workload = std::nullopt);

  std::string_view tee() const override { return "dev"; }
  // MakeDevEvidence with the stored seed, measurement, debug flag and workload at now().
  Result<Bytes> Evidence(ByteSpan binding) const override;

 private:
  DevAttester(SecretBytes&& seed, std::string measurement, bool debug, NowFn now,
              std::optional<attestation::WorkloadPurpose> workload)
      : seed_(std::move(seed)), measurement_(std::move(measurement)), debug_(debug), now_(std::move(now)),
        workload_(std::move(workload)) {}
  SecretBytes seed_;
  std::string measurement_;
  bool debug_;
  NowFn now_;
  std::optional<attestation::WorkloadPurpose> workload_;
};

}  // namespace sigil::enclave
