// sigil_load_model (sigil_load.h): a C shell around AttestAndDecrypt. Everything C++ stays on
// this side: Results become codes and messages, and no exception escapes (catch-all below).
#include "loader/c_api/sigil_load.h"

#include <fcntl.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "core/secret_bytes.h"
#include "loader/attested_load.h"
#include "loader/engine_exec.h"
#include "loader/fd_util.h"

namespace {
using namespace sigil;

int CodeOf(Code c) {
  switch (c) {
    case Code::kInvalidArgument:
    case Code::kNotFound: return SIGIL_LOAD_INVALID_ARGUMENT;
    case Code::kUnavailable: return SIGIL_LOAD_UNAVAILABLE;
    case Code::kPolicyDenied:
    case Code::kPermissionDenied:
    case Code::kVerificationFailed:
    case Code::kExpired:
    case Code::kReplay:
    case Code::kUnauthenticated: return SIGIL_LOAD_DENIED;
    default: return SIGIL_LOAD_ERROR;
  }
}

int Report(int code, const std::string& message, char* err, std::size_t err_len) {
  if (err != nullptr && err_len > 0) std::snprintf(err, err_len, "%s", message.c_str());
  return code;
}

int Load(const sigil_load_options* opts, int* out_fd, std::uint64_t* out_size, char* err, std::size_t err_len) {
  if (opts == nullptr || out_fd == nullptr || out_size == nullptr) {
    return Report(SIGIL_LOAD_INVALID_ARGUMENT, "sigil_load_model: opts, out_fd and out_size must not be NULL", err,
                  err_len);
  }
  if (opts->broker_url == nullptr || opts->ca_file == nullptr || opts->tenant == nullptr || opts->model == nullptr) {
    return Report(SIGIL_LOAD_INVALID_ARGUMENT, "sigil_load_model: broker_url, ca_file, tenant and model are required",
                  err, err_len);
  }
  if (auto h = HardenProcess(); !h) return Report(CodeOf(h.error().code()), h.error().message(), err, err_len);
  const char* measured = opts->measure_binary != nullptr ? opts->measure_binary : "/proc/self/exe";
  auto bin = loader::OpenEngineBinary(measured);
  if (!bin) return Report(CodeOf(bin.error().code()), bin.error().message(), err, err_len);
  loader::internal::UniqueFd bin_fd(*bin);
  loader::LoadOptions o;
  o.broker_url = opts->broker_url;
  o.ca_file = opts->ca_file;
  o.tenant = opts->tenant;
  o.tee = opts->tee != nullptr ? opts->tee : "dev";
  o.dev_platform_key = opts->dev_platform_key != nullptr ? opts->dev_platform_key : "";
  o.model = opts->model;
  o.threads = opts->threads;
  o.require_lock = opts->require_mlock != 0;
  o.debug = opts->debug != 0;
  o.engine_binary_fd = bin_fd.get();
  // The caller is its own engine and runs outside sigil-load's sandbox: the measurement says
  // so with an empty sandbox configuration (enclave/README.md shows how to compute it).
  o.sandbox_config = "";
  auto loaded = loader::AttestAndDecrypt(o);
  if (!loaded) return Report(CodeOf(loaded.error().code()), loaded.error().message(), err, err_len);
  // The caller owns the weights from here: the fd is handed over without the wipe that would
  // otherwise run when `loaded` goes (it is the caller's to close; the pages are freed with it).
  const std::uint64_t size = loaded->size();
  auto fd = loaded->HandOver();
  if (!fd) return Report(CodeOf(fd.error().code()), fd.error().message(), err, err_len);
  *out_fd = *fd;
  *out_size = size;
  if (err != nullptr && err_len > 0) err[0] = '\0';
  return SIGIL_LOAD_OK;
}

}  // namespace

extern "C" int sigil_load_model(const sigil_load_options* opts, int* out_fd, uint64_t* out_size, char* err,
                                size_t err_len) {
  if (out_fd != nullptr) *out_fd = -1;
  if (out_size != nullptr) *out_size = 0;
  try {
    return Load(opts, out_fd, out_size, err, err_len);
  } catch (const std::exception& e) {
    return Report(SIGIL_LOAD_ERROR, std::string("sigil_load_model: ") + e.what(), err, err_len);
  } catch (...) {
    return Report(SIGIL_LOAD_ERROR, "sigil_load_model: unknown exception", err, err_len);
  }
}
