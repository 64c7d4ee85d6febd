#include "attestation/nvidia/report.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <string_view>

#include "core/encoding.h"

namespace sigil::attestation::nvidia {
namespace {

// Bounds-checked little-endian reader that knows its absolute offset in the report, so that
// every error names where the problem is.
class Cursor {
 public:
  Cursor(ByteSpan bytes, std::size_t base) : bytes_(bytes), base_(base) {}

  std::size_t offset() const { return base_ + pos_; }
  std::size_t remaining() const { return bytes_.size() - pos_; }

  Result<ByteSpan> Take(std::size_t n, std::string_view field) {
    if (n > remaining()) {
      return Fail(Code::kMalformedEvidence,
                  "NVIDIA report truncated: " + std::string(field) + " at offset " +
                      std::to_string(offset()) + " needs " + std::to_string(n) + " bytes, " +
                      std::to_string(remaining()) + " left");
    }
    ByteSpan out = bytes_.subspan(pos_, n);
    pos_ += n;
    return out;
  }
  Result<std::uint32_t> ReadLe(std::size_t n, std::string_view field) {
    SIGIL_ASSIGN_OR_RETURN(ByteSpan b, Take(n, field));
    std::uint32_t v = 0;
    for (std::size_t i = n; i > 0; --i) {
      v = (v << 8) | b[i - 1];
    }
    return v;
  }
  Result<std::uint8_t> U8(std::string_view field) {
    SIGIL_ASSIGN_OR_RETURN(std::uint32_t v, ReadLe(1, field));
    return static_cast<std::uint8_t>(v);
  }

