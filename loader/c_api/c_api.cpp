// sigil_load_model / sigil_unload_model (sigil_load.h): a C shell around AttestAndDecrypt.
// Everything C++ stays on this side: Results become codes and messages, and no exception
// escapes (catch-all below). Loaded models stay registered here, each with its LockedMemfd (the
// locked mapping that can still write after sealing), until unloaded or the process exits: that
// is what lets the weights be wiped, since nobody can write a sealed memfd otherwise.
#include "loader/c_api/sigil_load.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <map>
#include <mutex>
#include <string>
#include <utility>

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
    case Code::kUnavailable:
    case Code::kRateLimited: return SIGIL_LOAD_UNAVAILABLE;
    case Code::kPolicyDenied:
    case Code::kPermissionDenied:
    case Code::kKeyDisabled:
    case Code::kKeyDestroyed:
    case Code::kVerificationFailed:
    case Code::kExpired:
    case Code::kReplay:
    case Code::kUnauthenticated: return SIGIL_LOAD_DENIED;
    default: return SIGIL_LOAD_ERROR;
  }
}

// Models handed out and not yet unloaded, by the memfd's inode (the caller's fd is a dup, and
// may have been dup'ed again). A function-local static: destroyed, and so wiped, at exit(3).
struct Registry {
  std::mutex mu;
  std::map<std::pair<dev_t, ino_t>, loader::LockedMemfd> models;  // guarded by mu
};
Registry& Loaded() {
  static Registry r;
  return r;
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
  o.require_lock = opts->allow_unlocked == 0;
  o.debug = opts->debug != 0;
  o.engine_binary_fd = bin_fd.get();
  // The caller is its own engine and runs outside sigil-load's sandbox: the measurement says
  // so with an empty sandbox configuration (enclave/README.md shows how to compute it).
  o.sandbox_config = "";
  auto loaded = loader::AttestAndDecrypt(o);
  if (!loaded) return Report(CodeOf(loaded.error().code()), loaded.error().message(), err, err_len);
  // The caller gets a second descriptor (seals belong to the file, so it is just as sealed); the
  // LockedMemfd stays registered, its pages locked, until sigil_unload_model or exit wipes it.
  int fd = ::fcntl(loaded->fd(), F_DUPFD_CLOEXEC, 0);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    const int e = errno;
    if (fd >= 0) ::close(fd);
    return Report(SIGIL_LOAD_UNAVAILABLE, std::string("sigil_load_model: dup of the memfd: ") + std::strerror(e), err, err_len);
  }
  *out_size = loaded->size();
  {
    std::lock_guard<std::mutex> lock(Loaded().mu);
    Loaded().models.insert_or_assign({st.st_dev, st.st_ino}, std::move(*loaded));
  }
  *out_fd = fd;
  if (err != nullptr && err_len > 0) err[0] = '\0';
  return SIGIL_LOAD_OK;
}

}  // namespace

extern "C" int sigil_unload_model(int fd) {
  try {
    struct stat st {};
    if (fd < 0 || ::fstat(fd, &st) != 0) return SIGIL_LOAD_INVALID_ARGUMENT;
    std::unique_lock<std::mutex> lock(Loaded().mu);
    auto it = Loaded().models.find({st.st_dev, st.st_ino});
    if (it == Loaded().models.end()) return SIGIL_LOAD_INVALID_ARGUMENT;
    loader::LockedMemfd model = std::move(it->second);
    Loaded().models.erase(it);
    lock.unlock();
    model.Wipe();  // explicit, although ~LockedMemfd would do it too
    ::close(fd);
    return SIGIL_LOAD_OK;
  } catch (...) {
    return SIGIL_LOAD_ERROR;
  }
}

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
