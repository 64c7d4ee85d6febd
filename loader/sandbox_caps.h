// The capability questions the engine sandbox asks and the drop it makes before execve,
// answered with capget(2)/capset(2) and prctl(2) directly (no libcap needed for this).
// Thread-safety: thread-safe; DropAllCapabilities() is async-signal-safe (for a forked child).
#pragma once

namespace sigil::loader {

// True if the calling thread has `cap` (a CAP_* number) in its effective set.
bool HasEffectiveCapability(int cap);

// Drops every capability of the calling thread for good, so that the engine it is about to
// execve holds none, even when sigil-load runs as root:
//   - the bounding set, one PR_CAPBSET_DROP per capability the kernel knows (needs CAP_SETPCAP;
//     without it the thread is not root and has nothing to drop there: an execve can only add
//     capabilities to root or through file capabilities, which the memfd image cannot carry and
//     PR_SET_NO_NEW_PRIVS disables);
//   - the ambient set (PR_CAP_AMBIENT_CLEAR_ALL);
//   - effective, permitted and inheritable (capset to zero).
// With an empty bounding set and empty inheritable and ambient sets, execve(2) gives root a
// permitted and effective set of zero (capabilities(7), "Transformation of capabilities during
// execve()"). Dropping CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH here is also what makes a root
// engine non-dumpable (sandbox_image.h). Returns 0 or an errno value.
int DropAllCapabilities() noexcept;

}  // namespace sigil::loader
