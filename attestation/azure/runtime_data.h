// The HCL report's runtime data ("variable data"): compact UTF-8 JSON written by the paravisor,
// whose hash the hardware report's REPORT_DATA carries. A pure parser (core/json, no OpenSSL):
//   {"keys":[{"kid":"HCLAkPub","key_ops":[...],"kty":"RSA","e":b64url,"n":b64url}, ...],
//    "vm-configuration":{"console-enabled":bool,"current-time":int,"secure-boot":bool,
//                        "tpm-enabled":bool,"tpm-persisted":bool,"vmUniqueId":str,
//                        "root-cert-thumbprint":str},
//    "user-data": "<hex of the 64 bytes in NV index 0x01400002>"}   (user-data optional)
// The AK is chosen by kid "HCLAkPub", never by key_ops (older HCLs label it ["encrypt"], newer
// ones ["sign"]; MANIFEST "Parser notes").
// Thread-safety: pure function.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/bytes.h"
#include "core/result.h"

namespace sigil::attestation::azure {

// An RSA public key from a JWK (RFC 7518 section 6.3.1): big-endian modulus and exponent
// without leading zero octets.
struct RsaJwk {
  Bytes n;
  Bytes e;
  bool operator==(const RsaJwk&) const = default;
};

// vm-configuration members; each is absent if the HCL did not write it.
struct VmConfiguration {
  std::optional<bool> console_enabled;
  std::optional<bool> secure_boot;
  std::optional<bool> tpm_enabled;
  std::optional<bool> tpm_persisted;
  std::optional<std::int64_t> current_time;  // Unix seconds when the HCL wrote the report
  std::optional<std::string> vm_unique_id;
  std::optional<std::string> root_cert_thumbprint;
};

struct RuntimeData {
  RsaJwk ak;                 // kid "HCLAkPub": the vTPM attestation key
  std::optional<RsaJwk> ek;  // kid "HCLEkPub" (newer HCLs)
  VmConfiguration vm;
  std::optional<Bytes> user_data;  // decoded "user-data"
};

// Parses the runtime-data bytes with core/json (valid UTF-8, duplicate keys refused, depth
// bounded). kMalformedEvidence naming the JSON path if: it is not an object; "keys" is not an
// array of objects with string "kid"; "HCLAkPub" is missing or listed twice (so is "HCLEkPub");
// a chosen key's kty is not "RSA", or n / e are not canonical unpadded base64url, have leading
// zero octets, n is not 2048..8192 bits or e is longer than 8 bytes; "vm-configuration" is
// missing, not an object, or one of the members above has the wrong JSON type; "user-data" is
// present and not hex. Other members (top level, keys, vm-configuration) are ignored.
Result<RuntimeData> ParseRuntimeData(ByteSpan json);

}  // namespace sigil::attestation::azure
