#include "attestation/nvidia/nvidia_claims.h"

#include <algorithm>
#include <cstdio>

#include "core/encoding.h"

namespace sigil::attestation::nvidia {
namespace {

enum class Render { kHex, kText };

// Further opaque records, published under the names Trustee's NVIDIA verifier uses for them
// (deps/verifier/src/nvidia: "config" claims), so that policies written for it carry over.
struct OpaqueClaim {
  std::uint16_t type;
  const char* name;
  Render render;
};
constexpr OpaqueClaim kOpaqueClaims[] = {
    {4, "nvidia.gpu_info", Render::kHex},          {11, "nvidia.nvdec0_status", Render::kText},
    {13, "nvidia.cpr_info", Render::kHex},         {14, "nvidia.board_id", Render::kHex},
    {15, "nvidia.chip_sku", Render::kText},        {16, "nvidia.chip_sku_mod", Render::kText},
    {17, "nvidia.project", Render::kText},         {18, "nvidia.project_sku", Render::kText},
    {19, "nvidia.project_sku_mod", Render::kHex},  {21, "nvidia.protected_pcie_status", Render::kText},
};
constexpr std::uint16_t kOpaqueMeasurementCounts = 12;  // u32 LE per index (nvtrust MSRSCNT)

// Printable ASCII without the trailing NUL padding, else hex (so a claim never holds control
// characters).
std::string RenderText(const Bytes& v) {
  std::size_t end = v.size();
  while (end > 0 && v[end - 1] == 0) --end;
  const bool printable = std::all_of(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(end),
                                     [](std::uint8_t b) { return b >= 0x20 && b <= 0x7E; });
  if (!printable) return HexEncode(v);
  return std::string(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(end));
}

std::string Hex2(std::uint8_t b) {
  char buf[3];
  std::snprintf(buf, sizeof(buf), "%02x", b);
  return buf;
}

void AddOpaqueClaims(const Report& report, Claims& claims) {
  for (const OpaqueRecord& r : report.opaque) {
    for (const OpaqueClaim& c : kOpaqueClaims) {
      if (c.type == r.type) {
        claims.Set(c.name, c.render == Render::kHex ? HexEncode(r.value) : RenderText(r.value));
      }
    }
    if (r.type == kOpaqueMeasurementCounts && r.value.size() % 4 == 0) {
      for (std::size_t i = 0; i < r.value.size() / 4; ++i) {
        const std::uint8_t* p = r.value.data() + 4 * i;
        const std::int64_t n = p[0] | (p[1] << 8) | (p[2] << 16) |
                               (static_cast<std::int64_t>(p[3]) << 24);
        claims.Set("nvidia.msrscnt." + std::to_string(i + 1), n);
      }
    }
  }
}

}  // namespace

Sha384Digest MeasurementDigest(const Report& report) {
  std::vector<const MeasurementBlock*> sorted;
  for (const MeasurementBlock& b : report.blocks) sorted.push_back(&b);
  std::sort(sorted.begin(), sorted.end(),
            [](const MeasurementBlock* a, const MeasurementBlock* b) { return a->index < b->index; });
  Bytes record;
  for (const MeasurementBlock* b : sorted) {
    const std::size_t n = b->value.size();
    record.insert(record.end(), {b->index, kDmtfMeasurementSpec,
                                 static_cast<std::uint8_t>(n + 3),
                                 static_cast<std::uint8_t>((n + 3) >> 8), b->dmtf_type,
                                 static_cast<std::uint8_t>(n), static_cast<std::uint8_t>(n >> 8)});
    record.insert(record.end(), b->value.begin(), b->value.end());
  }
  return Sha384(record);
}

std::string FormatVbiosVersion(const std::array<std::uint8_t, 8>& raw) {
  return Hex2(raw[3]) + "." + Hex2(raw[2]) + "." + Hex2(raw[1]) + "." + Hex2(raw[0]) + "." +
         Hex2(raw[4]);
}

Claims MakeClaims(const Report& report, Revocation revocation) {
  Claims claims;
  claims.Set("tee", std::string("nvidia-gpu"));
  // The report carries no debug indicator of its own; a GPU in a debug/devtools state shows in
  // its measurements, which a policy compares with NVIDIA's RIM values (`indices_in_reference`
  // over a set imported by `sigil refs import-nvidia-rim`).
  claims.Set("debug", false);
  claims.Set("measurement", HexEncode(MeasurementDigest(report)));
  claims.Set("nvidia.measurement_count", static_cast<std::int64_t>(report.blocks.size()));
  for (const MeasurementBlock& b : report.blocks) {
    claims.Set("nvidia.measurement." + std::to_string(b.index), HexEncode(b.value));
  }
  if (!report.driver_version.empty()) {
    claims.Set("nvidia.driver_version", report.driver_version);
  }
  if (report.vbios) claims.Set("nvidia.vbios_version", FormatVbiosVersion(*report.vbios));
  if (report.fwid) claims.Set("nvidia.fwid", HexEncode(*report.fwid));
  // Feature flags (type 36) are published raw: their bit layout is NVIDIA's and not in our
  // reference set, so we do not guess a mode name from them.
  claims.Set("nvidia.cc_mode", report.feature_flags ? "flags:" + HexEncode(*report.feature_flags)
                                                     : std::string("not-reported"));
  claims.Set("nvidia.nonce", HexEncode(report.request_nonce));
  claims.Set("nvidia.revocation", std::string(RevocationName(revocation)));
  AddOpaqueClaims(report, claims);
  return claims;
}

}  // namespace sigil::attestation::nvidia
