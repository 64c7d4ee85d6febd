#include "broker/kbs/trustee_evidence.h"

#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "attestation/azure/evidence.h"
#include "attestation/tpm/attest.h"
#include "attestation/tpm/evidence.h"
#include "core/encoding.h"

namespace sigil::broker {
namespace {

constexpr const char* kRoot = "tee-evidence.primary_evidence";

Error Refuse(const std::string& where, const std::string& what) {
  return Error(Code::kInvalidArgument, where + ": " + what);
}

// Largest base64 text whose decoding can fit in kMaxKbsEvidenceBytes: checked before decoding.
constexpr std::size_t kMaxBase64Chars = (kMaxKbsEvidenceBytes + 2) / 3 * 4;

// `obj` must be an object whose members are all in `known` (the caller then reads them).
Result<void> OnlyMembers(const Json& obj, const std::string& where, std::initializer_list<const char*> known) {
  if (!obj.is_object()) return Refuse(where, "expected a JSON object");
  for (const auto& [key, value] : obj.items()) {
    bool found = false;
    for (const char* k : known) found = found || key == k;
    if (!found) {
      return Refuse(where, "unknown member '" + (key.size() > 64 ? key.substr(0, 64) + "..." : key) + "'");
    }
  }
  return Ok();
}

Result<const Json*> Member(const Json& obj, const std::string& where, const char* name) {
  auto it = obj.find(name);
  if (it == obj.end()) return Refuse(where + "." + name, "missing");
  return &*it;
}

// A non-negative JSON integer (the parser keeps those as number_unsigned; a value built in code
// may be a non-negative number_integer). Floats, negatives and everything else: nullopt.
std::optional<std::uint64_t> AsUnsigned(const Json& v) {
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  if (v.is_number_integer() && v.get<std::int64_t>() >= 0) return static_cast<std::uint64_t>(v.get<std::int64_t>());
  return std::nullopt;
}

// A JSON integer 0..max.
Result<std::uint64_t> Unsigned(const Json& v, const std::string& where, std::uint64_t max) {
  const std::optional<std::uint64_t> n = AsUnsigned(v);
  if (!n || *n > max) return Refuse(where, "expected an integer 0.." + std::to_string(max));
  return *n;
}

Result<std::uint64_t> UnsignedMember(const Json& obj, const std::string& where, const char* name, std::uint64_t max) {
  SIGIL_ASSIGN_OR_RETURN(const Json* v, Member(obj, where, name));
  return Unsigned(*v, where + "." + name, max);
}

// serde's form of a byte array or Vec<u8>: a JSON array of integers 0..255.
Result<Bytes> ByteArray(const Json& v, const std::string& where, std::optional<std::size_t> exact, std::size_t max) {
  if (!v.is_array()) return Refuse(where, "expected an array of integers 0..255");
  if (exact && v.size() != *exact) {
    return Refuse(where, "expected exactly " + std::to_string(*exact) + " bytes, got " + std::to_string(v.size()));
  }
  if (v.size() > max) return Refuse(where, "too large (more than " + std::to_string(max) + " bytes)");
  Bytes out;
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::optional<std::uint64_t> b = AsUnsigned(v[i]);
    if (!b || *b > 0xFF) return Refuse(where + "[" + std::to_string(i) + "]", "expected an integer 0..255");
    out.push_back(static_cast<std::uint8_t>(*b));
  }
  return out;
}

// Standard base64 with padding (Trustee decodes with base64's STANDARD engine, which requires
// canonical padding), bounded before decoding.
Result<Bytes> StandardBase64(const Json& v, const std::string& where) {
  if (!v.is_string()) return Refuse(where, "expected a string (standard base64)");
  const std::string& s = v.get_ref<const std::string&>();
  if (s.size() > kMaxBase64Chars) return Refuse(where, "too large");
  auto b = Base64Decode(s);
  if (!b) return Refuse(where, b.error().message());
  return std::move(*b);
}

// A Trustee quote: non-empty standard base64 (Trustee refuses an empty quote too).
Result<Bytes> Quote(const Json& obj, const std::string& where) {
  SIGIL_ASSIGN_OR_RETURN(const Json* q, Member(obj, where, "quote"));
  SIGIL_ASSIGN_OR_RETURN(Bytes quote, StandardBase64(*q, where + ".quote"));
  if (quote.empty()) return Refuse(where + ".quote", "empty");
  return quote;
}

// TDX (Trustee deps/verifier/src/tdx/mod.rs TdxEvidence; guest-components attester tdx):
// quote, cc_eventlog (Option<String>, base64 of the CCEL ACPI table) and, from guest-components
// v0.14.0 only, aa_eventlog (Option<String>, the AA event log as text). The event logs are
// checked for shape only: Sigil does not replay them, so they derive no claim.
Result<KbsEvidence> TdxEvidence(const Json& p) {
  SIGIL_RETURN_IF_ERROR(OnlyMembers(p, kRoot, {"quote", "cc_eventlog", "aa_eventlog"}));
  SIGIL_ASSIGN_OR_RETURN(Bytes quote, Quote(p, kRoot));
  if (auto it = p.find("cc_eventlog"); it != p.end() && !it->is_null()) {
    const std::string where = std::string(kRoot) + ".cc_eventlog";
    if (!it->is_string()) return Refuse(where, "expected null or a string (standard base64)");
    SIGIL_RETURN_IF_ERROR(StandardBase64(*it, where));  // not verified: no claim comes from it
  }
  if (auto it = p.find("aa_eventlog"); it != p.end() && !it->is_null()) {
    const std::string where = std::string(kRoot) + ".aa_eventlog";
    if (!it->is_string()) return Refuse(where, "expected null or a string");
    if (it->get_ref<const std::string&>().size() > kMaxKbsEvidenceBytes) return Refuse(where, "too large");
  }
  return KbsEvidence{std::move(quote), {}};
}

// SGX (Trustee deps/verifier/src/sgx/mod.rs SgxEvidence; guest-components attester sgx_dcap).
Result<KbsEvidence> SgxEvidence(const Json& p) {
  SIGIL_RETURN_IF_ERROR(OnlyMembers(p, kRoot, {"quote"}));
  SIGIL_ASSIGN_OR_RETURN(Bytes quote, Quote(p, kRoot));
  return KbsEvidence{std::move(quote), {}};
}

// ---- SEV-SNP: virtee/sev AttestationReport (serde) -> the firmware's 1184-byte report --------
//
// Layout: AMD pub. 56860 "ATTESTATION_REPORT Structure", as virtee/sev's Encoder writes it
// (src/firmware/guest/types/snp.rs): little-endian integers; reserved bytes zero.

constexpr std::size_t kSnpReportSize = 0x4A0;

class ReportWriter {
 public:
  explicit ReportWriter(Bytes& out) : out_(out) {}
  void Le(std::size_t offset, std::uint64_t v, std::size_t width) {
    for (std::size_t i = 0; i < width; ++i) out_[offset + i] = static_cast<std::uint8_t>(v >> (8 * i));
  }
  void Put(std::size_t offset, const Bytes& b) { std::copy(b.begin(), b.end(), out_.begin() + static_cast<std::ptrdiff_t>(offset)); }

