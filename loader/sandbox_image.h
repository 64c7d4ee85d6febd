// The engine image: the engine binary copied into a sealed memfd, which is both what the dev
// attester measures and what fexecve(3) runs, so the file on disk can change after the
// measurement without changing what runs.
//
// Just before the engine starts, the image is made execute-only (mode 0100). An execve(2) of a
// file the caller cannot read makes the kernel set the new process non-dumpable (fs/exec.c
// would_dump() -> BINPRM_FLAGS_ENFORCE_NONDUMP -> dumpable = fs.suid_dumpable, 0 by default).
// PR_SET_DUMPABLE 0 itself does not survive execve, and this is the only way to get it across
// exec without the engine's cooperation. Non-dumpable means: no core dump, and other processes
// of the same user (without CAP_SYS_PTRACE) can neither ptrace it nor open /proc/PID/mem
// (ptrace_may_access(), Documentation/admin-guide/sysctl/fs.rst "suid_dumpable").
// Thread-safety: functions are thread-safe.
#pragma once

#include "core/result.h"

namespace sigil::loader {

// Copies the regular file open at `binary_fd` into a memfd named "sigil-engine", seals it
// (write, shrink, grow, seal) and returns a new O_RDONLY | O_CLOEXEC descriptor of it (no
// writable descriptor remains, so execve cannot fail with ETXTBSY). kInvalidArgument if
// `binary_fd` is not a regular file, kUnavailable naming the failing call otherwise.
Result<int> CopyToSealedImage(int binary_fd);

// True if `fd` is a memfd image made by CopyToSealedImage (it carries F_SEAL_WRITE).
bool IsSealedImage(int fd);

// chmod 0100 (owner execute only) on the image; refuses any fd IsSealedImage() rejects, so a
// real file's mode is never touched. kInvalidArgument / kUnavailable.
Result<void> MakeImageExecuteOnly(int image_fd);

// The value of fs.suid_dumpable (0, 1 or 2), or -1 if it cannot be read. With 1 an unreadable
// image does not make the engine non-dumpable; sigil-load warns.
int SuidDumpable();

}  // namespace sigil::loader
