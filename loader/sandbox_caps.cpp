#include "loader/sandbox_caps.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace sigil::loader {
namespace {

// _LINUX_CAPABILITY_VERSION_3: two 32-bit words per set (capget(2)).
struct Caps {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
};

bool Get(Caps& c) { return syscall(SYS_capget, &c.header, c.data) == 0; }

bool Has(const Caps& c, int cap) { return (c.data[cap / 32].effective & (1u << (cap % 32))) != 0; }

// More than any kernel defines (CAP_LAST_CAP is 40 in Linux 6.x); PR_CAPBSET_DROP answers
// EINVAL past the last one, which ends the loop.
constexpr int kCapLimit = 32 * _LINUX_CAPABILITY_U32S_3;

}  // namespace

bool HasEffectiveCapability(int cap) {
  Caps c;
  if (cap < 0 || cap >= kCapLimit || !Get(c)) return false;
  return Has(c, cap);
}

int DropAllCapabilities() noexcept {
  Caps c;
  if (!Get(c)) return errno;
  if (Has(c, CAP_SETPCAP)) {
    for (int cap = 0; cap < kCapLimit; ++cap) {
      if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0) continue;
      if (errno == EINVAL) break;  // past the last capability this kernel knows
      return errno;
    }
  }
  // EINVAL: a kernel before 4.3 has no ambient set, so there is nothing to clear.
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) return errno;
  Caps none;  // every set zero
  return syscall(SYS_capset, &none.header, none.data) == 0 ? 0 : errno;
}

}  // namespace sigil::loader
