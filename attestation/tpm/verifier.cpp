#include "attestation/tpm/verifier.h"

#include <algorithm>

#include "attestation/tpm/attest.h"
#include "attestation/tpm/evidence.h"
#include "attestation/tpm/pcrs.h"
#include "attestation/tpm/purpose_log.h"
#include "attestation/tpm/signature.h"
#include "attestation/tpm/tpm_claims.h"
#include "core/digest.h"
#include "core/encoding.h"
#include "core/text.h"

namespace sigil::attestation::tpm {
namespace {

constexpr std::size_t kBindingSize = 64;
constexpr std::size_t kQualifyingDataSize = 32;

// qualifiedSigner is the signing key's Qualified Name (Part 2 s.10.12.12), and for a primary
// key QN = nameAlg || H_nameAlg(QN(hierarchy) || Name) with QN(hierarchy) = its 4-byte handle
// (Part 1 s.16 "Names", s.26.3). The AK's parent chain is not known for other keys, so only
// primaries (what `sigil-load tpm-ak` makes) can be registered by their public area.
bool IsPrimaryQualifiedName(ByteSpan qualified_signer, ByteSpan name) {
  if (name.size() < 2) {
    return false;
  }
  const std::uint16_t alg = static_cast<std::uint16_t>((name[0] << 8) | name[1]);
  for (std::uint32_t hierarchy : {0x40000001u, 0x4000000Bu, 0x4000000Cu}) {  // owner, endorsement, platform
    Bytes in = {static_cast<std::uint8_t>(hierarchy >> 24), static_cast<std::uint8_t>(hierarchy >> 16),
                static_cast<std::uint8_t>(hierarchy >> 8), static_cast<std::uint8_t>(hierarchy)};
    in.insert(in.end(), name.begin(), name.end());
    Bytes qn(name.begin(), name.begin() + 2);
    if (alg == kAlgSha256) {
      auto d = Sha256(in);
      qn.insert(qn.end(), d.begin(), d.end());
    } else if (alg == kAlgSha384) {
      auto d = Sha384(in);
      qn.insert(qn.end(), d.begin(), d.end());
    } else {
      return false;
    }
    if (ConstantTimeEqual(qualified_signer, qn)) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string AkFingerprint(ByteSpan spki_der) { return HexEncode(Sha256(spki_der)); }

Result<void> ValidateFingerprint(std::string_view id, std::string_view what) {
  const bool ok = id.size() == 64 && std::all_of(id.begin(), id.end(), [](char c) {
                    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                  });
  if (!ok) {
    return Fail(Code::kInvalidArgument, std::string(what) + " '" + EscapeForDisplay(id, 80) +
                                            "' is invalid: expected 64 lowercase hex digits (a SHA-256 fingerprint)");
  }
  return Ok();
}

Result<std::unique_ptr<Verifier>> TpmVerifier::Create(TpmConfig config) {
  if (config.registered_aks.empty() && !config.tenant_aks) {
    return Fail(Code::kInvalidArgument, "TpmConfig has no registered AK");
  }
  std::vector<Ak> aks;
  for (const Bytes& spki : config.registered_aks) {
    SIGIL_ASSIGN_OR_RETURN(EvpPkeyPtr key, LoadAk(spki, Code::kInvalidArgument));
    SIGIL_ASSIGN_OR_RETURN(Bytes der, AkDer(*key));
    aks.push_back(Ak{std::move(key), std::move(der), {}});
  }
  auto guard = config.monotonic_clock_guard && !config.replay_check ? std::make_unique<ReplayGuard>() : nullptr;
  return std::unique_ptr<Verifier>(new TpmVerifier(std::move(aks), std::move(guard), std::move(config)));
}

Result<TpmVerifier::SharedAk> TpmVerifier::DecodeRegistered(const RegisteredAk& reg,
                                                            std::string_view tenant) const {
  std::string cache_key(reg.spki.begin(), reg.spki.end());
  cache_key.push_back('\0');
  cache_key.append(reg.tpm_name.begin(), reg.tpm_name.end());
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    if (auto it = decoded_.find(cache_key); it != decoded_.end()) return it->second;
  }
  auto key = LoadAk(reg.spki, Code::kInternal);
  if (!key) return std::move(key).error().Wrap("a TPM AK registered for tenant '" + std::string(tenant) + "'");
  SIGIL_ASSIGN_OR_RETURN(Bytes der, AkDer(**key));
  auto ak = std::make_shared<const Ak>(Ak{std::move(*key), std::move(der), reg.tpm_name});
  std::lock_guard<std::mutex> lock(cache_mu_);
  if (decoded_.size() >= kMaxCachedAks) decoded_.clear();
  decoded_.emplace(std::move(cache_key), ak);
  return ak;
}

Result<std::vector<TpmVerifier::SharedAk>> TpmVerifier::TenantAks(std::string_view tenant) const {
  std::vector<SharedAk> out;
  if (!tenant_aks_ || tenant.empty()) return out;
  SIGIL_ASSIGN_OR_RETURN(std::vector<RegisteredAk> extra, tenant_aks_(tenant));
  for (const RegisteredAk& reg : extra) {
    SIGIL_ASSIGN_OR_RETURN(SharedAk ak, DecodeRegistered(reg, tenant));
    out.push_back(std::move(ak));
  }
  return out;
}

Result<Claims> TpmVerifier::Verify(const VerifyInput& input) const {
  if (!input.expected_binding.empty() && input.expected_binding.size() != kBindingSize) {
    return Fail(Code::kInvalidArgument, "expected_binding must be empty or 64 bytes");
  }
  SIGIL_ASSIGN_OR_RETURN(Evidence e, ParseEvidence(input.evidence));
  SIGIL_ASSIGN_OR_RETURN(Quote quote, ParseQuote(e.attest));

  // Step 3-4: the AK and the signature.
  SIGIL_ASSIGN_OR_RETURN(std::vector<SharedAk> tenant_aks, TenantAks(input.tenant));
  std::vector<const Ak*> candidates;
  for (const Ak& ak : aks_) candidates.push_back(&ak);
  for (const SharedAk& ak : tenant_aks) candidates.push_back(ak.get());
  const std::string whose =
      input.tenant.empty() ? std::string() : " for tenant '" + std::string(input.tenant) + "'";
  const Ak* signer = nullptr;
  std::uint16_t digest_alg = 0;
  if (e.ak) {
    // Fast path: the evidence carries exactly the DER of a registered AK (what our attester
    // sends), so nothing needs decoding. Otherwise decode it to compare canonical DER.
    for (const Ak* ak : candidates) {
      if (ak->der == *e.ak) signer = ak;
    }
    Bytes der = *e.ak;
    if (signer == nullptr) {
      auto key = LoadAk(*e.ak, Code::kMalformedEvidence);
      if (!key) {
        return std::move(key).error().Wrap("$.ak");
      }
      SIGIL_ASSIGN_OR_RETURN(der, AkDer(**key));
      for (const Ak* ak : candidates) {
        if (ak->der == der) signer = ak;
      }
    }
    if (signer == nullptr) {
      return Fail(Code::kVerificationFailed, "the evidence's AK (fingerprint " + AkFingerprint(der) +
                                                 ") is not registered" + whose);
    }
    SIGIL_ASSIGN_OR_RETURN(digest_alg, VerifyQuoteSignature(*signer->key, e.attest, e.signature));
  } else {
    Error last(Code::kVerificationFailed, "no registered AK" + whose);
    for (const Ak* ak : candidates) {
      auto alg = VerifyQuoteSignature(*ak->key, e.attest, e.signature);
      if (alg) {
        signer = ak;
        digest_alg = *alg;
        break;
      }
      last = std::move(alg).error();
    }
    if (signer == nullptr) {
      return last.Wrap("no AK registered" + whose + " verifies the quote");
    }
  }

  // Step 4b: an AK registered by its public area must be the quote's qualifiedSigner.
  if (!signer->tpm_name.empty() && !IsPrimaryQualifiedName(quote.qualified_signer, signer->tpm_name)) {
    return Fail(Code::kVerificationFailed,
                "the quote's qualifiedSigner (tpm.ak " + HexEncode(quote.qualified_signer) +
                    ") is not the qualified name of the registered AK public area (Name " +
                    HexEncode(signer->tpm_name) + ") as a primary key of the owner, endorsement or platform "
                    "hierarchy");
  }

  // Step 5: PCRs.
  SIGIL_ASSIGN_OR_RETURN(Bytes selected, CheckPcrs(quote, e.pcrs, digest_alg));

  // Step 6: freshness binding.
  if (!input.expected_binding.empty() &&
      !ConstantTimeEqual(quote.extra_data, input.expected_binding.first(kQualifyingDataSize))) {
    return Fail(Code::kVerificationFailed,
                "qualifying data (extraData) does not match the expected binding");
  }

  // Step 6b: the purpose event log, replayed against the now authenticated PCR value.
  std::optional<VerifiedPurpose> purpose;
  if (e.purpose_log) {
    SIGIL_ASSIGN_OR_RETURN(purpose, VerifyPurposeLog(*e.purpose_log, quote, e.pcrs));
  }

  SIGIL_ASSIGN_OR_RETURN(Claims claims, BuildClaims(quote, e.pcrs, selected, purpose ? &*purpose : nullptr));

  // Step 7: replay guard, keyed by the AK's DER SPKI (fingerprint for the durable one).
  if (replay_check_) {
    SIGIL_RETURN_IF_ERROR(replay_check_(AkFingerprint(signer->der),
                                        ClockState{quote.reset_count, quote.restart_count, quote.clock}));
  } else if (guard_) {
    SIGIL_RETURN_IF_ERROR(guard_->Observe(
        HexEncode(signer->der), ClockState{quote.reset_count, quote.restart_count, quote.clock}));
  }
  return claims;
}

Result<void> CheckQualifyingData(ByteSpan evidence, ByteSpan expected) {
  if (expected.empty() || expected.size() > kMaxQualifyingData) {
    return Fail(Code::kInvalidArgument, "expected qualifying data must be 1.." +
                                            std::to_string(kMaxQualifyingData) + " bytes (TPM2B_DATA), not " +
                                            std::to_string(expected.size()));
  }
  SIGIL_ASSIGN_OR_RETURN(Evidence e, ParseEvidence(evidence));
  SIGIL_ASSIGN_OR_RETURN(Quote quote, ParseQuote(e.attest));
  if (!ConstantTimeEqual(quote.extra_data, expected)) {
    return Fail(Code::kVerificationFailed, "qualifying data (extraData, " +
                                               std::to_string(quote.extra_data.size()) +
                                               " bytes) does not match the expected value (" +
                                               std::to_string(expected.size()) + " bytes)");
  }
  return Ok();
}

}  // namespace sigil::attestation::tpm
