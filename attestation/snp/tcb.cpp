#include "attestation/snp/tcb.h"

#include <string>

namespace sigil::attestation::snp {
namespace {

std::uint8_t Byte(std::uint64_t raw, int i) {
  return static_cast<std::uint8_t>((raw >> (8 * i)) & 0xFF);
}

Result<void> Equal(std::string_view name, std::uint8_t reported, std::uint8_t endorsed) {
  if (reported == endorsed) {
    return Ok();
  }
  return Fail(Code::kVerificationFailed,
              "SEV-SNP reported_tcb." + std::string(name) + " = " + std::to_string(reported) +
                  (reported > endorsed ? " is above" : " is below") +
                  " the VCEK-endorsed value " + std::to_string(endorsed));
}

}  // namespace

std::string_view ProductName(Product p) {
  switch (p) {
    case Product::kMilan:
      return "Milan";
    case Product::kGenoa:
      return "Genoa";
    case Product::kTurin:
      return "Turin";
  }
  return "unknown";
}

std::optional<Product> ProductFromName(std::string_view name) {
  const std::string_view base = name.substr(0, name.find('-'));
  if (base == "Milan") return Product::kMilan;
  if (base == "Genoa") return Product::kGenoa;
  if (base == "Turin") return Product::kTurin;
  return std::nullopt;
}

Result<TcbVersion> DecodeTcb(std::uint64_t raw, Product product) {
  TcbVersion t;
  if (product == Product::kTurin) {
    if (Byte(raw, 4) != 0 || Byte(raw, 5) != 0 || Byte(raw, 6) != 0) {
      return Fail(Code::kMalformedEvidence, "SEV-SNP Turin TCB_VERSION bytes 4..6 must be zero");
    }
    t.fmc = Byte(raw, 0);
    t.bootloader = Byte(raw, 1);
    t.tee = Byte(raw, 2);
    t.snp = Byte(raw, 3);
  } else {
    if (((raw >> 16) & 0xFFFFFFFFull) != 0) {
      return Fail(Code::kMalformedEvidence,
                  "SEV-SNP Milan/Genoa TCB_VERSION bytes 2..5 must be zero");
    }
    t.bootloader = Byte(raw, 0);
    t.tee = Byte(raw, 1);
    t.snp = Byte(raw, 6);
  }
  t.microcode = Byte(raw, 7);
  return t;
}

Result<void> CheckTcbMatchesVcek(const TcbVersion& reported, const TcbVersion& vcek) {
  SIGIL_RETURN_IF_ERROR(Equal("bootloader", reported.bootloader, vcek.bootloader));
  SIGIL_RETURN_IF_ERROR(Equal("tee", reported.tee, vcek.tee));
  SIGIL_RETURN_IF_ERROR(Equal("snp", reported.snp, vcek.snp));
  SIGIL_RETURN_IF_ERROR(Equal("microcode", reported.microcode, vcek.microcode));
  if (reported.fmc.has_value() != vcek.fmc.has_value()) {
    return Fail(Code::kVerificationFailed, "SEV-SNP fmc TCB component present on only one side");
  }
  if (reported.fmc) {
    SIGIL_RETURN_IF_ERROR(Equal("fmc", *reported.fmc, *vcek.fmc));
  }
  return Ok();
}

}  // namespace sigil::attestation::snp
