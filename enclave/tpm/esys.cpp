#include "enclave/tpm/esys.h"

#include <tss2/tss2_rc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

namespace sigil::enclave::tpm {
namespace {

constexpr int kAttempts = 10;

// TSS2_RC layout (TSS 2.0 Overview s.6.1.2): bits 16..23 are the layer, the low 16 bits the
// base code for TSS layers or the TPM response code for the TPM layer (layer 0).
TSS2_RC BaseCode(TSS2_RC rc) { return rc & 0xffff; }
bool IsTpmLayer(TSS2_RC rc) { return (rc & TSS2_RC_LAYER_MASK) == TSS2_TPM_RC_LAYER; }

bool IsTransport(TSS2_RC rc) {
  if (IsTpmLayer(rc)) return false;
  TSS2_RC base = BaseCode(rc);
  return base == TSS2_BASE_RC_NO_CONNECTION || base == TSS2_BASE_RC_IO_ERROR ||
         base == TSS2_BASE_RC_TRY_AGAIN || base == TSS2_BASE_RC_NOT_SUPPORTED;
}

void Backoff(int attempt) {
  std::this_thread::sleep_for(std::chrono::milliseconds(10 * (1 << std::min(attempt, 4))));
}

}  // namespace

Error TssError(TSS2_RC rc, std::string_view operation) {
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%08x", rc);
  return Error(IsTransport(rc) ? Code::kUnavailable : Code::kInternal,
               std::string(operation) + ": " + Tss2_RC_Decode(rc) + " (" + hex + ")");
}

Result<void> Status(TSS2_RC rc, std::string_view operation) {
  if (rc == TSS2_RC_SUCCESS) return Ok();
  return TssError(rc, operation);
}

Unexpected<Error> Fail(TSS2_RC rc, std::string_view operation) {
  return Unexpected<Error>(TssError(rc, operation));
}

bool IsRetryable(TSS2_RC rc) {
  if (IsTpmLayer(rc)) {
    // Warnings (Part 2 s.6.6.3): the TPM did not execute the command.
    return rc == TPM2_RC_RETRY || rc == TPM2_RC_YIELDED || rc == TPM2_RC_TESTING;
  }
  return BaseCode(rc) == TSS2_BASE_RC_TRY_AGAIN;
}

TSS2_RC RetryRc(const std::function<TSS2_RC()>& f) {
  TSS2_RC rc = TSS2_RC_SUCCESS;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    rc = f();
    if (!IsRetryable(rc)) return rc;
    Backoff(attempt);
  }
  return rc;
}

Result<TctiContext> TctiContext::Open(const std::string& conf) {
  TSS2_TCTI_CONTEXT* ctx = nullptr;
  TSS2_RC rc = Tss2_TctiLdr_Initialize(conf.empty() ? nullptr : conf.c_str(), &ctx);
  if (rc != TSS2_RC_SUCCESS) {
    Error e = TssError(rc, "Tss2_TctiLdr_Initialize(\"" + conf + "\")");
    return Error(Code::kUnavailable, e.message());
  }
  return TctiContext(ctx);
}

TctiContext::~TctiContext() {
  if (ctx_ != nullptr) Tss2_TctiLdr_Finalize(&ctx_);
}

TctiContext& TctiContext::operator=(TctiContext&& o) noexcept {
  if (this != &o) {
    if (ctx_ != nullptr) Tss2_TctiLdr_Finalize(&ctx_);
    ctx_ = std::exchange(o.ctx_, nullptr);
  }
  return *this;
}

EsysContext::~EsysContext() {
  if (ctx_ != nullptr) Esys_Finalize(&ctx_);
}

EsysContext& EsysContext::operator=(EsysContext&& o) noexcept {
  if (this != &o) {
    if (ctx_ != nullptr) Esys_Finalize(&ctx_);
    ctx_ = std::exchange(o.ctx_, nullptr);
    tcti_ = std::move(o.tcti_);
    conf_ = std::move(o.conf_);
  }
  return *this;
}

Result<EsysContext> OpenTpm(const std::string& tcti) {
  std::string where = tcti.empty() ? std::string("the default TCTI") : "TCTI \"" + tcti + "\"";
  for (int attempt = 0;; ++attempt) {
    auto t = TctiContext::Open(tcti);
    if (!t) {
      // A device held by another process or a simulator not listening yet: retry a little.
      if (attempt + 1 < kAttempts) {
        Backoff(attempt);
        continue;
      }
      return Error(Code::kUnavailable,
                   "cannot open TPM through " + where + ": " + t.error().message());
    }
    ESYS_CONTEXT* ctx = nullptr;
    TSS2_RC rc = Esys_Initialize(&ctx, t->get(), nullptr);
    if (rc != TSS2_RC_SUCCESS) {
      if (IsRetryable(rc) && attempt + 1 < kAttempts) {
        Backoff(attempt);
        continue;
      }
      return Error(Code::kUnavailable, "cannot open TPM through " + where + ": " +
                                           TssError(rc, "Esys_Initialize").message());
    }
    return EsysContext(ctx, std::move(*t), tcti);
  }
}

void DisposeTr(ESYS_CONTEXT* ctx, ESYS_TR handle, TrDisposal how) {
  switch (how) {
    case TrDisposal::kFlush:
      (void)Retry([&] { return Esys_FlushContext(ctx, handle); });
      return;
    case TrDisposal::kClose:
      // Esys_TR_Close resets its argument to ESYS_TR_NONE; the owner forgets it anyway.
      (void)Esys_TR_Close(ctx, &handle);
      return;
  }
}

}  // namespace sigil::enclave::tpm
