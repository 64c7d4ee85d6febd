// The workload measurement used by software attesters (dev today): a SHA-384 over the engine
// binary and the sandbox configuration it runs under, so a policy that approves a measurement
// approves both the code and its confinement.
//
//   measurement = hex(SHA-384( engine_bytes
//                              || "sigil/v1/engine-sandbox" || 0x00
//                              || sandbox_config
//                              || u64be(len(sandbox_config))
//                              || u64be(len(engine_bytes)) ))
//
// Both lengths sit at the end, so the input splits back into (engine, config) in exactly one
// way: bytes cannot be moved between the binary and the configuration without changing the
// digest. Reproduce with coreutils:
//   { cat ENGINE; printf 'sigil/v1/engine-sandbox\0%s' "$CFG"; <16 length bytes>; } | sha384sum
// Thread-safety: thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace sigil::enclave {

inline constexpr std::string_view kSandboxConfigContext = "sigil/v1/engine-sandbox";

// Streams the file at `engine_binary_path` (any readable regular file, /proc/self/fd/N
// included; never loaded whole) and returns the 96-digit lowercase hex measurement above.
// `sandbox_config` may be empty. Fails with kNotFound / kUnavailable on I/O errors and
// kInvalidArgument if the path is not a regular file.
Result<std::string> MeasureEngine(const std::string& engine_binary_path, std::string_view sandbox_config);

}  // namespace sigil::enclave