 private:
  Bytes& out_;
};

struct Tcb {
  std::optional<std::uint8_t> fmc;
  std::uint8_t bootloader = 0, tee = 0, snp = 0, microcode = 0;
};

// TcbVersion {fmc: Option<u8>, bootloader, tee, snp, microcode}. sev decodes fmc as Some only for
// Turin, whose TCB_VERSION layout differs (fmc, bootloader, tee, snp, 0, 0, 0, microcode) from
// Milan/Genoa's (bootloader, tee, 0, 0, 0, 0, snp, microcode).
Result<Tcb> ReadTcb(const Json& report, const std::string& where, const char* name) {
  SIGIL_ASSIGN_OR_RETURN(const Json* v, Member(report, where, name));
  const std::string w = where + "." + name;
  SIGIL_RETURN_IF_ERROR(OnlyMembers(*v, w, {"fmc", "bootloader", "tee", "snp", "microcode"}));
  Tcb t;
  SIGIL_ASSIGN_OR_RETURN(const Json* fmc, Member(*v, w, "fmc"));
  if (!fmc->is_null()) {
    SIGIL_ASSIGN_OR_RETURN(std::uint64_t f, Unsigned(*fmc, w + ".fmc", 0xFF));
    t.fmc = static_cast<std::uint8_t>(f);
  }
  SIGIL_ASSIGN_OR_RETURN(std::uint64_t bl, UnsignedMember(*v, w, "bootloader", 0xFF));
  SIGIL_ASSIGN_OR_RETURN(std::uint64_t tee, UnsignedMember(*v, w, "tee", 0xFF));
  SIGIL_ASSIGN_OR_RETURN(std::uint64_t snp, UnsignedMember(*v, w, "snp", 0xFF));
  SIGIL_ASSIGN_OR_RETURN(std::uint64_t uc, UnsignedMember(*v, w, "microcode", 0xFF));
  t.bootloader = static_cast<std::uint8_t>(bl);
  t.tee = static_cast<std::uint8_t>(tee);
  t.snp = static_cast<std::uint8_t>(snp);
  t.microcode = static_cast<std::uint8_t>(uc);
  return t;
}

void WriteTcb(Bytes& out, std::size_t offset, const Tcb& t) {
  std::array<std::uint8_t, 8> b{};
  if (t.fmc) {
    b = {*t.fmc, t.bootloader, t.tee, t.snp, 0, 0, 0, t.microcode};
  } else {
    b = {t.bootloader, t.tee, 0, 0, 0, 0, t.snp, t.microcode};
  }
  std::copy(b.begin(), b.end(), out.begin() + static_cast<std::ptrdiff_t>(offset));
}

// Version {major, minor, build}, written build, minor, major.
Result<void> ReadVersion(const Json& report, const std::string& where, const char* name, Bytes& out, std::size_t offset) {
  SIGIL_ASSIGN_OR_RETURN(const Json* v, Member(report, where, name));
  const std::string w = where + "." + name;
  SIGIL_RETURN_IF_ERROR(OnlyMembers(*v, w, {"major", "minor", "build"}));
  SIGIL_ASSIGN_OR_RETURN(std::uint64_t major, UnsignedMember(*v, w, "major", 0xFF));
  SIGIL_ASSIGN_OR_RETURN(std::uint64_t minor, UnsignedMember(*v, w, "minor", 0xFF));
  SIGIL_ASSIGN_OR_RETURN(std::uint64_t build, UnsignedMember(*v, w, "build", 0xFF));
  out[offset] = static_cast<std::uint8_t>(build);
  out[offset + 1] = static_cast<std::uint8_t>(minor);
  out[offset + 2] = static_cast<std::uint8_t>(major);
  return Ok();
}

// Option<u8>/Option<u64>: null, or absent when `absent_ok` (sev before 6.3 has no mit vectors).
Result<std::optional<std::uint64_t>> OptionalUnsigned(const Json& report, const std::string& where, const char* name,
                                                      std::uint64_t max, bool absent_ok) {
  auto it = report.find(name);
  if (it == report.end()) {
    if (absent_ok) return std::optional<std::uint64_t>();
    return Refuse(where + "." + name, "missing");
  }
  if (it->is_null()) return std::optional<std::uint64_t>();
  SIGIL_ASSIGN_OR_RETURN(std::uint64_t v, Unsigned(*it, where + "." + name, max));
  return std::optional<std::uint64_t>(v);
}

Result<Bytes> SnpReport(const Json& report, const std::string& w) {
  SIGIL_RETURN_IF_ERROR(OnlyMembers(
      report, w,
      {"version", "guest_svn", "policy", "family_id", "image_id", "vmpl", "sig_algo", "current_tcb", "plat_info",
       "key_info", "report_data", "measurement", "host_data", "id_key_digest", "author_key_digest", "report_id",
       "report_id_ma", "reported_tcb", "cpuid_fam_id", "cpuid_mod_id", "cpuid_step", "chip_id", "committed_tcb",
       "current", "committed", "launch_tcb", "launch_mit_vector", "current_mit_vector", "signature"}));
  Bytes out(kSnpReportSize, 0);
  ReportWriter wr(out);
  constexpr std::uint64_t kU32 = 0xFFFFFFFFu;
  constexpr std::uint64_t kU64 = ~std::uint64_t{0};
  SIGIL_ASSIGN_OR_RETURN(std::uint64_t version, UnsignedMember(report, w, "version", kU32));
  // sev refuses versions 0 and 1 (ReportVariant); so does every verifier.
  if (version < 2) return Refuse(w + ".version", "expected 2 or above, got " + std::to_string(version));
  wr.Le(0x000, version, 4);
  struct Scalar {
    const char* name;
    std::size_t offset;
    std::size_t width;
  };
  for (const Scalar& s : {Scalar{"guest_svn", 0x004, 4}, Scalar{"policy", 0x008, 8}, Scalar{"vmpl", 0x030, 4},
                          Scalar{"sig_algo", 0x034, 4}, Scalar{"plat_info", 0x040, 8}, Scalar{"key_info", 0x048, 4}}) {
    SIGIL_ASSIGN_OR_RETURN(std::uint64_t v, UnsignedMember(report, w, s.name, s.width == 8 ? kU64 : kU32));
    wr.Le(s.offset, v, s.width);
  }
  struct Array {
    const char* name;
    std::size_t offset;
    std::size_t size;
  };
  for (const Array& a : {Array{"family_id", 0x010, 16}, Array{"image_id", 0x020, 16}, Array{"report_data", 0x050, 64},
                         Array{"measurement", 0x090, 48}, Array{"host_data", 0x0C0, 32},
                         Array{"id_key_digest", 0x0E0, 48}, Array{"author_key_digest", 0x110, 48},
                         Array{"report_id", 0x140, 32}, Array{"report_id_ma", 0x160, 32}, Array{"chip_id", 0x1A0, 64}}) {
    SIGIL_ASSIGN_OR_RETURN(const Json* v, Member(report, w, a.name));
    SIGIL_ASSIGN_OR_RETURN(Bytes b, ByteArray(*v, w + "." + a.name, a.size, a.size));
    wr.Put(a.offset, b);
  }
  // The four TCB_VERSIONs share one layout: all with fmc (Turin) or all without.
  struct TcbAt {
    const char* name;
    std::size_t offset;
  };
  std::optional<bool> turin;
  for (const TcbAt& t : {TcbAt{"current_tcb", 0x038}, TcbAt{"reported_tcb", 0x180}, TcbAt{"committed_tcb", 0x1E0},
                         TcbAt{"launch_tcb", 0x1F0}}) {
    SIGIL_ASSIGN_OR_RETURN(Tcb tcb, ReadTcb(report, w, t.name));
    if (turin && *turin != tcb.fmc.has_value()) {
      return Refuse(w + "." + t.name + ".fmc",
                    "null in some TCB versions and not in others (one report has one TCB layout)");
    }
    turin = tcb.fmc.has_value();
    WriteTcb(out, t.offset, tcb);
  }
  // CPUID_FAM_ID/MOD_ID/STEP: version 3 and later (sev: Some), none in version 2 (sev: None).
  std::optional<std::uint64_t> family;
  for (const TcbAt& c : {TcbAt{"cpuid_fam_id", 0x188}, TcbAt{"cpuid_mod_id", 0x189}, TcbAt{"cpuid_step", 0x18A}}) {
    SIGIL_ASSIGN_OR_RETURN(std::optional<std::uint64_t> v, OptionalUnsigned(report, w, c.name, 0xFF, false));
    if (version == 2 && v) return Refuse(w + "." + c.name, "expected null in a version 2 report");
    if (version >= 3 && !v) return Refuse(w + "." + c.name, "expected an integer 0..255 in a version 3+ report");
    if (v) wr.Le(c.offset, *v, 1);
    if (c.offset == 0x188) family = v;
  }
  // sev picks the TCB layout of a version 3+ report from CPUID_FAM_ID: 1Ah is Turin.
  if (family && (*family == 0x1A) != *turin) {
    return Refuse(w + ".current_tcb.fmc", *turin ? "set, but cpuid_fam_id is not Turin's (1Ah)"
                                                 : "null, but cpuid_fam_id is Turin's (1Ah)");
  }
  SIGIL_RETURN_IF_ERROR(ReadVersion(report, w, "current", out, 0x1E8));
  SIGIL_RETURN_IF_ERROR(ReadVersion(report, w, "committed", out, 0x1EC));
  // LAUNCH_MIT_VECTOR/CURRENT_MIT_VECTOR: version 5 and later.
  for (const TcbAt& m : {TcbAt{"launch_mit_vector", 0x1F8}, TcbAt{"current_mit_vector", 0x200}}) {
    SIGIL_ASSIGN_OR_RETURN(std::optional<std::uint64_t> v, OptionalUnsigned(report, w, m.name, kU64, true));
    if (version < 5 && v) return Refuse(w + "." + m.name, "expected null or absent in a version 2-4 report");
    if (version >= 5 && !v) return Refuse(w + "." + m.name, "expected an integer in a version 5+ report");
    if (v) wr.Le(m.offset, *v, 8);
  }
  // Signature {r: [u8; 72], s: [u8; 72]}, little-endian as in the report.
  SIGIL_ASSIGN_OR_RETURN(const Json* sig, Member(report, w, "signature"));
  SIGIL_RETURN_IF_ERROR(OnlyMembers(*sig, w + ".signature", {"r", "s"}));
  SIGIL_ASSIGN_OR_RETURN(const Json* r, Member(*sig, w + ".signature", "r"));
  SIGIL_ASSIGN_OR_RETURN(const Json* s, Member(*sig, w + ".signature", "s"));
  SIGIL_ASSIGN_OR_RETURN(Bytes rb, ByteArray(*r, w + ".signature.r", 72, 72));
  SIGIL_ASSIGN_OR_RETURN(Bytes sb, ByteArray(*s, w + ".signature.s", 72, 72));
  wr.Put(0x2A0, rb);
  wr.Put(0x2E8, sb);
  return out;
}

std::string Pem(const Bytes& der) {
  const std::string b64 = Base64Encode(der);
  std::string pem = "-----BEGIN CERTIFICATE-----\n";
  for (std::size_t i = 0; i < b64.size(); i += 64) pem += b64.substr(i, 64) + "\n";
  return pem + "-----END CERTIFICATE-----\n";
}

constexpr std::size_t kMaxCertEntries = 16;
constexpr std::size_t kMaxCertBytes = 16 * 1024;

// cert_chain: Option<Vec<CertTableEntry {cert_type: CertType, data: Vec<u8>}>>. CertType is a
// serde enum: "Empty", "ARK", "ASK", "VCEK", "VLEK", "CRL" or {"OTHER": "<uuid>"}. The
// certificates become a PEM bundle (attestation/snp/collateral.h, encoding 2); CRL, Empty and
// OTHER entries are checked for shape only and not used (Sigil's SEV-SNP verifier reads no CRL).
Result<Bytes> SnpCertChain(const Json& chain, const std::string& w) {
  if (chain.is_null()) return Bytes{};
  if (!chain.is_array()) return Refuse(w, "expected null or an array of {cert_type, data}");
  if (chain.size() > kMaxCertEntries) return Refuse(w, "too many entries (at most " + std::to_string(kMaxCertEntries) + ")");
  std::string pem;
  for (std::size_t i = 0; i < chain.size(); ++i) {
    const std::string e = w + "[" + std::to_string(i) + "]";
    SIGIL_RETURN_IF_ERROR(OnlyMembers(chain[i], e, {"cert_type", "data"}));
    SIGIL_ASSIGN_OR_RETURN(const Json* type, Member(chain[i], e, "cert_type"));
    SIGIL_ASSIGN_OR_RETURN(const Json* data, Member(chain[i], e, "data"));
    SIGIL_ASSIGN_OR_RETURN(Bytes der, ByteArray(*data, e + ".data", std::nullopt, kMaxCertBytes));
    bool used = false;
    if (type->is_string()) {
      const std::string& t = type->get_ref<const std::string&>();
      if (t == "ARK" || t == "ASK" || t == "VCEK" || t == "VLEK") {
        used = true;
      } else if (t != "Empty" && t != "CRL") {
        return Refuse(e + ".cert_type", "expected \"ARK\", \"ASK\", \"VCEK\", \"VLEK\", \"CRL\", \"Empty\" or {\"OTHER\": uuid}");
      }
    } else if (type->is_object() && type->size() == 1 && type->contains("OTHER") && (*type)["OTHER"].is_string() &&
               (*type)["OTHER"].get_ref<const std::string&>().size() == 36) {
      // uuid::Uuid's serde form: the hyphenated 36-character string. Not used.
    } else {
      return Refuse(e + ".cert_type", "expected \"ARK\", \"ASK\", \"VCEK\", \"VLEK\", \"CRL\", \"Empty\" or {\"OTHER\": uuid}");
    }
    if (used) {
      if (der.empty()) return Refuse(e + ".data", "empty");
      pem += Pem(der);
    }
  }
  if (pem.size() > kMaxKbsEvidenceBytes) return Refuse(w, "too large");
  return Bytes(pem.begin(), pem.end());
}

// SNP (Trustee deps/verifier/src/snp/mod.rs SnpEvidence; guest-components attester snp).
Result<KbsEvidence> SnpEvidence(const Json& p) {
  SIGIL_RETURN_IF_ERROR(OnlyMembers(p, kRoot, {"attestation_report", "cert_chain"}));
  SIGIL_ASSIGN_OR_RETURN(const Json* report, Member(p, kRoot, "attestation_report"));
  const std::string w = std::string(kRoot) + ".attestation_report";
  if (!report->is_object()) return Refuse(w, "expected a JSON object (virtee/sev AttestationReport)");
  KbsEvidence out;
  SIGIL_ASSIGN_OR_RETURN(out.evidence, SnpReport(*report, w));
  if (auto it = p.find("cert_chain"); it != p.end()) {
    SIGIL_ASSIGN_OR_RETURN(out.collateral, SnpCertChain(*it, std::string(kRoot) + ".cert_chain"));
  }
  return out;
}

// ---- Azure vTPM (az-snp-vtpm, az-tdx-vtpm) -> "sigil-azure-vtpm/v1" ----------------------------
//
// Trustee deps/verifier/src/az_{snp,tdx}_vtpm/{mod,compat}.rs and guest-components
// attestation-agent/attester/src/az_{snp,tdx}_vtpm/mod.rs. Evidence versions (Trustee reads all
// three, untagged, newest first):
//   0 (guest-components <= v0.17): snp {"quote": Q0, "report": [u8], "vcek": "<PEM>"},
//                                  tdx {"tpm_quote": Q0, "hcl_report": [u8], "td_quote": [u8]};
//     Q0 is the serde form of azure-cvm-tooling's vtpm::Quote:
//     {"signature": [u8], "message": [u8], "pcrs": [[u8; 32], ...]};
//   1 (v0.18-v0.20) and 2 (v0.21+; the guest also writes the report data into the HCL
//     user-data before reading a fresh report): {"version": 1|2, "tpm_quote": Q,
//     "hcl_report": <URL-safe base64>, "vcek": <URL-safe base64 of the DER VCEK> (snp) |
//     "td_quote": <URL-safe base64> (tdx)}, Q = {"signature": hex, "message": hex, "pcrs": [hex]}.
// The quote message is the marshalled TPMS_ATTEST, the signature the raw RSASSA-PKCS1-v1_5/SHA-256
// signature by HCLAkPub, and pcrs the SHA-256 PCR values in the quote's selection order (the guest
// selects sha256:0-23). Trustee hashes `pcrs` as given; here each value is assigned to the PCR
// the quote's own selection puts at that position, which is what sigil-tpm-quote/v1 carries.

constexpr std::size_t kMaxTpmAttestBytes = 4096;      // a quote's TPMS_ATTEST is ~150 bytes
constexpr std::size_t kMaxTpmSignatureBytes = 1024;   // RSA-8192
constexpr std::size_t kMaxQuotePcrs = 32;             // PCRs 0..31 of one bank
constexpr std::uint16_t kTpmAlgSha256 = 0x000B;

// URL-safe base64 as serde_with's Base64<UrlSafe> reads it: with canonical '=' padding (what the
// guest writes) or without; zero trailing bits; nothing else.
Result<Bytes> UrlSafeBase64(const Json& v, const std::string& where) {
  if (!v.is_string()) return Refuse(where, "expected a string (URL-safe base64)");
  std::string s = v.get_ref<const std::string&>();
  if (s.size() > kMaxBase64Chars) return Refuse(where, "too large");
  std::size_t pad = 0;
  while (pad < 2 && !s.empty() && s.back() == '=') {
    s.pop_back();
    ++pad;
  }
  if (pad > 0 && (s.size() + pad) % 4 != 0) return Refuse(where, "'=' padding that does not complete the last group");
  auto b = Base64UrlDecode(s);
  if (!b) return Refuse(where, b.error().message());
  return std::move(*b);
}

// A hex string of at most `max` bytes (serde_with's Hex: either case).
Result<Bytes> HexString(const Json& v, const std::string& where, std::size_t max) {
  if (!v.is_string()) return Refuse(where, "expected a hex string");
  const std::string& s = v.get_ref<const std::string&>();
  if (s.size() > 2 * max) return Refuse(where, "too large (more than " + std::to_string(max) + " bytes)");
  auto b = HexDecode(s);
  if (!b) return Refuse(where, b.error().message());
  return std::move(*b);
}

Result<Bytes> NonEmpty(Bytes b, const std::string& where) {
  if (b.empty()) return Refuse(where, "empty");
  return b;
}

struct TrusteeTpmQuote {
  Bytes signature;
  Bytes message;
  std::vector<Bytes> pcrs;
};

// Q (hex, versions 1 and 2) or Q0 (byte arrays, version 0).
Result<TrusteeTpmQuote> ReadTpmQuote(const Json& q, const std::string& w, bool hex) {
  SIGIL_RETURN_IF_ERROR(OnlyMembers(q, w, {"signature", "message", "pcrs"}));
  TrusteeTpmQuote out;
  SIGIL_ASSIGN_OR_RETURN(const Json* sig, Member(q, w, "signature"));
  SIGIL_ASSIGN_OR_RETURN(const Json* msg, Member(q, w, "message"));
  SIGIL_ASSIGN_OR_RETURN(const Json* pcrs, Member(q, w, "pcrs"));
  if (hex) {
    SIGIL_ASSIGN_OR_RETURN(out.signature, HexString(*sig, w + ".signature", kMaxTpmSignatureBytes));
    SIGIL_ASSIGN_OR_RETURN(out.message, HexString(*msg, w + ".message", kMaxTpmAttestBytes));
  } else {
    SIGIL_ASSIGN_OR_RETURN(out.signature, ByteArray(*sig, w + ".signature", std::nullopt, kMaxTpmSignatureBytes));
    SIGIL_ASSIGN_OR_RETURN(out.message, ByteArray(*msg, w + ".message", std::nullopt, kMaxTpmAttestBytes));
  }
  SIGIL_ASSIGN_OR_RETURN(out.signature, NonEmpty(std::move(out.signature), w + ".signature"));
  SIGIL_ASSIGN_OR_RETURN(out.message, NonEmpty(std::move(out.message), w + ".message"));
  if (!pcrs->is_array()) return Refuse(w + ".pcrs", hex ? "expected an array of hex strings" : "expected an array of 32-byte arrays");
  if (pcrs->size() > kMaxQuotePcrs) return Refuse(w + ".pcrs", "too many values (at most " + std::to_string(kMaxQuotePcrs) + ")");
  for (std::size_t i = 0; i < pcrs->size(); ++i) {
    const std::string e = w + ".pcrs[" + std::to_string(i) + "]";
    Bytes v;
    if (hex) {
      SIGIL_ASSIGN_OR_RETURN(v, HexString((*pcrs)[i], e, 32));
      if (v.size() != 32) return Refuse(e, "expected 32 bytes (a SHA-256 PCR value), got " + std::to_string(v.size()));
    } else {
      SIGIL_ASSIGN_OR_RETURN(v, ByteArray((*pcrs)[i], e, 32, 32));
    }
    out.pcrs.push_back(std::move(v));
  }
  return out;
}

// The quote as "sigil-tpm-quote/v1" (no "ak": the Azure verifier takes HCLAkPub as the only AK).
Result<Bytes> SigilTpmQuote(TrusteeTpmQuote q, const std::string& w) {
  auto quote = attestation::tpm::ParseQuote(q.message);
  if (!quote) return Refuse(w + ".message", quote.error().message());
  attestation::tpm::Evidence e;
  std::size_t next = 0;
  for (const attestation::tpm::PcrBankSelection& bank : quote->pcr_select) {
    if (bank.pcrs.empty()) continue;
    if (bank.hash_alg != kTpmAlgSha256) {
      return Refuse(w + ".message", "the quote selects PCRs of a bank other than SHA-256; Trustee's pcrs are SHA-256 values");
    }
    for (std::uint32_t index : bank.pcrs) {
      if (next >= q.pcrs.size()) {
        return Refuse(w + ".pcrs", "fewer values (" + std::to_string(q.pcrs.size()) + ") than the quote selects");
      }
      e.pcrs[kTpmAlgSha256][index] = std::move(q.pcrs[next++]);
    }
  }
  if (next != q.pcrs.size()) {
    return Refuse(w + ".pcrs", "more values (" + std::to_string(q.pcrs.size()) + ") than the quote selects (" +
                                   std::to_string(next) + ")");
  }
  e.attest = std::move(q.message);
  e.signature = std::move(q.signature);
  return attestation::tpm::SerializeEvidence(e);
}

// Version 0's VCEK: one PEM CERTIFICATE block (openssl's X509::from_pem in Trustee), re-emitted
// canonically from its DER.
Result<Bytes> VcekFromPem(const Json& v, const std::string& w) {
  if (!v.is_string()) return Refuse(w, "expected a string (PEM certificate)");
  const std::string& s = v.get_ref<const std::string&>();
  if (s.size() > kMaxCertBytes * 2) return Refuse(w, "too large");
  static constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
  static constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
  const std::size_t begin = s.find(kBegin);
  const std::size_t end = s.find(kEnd);
  if (begin == std::string::npos || end == std::string::npos || end < begin ||
      s.find(kBegin, begin + 1) != std::string::npos) {
    return Refuse(w, "expected exactly one PEM CERTIFICATE block");
  }
  for (std::size_t i = 0; i < begin; ++i) {
    if (s[i] != '\n' && s[i] != '\r' && s[i] != ' ') return Refuse(w, "text before the PEM block");
  }
  for (std::size_t i = end + kEnd.size(); i < s.size(); ++i) {
    if (s[i] != '\n' && s[i] != '\r' && s[i] != ' ') return Refuse(w, "text after the PEM block");
  }
  std::string body;
  for (std::size_t i = begin + kBegin.size(); i < end; ++i) {
    if (s[i] != '\n' && s[i] != '\r') body.push_back(s[i]);
  }
  auto der = Base64Decode(body);
  if (!der) return Refuse(w, "PEM body: " + der.error().message());
  if (der->empty()) return Refuse(w, "empty certificate");
  const std::string pem = Pem(*der);
  return Bytes(pem.begin(), pem.end());
}

Result<KbsEvidence> AzureVtpmEvidence(const Json& p, bool tdx) {
  const std::string root = kRoot;
  if (!p.is_object()) return Refuse(root, "expected a JSON object");
  const bool versioned = p.contains("version");
  TrusteeTpmQuote quote;
  std::string quote_where;
  Bytes hcl;
  Bytes td_quote;
  KbsEvidence out;
  if (versioned) {
    SIGIL_RETURN_IF_ERROR(OnlyMembers(p, root, {"version", "tpm_quote", "hcl_report", tdx ? "td_quote" : "vcek"}));
    const std::optional<std::uint64_t> version = AsUnsigned(p["version"]);
    if (!version || (*version != 1 && *version != 2)) {
      return Refuse(root + ".version", "expected 1 or 2 (version 0 evidence has no version member)");
    }
    quote_where = root + ".tpm_quote";
    SIGIL_ASSIGN_OR_RETURN(const Json* q, Member(p, root, "tpm_quote"));
    SIGIL_ASSIGN_OR_RETURN(quote, ReadTpmQuote(*q, quote_where, true));
    SIGIL_ASSIGN_OR_RETURN(const Json* h, Member(p, root, "hcl_report"));
    SIGIL_ASSIGN_OR_RETURN(hcl, UrlSafeBase64(*h, root + ".hcl_report"));
    if (tdx) {
      SIGIL_ASSIGN_OR_RETURN(const Json* t, Member(p, root, "td_quote"));
      SIGIL_ASSIGN_OR_RETURN(td_quote, UrlSafeBase64(*t, root + ".td_quote"));
    } else {
      SIGIL_ASSIGN_OR_RETURN(const Json* v, Member(p, root, "vcek"));
      SIGIL_ASSIGN_OR_RETURN(Bytes der, UrlSafeBase64(*v, root + ".vcek"));
      if (der.empty()) return Refuse(root + ".vcek", "empty");
      if (der.size() > kMaxCertBytes) return Refuse(root + ".vcek", "too large");
      const std::string pem = Pem(der);
      out.collateral = Bytes(pem.begin(), pem.end());
    }
  } else if (tdx) {
    SIGIL_RETURN_IF_ERROR(OnlyMembers(p, root, {"tpm_quote", "hcl_report", "td_quote"}));
    quote_where = root + ".tpm_quote";
    SIGIL_ASSIGN_OR_RETURN(const Json* q, Member(p, root, "tpm_quote"));
    SIGIL_ASSIGN_OR_RETURN(quote, ReadTpmQuote(*q, quote_where, false));
    SIGIL_ASSIGN_OR_RETURN(const Json* h, Member(p, root, "hcl_report"));
    SIGIL_ASSIGN_OR_RETURN(hcl, ByteArray(*h, root + ".hcl_report", std::nullopt, kMaxKbsEvidenceBytes));
    SIGIL_ASSIGN_OR_RETURN(const Json* t, Member(p, root, "td_quote"));
    SIGIL_ASSIGN_OR_RETURN(td_quote, ByteArray(*t, root + ".td_quote", std::nullopt, kMaxKbsEvidenceBytes));
  } else {
    SIGIL_RETURN_IF_ERROR(OnlyMembers(p, root, {"quote", "report", "vcek"}));
    quote_where = root + ".quote";
    SIGIL_ASSIGN_OR_RETURN(const Json* q, Member(p, root, "quote"));
    SIGIL_ASSIGN_OR_RETURN(quote, ReadTpmQuote(*q, quote_where, false));
    SIGIL_ASSIGN_OR_RETURN(const Json* h, Member(p, root, "report"));
    SIGIL_ASSIGN_OR_RETURN(hcl, ByteArray(*h, root + ".report", std::nullopt, kMaxKbsEvidenceBytes));
    SIGIL_ASSIGN_OR_RETURN(const Json* v, Member(p, root, "vcek"));
    SIGIL_ASSIGN_OR_RETURN(out.collateral, VcekFromPem(*v, root + ".vcek"));
  }
  const std::string hcl_where = root + (versioned || tdx ? ".hcl_report" : ".report");
  if (hcl.empty()) return Refuse(hcl_where, "empty");
  if (hcl.size() > kMaxKbsEvidenceBytes) return Refuse(hcl_where, "too large");
  if (tdx && td_quote.empty()) return Refuse(root + ".td_quote", "empty");
  if (td_quote.size() > kMaxKbsEvidenceBytes) return Refuse(root + ".td_quote", "too large");
  SIGIL_ASSIGN_OR_RETURN(Bytes tpm, SigilTpmQuote(std::move(quote), quote_where));
  auto evidence = attestation::azure::MakeAzureEvidence(hcl, tpm, td_quote);
  if (!evidence) return Refuse(root, evidence.error().message());
  out.evidence = std::move(evidence).value();
  return out;
}

// Sigil's own forms: base64 (standard or URL alphabet) of the raw evidence, for every tee.
Result<KbsEvidence> SigilBase64(const Json& p) {
  const std::string& s = p.get_ref<const std::string&>();
  if (s.size() > kMaxBase64Chars) return Refuse(kRoot, "too large");
  auto b = s.find_first_of("-_") != std::string::npos ? Base64UrlDecode(s) : Base64Decode(s);
  if (!b) return Refuse(kRoot, b.error().message());
  return KbsEvidence{std::move(*b), {}};
}

}  // namespace

