#include "attestation/tpm/pcrs.h"

#include <openssl/evp.h>

#include <set>
#include <string>

#include "core/digest.h"
#include "core/ossl.h"

namespace sigil::attestation::tpm {

Result<Bytes> TpmHash(std::uint16_t hash_alg, ByteSpan data) {
  const EVP_MD* md = nullptr;
  switch (hash_alg) {
    case kAlgSha1:
      md = EVP_sha1();
      break;
    case kAlgSha256:
      md = EVP_sha256();
      break;
    case kAlgSha384:
      md = EVP_sha384();
      break;
    default:
      return Fail(Code::kInvalidArgument, "unsupported TPM hash algorithm");
  }
  Bytes out(static_cast<std::size_t>(EVP_MD_get_size(md)));
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr) != 1) {
    return OpenSslError(Code::kInternal, "EVP_Digest");
  }
  return out;
}

Result<Bytes> CheckPcrs(const Quote& quote, const PcrValues& values, std::uint16_t digest_alg) {
  std::set<std::uint16_t> banks;
  Bytes concat;
  std::size_t used = 0;
  for (const PcrBankSelection& sel : quote.pcr_select) {
    const std::size_t size = HashSize(sel.hash_alg);
    if (size == 0) {
      return Fail(Code::kMalformedEvidence,
                  "PCR bank algorithm " + std::to_string(sel.hash_alg) + " is not supported");
    }
    if (!banks.insert(sel.hash_alg).second) {
      return Fail(Code::kMalformedEvidence,
                  std::string("PCR bank ") + HashName(sel.hash_alg) + " is selected twice");
    }
    if (sel.pcrs.empty()) {
      continue;
    }
    auto bank = values.find(sel.hash_alg);
    if (bank == values.end()) {
      return Fail(Code::kMalformedEvidence,
                  std::string("no values for selected PCR bank ") + HashName(sel.hash_alg));
    }
    for (std::uint32_t pcr : sel.pcrs) {
      auto v = bank->second.find(pcr);
      if (v == bank->second.end() || v->second.size() != size) {
        return Fail(Code::kMalformedEvidence, std::string("missing or wrong-size value for PCR ") +
                                                  HashName(sel.hash_alg) + ":" +
                                                  std::to_string(pcr));
      }
      concat.insert(concat.end(), v->second.begin(), v->second.end());
      ++used;
    }
  }
  if (!banks.contains(kAlgSha256)) {
    return Fail(Code::kVerificationFailed, "the quote does not select the SHA-256 PCR bank");
  }
  std::size_t provided = 0;
  for (const auto& [alg, bank] : values) {
    provided += bank.size();
  }
  if (provided != used) {
    return Fail(Code::kMalformedEvidence, "evidence carries PCR values the quote does not select");
  }
  SIGIL_ASSIGN_OR_RETURN(Bytes digest, TpmHash(digest_alg, concat));
  if (!ConstantTimeEqual(digest, quote.pcr_digest)) {
    return Fail(Code::kVerificationFailed, "pcrDigest does not match the PCR values");
  }
  return concat;
}

}  // namespace sigil::attestation::tpm
