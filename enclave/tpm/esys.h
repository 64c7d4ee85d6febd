// RAII over tpm2-tss ESAPI (TCG TSS 2.0 Enhanced System API Specification) and the TCTI loader
// (TCG TSS 2.0 TCTI Specification): one object per C handle, TSS2_RC turned into Result errors
// that name the operation and decode the code with Tss2_RC_Decode.
// A TPM is a shared, single-threaded device: commands answered with TPM_RC_RETRY, TPM_RC_YIELDED
// or TPM_RC_TESTING (Part 2 s.6.6.3, "warning" codes: the command did not run and may be
// resubmitted) and a TCTI that cannot connect yet (/dev/tpm0 held by another process, swtpm
// still busy) are retried a few times with a short back-off; see Retry() and OpenTpm().
// Thread-safety: an EsysContext is not thread-safe (ESAPI keeps per-context session state);
// use one per thread or serialise calls.
#pragma once

#include <tss2/tss2_esys.h>
#include <tss2/tss2_tctildr.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "core/result.h"

namespace sigil::enclave::tpm {

// "<operation>: <Tss2_RC_Decode text> (0x<rc>)". `rc` must not be TSS2_RC_SUCCESS.
Error TssError(TSS2_RC rc, std::string_view operation);
// Ok() for TSS2_RC_SUCCESS, else TssError with the Code that fits the failure:
// kUnavailable for TCTI/transport failures, kInternal otherwise.
Result<void> Status(TSS2_RC rc, std::string_view operation);
// Always an error (for a failed rc): Unexpected(TssError(...)) with Status()'s Code.
Unexpected<Error> Fail(TSS2_RC rc, std::string_view operation);

// True for codes after which resubmitting the same command is correct: TPM_RC_RETRY,
// TPM_RC_YIELDED, TPM_RC_TESTING and TSS2_BASE_RC_TRY_AGAIN from any layer.
bool IsRetryable(TSS2_RC rc);
// Calls `f()` (returning TSS2_RC) until it returns a non-retryable code, at most 10 times with a
// growing back-off (10 ms .. ~1 s in total).
TSS2_RC RetryRc(const std::function<TSS2_RC()>& f);
template <class F>
TSS2_RC Retry(F&& f) {
  return RetryRc(std::function<TSS2_RC()>(std::forward<F>(f)));
}

// A TCTI loaded with Tss2_TctiLdr_Initialize; finalised on destruction. Move-only.
class TctiContext {
 public:
  // `conf` is a TCTI loader string: "swtpm:host=127.0.0.1,port=2321", "device:/dev/tpmrm0",
  // "mssim:...", or "" for the loader's default (tabrmd, then /dev/tpmrm0, /dev/tpm0, ...).
  // kUnavailable naming `conf` if the TCTI cannot be loaded or connected.
  static Result<TctiContext> Open(const std::string& conf);

  TctiContext() = default;
  ~TctiContext();
  TctiContext(TctiContext&& o) noexcept : ctx_(std::exchange(o.ctx_, nullptr)) {}
  TctiContext& operator=(TctiContext&& o) noexcept;
  TctiContext(const TctiContext&) = delete;
  TctiContext& operator=(const TctiContext&) = delete;

  TSS2_TCTI_CONTEXT* get() const { return ctx_; }

 private:
  explicit TctiContext(TSS2_TCTI_CONTEXT* ctx) : ctx_(ctx) {}
  TSS2_TCTI_CONTEXT* ctx_ = nullptr;
};

// An ESAPI context over an owned TCTI. Esys_Finalize runs before the TCTI is finalised.
class EsysContext {
 public:
  EsysContext() = default;
  EsysContext(ESYS_CONTEXT* ctx, TctiContext tcti, std::string tcti_conf)
      : tcti_(std::move(tcti)), ctx_(ctx), conf_(std::move(tcti_conf)) {}
  ~EsysContext();
  EsysContext(EsysContext&& o) noexcept
      : tcti_(std::move(o.tcti_)),
        ctx_(std::exchange(o.ctx_, nullptr)),
        conf_(std::move(o.conf_)) {}
  EsysContext& operator=(EsysContext&& o) noexcept;
  EsysContext(const EsysContext&) = delete;
  EsysContext& operator=(const EsysContext&) = delete;

