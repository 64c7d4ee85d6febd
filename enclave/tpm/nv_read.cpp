#include "enclave/tpm/nv_read.h"

#include <algorithm>
#include <cstdio>
#include <string>

namespace sigil::enclave::tpm {
namespace {

// What every TPM supports when it does not say: the PC Client profile requires
// TPM2_PT_NV_BUFFER_MAX >= 512 (TCG PC Client Platform TPM Profile, table "NV buffer").
constexpr UINT32 kDefaultNvBufferMax = 512;

std::string HexHandle(TPM2_HANDLE h) {
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%08x", h);
  return hex;
}

UINT32 NvBufferMax(const EsysContext& ctx) {
  TPMS_CAPABILITY_DATA* raw = nullptr;
  TSS2_RC rc = Retry([&] {
    return Esys_GetCapability(ctx.get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                              TPM2_CAP_TPM_PROPERTIES, TPM2_PT_NV_BUFFER_MAX, 1, nullptr, &raw);
  });
  EsysPtr<TPMS_CAPABILITY_DATA> data(raw);
  if (rc != TSS2_RC_SUCCESS || !data || data->data.tpmProperties.count == 0 ||
      data->data.tpmProperties.tpmProperty[0].property != TPM2_PT_NV_BUFFER_MAX ||
      data->data.tpmProperties.tpmProperty[0].value == 0) {
    return kDefaultNvBufferMax;
  }
  return data->data.tpmProperties.tpmProperty[0].value;
}

}  // namespace

Result<Bytes> ReadNvIndex(const EsysContext& ctx, TPM2_HANDLE index, std::size_t max_size) {
  const std::string name = "NV index " + HexHandle(index);
  if ((index & TPM2_HR_RANGE_MASK) != TPM2_HR_NV_INDEX) {
    return Fail(Code::kInvalidArgument, HexHandle(index) + " is not an NV index (0x01xxxxxx)");
  }
  ESYS_TR raw_tr = ESYS_TR_NONE;
  TSS2_RC rc = Retry([&] {
    return Esys_TR_FromTPMPublic(ctx.get(), index, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                 &raw_tr);
  });
  if (rc != TSS2_RC_SUCCESS) {
    Error e = TssError(rc, "Esys_TR_FromTPMPublic(" + name + ")");
    // TPM_RC_HANDLE: nothing is defined at that index.
    if ((rc & 0xffff & ~TPM2_RC_N_MASK) == TPM2_RC_HANDLE) {
      return Error(Code::kNotFound, e.message());
    }
    return e;
  }
  TrCloser nv(ctx.get(), raw_tr);  // an NV index is never flushed, only ESAPI's record closed

  TPM2B_NV_PUBLIC* pub_raw = nullptr;
  rc = Retry([&] {
    return Esys_NV_ReadPublic(ctx.get(), nv.get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                              &pub_raw, nullptr);
  });
  EsysPtr<TPM2B_NV_PUBLIC> pub(pub_raw);
  SIGIL_RETURN_IF_ERROR(Status(rc, "Esys_NV_ReadPublic(" + name + ")"));
  const std::size_t size = pub->nvPublic.dataSize;
  if (size > max_size) {
    return Fail(Code::kInvalidArgument, name + " holds " + std::to_string(size) +
                                            " bytes, more than the " + std::to_string(max_size) +
                                            " expected");
  }

  const UINT32 chunk_max = NvBufferMax(ctx);
  Bytes out;
  out.reserve(size);
  while (out.size() < size) {
    const auto chunk =
        static_cast<UINT16>(std::min<std::size_t>({size - out.size(), chunk_max, 0xffff}));
    const auto offset = static_cast<UINT16>(out.size());
    TPM2B_MAX_NV_BUFFER* data_raw = nullptr;
    rc = Retry([&] {
      return Esys_NV_Read(ctx.get(), ESYS_TR_RH_OWNER, nv.get(), ESYS_TR_PASSWORD, ESYS_TR_NONE,
                          ESYS_TR_NONE, chunk, offset, &data_raw);
    });
    EsysPtr<TPM2B_MAX_NV_BUFFER> data(data_raw);
    SIGIL_RETURN_IF_ERROR(
        Status(rc, "Esys_NV_Read(" + name + ", offset " + std::to_string(offset) + ")"));
    if (data->size == 0 || data->size > chunk) {
      return Fail(Code::kInternal, "Esys_NV_Read(" + name + ") returned " +
                                       std::to_string(data->size) + " bytes for a request of " +
                                       std::to_string(chunk));
    }
    out.insert(out.end(), data->buffer, data->buffer + data->size);
  }
  return out;
}

}  // namespace sigil::enclave::tpm
