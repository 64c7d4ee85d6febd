#include "attestation/dcap/pck.h"

#include <openssl/objects.h>

#include <algorithm>
#include <optional>

namespace sigil::attestation::dcap {
namespace {

using Asn1ObjectPtr = CPtr<ASN1_OBJECT, ASN1_OBJECT_free>;

// 1.2.840.113741.1.13.1, DER content octets.
constexpr std::array<std::uint8_t, 9> kSgxOid{0x2A, 0x86, 0x48, 0x86, 0xF8, 0x4D, 0x01, 0x0D, 0x01};

struct Tlv {
  std::uint8_t tag;
  ByteSpan value;
};

// Minimal DER TLV reader (X.690 8.1): single-byte tags, definite lengths up to 4 bytes.
std::optional<Tlv> ReadTlv(ByteSpan& in) {
  if (in.size() < 2) return std::nullopt;
  const std::uint8_t tag = in[0];
  std::size_t len = in[1];
  std::size_t hdr = 2;
  if (len & 0x80) {
    const std::size_t n = len & 0x7f;
    if (n == 0 || n > 4 || in.size() < 2 + n) return std::nullopt;
    len = 0;
    for (std::size_t i = 0; i < n; ++i) len = (len << 8) | in[2 + i];
    hdr += n;
  }
  if (in.size() - hdr < len) return std::nullopt;
  Tlv t{tag, in.subspan(hdr, len)};
  in = in.subspan(hdr + len);
  return t;
}

// The SEQUENCE { OID, value } entries of a SEQUENCE body, keyed by the OID's last arc(s).
struct Entry {
  ByteSpan oid;
  Tlv value;
};
std::optional<std::vector<Entry>> ReadEntries(ByteSpan seq_body) {
  std::vector<Entry> out;
  while (!seq_body.empty()) {
    auto item = ReadTlv(seq_body);
    if (!item || item->tag != 0x30) return std::nullopt;
    ByteSpan body = item->value;
    auto oid = ReadTlv(body);
    auto value = ReadTlv(body);
    if (!oid || oid->tag != 0x06 || !value || !body.empty()) return std::nullopt;
    out.push_back({oid->value, *value});
  }
  return out;
}

// The entry whose OID is kSgxOid followed by `suffix`.
const Entry* FindEntry(const std::vector<Entry>& entries, std::initializer_list<std::uint8_t> suffix) {
  for (const auto& e : entries) {
    if (e.oid.size() != kSgxOid.size() + suffix.size()) continue;
    if (std::equal(kSgxOid.begin(), kSgxOid.end(), e.oid.begin()) &&
        std::equal(suffix.begin(), suffix.end(), e.oid.begin() + kSgxOid.size())) {
      return &e;
    }
  }
  return nullptr;
}

std::optional<std::uint32_t> Unsigned(const Tlv& t, std::uint32_t max) {
  if (t.tag != 0x02 || t.value.empty() || t.value.size() > 3 || (t.value[0] & 0x80)) {
    return std::nullopt;
  }
  std::uint32_t v = 0;
  for (std::uint8_t b : t.value) v = (v << 8) | b;
  if (v > max) return std::nullopt;
  return v;
}

template <std::size_t N>
bool Octets(const Entry* e, std::array<std::uint8_t, N>& out) {
  if (e == nullptr || e->value.tag != 0x04 || e->value.value.size() != N) return false;
  std::copy(e->value.value.begin(), e->value.value.end(), out.begin());
  return true;
}

Error Bad(const std::string& what) {
  return Error(Code::kMalformedEvidence, "PCK certificate SGX extension: " + what);
}

}  // namespace

Result<PckExtensions> ParsePckExtensions(X509* pck_leaf) {
  Asn1ObjectPtr obj(OBJ_txt2obj("1.2.840.113741.1.13.1", 1));
  if (!obj) return OpenSslError(Code::kInternal, "SGX extension OID");
  const int idx = X509_get_ext_by_OBJ(pck_leaf, obj.get(), -1);
  if (idx < 0) return Bad("missing (OID 1.2.840.113741.1.13.1)");
  ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(X509_get_ext(pck_leaf, idx));
  ByteSpan der(ASN1_STRING_get0_data(data), static_cast<std::size_t>(ASN1_STRING_length(data)));
  auto outer = ReadTlv(der);
  if (!outer || outer->tag != 0x30 || !der.empty()) return Bad("not a DER SEQUENCE");
  auto entries = ReadEntries(outer->value);
  if (!entries) return Bad("malformed entry list");

  PckExtensions out;
  const Entry* tcb = FindEntry(*entries, {0x02});
  if (tcb == nullptr || tcb->value.tag != 0x30) return Bad("TCB (.2) missing");
  auto comps = ReadEntries(tcb->value.value);
  if (!comps) return Bad("TCB (.2) malformed");
  for (std::uint8_t i = 1; i <= 16; ++i) {
    const Entry* c = FindEntry(*comps, {0x02, i});
    auto v = c ? Unsigned(c->value, 255) : std::nullopt;
    if (!v) return Bad("TCB comp " + std::to_string(i) + " SVN (.2." + std::to_string(i) + ")");
    out.tcb_comp_svn[i - 1] = static_cast<std::uint8_t>(*v);
  }
  const Entry* pcesvn = FindEntry(*comps, {0x02, 17});
  auto pv = pcesvn ? Unsigned(pcesvn->value, 65535) : std::nullopt;
  if (!pv) return Bad("PCESVN (.2.17)");
  out.pce_svn = static_cast<std::uint16_t>(*pv);
  if (!Octets(FindEntry(*comps, {0x02, 18}), out.cpu_svn)) return Bad("CPUSVN (.2.18)");
  if (!Octets(FindEntry(*entries, {0x03}), out.pce_id)) return Bad("PCE-ID (.3)");
  if (!Octets(FindEntry(*entries, {0x04}), out.fmspc)) return Bad("FMSPC (.4)");
  return out;
}

Result<PckChain> ParsePckChain(ByteSpan pem) {
  SIGIL_ASSIGN_OR_RETURN(std::vector<X509Ptr> certs, ParsePemCerts(pem, "PCK certificate chain"));
  if (certs.size() < 2) {
    return Fail(Code::kMalformedEvidence,
                "PCK certificate chain holds " + std::to_string(certs.size()) +
                    " certificate(s); expected PCK leaf, intermediate CA and root");
  }
  return PckChain{std::move(certs)};
}

Result<void> VerifyPckChain(const PckChain& chain, const std::vector<X509Ptr>& roots,
                            const std::vector<X509_CRL*>& crls,
                            std::chrono::system_clock::time_point now) {
  // QVL checks the chain's root against the trusted root too: a corrupt or foreign root in the
  // evidence is malformed evidence even though it would never serve as the anchor.
  X509* quoted_root = chain.certs.back().get();
  bool known = false;
  for (const auto& root : roots) known = known || X509_cmp(root.get(), quoted_root) == 0;
  if (chain.certs.size() != 3 || !known) {
    return Fail(Code::kVerificationFailed,
                "PCK certificate chain must be leaf, intermediate CA and the configured root");
  }
  // PCK profile spec: leaf "Intel SGX PCK Certificate", issued by the Platform or Processor CA.
  const std::string ca = SubjectCommonName(chain.certs[1].get());
  if (SubjectCommonName(chain.leaf()) != "Intel SGX PCK Certificate" ||
      (ca != "Intel SGX PCK Platform CA" && ca != "Intel SGX PCK Processor CA")) {
    return Fail(Code::kVerificationFailed, "PCK certificate chain has unexpected subjects");
  }
  std::vector<X509*> intermediates{chain.certs[1].get()};
  return VerifyChain(roots, chain.leaf(), intermediates, crls, now, "PCK certificate chain");
}

}  // namespace sigil::attestation::dcap
