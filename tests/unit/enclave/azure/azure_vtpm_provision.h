// Test helpers that make swtpm look like an Azure confidential VM's vTPM (what the paravisor
// leaves there at boot), shared by the attester test and the sigil-load test of enclave/azure.
#pragma once

#include <tss2/tss2_esys.h>

#include <algorithm>
#include <string>

#include "core/bytes.h"
#include "core/digest.h"
#include "core/encoding.h"
#include "core/result.h"
#include "enclave/tpm/esys.h"
#include "tests/unit/attestation/azure/azure_test_util.h"

namespace sigil::testing {

// What Azure's paravisor does at boot: an owner-readable NV index holding the HCL report
// (TPM2_NV_DefineSpace, then TPM2_NV_Write in chunks below the TPM's NV buffer size).
inline Result<void> WriteNvIndex(const enclave::tpm::EsysContext& ctx, TPM2_HANDLE index,
                                 const Bytes& data) {
  namespace tpm = enclave::tpm;
  TPM2B_AUTH auth{};
  TPM2B_NV_PUBLIC pub{};
  pub.nvPublic.nvIndex = index;
  pub.nvPublic.nameAlg = TPM2_ALG_SHA256;
  pub.nvPublic.attributes =
      TPMA_NV_OWNERWRITE | TPMA_NV_OWNERREAD | TPMA_NV_AUTHWRITE | TPMA_NV_AUTHREAD;
  pub.nvPublic.dataSize = static_cast<UINT16>(data.size());
  ESYS_TR raw = ESYS_TR_NONE;
  SIGIL_RETURN_IF_ERROR(
      tpm::Status(Esys_NV_DefineSpace(ctx.get(), ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                      ESYS_TR_NONE, &auth, &pub, &raw),
                  "Esys_NV_DefineSpace"));
  tpm::TrCloser nv(ctx.get(), raw);
  for (std::size_t off = 0; off < data.size(); off += 512) {
    TPM2B_MAX_NV_BUFFER chunk{};
    chunk.size = static_cast<UINT16>(std::min<std::size_t>(512, data.size() - off));
    std::copy_n(data.begin() + static_cast<std::ptrdiff_t>(off), chunk.size, chunk.buffer);
    SIGIL_RETURN_IF_ERROR(
        tpm::Status(Esys_NV_Write(ctx.get(), ESYS_TR_RH_OWNER, nv.get(), ESYS_TR_PASSWORD,
                                  ESYS_TR_NONE, ESYS_TR_NONE, &chunk, static_cast<UINT16>(off)),
                    "Esys_NV_Write"));
  }
  return Ok();
}

inline void PutU32(Bytes& b, std::size_t off, std::size_t v) {
  for (int i = 0; i < 4; ++i) b[off + i] = static_cast<std::uint8_t>(v >> (8 * i));
}

// The TDX HCL report for swtpm. libtpms caps an NV index at 2048 bytes and the real capture
// (AZ-TDX-1) is 2600 as read, so: AZ-TDX-1's header, TDREPORT and request data, with shorter
// runtime data naming `ak_modulus` (an RSA AK, e = 65537) as HCLAkPub and the TDREPORT's
// REPORTDATA = SHA-256(runtime data) || zeros (MANIFEST "HCL report layout"). Nothing checks a
// TDREPORT's MAC offline, so only a TD quote could tell this report from a paravisor's.
inline Bytes TdxHclNaming(const Bytes& ak_modulus) {
  const Bytes real = azure::TdxHcl();
  const std::string runtime =
      R"({"keys":[{"kid":"HCLAkPub","key_ops":["sign"],"kty":"RSA","e":"AQAB","n":")" +
      Base64UrlEncode(ak_modulus) +
      R"("}],"vm-configuration":{"console-enabled":false,"secure-boot":true,"tpm-enabled":true,)"
      R"("vmUniqueId":"00000000-0000-0000-0000-000000000014"}})";
  Bytes out(0x4D4 + runtime.size());
  std::copy_n(real.begin(), 0x4D4, out.begin());
  std::copy(runtime.begin(), runtime.end(), out.begin() + 0x4D4);
  PutU32(out, 0x008, out.size());          // report_size
  PutU32(out, 0x4C0, 20 + runtime.size());  // request data size
  PutU32(out, 0x4D0, runtime.size());       // runtime data size
  const auto digest = Sha256(ToBytes(runtime));
  std::copy(digest.begin(), digest.end(), out.begin() + 0x20 + 128);
  std::fill(out.begin() + 0x20 + 160, out.begin() + 0x20 + 192, 0);
  return out;
}

// A real TD quote (dcap-qvl, /work/shared/vectors/tdx), made for another TD than AZ-TDX-1.
inline Bytes RealTdQuote() { return azure::ReadVector("../../tdx/dcap-qvl/tdx_quote.bin"); }

}  // namespace sigil::testing
