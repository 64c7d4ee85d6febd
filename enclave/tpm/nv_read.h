// Reading a TPM NV index (TCG TPM 2.0 Library Part 3 s.31.13 TPM2_NV_Read) whole, as
// `tpm2_nvread -C o INDEX` does: the data size comes from TPM2_NV_ReadPublic and the data is read
// in chunks no larger than the TPM's TPM2_PT_NV_BUFFER_MAX (Part 2 s.6.13), since one NV_Read
// may not return more.
// Thread-safety: as EsysContext (one context per thread).
#pragma once

#include <tss2/tss2_tpm2_types.h>

#include <cstddef>

#include "core/bytes.h"
#include "core/result.h"
#include "enclave/tpm/esys.h"

namespace sigil::enclave::tpm {

// Reads all of NV index `index` (0x01xxxxxx) authorised by the owner hierarchy with an empty
// password (TPMA_NV_OWNERREAD). kNotFound if no index is defined there; kInvalidArgument if
// `index` is not in the NV range or its data is larger than `max_size`; kUnavailable/kInternal
// for TPM failures (the RC decoded, the index named).
Result<Bytes> ReadNvIndex(const EsysContext& ctx, TPM2_HANDLE index, std::size_t max_size);

}  // namespace sigil::enclave::tpm
