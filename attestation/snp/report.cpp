// ATTESTATION_REPORT parser; offsets per pub. 56860 table "ATTESTATION_REPORT Structure".
#include "attestation/snp/report.h"

#include <algorithm>
#include <cstdio>
#include <string>

namespace sigil::attestation::snp {
namespace {

std::string Hex(std::size_t v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "0x%03zX", v);
  return buf;
}

Error Malformed(std::string_view field, std::size_t offset, std::string_view what) {
  return Error(Code::kMalformedEvidence, "SEV-SNP report field " + std::string(field) + " at " +
                                             Hex(offset) + ": " + std::string(what));
}

template <class T>
T ReadLe(ByteSpan b, std::size_t off) {
  T v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    v = static_cast<T>(v | (static_cast<T>(b[off + i]) << (8 * i)));
  }
  return v;
}

template <std::size_t N>
void ReadArray(ByteSpan b, std::size_t off, std::array<std::uint8_t, N>& out) {
  std::copy_n(b.begin() + static_cast<std::ptrdiff_t>(off), N, out.begin());
}

template <class T>
void WriteLe(Bytes& b, std::size_t off, T v) {
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    b[off + i] = static_cast<std::uint8_t>((static_cast<std::uint64_t>(v) >> (8 * i)) & 0xFF);
  }
}

template <std::size_t N>
void WriteArray(Bytes& b, std::size_t off, const std::array<std::uint8_t, N>& in) {
  std::copy(in.begin(), in.end(), b.begin() + static_cast<std::ptrdiff_t>(off));
}

// Reserved ranges that must be zero, [begin, end), by report version.
struct Range {
  std::size_t begin;
  std::size_t end;
  const char* name;
};

Result<void> CheckMbz(ByteSpan b, const Range& r) {
  for (std::size_t i = r.begin; i < r.end; ++i) {
    if (b[i] != 0) {
      return Malformed(r.name, i, "reserved, must be zero, got " + std::to_string(b[i]));
    }
  }
  return Ok();
}

Result<void> CheckAllMbz(ByteSpan b, std::uint32_t version) {
  const Range common[] = {
      {0x04C, 0x050, "RESERVED(0x04C)"},
      {0x1EB, 0x1EC, "RESERVED(0x1EB)"},
      {0x1EF, 0x1F0, "RESERVED(0x1EF)"},
      {kSignatureOffset + kP384ScalarSize, kSignatureOffset + kSigComponentSize, "SIGNATURE.R"},
      {kSignatureOffset + kSigComponentSize + kP384ScalarSize,
       kSignatureOffset + 2 * kSigComponentSize, "SIGNATURE.S"},
      {kSignatureOffset + 2 * kSigComponentSize, kReportSize, "SIGNATURE.RESERVED"},
  };
  for (const Range& r : common) {
    SIGIL_RETURN_IF_ERROR(CheckMbz(b, r));
  }
  // v3 added CPUID_FAM_ID/MOD_ID/STEP at 0x188..0x18A; v5 added the mitigation vectors at 0x1F8.
  const Range cpuid = version >= 3 ? Range{0x18B, 0x1A0, "RESERVED(0x18B)"}
                                   : Range{0x188, 0x1A0, "RESERVED(0x188, v2)"};
  const Range tail = version >= 5 ? Range{0x208, kSignedSize, "RESERVED(0x208)"}
                                  : Range{0x1F8, kSignedSize, "RESERVED(0x1F8, v2/v3)"};
  SIGIL_RETURN_IF_ERROR(CheckMbz(b, cpuid));
  return CheckMbz(b, tail);
}

}  // namespace

