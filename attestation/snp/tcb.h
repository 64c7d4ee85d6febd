// TCB_VERSION decoding and the reported-TCB vs VCEK-endorsed-TCB check.
// Layouts (pub. 56860, section "TCB_VERSION", table "TCB_VERSION Structure"; the Turin layout is
// the "Fam 1Ah" variant):
//   Milan/Genoa: byte0 BOOT_LOADER, byte1 TEE, bytes2..5 reserved, byte6 SNP, byte7 MICROCODE.
//   Turin:       byte0 FMC, byte1 BOOT_LOADER, byte2 TEE, byte3 SNP, bytes4..6 reserved,
//                byte7 MICROCODE.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace sigil::attestation::snp {

enum class Product : std::uint8_t { kMilan, kGenoa, kTurin };

// "Milan", "Genoa", "Turin".
std::string_view ProductName(Product p);
// Maps a VCEK productName ("Milan-B0", "Genoa-B1", "Turin") or an ASK/ARK CN suffix ("Milan") to
// a product; std::nullopt if unknown. The part after '-' (stepping) is ignored.
std::optional<Product> ProductFromName(std::string_view name);

struct TcbVersion {
  std::uint8_t bootloader = 0;
  std::uint8_t tee = 0;
  std::uint8_t snp = 0;
  std::uint8_t microcode = 0;
  std::optional<std::uint8_t> fmc;  // Turin only
  bool operator==(const TcbVersion&) const = default;
};

// Decodes a raw 64-bit TCB_VERSION for `product`. Fails with kMalformedEvidence if a reserved
// byte is nonzero (a firmware that sets them uses a layout we do not know).
Result<TcbVersion> DecodeTcb(std::uint64_t raw, Product product);

// Checks that the report's REPORTED_TCB equals the TCB the VCEK endorses (VCEK spec pub. 57230,
// section "VCEK Certificate Extensions"; a VCEK is derived for exactly one TCB). A reported TCB
// above the VCEK's means the certificate does not vouch for that firmware; below it means the
// wrong certificate was supplied. Fails with kVerificationFailed naming the component.
Result<void> CheckTcbMatchesVcek(const TcbVersion& reported, const TcbVersion& vcek);

}  // namespace sigil::attestation::snp
