#include "enclave/dev_attester.h"

#include "attestation/dev/evidence.h"
#include "core/ed25519.h"
#include "core/encoding.h"
#include "core/protocol.h"

namespace sigil::enclave {
namespace {
namespace dev = attestation::dev;

Result<void> CheckMeasurement(std::string_view hex) {
  auto m = HexDecode(hex);
  if (!m || m->size() != dev::kMeasurementSize || HexEncode(*m) != hex) {
    return Fail(Code::kInvalidArgument, "dev attester: measurement must be 96 lowercase hex digits");
  }
  return Ok();
}
}  // namespace

Result<Bytes> MakeDevEvidence(const SecretBytes& platform_seed, ByteSpan binding,
                              std::string_view measurement_hex, bool debug,
                              std::chrono::system_clock::time_point now,
                              const std::optional<attestation::WorkloadPurpose>& workload) {
  if (platform_seed.size() != kEd25519SeedSize) {
    return Fail(Code::kInvalidArgument, "dev attester: platform seed must be 32 bytes");
  }
  if (binding.size() != protocol::kBindingSize) {
    return Fail(Code::kInvalidArgument, "dev attester: binding must be 64 bytes, got " +
                                            std::to_string(binding.size()));
  }
  SIGIL_RETURN_IF_ERROR(CheckMeasurement(measurement_hex));
  auto since_epoch = now.time_since_epoch();
  if (since_epoch.count() < 0) return Fail(Code::kInvalidArgument, "dev attester: clock is before 1970");
  dev::DevPayload p;
  p.binding.assign(binding.begin(), binding.end());
  p.debug = debug;
  p.measurement = std::string(measurement_hex);
  p.issued_at = std::chrono::duration_cast<std::chrono::seconds>(since_epoch).count();
  p.workload = workload;
  SIGIL_ASSIGN_OR_RETURN(std::string payload, dev::SerializePayload(p));
  dev::DevEnvelope envelope;
  envelope.payload = ToBytes(payload);
  SIGIL_ASSIGN_OR_RETURN(envelope.signature,
                         Ed25519Sign(platform_seed, dev::SigningInput(envelope.payload)));
  return dev::SerializeEnvelope(envelope);
}

Result<AttesterPtr> DevAttester::Create(SecretBytes&& platform_seed, std::string measurement_hex,
                                        bool debug, NowFn now,
                                        std::optional<attestation::WorkloadPurpose> workload) {
  if (platform_seed.size() != kEd25519SeedSize) {
    return Fail(Code::kInvalidArgument, "dev attester: platform seed must be 32 bytes");
  }
  SIGIL_RETURN_IF_ERROR(CheckMeasurement(measurement_hex));
  if (workload) {
    SIGIL_RETURN_IF_ERROR(attestation::ValidatePurpose(*workload));
    if (workload->engine != measurement_hex) {
      return Fail(Code::kInvalidArgument, "dev attester: workload engine must equal the measurement");
    }
  }
  if (!now) now = [] { return std::chrono::system_clock::now(); };
  return AttesterPtr(new DevAttester(std::move(platform_seed), std::move(measurement_hex), debug,
                                     std::move(now), std::move(workload)));
}

Result<Bytes> DevAttester::Evidence(ByteSpan binding) const {
  return MakeDevEvidence(seed_, binding, measurement_, debug_, now_(), workload_);
}

}  // namespace sigil::enclave
