// Claims of a verified NVIDIA GPU report (names listed in attestation/nvidia/README.md).
// Thread-safety: pure function.
#pragma once

#include "attestation/claims.h"
#include "attestation/nvidia/chain.h"
#include "attestation/nvidia/report.h"
#include "core/digest.h"

namespace sigil::attestation::nvidia {

// SHA-384 over the measurement blocks in ascending index order, each encoded as on the wire
// (Index, MeasurementSpecification, MeasurementSize, DMTF type, value size, value). For a
// report whose blocks are already in index order (NVIDIA's are) this is SHA-384 of the
// MeasurementRecord bytes.
Sha384Digest MeasurementDigest(const Report& report);

// "96.00.9f.00.01" from the 8 raw bytes of opaque type 6 (bytes 3,2,1,0 then byte 4, in hex,
// as nvtrust and Trustee print it).
std::string FormatVbiosVersion(const std::array<std::uint8_t, 8>& raw);

Claims MakeClaims(const Report& report, Revocation revocation);

}  // namespace sigil::attestation::nvidia