Result<KbsEvidence> KbsPrimaryEvidence(std::string_view kbs_tee, const Json& p) {
  Result<KbsEvidence> out = Refuse(kRoot, "expected a JSON object or a base64 string");
  if (p.is_string()) {
    out = SigilBase64(p);
  } else if (p.is_object()) {
    if (kbs_tee == "tdx") {
      out = TdxEvidence(p);
    } else if (kbs_tee == "sgx") {
      out = SgxEvidence(p);
    } else if (kbs_tee == "snp") {
      out = SnpEvidence(p);
    } else if (kbs_tee == "az-snp-vtpm" || kbs_tee == "az-tdx-vtpm") {
      out = AzureVtpmEvidence(p, kbs_tee == "az-tdx-vtpm");
    } else {
      // Sigil's JSON evidence (dev: sigil-dev-evidence/v1, tpm: sigil-tpm-quote/v1) in canonical
      // form; its verifier parses it strictly.
      const std::string text = CanonicalJson(p);
      out = KbsEvidence{Bytes(text.begin(), text.end()), {}};
    }
  }
  if (out && (out->evidence.size() > kMaxKbsEvidenceBytes || out->collateral.size() > kMaxKbsEvidenceBytes)) {
    return Refuse(kRoot, "too large");
  }
  return out;
}

}  // namespace sigil::broker
