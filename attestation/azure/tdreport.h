// TDX TDREPORT_STRUCT (1024 bytes; Intel TDX Module ABI specification, "TDREPORT_STRUCT",
// "REPORTMACSTRUCT", "TEE_TCB_INFO", "TDINFO_STRUCT"). A pure parser (no OpenSSL, no I/O).
// A TDREPORT is MAC'd with a CPU-internal key, not signed: only the same platform (the quoting
// enclave, via EVERIFYREPORT2) can authenticate it. Nothing here is authenticated.
//   0    REPORTMACSTRUCT (256): REPORTTYPE(4) reserved(12) CPUSVN(16) TEE_TCB_INFO_HASH(48)
//        TEE_INFO_HASH(48) REPORTDATA(64) reserved(32) MAC(32)
//   256  TEE_TCB_INFO (239): VALID(8) TEE_TCB_SVN(16) MRSEAM(48) MRSIGNERSEAM(48) ATTRIBUTES(8)
//        TEE_TCB_SVN2(16, TDX module 1.5) reserved(95);  495 reserved(17)
//   512  TDINFO_STRUCT (512): ATTRIBUTES(8) XFAM(8) MRTD(48) MRCONFIGID(48) MROWNER(48)
//        MROWNERCONFIG(48) RTMR0..3(4x48) SERVTD_HASH(48) reserved(64)
// Thread-safety: pure function.
#pragma once

#include <array>
#include <cstdint>

#include "core/bytes.h"
#include "core/result.h"

namespace sigil::attestation::azure {

inline constexpr std::size_t kTeeTcbInfoOffset = 256;
inline constexpr std::size_t kTeeTcbInfoSize = 239;
inline constexpr std::size_t kTdInfoOffset = 512;
inline constexpr std::size_t kTdInfoSize = 512;

using Td48 = std::array<std::uint8_t, 48>;

struct TdReport {
  std::array<std::uint8_t, 4> report_type{};  // type 0x81 (TDX), subtype, version, reserved
  std::array<std::uint8_t, 16> cpu_svn{};
  Td48 tee_tcb_info_hash{};  // SHA-384(TEE_TCB_INFO)
  Td48 tee_info_hash{};      // SHA-384(TDINFO_STRUCT)
  std::array<std::uint8_t, 64> report_data{};
  std::array<std::uint8_t, 32> mac{};
  std::array<std::uint8_t, 8> tcb_valid{};
  std::array<std::uint8_t, 16> tee_tcb_svn{};
  Td48 mr_seam{};
  Td48 mr_signer_seam{};
  std::array<std::uint8_t, 8> seam_attributes{};
  std::array<std::uint8_t, 16> tee_tcb_svn2{};
  std::array<std::uint8_t, 8> td_attributes{};
  std::array<std::uint8_t, 8> xfam{};
  Td48 mr_td{};
  Td48 mr_config_id{};
  Td48 mr_owner{};
  Td48 mr_owner_config{};
  std::array<Td48, 4> rtmr{};
  Td48 servtd_hash{};
  ByteSpan tee_tcb_info;  // the 239 bytes TEE_TCB_INFO_HASH covers (points into the input)
  ByteSpan td_info;       // the 512 bytes TEE_INFO_HASH covers
  bool debug() const { return (td_attributes[0] & 0x01) != 0; }  // TUD.DEBUG, bit 0
};

// Parses exactly 1024 bytes. kMalformedEvidence naming the field and offset if the size is
// wrong or REPORTTYPE.TYPE (byte 0) is not 0x81 (TDX).
Result<TdReport> ParseTdReport(ByteSpan bytes);

}  // namespace sigil::attestation::azure
