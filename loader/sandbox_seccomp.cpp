#include "loader/sandbox_seccomp.h"

#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "loader/fd_util.h"

namespace sigil::loader {
namespace {

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using SeccompCtx = std::unique_ptr<void, CtxDeleter>;

// libseccomp returns negative errno values.
Error LibError(const std::string& what, int rc) {
  return Error(Code::kInternal, "seccomp: " + what + ": " + std::strerror(-rc));
}

}  // namespace

Result<SeccompProgram> SeccompProgram::Build(const SandboxConfig& config) {
  SeccompCtx ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (!ctx) return Fail(Code::kInternal, "seccomp: seccomp_init failed");
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS); rc != 0) {
    return LibError("set bad-arch action", rc);
  }
  for (const std::string& name : DeniedSyscalls(config)) {
    int nr = seccomp_syscall_resolve_name(name.c_str());
    if (nr == __NR_SCMP_ERROR) return Fail(Code::kInternal, "seccomp: unknown syscall " + name);
    if (int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EPERM), nr, 0); rc != 0) {
      return LibError("deny " + name, rc);
    }
  }
  if (config.no_network) {
    int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 1,
                              SCMP_A0(SCMP_CMP_NE, AF_UNIX));
    if (rc != 0) return LibError("restrict socket() to AF_UNIX", rc);
  }
  // libseccomp 2.5 exports only to a file descriptor; a memfd keeps it off disk.
  internal::UniqueFd mem(memfd_create("sigil-seccomp-bpf", MFD_CLOEXEC));
  if (!mem.valid()) return internal::ErrnoError("seccomp: memfd_create");
  if (int rc = seccomp_export_bpf(ctx.get(), mem.get()); rc != 0) return LibError("export BPF", rc);
  off_t size = lseek(mem.get(), 0, SEEK_END);
  if (size <= 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0) {
    return Fail(Code::kInternal, "seccomp: exported BPF has odd size " + std::to_string(size));
  }
  SeccompProgram p;
  p.filter_.resize(static_cast<std::size_t>(size) / sizeof(sock_filter));
  SIGIL_RETURN_IF_ERROR(internal::PreadFull(mem.get(), reinterpret_cast<std::uint8_t*>(p.filter_.data()),
                                            static_cast<std::size_t>(size), 0, "seccomp BPF"));
  return p;
}

int SeccompProgram::Install() const noexcept {
  sock_fprog prog{};
  prog.len = static_cast<unsigned short>(filter_.size());
  prog.filter = const_cast<sock_filter*>(filter_.data());
  if (filter_.empty() || filter_.size() > BPF_MAXINSNS) return EINVAL;
  return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == 0 ? 0 : errno;
}

}  // namespace sigil::loader
