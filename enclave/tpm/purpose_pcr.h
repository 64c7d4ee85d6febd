// The TPM half of purpose binding (attestation/purpose.h): before each quote, sigil-load extends
// SHA-256(canonical purpose event) into a purpose PCR (SHA-256 bank; attestation/tpm/evidence.h
// explains the default, 13, and why only 8-15) and appends the event to a log file that lives as
// long as the PCR does (/run is cleared at boot, as the PCR is at TPM reset). The broker replays
// the log against the quoted PCR (attestation/tpm/purpose_log.h) and counts the last event.
//
// The log file is locked (flock) from before the extend until after the quote, so concurrent
// loaders on one TPM serialise and each quote's last event is its own. If the log does not
// replay to the PCR's current value (first load since boot, log lost, or another program
// extended the PCR), a new log segment starts at the current value: the verifier needs only a
// consistent history from some start value, not one from boot (purpose_log.h says why).
// Thread-safety: functions are thread-safe; a PurposeLogFile is not.
#pragma once

#include <tss2/tss2_tpm2_types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "attestation/purpose.h"
#include "attestation/tpm/evidence.h"
#include "core/result.h"
#include "core/unique_fd.h"
#include "enclave/tpm/esys.h"

namespace sigil::enclave::tpm {

struct TpmPurposeConfig {
  attestation::WorkloadPurpose event;
  std::uint32_t pcr = attestation::tpm::kDefaultPurposePcr;
  std::string log_path;  // TpmPurposeLogPath(pcr) unless set
};

// "/run/sigil/tpm-purpose-pcr<N>.json".
std::string TpmPurposeLogPath(std::uint32_t pcr);

// kInvalidArgument unless pcr is within kMinPurposePcr..kMaxPurposePcr, the event is valid and
// a log path is set.
Result<void> ValidatePurposeConfig(const TpmPurposeConfig& c);

// Adds sha256:pcr to `sel` (whose SHA-256 bank ParsePcrSelection guarantees).
void SelectPurposePcr(TPML_PCR_SELECTION& sel, std::uint32_t pcr);

// The open, exclusively locked log file; the lock is released on destruction.
class PurposeLogFile {
 public:
  // Creates the file (0600) and a missing parent directory (0700); blocks until the lock is
  // ours. kUnavailable naming the path on failure.
  static Result<PurposeLogFile> OpenLocked(const std::string& path);
  // The stored log, or nullopt if the file is empty or does not parse (a new segment starts).
  std::optional<attestation::tpm::PurposeLog> Read() const;
  Result<void> Write(const attestation::tpm::PurposeLog& log) const;

 private:
  PurposeLogFile(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  UniqueFd fd_;
  std::string path_;
};

// Reads the purpose PCR, continues the stored log if it replays to that value (else starts a
// new segment there), extends the event with TPM2_PCR_Extend (Part 3 s.22.2, SHA-256 bank only)
// and stores the log with the event appended, which is returned.
Result<attestation::tpm::PurposeLog> ExtendPurpose(const EsysContext& ctx, const TpmPurposeConfig& c,
                                                   const PurposeLogFile& file);

}  // namespace sigil::enclave::tpm
