// Shared helpers for the NVIDIA GPU tests: vector loading (/work/shared/vectors/nvidia-gpu, see
// its MANIFEST.md), the values the manifest names, and a generated P-384 test PKI (root, leaf
// with a TcbInfo FWID, CRLs) to re-sign a real report for the refusals that need a signature.
#pragma once

#include <array>
#include <chrono>
#include <string>

#include "attestation/nvidia/collateral.h"
#include "attestation/nvidia/report.h"
#include "core/bytes.h"
#include "core/ossl.h"

namespace sigil::testing::nvidia {

std::string VectorPath(const std::string& rel);
Bytes ReadVector(const std::string& rel);

// nvtrust/hopperAttestationReport.txt as text (hex) and decoded (4117 bytes).
Bytes ReportHexText();
Bytes ReportBytes();
Bytes ChainPem();  // hopperCertChain.pem, leaf first
Bytes RootPem();   // verifier_device_root.pem

// MANIFEST NV-1 values.
Bytes ExpectedNonce();  // 931d8dd0...
inline constexpr char kFwidHex[] =
    "f5c384aebb579217a2c66b17ed0f28e6a9b8d639041acd7b4721cec004f7275494ba94bb5cdfdb3055ee051762b1"
    "f75d";
// Certificates valid from 2022-03-01 to 9999 (MANIFEST): any current time; we pin 2025-01-01.
std::chrono::system_clock::time_point VerifyTime();
std::chrono::system_clock::time_point At(std::int64_t unix_seconds);

// A generated test PKI: a self-signed P-384 CA and a leaf issued by it whose TcbInfo extension
// ends with `fwid`. Validity 2024-01-01..2030-01-01.
struct TestPki {
  EvpPkeyPtr root_key;
  X509Ptr root;
  EvpPkeyPtr leaf_key;
  X509Ptr leaf;
};
TestPki MakePki(const std::array<std::uint8_t, 48>& fwid);
// Another device under `pki`'s root: a fresh P-384 key and a leaf (serial `serial`) whose
// TcbInfo ends with `fwid` (several GPUs of one host, each with its own device key).
struct TestLeaf {
  EvpPkeyPtr key;
  X509Ptr cert;
};
TestLeaf IssueLeaf(const TestPki& pki, const std::array<std::uint8_t, 48>& fwid, long serial);
// root -> intermediate CA ("Sigil Test ICA") -> leaf.
struct TestPki3 {
  TestPki base;  // root and leaf; the leaf is issued by `ica`
  EvpPkeyPtr ica_key;
  X509Ptr ica;
};
TestPki3 MakePki3(const std::array<std::uint8_t, 48>& fwid);
// The PEM encodings.
std::string Pem(const X509& cert);
// A CRL from `issuer`, this/next update as given, listing `revoked` if non-null.
std::string CrlPem(const X509& issuer, EVP_PKEY& key, std::int64_t this_update,
                   std::int64_t next_update, const X509* revoked);
// A DER OCSP response wrapped in PEM ("OCSP RESPONSE") for `cert` issued by `issuer`, signed
// by `signer`/`signer_key`, status V_OCSP_CERTSTATUS_*.
std::string OcspPem(const X509& cert, const X509& issuer, const X509& signer, EVP_PKEY& signer_key,
                    int status, std::int64_t this_update, std::int64_t next_update);
// Serializes `report` and signs it with `key` (raw r||s over the signed part).
Bytes SignReport(attestation::nvidia::Report report, EVP_PKEY& key);

}  // namespace sigil::testing::nvidia