Result<Report> ParseReport(ByteSpan b) {
  if (b.size() != kReportSize) {
    return Fail(Code::kMalformedEvidence, "SEV-SNP report must be " + std::to_string(kReportSize) +
                                              " bytes, got " + std::to_string(b.size()));
  }
  Report r;
  r.version = ReadLe<std::uint32_t>(b, 0x000);
  if (r.version != 2 && r.version != 3 && r.version != 5) {
    return Malformed("VERSION", 0x000, "unsupported version " + std::to_string(r.version) +
                                           " (accepted: 2, 3, 5)");
  }
  r.signature_algo = ReadLe<std::uint32_t>(b, 0x034);
  if (r.signature_algo != kSigAlgoEcdsaP384Sha384) {
    return Malformed("SIGNATURE_ALGO", 0x034, "must be 1 (ECDSA P-384 with SHA-384), got " +
                                                  std::to_string(r.signature_algo));
  }
  const std::uint32_t flags = ReadLe<std::uint32_t>(b, 0x048);
  if ((flags >> 5) != 0) {
    return Malformed("FLAGS", 0x048, "reserved bits 31:5 must be zero");
  }
  SIGIL_RETURN_IF_ERROR(CheckAllMbz(b, r.version));

  r.guest_svn = ReadLe<std::uint32_t>(b, 0x004);
  r.policy.raw = ReadLe<std::uint64_t>(b, 0x008);
  ReadArray(b, 0x010, r.family_id);
  ReadArray(b, 0x020, r.image_id);
  r.vmpl = ReadLe<std::uint32_t>(b, 0x030);
  r.current_tcb = ReadLe<std::uint64_t>(b, 0x038);
  r.platform_info = ReadLe<std::uint64_t>(b, 0x040);
  r.author_key_en = (flags & 1) != 0;
  r.mask_chip_key = (flags & 2) != 0;
  r.signing_key = static_cast<std::uint8_t>((flags >> 2) & 7);
  ReadArray(b, 0x050, r.report_data);
  ReadArray(b, 0x090, r.measurement);
  ReadArray(b, 0x0C0, r.host_data);
  ReadArray(b, 0x0E0, r.id_key_digest);
  ReadArray(b, 0x110, r.author_key_digest);
  ReadArray(b, 0x140, r.report_id);
  ReadArray(b, 0x160, r.report_id_ma);
  r.reported_tcb = ReadLe<std::uint64_t>(b, 0x180);
  if (r.version >= 3) {
    r.cpuid_fam_id = b[0x188];
    r.cpuid_mod_id = b[0x189];
    r.cpuid_step = b[0x18A];
  }
  ReadArray(b, 0x1A0, r.chip_id);
  r.committed_tcb = ReadLe<std::uint64_t>(b, 0x1E0);
  r.current_build = b[0x1E8];
  r.current_minor = b[0x1E9];
  r.current_major = b[0x1EA];
  r.committed_build = b[0x1EC];
  r.committed_minor = b[0x1ED];
  r.committed_major = b[0x1EE];
  r.launch_tcb = ReadLe<std::uint64_t>(b, 0x1F0);
  if (r.version >= 5) {
    r.launch_mit_vector = ReadLe<std::uint64_t>(b, 0x1F8);
    r.current_mit_vector = ReadLe<std::uint64_t>(b, 0x200);
  }
  ReadArray(b, kSignatureOffset, r.sig_r_le);
  ReadArray(b, kSignatureOffset + kSigComponentSize, r.sig_s_le);
  return r;
}

Bytes SerializeReport(const Report& r) {
  Bytes b(kReportSize, 0);
  WriteLe(b, 0x000, r.version);
  WriteLe(b, 0x004, r.guest_svn);
  WriteLe(b, 0x008, r.policy.raw);
  WriteArray(b, 0x010, r.family_id);
  WriteArray(b, 0x020, r.image_id);
  WriteLe(b, 0x030, r.vmpl);
  WriteLe(b, 0x034, r.signature_algo);
  WriteLe(b, 0x038, r.current_tcb);
  WriteLe(b, 0x040, r.platform_info);
  const std::uint32_t flags = (r.author_key_en ? 1u : 0u) | (r.mask_chip_key ? 2u : 0u) |
                              (static_cast<std::uint32_t>(r.signing_key & 7) << 2);
  WriteLe(b, 0x048, flags);
  WriteArray(b, 0x050, r.report_data);
  WriteArray(b, 0x090, r.measurement);
  WriteArray(b, 0x0C0, r.host_data);
  WriteArray(b, 0x0E0, r.id_key_digest);
  WriteArray(b, 0x110, r.author_key_digest);
  WriteArray(b, 0x140, r.report_id);
  WriteArray(b, 0x160, r.report_id_ma);
  WriteLe(b, 0x180, r.reported_tcb);
  if (r.version >= 3) {
    b[0x188] = r.cpuid_fam_id;
    b[0x189] = r.cpuid_mod_id;
    b[0x18A] = r.cpuid_step;
  }
  WriteArray(b, 0x1A0, r.chip_id);
  WriteLe(b, 0x1E0, r.committed_tcb);
  b[0x1E8] = r.current_build;
  b[0x1E9] = r.current_minor;
  b[0x1EA] = r.current_major;
  b[0x1EC] = r.committed_build;
  b[0x1ED] = r.committed_minor;
  b[0x1EE] = r.committed_major;
  WriteLe(b, 0x1F0, r.launch_tcb);
  if (r.version >= 5) {
    WriteLe(b, 0x1F8, r.launch_mit_vector);
    WriteLe(b, 0x200, r.current_mit_vector);
  }
  WriteArray(b, kSignatureOffset, r.sig_r_le);
  WriteArray(b, kSignatureOffset + kSigComponentSize, r.sig_s_le);
  return b;
}

}  // namespace sigil::attestation::snp
