// Linux configfs-tsm reports (Documentation/ABI/testing/configfs-tsm, kernel >= 6.7): the
// vendor-neutral way a confidential guest asks its TSM (AMD SEV-SNP firmware via sev-guest, Intel
// TDX module + quoting enclave via tdx-guest, the Arm CCA RMM via arm-cca-guest) for attestation
// evidence over 64 bytes of user data.
// Flow: mkdir <root>/<entry> (the kernel creates the attributes), read `provider` and
// `generation`, write `inblob`, read `outblob` (the kernel produces the report here), read
// `auxblob` (SNP: the GHCB certificate table), read `generation` again: it must be exactly one
// higher, else another writer changed the entry in between and the report may answer its
// inblob, not ours. Then rmdir.
// Thread-safety: each call uses its own entry; safe to call concurrently.
#pragma once

#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/result.h"

namespace sigil::enclave::tsm {

inline constexpr const char* kConfigfsTsmRoot = "/sys/kernel/config/tsm/report";

struct TsmReport {
  std::string provider;  // "sev_guest", "tdx_guest", "arm_cca_guest"
  Bytes outblob;         // SNP: ATTESTATION_REPORT; TDX: a DCAP quote v4; CCA: token collection
  Bytes auxblob;         // SNP: certificate table (may be empty); TDX: absent
};

// Runs the flow above under `root`. `want_provider` ("" = any) must equal the entry's provider.
// kUnavailable naming the path: root absent (no configfs-tsm: kernel too old, module not loaded,
// or not a confidential guest), provider mismatch, I/O errors, and the generation race.
Result<TsmReport> GetTsmReport(const std::string& root, ByteSpan inblob,
                               std::string_view want_provider);

}  // namespace sigil::enclave::tsm
