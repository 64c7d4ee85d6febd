#include "attestation/dcap/collateral.h"

#include "core/encoding.h"
#include "core/json.h"

namespace sigil::attestation::dcap {
namespace {

Result<std::string> Field(const Json& j, std::string_view key) {
  auto v = GetString(j, key, "$");
  if (!v) return Error(Code::kMalformedEvidence, "DCAP collateral: " + v.error().message());
  return std::move(v).value();
}

Result<Bytes> HexField(const Json& j, std::string_view key) {
  SIGIL_ASSIGN_OR_RETURN(std::string text, Field(j, key));
  auto b = HexDecode(text);
  if (!b) {
    return Fail(Code::kMalformedEvidence,
                "DCAP collateral: $." + std::string(key) + " is not hex: " + b.error().message());
  }
  return std::move(b).value();
}

Result<std::vector<X509Ptr>> ChainField(const Json& j, std::string_view key) {
  SIGIL_ASSIGN_OR_RETURN(std::string pem, Field(j, key));
  return ParsePemCerts(AsBytes(pem), "DCAP collateral $." + std::string(key));
}

Result<void> CheckTimes(std::string_view what, TimePoint issue, TimePoint next, TimePoint now) {
  if (now < issue) {
    return Fail(Code::kExpired, std::string(what) + " is not yet valid at the verification time");
  }
  if (now >= next) {
    return Fail(Code::kExpired, std::string(what) +
                                    " has expired (past nextUpdate); fetch fresh collateral");
  }
  return Ok();
}

// Verifies one signed JSON document: issuer chain to the root (with the root CRL), then the
// ECDSA signature over the exact body bytes (PCS API v4, "TCB Info" / "Enclave Identity":
// "signature" is over the JSON object value as served).
Result<void> VerifySignedJson(std::string_view what, std::string_view body, ByteSpan signature,
                              const std::vector<X509Ptr>& chain,
                              const std::vector<X509Ptr>& roots, X509_CRL* root_crl,
                              TimePoint now) {
  // PCK profile spec: TCB Info and QE Identity are signed by "Intel SGX TCB Signing".
  if (SubjectCommonName(chain[0].get()) != "Intel SGX TCB Signing") {
    return Fail(Code::kVerificationFailed,
                std::string(what) + " is not signed by an Intel SGX TCB Signing certificate");
  }
  std::vector<X509*> rest;
  for (std::size_t i = 1; i < chain.size(); ++i) rest.push_back(chain[i].get());
  SIGIL_RETURN_IF_ERROR(VerifyChain(roots, chain[0].get(), rest, {root_crl}, now,
                                    std::string(what) + " signing chain"));
  EVP_PKEY* key = X509_get0_pubkey(chain[0].get());
  if (key == nullptr) return OpenSslError(Code::kMalformedEvidence, "TCB signing key");
  return VerifyEcdsaRaw(key, AsBytes(body), signature, std::string(what) + " signature");
}

// Where a successful VerifyCollateral stays successful (CheckTimes: now < nextUpdate).
ValidityWindow CollateralWindow(const VerifiedCollateral& v, const std::vector<X509Ptr>& roots) {
  ValidityWindow w;
  constexpr auto kSecond = std::chrono::seconds(1);
  w.Narrow(v.tcb_info.issue_date, v.tcb_info.next_update - kSecond);
  w.Narrow(v.qe_identity.issue_date, v.qe_identity.next_update - kSecond);
  for (const auto* chain : {&v.raw.tcb_info_issuer_chain, &v.raw.qe_identity_issuer_chain, &roots}) {
    for (const X509Ptr& cert : *chain) NarrowToCert(w, cert.get());
  }
  NarrowToCrl(w, v.raw.root_ca_crl.get());
  return w;
}

Sha256Digest CrlDigest(const Collateral& c) {
  Bytes all;
  for (X509_CRL* crl : {c.pck_crl.get(), c.root_ca_crl.get()}) {
    const int n = i2d_X509_CRL(crl, nullptr);
    if (n <= 0) continue;
    const std::size_t at = all.size();
    all.resize(at + static_cast<std::size_t>(n));
    unsigned char* out = all.data() + at;
    i2d_X509_CRL(crl, &out);
  }
  return Sha256(all);
}

}  // namespace

Result<Collateral> ParseCollateral(ByteSpan json) {
  auto parsed = ParseJson(ToString(json), "DCAP collateral");
  if (!parsed) return Error(Code::kMalformedEvidence, parsed.error().message());
  Json j = std::move(parsed).value();
  if (!j.is_object()) return Fail(Code::kMalformedEvidence, "DCAP collateral is not an object");
  Collateral c;
  SIGIL_ASSIGN_OR_RETURN(c.tcb_info, Field(j, "tcb_info"));
  SIGIL_ASSIGN_OR_RETURN(c.tcb_info_signature, HexField(j, "tcb_info_signature"));
  SIGIL_ASSIGN_OR_RETURN(c.tcb_info_issuer_chain, ChainField(j, "tcb_info_issuer_chain"));
  SIGIL_ASSIGN_OR_RETURN(c.qe_identity, Field(j, "qe_identity"));
  SIGIL_ASSIGN_OR_RETURN(c.qe_identity_signature, HexField(j, "qe_identity_signature"));
  SIGIL_ASSIGN_OR_RETURN(c.qe_identity_issuer_chain, ChainField(j, "qe_identity_issuer_chain"));
  SIGIL_ASSIGN_OR_RETURN(Bytes pck_crl, HexField(j, "pck_crl"));
  SIGIL_ASSIGN_OR_RETURN(c.pck_crl, ParseCrl(pck_crl, "DCAP collateral $.pck_crl"));
  SIGIL_ASSIGN_OR_RETURN(Bytes root_crl, HexField(j, "root_ca_crl"));
  SIGIL_ASSIGN_OR_RETURN(c.root_ca_crl, ParseCrl(root_crl, "DCAP collateral $.root_ca_crl"));
  return c;
}

Result<std::string> ExtractSignedObject(std::string_view response, std::string_view key) {
  const std::string needle = "\"" + std::string(key) + "\"";
  std::size_t pos = response.find(needle);
  if (pos == std::string_view::npos) {
    return Fail(Code::kMalformedEvidence, "PCS response has no \"" + std::string(key) + "\"");
  }
  pos = response.find_first_not_of(" \t\r\n", pos + needle.size());
  if (pos == std::string_view::npos || response[pos] != ':') {
    return Fail(Code::kMalformedEvidence, "PCS response: ':' expected after " + needle);
  }
  pos = response.find_first_not_of(" \t\r\n", pos + 1);
  if (pos == std::string_view::npos || response[pos] != '{') {
    return Fail(Code::kMalformedEvidence, "PCS response: " + needle + " is not an object");
  }
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = pos; i < response.size(); ++i) {
    const char ch = response[i];
    if (in_string) {
      if (ch == '\\') {
        ++i;
      } else if (ch == '"') {
        in_string = false;
      }
    } else if (ch == '"') {
      in_string = true;
    } else if (ch == '{') {
      ++depth;
    } else if (ch == '}' && --depth == 0) {
      return std::string(response.substr(pos, i - pos + 1));
    }
  }
  return Fail(Code::kMalformedEvidence, "PCS response: " + needle + " object is not closed");
}

