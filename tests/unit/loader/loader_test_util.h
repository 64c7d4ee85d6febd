// Helpers shared by the loader tests: deterministic plaintexts, file bytes, a header template
// with random (non-HPKE) enc/sealed_dek, and reading a memfd back.
#pragma once

#include <cstdint>
#include <string>

#include "core/bytes.h"
#include "core/result.h"
#include "core/secret_bytes.h"
#include "loader/container_format.h"
#include "loader/container_writer.h"
#include "loader/locked_memfd.h"

namespace sigil::loader::testing {

Bytes Pseudorandom(std::size_t n, std::uint32_t seed);
void WriteBytes(const std::string& path, ByteSpan data);
Bytes ReadBytes(const std::string& path);
// Everything readable through the memfd's fd (pread from 0).
Bytes ReadFd(int fd);

// tenant "acme", key "llama3" v1, random enc (32), sealed_dek (48) and salt.
ContainerHeader TemplateHeader();
SecretBytes RandomDek();

// Writes `plaintext` to `dir`/name.bin and encrypts it to `dir`/name.sgl with EncryptFileWithDek.
Result<ContainerHeader> EncryptBytes(const std::string& dir, const std::string& name, ByteSpan plaintext,
                                     const SecretBytes& dek, const ContainerHeader& tmpl,
                                     const EncryptOptions& options);

// Open fds plus mappings of this process that refer to a memfd named "sigil-model".
int ModelMemfdsOpenOrMapped();

}  // namespace sigil::loader::testing
