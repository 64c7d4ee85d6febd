#include "loader/sandbox_config.h"

#include <algorithm>

#include "core/json.h"

namespace sigil::loader {

std::vector<std::string> DeniedSyscalls(const SandboxConfig& config) {
  std::vector<std::string> names = {"pidfd_getfd", "process_vm_readv", "process_vm_writev", "ptrace"};
  if (config.no_network) names.push_back("io_uring_setup");
  std::sort(names.begin(), names.end());
  return names;
}

std::string CanonicalSandboxConfig(const SandboxConfig& config) {
  Json seccomp = Json::object();
  seccomp["deny_eperm"] = DeniedSyscalls(config);
  seccomp["socket"] = config.no_network ? "af_unix_only" : "any";
  seccomp["foreign_arch"] = "kill";  // i386/x32 entry points cannot sidestep the rules
  Json j = Json::object();
  j["v"] = 1;
  j["seccomp"] = std::move(seccomp);
  j["netns"] = config.private_netns ? "private_if_privileged" : "host";
  j["fds"] = "stdio+weights";
  j["core"] = "rlimit0,filter0,nondumpable";
  j["caps"] = "none";  // bounding, ambient, effective, permitted, inheritable (sandbox_caps.h)
  j["weights"] = config.allow_unlocked_weights ? "mlock_best_effort" : "mlock_required";
  return CanonicalJson(j);
}

}  // namespace sigil::loader