 private:
  ByteSpan bytes_;
  std::size_t base_;
  std::size_t pos_ = 0;
};

Unexpected<Error> Bad(std::string_view what, std::size_t offset) {
  return Fail(Code::kMalformedEvidence,
              "NVIDIA report: " + std::string(what) + " at offset " + std::to_string(offset));
}

template <std::size_t N>
void CopyTo(std::array<std::uint8_t, N>& out, ByteSpan in) {
  std::copy(in.begin(), in.end(), out.begin());
}

void AppendLe(Bytes& out, std::uint32_t v, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
}

// Type 3: NUL-terminated ASCII (e.g. "550.90.07\0"); trailing NULs are padding. Anything but
// printable ASCII before them is refused, so that the claim is exactly what the GPU said.
Result<std::string> DriverVersion(ByteSpan value, std::size_t offset) {
  std::size_t end = value.size();
  while (end > 0 && value[end - 1] == 0) --end;
  if (end == 0) return Bad("opaque driver version (type 3) is empty", offset);
  for (std::size_t i = 0; i < end; ++i) {
    if (value[i] < 0x20 || value[i] > 0x7E) {
      return Bad("opaque driver version (type 3) is not printable ASCII", offset + i);
    }
  }
  return std::string(value.begin(), value.begin() + static_cast<std::ptrdiff_t>(end));
}

// Fills the interpreted fields of `report` from its opaque records.
Result<void> Interpret(Report& report, std::size_t opaque_offset) {
  std::size_t offset = opaque_offset;
  for (const OpaqueRecord& r : report.opaque) {
    const std::size_t value_offset = offset + 4;
    if (r.type == kOpaqueDriverVersion) {
      SIGIL_ASSIGN_OR_RETURN(report.driver_version, DriverVersion(r.value, value_offset));
    } else if (r.type == kOpaqueVbiosVersion) {
      if (r.value.size() != 8) return Bad("opaque VBIOS version (type 6) is not 8 bytes", offset);
      report.vbios.emplace();
      CopyTo(*report.vbios, r.value);
    } else if (r.type == kOpaqueFwid) {
      if (r.value.size() != kFwidSize) return Bad("opaque FWID (type 20) is not 48 bytes", offset);
      report.fwid.emplace();
      CopyTo(*report.fwid, r.value);
    } else if (r.type == kOpaqueFeatureFlags) {
      report.feature_flags = r.value;
    }
    offset = value_offset + r.value.size();
  }
  return Ok();
}

}  // namespace

Result<std::vector<MeasurementBlock>> ParseMeasurementRecord(ByteSpan record,
                                                             std::size_t number_of_blocks,
                                                             std::size_t base_offset) {
  Cursor c(record, base_offset);
  std::vector<MeasurementBlock> blocks;
  std::set<std::uint8_t> seen;
  while (c.remaining() > 0) {
    const std::size_t at = c.offset();
    if (blocks.size() == number_of_blocks) {
      return Bad("measurement record holds more than NumberOfBlocks (" +
                     std::to_string(number_of_blocks) + ") blocks",
                 at);
    }
    MeasurementBlock b;
    SIGIL_ASSIGN_OR_RETURN(b.index, c.U8("measurement block Index"));
    // DSP0274 "Measurement block format": Index 0 and 0xFF are reserved (0xFF means "all" in
    // the request); a duplicate would let one index carry two values.
    if (b.index == 0 || b.index == 0xFF) return Bad("reserved measurement index", at);
    if (!seen.insert(b.index).second) {
      return Bad("duplicate measurement index " + std::to_string(b.index), at);
    }
    SIGIL_ASSIGN_OR_RETURN(std::uint8_t spec, c.U8("MeasurementSpecification"));
    if (spec != kDmtfMeasurementSpec) {
      return Bad("measurement block " + std::to_string(b.index) +
                     " MeasurementSpecification is not DMTF (1)",
                 at + 1);
    }
    SIGIL_ASSIGN_OR_RETURN(std::uint32_t size, c.ReadLe(2, "MeasurementSize"));
    SIGIL_ASSIGN_OR_RETURN(ByteSpan body, c.Take(size, "Measurement"));
    Cursor m(body, at + 4);
    SIGIL_ASSIGN_OR_RETURN(b.dmtf_type, m.U8("DMTFSpecMeasurementValueType"));
    SIGIL_ASSIGN_OR_RETURN(std::uint32_t value_size, m.ReadLe(2, "DMTFSpecMeasurementValueSize"));
    if (static_cast<std::size_t>(value_size) + 3 != size) {
      return Bad("measurement block " + std::to_string(b.index) +
                     " DMTF value size disagrees with MeasurementSize",
                 at + 2);
    }
    SIGIL_ASSIGN_OR_RETURN(ByteSpan value, m.Take(value_size, "DMTFSpecMeasurementValue"));
    b.value.assign(value.begin(), value.end());
    blocks.push_back(std::move(b));
  }
  if (blocks.size() != number_of_blocks) {
    return Bad("measurement record holds " + std::to_string(blocks.size()) +
                   " blocks but NumberOfBlocks is " + std::to_string(number_of_blocks),
               base_offset);
  }
  return blocks;
}

Result<std::vector<OpaqueRecord>> ParseOpaqueData(ByteSpan opaque, std::size_t base_offset) {
  Cursor c(opaque, base_offset);
  std::vector<OpaqueRecord> out;
  std::set<std::uint16_t> seen;
  while (c.remaining() > 0) {
    const std::size_t at = c.offset();
    OpaqueRecord r;
    SIGIL_ASSIGN_OR_RETURN(std::uint32_t type, c.ReadLe(2, "opaque record type"));
    SIGIL_ASSIGN_OR_RETURN(std::uint32_t size, c.ReadLe(2, "opaque record length"));
    SIGIL_ASSIGN_OR_RETURN(ByteSpan value, c.Take(size, "opaque record value"));
    r.type = static_cast<std::uint16_t>(type);
    // Two records of one type would leave "which one counts" to the reader; refuse.
    if (!seen.insert(r.type).second) {
      return Bad("duplicate opaque record type " + std::to_string(type), at);
    }
    r.value.assign(value.begin(), value.end());
    out.push_back(std::move(r));
  }
  return out;
}

Result<Report> ParseReport(ByteSpan bytes) {
  Report r;
  Cursor c(bytes, 0);
  // GET_MEASUREMENTS request (DSP0274 1.1, table "GET_MEASUREMENTS request message").
  SIGIL_ASSIGN_OR_RETURN(std::uint8_t version, c.U8("request SPDMVersion"));
  if (version != kSpdmVersion11) return Bad("request SPDMVersion is not 0x11", 0);
  SIGIL_ASSIGN_OR_RETURN(std::uint8_t code, c.U8("request RequestResponseCode"));
  if (code != kGetMeasurementsCode) return Bad("request code is not GET_MEASUREMENTS (0xE0)", 1);
  SIGIL_ASSIGN_OR_RETURN(r.request_param1, c.U8("request Param1"));
  // Param1 bit 0 asks for a signature; bits 7:1 are reserved in 1.1. Without the bit the
  // response carries no signature, so such a report can never be verified.
  if (r.request_param1 != 0x01) return Bad("request Param1 is not 0x01 (signature requested)", 2);
  SIGIL_ASSIGN_OR_RETURN(r.request_param2, c.U8("request Param2"));
  if (r.request_param2 != 0xFF) return Bad("request Param2 is not 0xFF (all measurements)", 3);
  SIGIL_ASSIGN_OR_RETURN(ByteSpan nonce, c.Take(kNonceSize, "request Nonce"));
  CopyTo(r.request_nonce, nonce);
  SIGIL_ASSIGN_OR_RETURN(r.slot_id, c.U8("request SlotIDParam"));
  if (r.slot_id > 7) return Bad("request SlotIDParam is not a slot 0..7", 36);

  // MEASUREMENTS response (DSP0274 1.1, table "Successful MEASUREMENTS response message").
  const std::size_t resp = c.offset();
  SIGIL_ASSIGN_OR_RETURN(version, c.U8("response SPDMVersion"));
  if (version != kSpdmVersion11) return Bad("response SPDMVersion is not 0x11", resp);
  SIGIL_ASSIGN_OR_RETURN(code, c.U8("response RequestResponseCode"));
  if (code != kMeasurementsCode) return Bad("response code is not MEASUREMENTS (0x60)", resp + 1);
  SIGIL_ASSIGN_OR_RETURN(r.response_param1, c.U8("response Param1"));
  SIGIL_ASSIGN_OR_RETURN(r.response_param2, c.U8("response Param2"));
  SIGIL_ASSIGN_OR_RETURN(std::uint8_t number_of_blocks, c.U8("NumberOfBlocks"));
  SIGIL_ASSIGN_OR_RETURN(std::uint32_t record_length, c.ReadLe(3, "MeasurementRecordLength"));
  const std::size_t record_at = c.offset();
  SIGIL_ASSIGN_OR_RETURN(ByteSpan record, c.Take(record_length, "MeasurementRecord"));
  SIGIL_ASSIGN_OR_RETURN(r.blocks, ParseMeasurementRecord(record, number_of_blocks, record_at));
  SIGIL_ASSIGN_OR_RETURN(ByteSpan rnonce, c.Take(kNonceSize, "response Nonce"));
  CopyTo(r.responder_nonce, rnonce);
  SIGIL_ASSIGN_OR_RETURN(std::uint32_t opaque_length, c.ReadLe(2, "OpaqueLength"));
  const std::size_t opaque_at = c.offset();
  SIGIL_ASSIGN_OR_RETURN(ByteSpan opaque, c.Take(opaque_length, "OpaqueData"));
  SIGIL_ASSIGN_OR_RETURN(r.opaque, ParseOpaqueData(opaque, opaque_at));
  SIGIL_RETURN_IF_ERROR(Interpret(r, opaque_at));
  SIGIL_ASSIGN_OR_RETURN(ByteSpan sig, c.Take(kSignatureSize, "Signature"));
  CopyTo(r.signature, sig);
  if (c.remaining() != 0) {
    return Bad(std::to_string(c.remaining()) + " unsigned bytes after the signature", c.offset());
  }
  return r;
}

std::size_t SignedSize(const Report& report) {
  std::size_t record = 0;
  for (const MeasurementBlock& b : report.blocks) record += 7 + b.value.size();
  std::size_t opaque = 0;
  for (const OpaqueRecord& o : report.opaque) opaque += 4 + o.value.size();
  return kRequestSize + 8 + record + kNonceSize + 2 + opaque;
}

Bytes SerializeReport(const Report& report) {
  // Built with push_back/append, not a braced list then insert: GCC 12 at -O3 reports a false
  // -Warray-bounds on inserting after a 4-byte initializer list.
  Bytes out;
  out.reserve(SignedSize(report) + report.signature.size());
  for (std::uint8_t b : {kSpdmVersion11, kGetMeasurementsCode, report.request_param1, report.request_param2}) {
    out.push_back(b);
  }
  out.insert(out.end(), report.request_nonce.begin(), report.request_nonce.end());
  out.push_back(report.slot_id);
  out.insert(out.end(), {kSpdmVersion11, kMeasurementsCode, report.response_param1,
                         report.response_param2,
                         static_cast<std::uint8_t>(report.blocks.size())});
  Bytes record;
  for (const MeasurementBlock& b : report.blocks) {
    record.insert(record.end(), {b.index, kDmtfMeasurementSpec});
    AppendLe(record, static_cast<std::uint32_t>(b.value.size() + 3), 2);
    record.push_back(b.dmtf_type);
    AppendLe(record, static_cast<std::uint32_t>(b.value.size()), 2);
    record.insert(record.end(), b.value.begin(), b.value.end());
  }
  AppendLe(out, static_cast<std::uint32_t>(record.size()), 3);
  out.insert(out.end(), record.begin(), record.end());
  out.insert(out.end(), report.responder_nonce.begin(), report.responder_nonce.end());
  Bytes opaque;
  for (const OpaqueRecord& o : report.opaque) {
    AppendLe(opaque, o.type, 2);
    AppendLe(opaque, static_cast<std::uint32_t>(o.value.size()), 2);
    opaque.insert(opaque.end(), o.value.begin(), o.value.end());
  }
  AppendLe(out, static_cast<std::uint32_t>(opaque.size()), 2);
  out.insert(out.end(), opaque.begin(), opaque.end());
  out.insert(out.end(), report.signature.begin(), report.signature.end());
  return out;
}

Result<Bytes> DecodeEvidence(ByteSpan evidence) {
  if (!evidence.empty() && evidence[0] == kSpdmVersion11) {
    return Bytes(evidence.begin(), evidence.end());
  }
  std::string_view text(reinterpret_cast<const char*>(evidence.data()), evidence.size());
  const auto is_space = [](char ch) {
    return ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t';
  };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  if (text.empty()) return Fail(Code::kMalformedEvidence, "NVIDIA report is empty");
  auto raw = HexDecode(text);
  if (!raw) {
    return Fail(Code::kMalformedEvidence,
                "NVIDIA report is neither raw SPDM bytes nor hex text: " + raw.error().message());
  }
  return std::move(raw).value();
}

}  // namespace sigil::attestation::nvidia
