#include "loader/sandbox_caps.h"

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <initializer_list>

namespace sigil::loader {
namespace {

// _LINUX_CAPABILITY_VERSION_3: two 32-bit words per set (capget(2)).
struct Caps {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
};

bool Get(Caps& c) { return syscall(SYS_capget, &c.header, c.data) == 0; }

}  // namespace

bool HasEffectiveCapability(int cap) {
  Caps c;
  if (cap < 0 || cap >= 32 * _LINUX_CAPABILITY_U32S_3 || !Get(c)) return false;
  return (c.data[cap / 32].effective & (1u << (cap % 32))) != 0;
}

int DropDacOverrideEffective() noexcept {
  Caps c;
  if (!Get(c)) return errno;
  for (int cap : {CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH}) c.data[cap / 32].effective &= ~(1u << (cap % 32));
  return syscall(SYS_capset, &c.header, c.data) == 0 ? 0 : errno;
}

}  // namespace sigil::loader
