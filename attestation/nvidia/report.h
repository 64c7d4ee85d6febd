// NVIDIA GPU (Hopper) attestation report: a pure parser (no OpenSSL, no I/O, no clock) over the
// SPDM 1.1 GET_MEASUREMENTS request followed by the MEASUREMENTS response (DMTF DSP0274 1.1.x,
// section 10.11 "GET_MEASUREMENTS request and MEASUREMENTS response", tables "GET_MEASUREMENTS
// request message", "Successful MEASUREMENTS response message", "Measurement block format" and
// "DMTF measurement specification format"). Multi-byte integers are little-endian (DSP0274
// section 8 "Generic SPDM message format": fields are little-endian unless stated otherwise).
// The opaque data is NVIDIA's list of (u16 type, u16 length, value) records.
// Thread-safety: free functions without shared state.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"

namespace sigil::attestation::nvidia {

inline constexpr std::size_t kRequestSize = 37;      // version, code, p1, p2, nonce[32], slot
inline constexpr std::size_t kNonceSize = 32;
inline constexpr std::size_t kSignatureSize = 96;    // ECDSA P-384 r||s, big-endian
inline constexpr std::size_t kFwidSize = 48;         // SHA-384 FWID
inline constexpr std::uint8_t kSpdmVersion11 = 0x11;
inline constexpr std::uint8_t kGetMeasurementsCode = 0xE0;
inline constexpr std::uint8_t kMeasurementsCode = 0x60;
inline constexpr std::uint8_t kDmtfMeasurementSpec = 0x01;  // MeasurementSpecification bit 0

// NVIDIA opaque data record types the verifier interprets (nvtrust's OPAQUE_FIELD_ID_* table).
inline constexpr std::uint16_t kOpaqueDriverVersion = 3;
inline constexpr std::uint16_t kOpaqueVbiosVersion = 6;
inline constexpr std::uint16_t kOpaqueFwid = 20;
inline constexpr std::uint16_t kOpaqueFeatureFlags = 36;

// One DMTF measurement block (DSP0274 "Measurement block format" with MeasurementSpecification
// = DMTF). `dmtf_type` is DMTFSpecMeasurementValueType: bit 7 set = raw bit stream, clear =
// digest; bits [6:0] the component kind (0 ROM, 1 mutable firmware, 2 hardware config, ...).
struct MeasurementBlock {
  std::uint8_t index = 0;
  std::uint8_t dmtf_type = 0;
  Bytes value;
  bool operator==(const MeasurementBlock&) const = default;
};

// One opaque data record, in the order it appears.
struct OpaqueRecord {
  std::uint16_t type = 0;
  Bytes value;
  bool operator==(const OpaqueRecord&) const = default;
};

struct Report {
  // GET_MEASUREMENTS request.
  std::uint8_t request_param1 = 0;  // bit 0: signature requested (required)
  std::uint8_t request_param2 = 0;  // 0xFF: all measurements (required)
  std::array<std::uint8_t, kNonceSize> request_nonce{};
  std::uint8_t slot_id = 0;         // certificate slot 0..7
  // MEASUREMENTS response.
  std::uint8_t response_param1 = 0;
  std::uint8_t response_param2 = 0;
  std::vector<MeasurementBlock> blocks;  // in wire order; indices unique
  std::array<std::uint8_t, kNonceSize> responder_nonce{};
  std::vector<OpaqueRecord> opaque;      // in wire order; types unique
  std::array<std::uint8_t, kSignatureSize> signature{};

  // Interpreted opaque records (also present in `opaque`).
  std::string driver_version;                        // type 3, trailing NULs removed
  std::optional<std::array<std::uint8_t, 8>> vbios;  // type 6, raw 8 bytes
  std::optional<std::array<std::uint8_t, kFwidSize>> fwid;  // type 20
  std::optional<Bytes> feature_flags;                // type 36, raw

  bool operator==(const Report&) const = default;
};

// Parses request || response. Every length is checked against the bytes present and against
// the enclosing length; the record must hold exactly NumberOfBlocks blocks; a duplicated block
// index or opaque type, index 0 or 0xFF, a non-DMTF block, a block whose size disagrees with
// its value size, a truncated opaque record, and a malformed driver version (3), VBIOS (6, 8
// bytes) or FWID (20, 48 bytes) are refused.
// Bytes after the 96-byte signature are REFUSED: the signature does not cover them, so
// accepting them would let anyone append data to a verified report (several byte strings for
// one report); capture tools that return a padded driver buffer must trim it first.
// Fails with kMalformedEvidence naming the field and its offset.
Result<Report> ParseReport(ByteSpan bytes);

// The number of leading bytes the signature covers (request || response without signature) of
// a report that ParseReport accepted: bytes.size() - kSignatureSize.
std::size_t SignedSize(const Report& report);

// Re-encodes `report` (the inverse of ParseReport; used by the fuzz round trip).
Bytes SerializeReport(const Report& report);

// Evidence as handed to Sigil: raw bytes, or the ASCII hex text NVIDIA's tools write (upper or
// lower case; leading/trailing ASCII whitespace ignored, nothing else inside).
// Raw input is recognised by its first byte 0x11 (SPDM 1.1), which is not a hex digit.
// kMalformedEvidence if hex text does not decode.
Result<Bytes> DecodeEvidence(ByteSpan evidence);

// Parses the opaque data alone (exposed for tests of duplicate/truncated records).
Result<std::vector<OpaqueRecord>> ParseOpaqueData(ByteSpan opaque, std::size_t base_offset);

// Parses the measurement record alone (exposed for tests of duplicate blocks).
Result<std::vector<MeasurementBlock>> ParseMeasurementRecord(ByteSpan record,
                                                             std::size_t number_of_blocks,
                                                             std::size_t base_offset);

}  // namespace sigil::attestation::nvidia
