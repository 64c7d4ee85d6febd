#include "attestation/nvidia/chain.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <string>

#include "attestation/nvidia/revocation.h"
#include "core/digest.h"

namespace sigil::attestation::nvidia {
namespace {

using X509StoreCtxPtr = CPtr<X509_STORE_CTX, X509_STORE_CTX_free>;
void FreeX509Stack(STACK_OF(X509) * s) noexcept { sk_X509_free(s); }
void FreeX509StackAndCerts(STACK_OF(X509) * s) noexcept { sk_X509_pop_free(s, X509_free); }
using X509StackPtr = CPtr<STACK_OF(X509), FreeX509Stack>;
using X509OwningStackPtr = CPtr<STACK_OF(X509), FreeX509StackAndCerts>;
using Asn1ObjectPtr = CPtr<ASN1_OBJECT, ASN1_OBJECT_free>;

constexpr char kTcbInfoOid[] = "2.23.133.5.4.1";

bool IsTimeError(int err) {
  return err == X509_V_ERR_CERT_HAS_EXPIRED || err == X509_V_ERR_CERT_NOT_YET_VALID;
}

// A store holding only the pinned roots, verifying at `t` (also for OCSP responder chains,
// which OpenSSL validates with the store's parameters).
Result<X509StorePtr> MakeStore(const std::vector<X509Ptr>& roots, std::time_t t) {
  X509StorePtr store(X509_STORE_new());
  if (!store) return OpenSslError(Code::kInternal, "allocating X509 store");
  for (const X509Ptr& root : roots) {
    if (X509_STORE_add_cert(store.get(), root.get()) != 1) {
      return OpenSslError(Code::kInternal, "adding NVIDIA trust anchor");
    }
  }
  X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store.get()), t);
  return store;
}

// A non-owning stack of certs[from..] followed by `extra`.
Result<X509StackPtr> MakeStack(const std::vector<X509Ptr>& certs, std::size_t from,
                               const std::vector<X509Ptr>& extra) {
  X509StackPtr stack(sk_X509_new_null());
  if (!stack) return OpenSslError(Code::kInternal, "sk_X509_new_null");
  for (const std::vector<X509Ptr>* list : {&certs, &extra}) {
    for (std::size_t i = list == &certs ? from : 0; i < list->size(); ++i) {
      if (sk_X509_push(stack.get(), (*list)[i].get()) <= 0) {
        return OpenSslError(Code::kInternal, "sk_X509_push");
      }
    }
  }
  return stack;
}

}  // namespace

Result<Revocation> VerifyDeviceChain(const std::vector<X509Ptr>& chain,
                                     const std::vector<X509Ptr>& roots,
                                     const std::vector<X509CrlPtr>& crls,
                                     const std::vector<OcspResponsePtr>& ocsp,
                                     std::chrono::system_clock::time_point now) {
  if (chain.size() < 2) {
    return Fail(Code::kVerificationFailed,
                "NVIDIA device certificate chain needs at least 2 certificates, got " +
                    std::to_string(chain.size()));
  }
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  SIGIL_ASSIGN_OR_RETURN(X509StorePtr store, MakeStore(roots, t));
  SIGIL_ASSIGN_OR_RETURN(X509StackPtr untrusted, MakeStack(chain, 1, {}));
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), chain[0].get(), untrusted.get()) != 1) {
    return OpenSslError(Code::kInternal, "initialising chain verification");
  }
  if (X509_verify_cert(ctx.get()) != 1) {
    const int err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return Fail(IsTimeError(err) ? Code::kExpired : Code::kVerificationFailed,
                "NVIDIA device certificate chain does not verify to a configured root at depth " +
                    std::to_string(X509_STORE_CTX_get_error_depth(ctx.get())) + ": " +
                    X509_verify_cert_error_string(err));
  }
  X509OwningStackPtr built(X509_STORE_CTX_get1_chain(ctx.get()));
  const int n = built ? sk_X509_num(built.get()) : 0;
  if (n < 2) return Fail(Code::kVerificationFailed, "NVIDIA chain is shorter than 2 certificates");
  // OCSP_basic_verify looks for the responder only among these certificates (not in the
  // store): the chain and the pinned roots. Trust still comes from the store alone.
  SIGIL_ASSIGN_OR_RETURN(X509StackPtr responders, MakeStack(chain, 1, roots));
  const RevocationData data{&crls, &ocsp, store.get(), responders.get(),
                            static_cast<std::int64_t>(t)};
  SIGIL_ASSIGN_OR_RETURN(std::vector<bool> covered, CheckChainRevocation(built.get(), data));
  return SummarizeRevocation(covered);
}

Result<std::array<std::uint8_t, kFwidSize>> LeafFwid(const X509& leaf) {
  Asn1ObjectPtr oid(OBJ_txt2obj(kTcbInfoOid, /*no_name=*/1));
  if (!oid) return OpenSslError(Code::kInternal, "OBJ_txt2obj");
  const int pos = X509_get_ext_by_OBJ(&leaf, oid.get(), -1);
  if (pos < 0) {
    return Fail(Code::kVerificationFailed,
                "NVIDIA leaf certificate has no TCG DICE TcbInfo extension (2.23.133.5.4.1)");
  }
  if (X509_get_ext_by_OBJ(&leaf, oid.get(), pos) >= 0) {
    return Fail(Code::kVerificationFailed, "NVIDIA leaf certificate has two TcbInfo extensions");
  }
  const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(X509_get_ext(&leaf, pos));
  const int len = data == nullptr ? 0 : ASN1_STRING_length(data);
  if (len < static_cast<int>(kFwidSize) + 2) {
    return Fail(Code::kVerificationFailed, "NVIDIA leaf TcbInfo extension is too short");
  }
  const std::uint8_t* bytes = ASN1_STRING_get0_data(data);
  const std::uint8_t* fwid = bytes + (len - static_cast<int>(kFwidSize));
  // The FWID digest is the last field of the last FWID: OCTET STRING (0x04) of length 48.
  if (fwid[-2] != 0x04 || fwid[-1] != kFwidSize) {
    return Fail(Code::kVerificationFailed,
                "NVIDIA leaf TcbInfo extension does not end with a 48-byte FWID digest");
  }
  std::array<std::uint8_t, kFwidSize> out{};
  std::copy(fwid, fwid + kFwidSize, out.begin());
  return out;
}

Result<void> CheckFwid(const X509& leaf, const Report& report) {
  if (!report.fwid) {
    return Fail(Code::kVerificationFailed, "NVIDIA report has no FWID (opaque type 20)");
  }
  SIGIL_ASSIGN_OR_RETURN(const auto cert_fwid, LeafFwid(leaf));
  // The leaf key is certified for one firmware image; a report whose FWID differs was signed
  // by a key the chain does not vouch for in this state (nvtrust: "FWID mismatch").
  if (!ConstantTimeEqual(cert_fwid, *report.fwid)) {
    return Fail(Code::kVerificationFailed,
                "NVIDIA report FWID (opaque type 20) differs from the leaf certificate's FWID");
  }
  return Ok();
}

}  // namespace sigil::attestation::nvidia
