#include "attestation/nvidia/collateral.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <cstring>
#include <string>

namespace sigil::attestation::nvidia {
namespace {

BioPtr MemBio(ByteSpan b) {
  return BioPtr(BIO_new_mem_buf(b.data(), static_cast<int>(b.size())));
}

// Frees the three buffers PEM_read_bio hands out.
struct PemBlock {
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* data = nullptr;
  long len = 0;
  ~PemBlock() {
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
  }
};

Unexpected<Error> BadBlock(std::size_t n, const std::string& what, Code code) {
  return Fail(code, "NVIDIA collateral PEM block #" + std::to_string(n) + ": " + what);
}

}  // namespace

Result<Collateral> ParseCollateral(ByteSpan pem) {
  Collateral out;
  if (pem.empty()) return out;
  BioPtr bio = MemBio(pem);
  if (!bio) return OpenSslError(Code::kInternal, "BIO_new_mem_buf");
  for (std::size_t n = 1;; ++n) {
    PemBlock block;
    if (PEM_read_bio(bio.get(), &block.name, &block.header, &block.data, &block.len) != 1) {
      const unsigned long err = ERR_peek_last_error();
      // PEM_R_NO_START_LINE marks the end of the bundle; anything else is a corrupt block.
      if (ERR_GET_REASON(err) != PEM_R_NO_START_LINE) {
        return OpenSslError(Code::kMalformedEvidence,
                            "NVIDIA collateral PEM block #" + std::to_string(n) + " is corrupt");
      }
      ERR_clear_error();
      break;
    }
    const unsigned char* p = block.data;
    if (std::strcmp(block.name, "CERTIFICATE") == 0) {
      X509Ptr cert(d2i_X509(nullptr, &p, block.len));
      if (!cert || p != block.data + block.len) {
        ERR_clear_error();
        return BadBlock(n, "certificate does not parse", Code::kMalformedEvidence);
      }
      out.chain.push_back(std::move(cert));
    } else if (std::strcmp(block.name, "X509 CRL") == 0) {
      X509CrlPtr crl(d2i_X509_CRL(nullptr, &p, block.len));
      if (!crl || p != block.data + block.len) {
        ERR_clear_error();
        return BadBlock(n, "CRL does not parse", Code::kMalformedEvidence);
      }
      out.crls.push_back(std::move(crl));
    } else if (std::strcmp(block.name, "OCSP RESPONSE") == 0) {
      OcspResponsePtr resp(d2i_OCSP_RESPONSE(nullptr, &p, block.len));
      if (!resp || p != block.data + block.len) {
        ERR_clear_error();
        return BadBlock(n, "OCSP response does not parse", Code::kMalformedEvidence);
      }
      out.ocsp.push_back(std::move(resp));
    } else {
      return BadBlock(n, "unsupported label '" + std::string(block.name) +
                             "' (only CERTIFICATE, X509 CRL, OCSP RESPONSE)",
                      Code::kMalformedEvidence);
    }
  }
  if (out.chain.empty() && out.crls.empty() && out.ocsp.empty()) {
    return Fail(Code::kMalformedEvidence, "NVIDIA collateral holds no PEM block");
  }
  return out;
}

Result<Collateral> ParseRevocationFile(ByteSpan bytes) {
  Collateral out;
  // DER first: a PEM file never starts with the SEQUENCE tag 0x30, so the two cannot be confused.
  if (!bytes.empty() && bytes[0] == 0x30) {
    const unsigned char* p = bytes.data();
    X509CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(bytes.size())));
    if (crl && p == bytes.data() + bytes.size()) {
      out.crls.push_back(std::move(crl));
      return out;
    }
    ERR_clear_error();
    p = bytes.data();
    OcspResponsePtr resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(bytes.size())));
    if (resp && p == bytes.data() + bytes.size()) {
      out.ocsp.push_back(std::move(resp));
      return out;
    }
    ERR_clear_error();
    return Fail(Code::kMalformedEvidence, "neither a DER CRL nor a DER OCSP response");
  }
  SIGIL_ASSIGN_OR_RETURN(out, ParseCollateral(bytes));
  if (!out.chain.empty()) {
    return Fail(Code::kInvalidArgument,
                "holds a CERTIFICATE; only CRLs (X509 CRL) and OCSP responses (OCSP RESPONSE) are "
                "revocation data here");
  }
  return out;
}

Result<std::vector<X509Ptr>> ParseAnchors(const std::vector<Bytes>& entries) {
  std::vector<X509Ptr> out;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const Bytes& e = entries[i];
    const unsigned char* p = e.data();
    X509Ptr der(d2i_X509(nullptr, &p, static_cast<long>(e.size())));
    if (der && p == e.data() + e.size()) {
      out.push_back(std::move(der));
      continue;
    }
    ERR_clear_error();
    auto parsed = ParseCollateral(e);
    if (!parsed || parsed->chain.empty() || !parsed->crls.empty() || !parsed->ocsp.empty()) {
      return Fail(Code::kInvalidArgument, "NVIDIA trust anchor #" + std::to_string(i + 1) +
                                              " is not a DER or PEM certificate");
    }
    for (X509Ptr& c : parsed->chain) out.push_back(std::move(c));
  }
  return out;
}

}  // namespace sigil::attestation::nvidia
