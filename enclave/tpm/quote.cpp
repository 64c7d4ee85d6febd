#include "enclave/tpm/quote.h"

#include <tss2/tss2_mu.h>

#include "attestation/tpm/attest.h"
#include "attestation/tpm/pcrs.h"
#include "enclave/tpm/pcr_selection.h"

namespace sigil::enclave::tpm {
namespace {

namespace att = attestation::tpm;

constexpr int kAttempts = 5;

// The hash of the AK's signing scheme: the TPM computes pcrDigest with it (Part 3 s.18.4.1).
TPMI_ALG_HASH SchemeHash(const TPMT_PUBLIC& p) {
  if (p.type == TPM2_ALG_RSA) return p.parameters.rsaDetail.scheme.details.anySig.hashAlg;
  return p.parameters.eccDetail.scheme.details.anySig.hashAlg;
}

Result<Bytes> MarshalSignature(const TPMT_SIGNATURE& sig) {
  Bytes out(sizeof(TPMT_SIGNATURE));
  size_t offset = 0;
  SIGIL_RETURN_IF_ERROR(
      Status(Tss2_MU_TPMT_SIGNATURE_Marshal(&sig, out.data(), out.size(), &offset),
             "Tss2_MU_TPMT_SIGNATURE_Marshal"));
  out.resize(offset);
  return out;
}

}  // namespace

Result<att::Evidence> TakeQuote(const EsysContext& ctx, const LoadedAk& ak,
                                const TPML_PCR_SELECTION& sel, ByteSpan qualifying_data) {
  TPM2B_DATA qualifying{};
  if (qualifying_data.size() > sizeof(qualifying.buffer)) {
    return Fail(Code::kInvalidArgument, "qualifying data longer than " +
                                            std::to_string(sizeof(qualifying.buffer)) + " bytes");
  }
  qualifying.size = static_cast<UINT16>(qualifying_data.size());
  std::copy(qualifying_data.begin(), qualifying_data.end(), qualifying.buffer);
  TPMT_SIG_SCHEME scheme{};
  scheme.scheme = TPM2_ALG_NULL;  // use the AK's own (restricted keys fix their scheme)
  SIGIL_ASSIGN_OR_RETURN(Bytes spki, PublicAreaToSpkiDer(ak.pub));
  const TPMI_ALG_HASH digest_alg = SchemeHash(ak.pub.publicArea);

  Error last(Code::kUnavailable, "no attempt");
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    TPM2B_ATTEST* quoted_raw = nullptr;
    TPMT_SIGNATURE* sig_raw = nullptr;
    TSS2_RC rc = Retry([&] {
      return Esys_Quote(ctx.get(), ak.handle(), ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                        &qualifying, &scheme, &sel, &quoted_raw, &sig_raw);
    });
    EsysPtr<TPM2B_ATTEST> quoted(quoted_raw);
    EsysPtr<TPMT_SIGNATURE> sig(sig_raw);
    SIGIL_RETURN_IF_ERROR(Status(rc, "Esys_Quote"));
    SIGIL_ASSIGN_OR_RETURN(PcrRead pcrs, ReadPcrs(ctx, sel));

    att::Evidence e;
    e.attest.assign(quoted->attestationData, quoted->attestationData + quoted->size);
    SIGIL_ASSIGN_OR_RETURN(e.signature, MarshalSignature(*sig));
    e.pcrs = std::move(pcrs.values);
    e.ak = spki;
    SIGIL_ASSIGN_OR_RETURN(att::Quote parsed, att::ParseQuote(e.attest));
    auto check = att::CheckPcrs(parsed, e.pcrs, digest_alg);
    if (check) return e;
    // A PCR was extended between TPM2_Quote and TPM2_PCR_Read: take both again.
    last = std::move(check).error();
  }
  return last.Wrap("PCR values kept changing while quoting (" + std::to_string(kAttempts) +
                   " attempts)");
}

}  // namespace sigil::enclave::tpm
