// File helpers. WriteFileAtomic never leaves a partial file: it writes a temporary file in the
// same directory, fsyncs it and renames it over the target.
#pragma once

#include <string>
#include <sys/types.h>

#include "core/bytes.h"
#include "core/result.h"

namespace sigil {

// Reads a whole file; `max_size` guards against reading something huge by mistake.
Result<Bytes> ReadFile(const std::string& path, std::size_t max_size = std::size_t{1} << 30);
Result<std::string> ReadTextFile(const std::string& path, std::size_t max_size = std::size_t{64} << 20);
Result<void> WriteFileAtomic(const std::string& path, ByteSpan data, mode_t mode = 0600);

}  // namespace sigil
