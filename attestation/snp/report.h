// SEV-SNP ATTESTATION_REPORT: a pure parser (no OpenSSL, no I/O, no clock) over the 1184-byte
// structure of AMD "SEV Secure Nested Paging Firmware ABI Specification", pub. 56860 (rev 1.55+;
// section "MSG_REPORT_REQ", table "ATTESTATION_REPORT Structure", Table 22 in rev 1.55, Table 23
// in rev 1.57/1.58). All integers are little-endian. Versions 2, 3 and 5 are accepted.
// Thread-safety: free functions without shared state.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "core/bytes.h"
#include "core/result.h"

namespace sigil::attestation::snp {

inline constexpr std::size_t kReportSize = 0x4A0;    // 1184
inline constexpr std::size_t kSignedSize = 0x2A0;    // signature covers report[0x000:0x2A0]
inline constexpr std::size_t kSignatureOffset = 0x2A0;
inline constexpr std::size_t kSigComponentSize = 72;  // R and S, little-endian, zero-extended
inline constexpr std::size_t kP384ScalarSize = 48;
inline constexpr std::uint32_t kSigAlgoEcdsaP384Sha384 = 1;  // ABI spec, "Signature algorithms"

// GUEST_POLICY (ABI spec, section "Guest Policy", table "Guest Policy Structure").
struct GuestPolicy {
  std::uint64_t raw = 0;
  std::uint8_t abi_minor() const { return static_cast<std::uint8_t>(raw & 0xFF); }
  std::uint8_t abi_major() const { return static_cast<std::uint8_t>((raw >> 8) & 0xFF); }
  bool smt() const { return (raw >> 16) & 1; }            // SMT allowed
  bool reserved17() const { return (raw >> 17) & 1; }     // "must be one" at launch
  bool migrate_ma() const { return (raw >> 18) & 1; }     // migration agent allowed
  bool debug() const { return (raw >> 19) & 1; }          // DEBUG allowed (host may read memory)
  bool single_socket() const { return (raw >> 20) & 1; }
  bool operator==(const GuestPolicy&) const = default;
};

// Signing key selector, report bits 0x48[4:2].
enum class SigningKey : std::uint8_t { kVcek = 0, kVlek = 1 };

struct Report {
  std::uint32_t version = 0;                   // 0x000
  std::uint32_t guest_svn = 0;                 // 0x004
  GuestPolicy policy;                          // 0x008
  std::array<std::uint8_t, 16> family_id{};    // 0x010
  std::array<std::uint8_t, 16> image_id{};     // 0x020
  std::uint32_t vmpl = 0;                      // 0x030
  std::uint32_t signature_algo = 0;            // 0x034
  std::uint64_t current_tcb = 0;               // 0x038 TCB_VERSION (layout: tcb.h)
  std::uint64_t platform_info = 0;             // 0x040
  bool author_key_en = false;                  // 0x048 bit 0
  bool mask_chip_key = false;                  // 0x048 bit 1
  std::uint8_t signing_key = 0;                // 0x048 bits 4:2 (0 VCEK, 1 VLEK, else reserved)
  std::array<std::uint8_t, 64> report_data{};  // 0x050
  std::array<std::uint8_t, 48> measurement{};  // 0x090
  std::array<std::uint8_t, 32> host_data{};    // 0x0C0
  std::array<std::uint8_t, 48> id_key_digest{};      // 0x0E0
  std::array<std::uint8_t, 48> author_key_digest{};  // 0x110
  std::array<std::uint8_t, 32> report_id{};    // 0x140
  std::array<std::uint8_t, 32> report_id_ma{}; // 0x160
  std::uint64_t reported_tcb = 0;              // 0x180
  std::uint8_t cpuid_fam_id = 0;               // 0x188 (version >= 3, else 0)
  std::uint8_t cpuid_mod_id = 0;               // 0x189 (version >= 3)
  std::uint8_t cpuid_step = 0;                 // 0x18A (version >= 3)
  std::array<std::uint8_t, 64> chip_id{};      // 0x1A0 (zero when MASK_CHIP_ID)
  std::uint64_t committed_tcb = 0;             // 0x1E0
  std::uint8_t current_build = 0;              // 0x1E8
  std::uint8_t current_minor = 0;              // 0x1E9
  std::uint8_t current_major = 0;              // 0x1EA
  std::uint8_t committed_build = 0;            // 0x1EC
  std::uint8_t committed_minor = 0;            // 0x1ED
  std::uint8_t committed_major = 0;            // 0x1EE
  std::uint64_t launch_tcb = 0;                // 0x1F0
  std::uint64_t launch_mit_vector = 0;         // 0x1F8 (version >= 5, else 0)
  std::uint64_t current_mit_vector = 0;        // 0x200 (version >= 5, else 0)
  // Signature (ABI spec appendix "ECDSA P-384 with SHA-384"): R at 0x2A0 and S at 0x2E8, each
  // 72 bytes little-endian; only the low 48 bytes are kept (the high 24 are checked zero).
  std::array<std::uint8_t, kP384ScalarSize> sig_r_le{};
  std::array<std::uint8_t, kP384ScalarSize> sig_s_le{};

  bool operator==(const Report&) const = default;
};

// Parses a report. Strict: size must be exactly 1184 bytes; version must be 2, 3 or 5;
// signature_algo must be 1; every reserved field the spec marks MBZ (0x04C, flag bits 31:5,
// 0x188..0x19F (v2) / 0x18B..0x19F (v3+), 0x1EB, 0x1EF, 0x1F8..0x29F (v2/v3) / 0x208..0x29F (v5),
// R/S bytes 48..71, 0x330..0x49F) must be zero. Fails with kMalformedEvidence naming the field
// and offset. The policy's reserved bit 17 and unknown policy bits are reported, not refused.
Result<Report> ParseReport(ByteSpan bytes);

// Writes the 1184-byte encoding of `report` (reserved fields zero). For every `r` that
// ParseReport accepts, SerializeReport(*ParseReport(r)) == r (checked by the fuzz target).
Bytes SerializeReport(const Report& report);

}  // namespace sigil::attestation::snp
