// The two capability questions the engine sandbox asks, answered with capget(2)/capset(2)
// directly (no libcap needed for two bit tests).
// Thread-safety: thread-safe; DropDacOverrideEffective() is async-signal-safe.
#pragma once

namespace sigil::loader {

// True if the calling thread has `cap` (a CAP_* number) in its effective set.
bool HasEffectiveCapability(int cap);

// Removes CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from the effective set (permitted is kept,
// and execve recomputes the set anyway), so that for the coming execve a root process cannot
// read an execute-only image either: this is what makes would_dump() mark a root engine
// non-dumpable too (sandbox_image.h). Returns 0 or an errno value.
int DropDacOverrideEffective() noexcept;

}  // namespace sigil::loader
