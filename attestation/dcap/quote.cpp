#include "attestation/dcap/quote.h"

#include <algorithm>
#include <string>

namespace sigil::attestation::dcap {
namespace {

constexpr std::uint16_t kCertDataPckChain = 5;     // PCK cert chain, PEM (SGX API "Certification Data")
constexpr std::uint16_t kCertDataQeReport = 6;     // QE report certification data (TDX API)
constexpr std::uint16_t kBodyTypeTd10 = 2;         // TDX API v5 "Quote Body Descriptor"
constexpr std::uint16_t kBodyTypeTd15 = 3;

// Bounds-checked little-endian cursor. `base` is the absolute offset of data[0] in the quote so
// that errors name positions in the caller's bytes.
class Reader {
 public:
  Reader(ByteSpan data, std::size_t base) : data_(data), base_(base) {}
  std::size_t offset() const { return base_ + pos_; }
  std::size_t remaining() const { return data_.size() - pos_; }
  Result<ByteSpan> Take(std::size_t n, const char* field) {
    if (n > remaining()) {
      return Fail(Code::kMalformedEvidence,
                  std::string("quote truncated: ") + field + " needs " + std::to_string(n) +
                      " bytes at offset " + std::to_string(offset()) + ", " +
                      std::to_string(remaining()) + " left");
    }
    ByteSpan s = data_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  Result<std::uint32_t> Le(std::size_t n, const char* field) {
    SIGIL_ASSIGN_OR_RETURN(ByteSpan s, Take(n, field));
    std::uint32_t v = 0;
    for (std::size_t i = n; i > 0; --i) v = (v << 8) | s[i - 1];
    return v;
  }

 private:
  ByteSpan data_;
  std::size_t base_;
  std::size_t pos_ = 0;
};

template <std::size_t N>
void CopyAt(std::array<std::uint8_t, N>& out, ByteSpan src, std::size_t off) {
  std::copy_n(src.begin() + static_cast<std::ptrdiff_t>(off), N, out.begin());
}
std::uint32_t LeAt(ByteSpan b, std::size_t off, std::size_t n) {
  std::uint32_t v = 0;
  for (std::size_t i = n; i > 0; --i) v = (v << 8) | b[off + i - 1];
  return v;
}

QuoteHeader DecodeHeader(ByteSpan h) {
  QuoteHeader out;
  out.version = static_cast<std::uint16_t>(LeAt(h, 0, 2));
  out.att_key_type = static_cast<std::uint16_t>(LeAt(h, 2, 2));
  out.tee_type = LeAt(h, 4, 4);
  out.qe_svn = static_cast<std::uint16_t>(LeAt(h, 8, 2));
  out.pce_svn = static_cast<std::uint16_t>(LeAt(h, 10, 2));
  CopyAt(out.qe_vendor_id, h, 12);
  CopyAt(out.user_data, h, 28);
  return out;
}

// TDX API "TD Quote Body" offsets; "TD 1.5 Quote Body" (v5) appends TEE_TCB_SVN2 and MRSERVICETD.
TdReportBody DecodeTdBody(ByteSpan b) {
  TdReportBody t;
  CopyAt(t.tee_tcb_svn, b, 0);
  CopyAt(t.mr_seam, b, 16);
  CopyAt(t.mr_signer_seam, b, 64);
  CopyAt(t.seam_attributes, b, 112);
  CopyAt(t.td_attributes, b, 120);
  CopyAt(t.xfam, b, 128);
  CopyAt(t.mr_td, b, 136);
  CopyAt(t.mr_config_id, b, 184);
  CopyAt(t.mr_owner, b, 232);
  CopyAt(t.mr_owner_config, b, 280);
  for (std::size_t i = 0; i < 4; ++i) CopyAt(t.rtmr[i], b, 328 + 48 * i);
  CopyAt(t.report_data, b, 520);
  if (b.size() == kTdReportBody15Size) {
    t.tee_tcb_svn2.emplace();
    CopyAt(*t.tee_tcb_svn2, b, 584);
    t.mr_service_td.emplace();
    CopyAt(*t.mr_service_td, b, 600);
  }
  return t;
}

// The body, per version and TEE type. Leaves `r` just after the body.
Result<void> ParseBody(Reader& r, Quote& q) {
  const std::uint16_t v = q.header.version;
  if (v == 3) {
    if (q.header.tee_type != kTeeTypeSgx) {
      return Fail(Code::kMalformedEvidence, "quote v3 with tee_type " +
                                                std::to_string(q.header.tee_type) +
                                                " at offset 4; v3 is SGX only");
    }
    SIGIL_ASSIGN_OR_RETURN(ByteSpan body, r.Take(kSgxReportBodySize, "ISV enclave report body"));
    SIGIL_ASSIGN_OR_RETURN(q.sgx, ParseSgxReportBody(body));
    return Ok();
  }
  if (q.header.tee_type != kTeeTypeTdx) {
    return Fail(Code::kMalformedEvidence, "quote v" + std::to_string(v) + " with tee_type " +
                                              std::to_string(q.header.tee_type) +
                                              " at offset 4; only TDX (0x81) is supported");
  }
  std::size_t body_size = kTdReportBody10Size;
  if (v == 5) {
    const std::size_t at = r.offset();
    SIGIL_ASSIGN_OR_RETURN(std::uint32_t type, r.Le(2, "body type"));
    SIGIL_ASSIGN_OR_RETURN(std::uint32_t size, r.Le(4, "body size"));
    const bool ok = (type == kBodyTypeTd10 && size == kTdReportBody10Size) ||
                    (type == kBodyTypeTd15 && size == kTdReportBody15Size);
    if (!ok) {
      return Fail(Code::kMalformedEvidence,
                  "quote v5 body descriptor at offset " + std::to_string(at) + ": type " +
                      std::to_string(type) + " size " + std::to_string(size) +
                      " (supported: type 2 size 584, type 3 size 648)");
    }
    body_size = size;
  }
  SIGIL_ASSIGN_OR_RETURN(ByteSpan body, r.Take(body_size, "TD quote body"));
  q.td = DecodeTdBody(body);
  return Ok();
}

// QE report, its signature, QE auth data and the nested PCK chain (SGX API "QE Report",
// "QE Authentication Data", "QE Certification Data"; TDX API "QE Report Certification Data"). Must fill `r` exactly.
Result<void> ParseQeReportCertData(Reader& r, Quote& q) {
  SIGIL_ASSIGN_OR_RETURN(q.qe_report, r.Take(kSgxReportBodySize, "QE report"));
  SIGIL_ASSIGN_OR_RETURN(q.qe_report_body, ParseSgxReportBody(q.qe_report));
  SIGIL_ASSIGN_OR_RETURN(q.qe_report_signature, r.Take(64, "QE report signature"));
  SIGIL_ASSIGN_OR_RETURN(std::uint32_t auth_size, r.Le(2, "QE auth data size"));
  SIGIL_ASSIGN_OR_RETURN(q.qe_auth_data, r.Take(auth_size, "QE auth data"));
  const std::size_t type_at = r.offset();
  SIGIL_ASSIGN_OR_RETURN(std::uint32_t type, r.Le(2, "PCK certification data type"));
  if (type != kCertDataPckChain) {
    return Fail(Code::kMalformedEvidence, "certification data type " + std::to_string(type) +
                                              " at offset " + std::to_string(type_at) +
                                              "; expected 5 (PCK certificate chain)");
  }
  const std::size_t size_at = r.offset();
  SIGIL_ASSIGN_OR_RETURN(std::uint32_t size, r.Le(4, "PCK certification data size"));
  if (size != r.remaining()) {
    return Fail(Code::kMalformedEvidence,
                "PCK certification data size " + std::to_string(size) + " at offset " +
                    std::to_string(size_at) + " does not match the " +
                    std::to_string(r.remaining()) + " bytes its container holds");
  }
  SIGIL_ASSIGN_OR_RETURN(q.pck_chain_pem, r.Take(size, "PCK certificate chain"));
  return Ok();
}

// Signature data (SGX API "ECDSA 256-bit Quote Signature Data Structure"; TDX API
// "Quote Signature Data" for v4/v5).
Result<void> ParseSignatureData(Reader& r, Quote& q) {
  SIGIL_ASSIGN_OR_RETURN(q.signature, r.Take(64, "quote signature"));
  SIGIL_ASSIGN_OR_RETURN(q.attestation_key, r.Take(64, "attestation key"));
  if (q.header.version == 3) return ParseQeReportCertData(r, q);
  const std::size_t type_at = r.offset();
  SIGIL_ASSIGN_OR_RETURN(std::uint32_t type, r.Le(2, "certification data type"));
  if (type != kCertDataQeReport) {
    return Fail(Code::kMalformedEvidence, "certification data type " + std::to_string(type) +
                                              " at offset " + std::to_string(type_at) +
                                              "; expected 6 (QE report certification data)");
  }
  const std::size_t size_at = r.offset();
  SIGIL_ASSIGN_OR_RETURN(std::uint32_t size, r.Le(4, "certification data size"));
  if (size != r.remaining()) {
    return Fail(Code::kMalformedEvidence,
                "certification data size " + std::to_string(size) + " at offset " +
                    std::to_string(size_at) + " does not match the " +
                    std::to_string(r.remaining()) + " bytes of signature data left");
  }
  SIGIL_ASSIGN_OR_RETURN(ByteSpan inner, r.Take(size, "certification data"));
  Reader ir(inner, size_at + 4);
  return ParseQeReportCertData(ir, q);
}

}  // namespace

Result<SgxReportBody> ParseSgxReportBody(ByteSpan b) {
  if (b.size() != kSgxReportBodySize) {
    return Fail(Code::kMalformedEvidence,
                "SGX report body must be 384 bytes, got " + std::to_string(b.size()));
  }
  SgxReportBody s;
  CopyAt(s.cpu_svn, b, 0);
  s.misc_select = LeAt(b, 16, 4);
  CopyAt(s.attributes, b, 48);
  CopyAt(s.mr_enclave, b, 64);
  CopyAt(s.mr_signer, b, 128);
  s.isv_prod_id = static_cast<std::uint16_t>(LeAt(b, 256, 2));
  s.isv_svn = static_cast<std::uint16_t>(LeAt(b, 258, 2));
  s.config_svn = static_cast<std::uint16_t>(LeAt(b, 260, 2));
  CopyAt(s.report_data, b, 320);
  return s;
}

Result<Quote> ParseQuote(ByteSpan bytes) {
  Reader r(bytes, 0);
  Quote q;
  SIGIL_ASSIGN_OR_RETURN(ByteSpan header, r.Take(kHeaderSize, "quote header"));
  q.header = DecodeHeader(header);
  if (q.header.version != 3 && q.header.version != 4 && q.header.version != 5) {
    return Fail(Code::kMalformedEvidence, "quote version " + std::to_string(q.header.version) +
                                              " at offset 0 is not supported (3, 4, 5)");
  }
  if (q.header.att_key_type != kAttKeyEcdsaP256) {
    return Fail(Code::kMalformedEvidence,
                "attestation key type " + std::to_string(q.header.att_key_type) +
                    " at offset 2 is not supported (2 = ECDSA-256-with-P-256)");
  }
  SIGIL_RETURN_IF_ERROR(ParseBody(r, q));
  q.signed_region = bytes.first(r.offset());
  const std::size_t len_at = r.offset();
  SIGIL_ASSIGN_OR_RETURN(std::uint32_t sig_len, r.Le(4, "signature data length"));
  if (sig_len > r.remaining()) {
    return Fail(Code::kMalformedEvidence,
                "signature data length " + std::to_string(sig_len) + " at offset " +
                    std::to_string(len_at) + " exceeds the " + std::to_string(r.remaining()) +
                    " bytes left");
  }
  SIGIL_ASSIGN_OR_RETURN(ByteSpan sig_data, r.Take(sig_len, "signature data"));
  Reader sr(sig_data, len_at + 4);
  SIGIL_RETURN_IF_ERROR(ParseSignatureData(sr, q));
  q.trailing_bytes = r.remaining();
  return q;
}

}  // namespace sigil::attestation::dcap