Result<std::string> CollateralFromPcsResponses(std::string_view tcb_info_response,
                                               std::string_view qe_identity_response,
                                               std::string_view issuer_chain_pem,
                                               ByteSpan pck_crl_der, ByteSpan root_crl_der) {
  SIGIL_ASSIGN_OR_RETURN(Json tcb, ParseJson(tcb_info_response, "TCB info response"));
  SIGIL_ASSIGN_OR_RETURN(Json qe, ParseJson(qe_identity_response, "QE identity response"));
  SIGIL_ASSIGN_OR_RETURN(std::string tcb_sig, Field(tcb, "signature"));
  SIGIL_ASSIGN_OR_RETURN(std::string qe_sig, Field(qe, "signature"));
  Json out = Json::object();
  SIGIL_ASSIGN_OR_RETURN(out["tcb_info"], ExtractSignedObject(tcb_info_response, "tcbInfo"));
  SIGIL_ASSIGN_OR_RETURN(out["qe_identity"],
                         ExtractSignedObject(qe_identity_response, "enclaveIdentity"));
  out["tcb_info_signature"] = tcb_sig;
  out["qe_identity_signature"] = qe_sig;
  out["tcb_info_issuer_chain"] = std::string(issuer_chain_pem);
  out["qe_identity_issuer_chain"] = std::string(issuer_chain_pem);
  out["pck_crl"] = HexEncode(pck_crl_der);
  out["root_ca_crl"] = HexEncode(root_crl_der);
  return out.dump();
}

Result<VerifiedCollateral> VerifyCollateral(Collateral&& c, const std::vector<X509Ptr>& roots,
                                            TimePoint now) {
  SIGIL_RETURN_IF_ERROR(VerifySignedJson("TCB info", c.tcb_info, c.tcb_info_signature,
                                         c.tcb_info_issuer_chain, roots, c.root_ca_crl.get(),
                                         now));
  SIGIL_RETURN_IF_ERROR(VerifySignedJson("QE identity", c.qe_identity, c.qe_identity_signature,
                                         c.qe_identity_issuer_chain, roots, c.root_ca_crl.get(),
                                         now));
  // Parse only what was authenticated.
  SIGIL_ASSIGN_OR_RETURN(TcbInfo tcb, ParseTcbInfo(c.tcb_info));
  SIGIL_ASSIGN_OR_RETURN(QeIdentity qe, ParseQeIdentity(c.qe_identity));
  SIGIL_RETURN_IF_ERROR(CheckTimes("TCB info", tcb.issue_date, tcb.next_update, now));
  SIGIL_RETURN_IF_ERROR(CheckTimes("QE identity", qe.issue_date, qe.next_update, now));
  VerifiedCollateral out{std::move(tcb), std::move(qe), std::move(c), {}, {}};
  out.window = CollateralWindow(out, roots);
  out.crl_digest = CrlDigest(out.raw);
  return out;
}

}  // namespace sigil::attestation::dcap