  ESYS_CONTEXT* get() const { return ctx_; }
  // The TCTI string this context was opened with ("" = default), for error messages.
  const std::string& tcti() const { return conf_; }

 private:
  TctiContext tcti_;  // declared first: destroyed after ctx_ is finalised
  ESYS_CONTEXT* ctx_ = nullptr;
  std::string conf_;
};

// Opens the TPM behind `tcti` (see TctiContext::Open). Retries a TCTI that is busy or not yet
// accepting connections a few times. kUnavailable with the decoded RC and the TCTI string.
Result<EsysContext> OpenTpm(const std::string& tcti);

// How an owned ESYS_TR is given back when its owner goes out of scope.
//  - kFlush: Esys_FlushContext (TPM2_FlushContext, TPM 2.0 Part 3 s.28.4), for a transient
//    object or session, so the TPM's few transient slots are never leaked, also on error paths
//    (retried on TPM_RC_RETRY etc., see Retry()). Not for persistent or PCR handles: those must
//    not be flushed.
//  - kClose: Esys_TR_Close (ESAPI only, no TPM command), which drops ESAPI's metadata, e.g. for
//    a persistent object obtained with Esys_TR_FromTPMPublic: closing never evicts it.
// Errors are ignored: nothing useful can be done with them at that point.
enum class TrDisposal { kFlush, kClose };
void DisposeTr(ESYS_CONTEXT* ctx, ESYS_TR handle, TrDisposal how);

// The one RAII owner of an ESYS_TR, disposed of as `kHow` says on destruction or Reset().
// Move-only; does nothing for an empty owner (no context or ESYS_TR_NONE).
template <TrDisposal kHow>
class OwnedTr {
 public:
  OwnedTr() = default;
  OwnedTr(ESYS_CONTEXT* ctx, ESYS_TR handle) : ctx_(ctx), handle_(handle) {}
  ~OwnedTr() { Reset(); }
  OwnedTr(OwnedTr&& o) noexcept
      : ctx_(std::exchange(o.ctx_, nullptr)), handle_(std::exchange(o.handle_, ESYS_TR_NONE)) {}
  OwnedTr& operator=(OwnedTr&& o) noexcept {
    if (this != &o) {
      Reset();
      ctx_ = std::exchange(o.ctx_, nullptr);
      handle_ = std::exchange(o.handle_, ESYS_TR_NONE);
    }
    return *this;
  }
  OwnedTr(const OwnedTr&) = delete;
  OwnedTr& operator=(const OwnedTr&) = delete;

  ESYS_TR get() const { return handle_; }
  // Gives up ownership without disposing (e.g. after Esys_EvictControl made a transient object
  // persistent, or removed a persistent one, which invalidates the ESYS_TR).
  ESYS_TR Release() {
    ctx_ = nullptr;
    return std::exchange(handle_, ESYS_TR_NONE);
  }
  // Disposes of the handle now.
  void Reset() {
    if (ctx_ != nullptr && handle_ != ESYS_TR_NONE) {
      DisposeTr(ctx_, handle_, kHow);
    }
    ctx_ = nullptr;
    handle_ = ESYS_TR_NONE;
  }

 private:
  ESYS_CONTEXT* ctx_ = nullptr;
  ESYS_TR handle_ = ESYS_TR_NONE;
};

// A transient object or session: flushed.
using TransientHandle = OwnedTr<TrDisposal::kFlush>;
// A persistent object (or any ESYS_TR the TPM must keep): only ESAPI's metadata is closed.
using TrCloser = OwnedTr<TrDisposal::kClose>;

// Frees memory ESAPI allocated for an output parameter (Esys_Free).
struct EsysFree {
  void operator()(void* p) const { Esys_Free(p); }
};
template <class T>
using EsysPtr = std::unique_ptr<T, EsysFree>;

}  // namespace sigil::enclave::tpm
