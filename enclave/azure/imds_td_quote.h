// The TD quote of an Azure TDX confidential VM, from the Azure Instance Metadata Service (IMDS).
// A TDREPORT is MAC'd with a CPU key and cannot be checked off the machine. On Azure the guest OS
// gets its TDREPORT from the paravisor (inside the HCL report, enclave/azure/azure_attester.h)
// and Azure serves the quoting through IMDS, which has the host's TD quoting enclave sign it:
//   POST http://169.254.169.254/acc/tdquote
//   Metadata: true                       (Azure IMDS refuses requests without it)
//   Content-Type: application/json       (bare: a "; charset=..." suffix is reported refused, 415)
//   {"report":"<base64url of the 1024-byte TDREPORT>"}
// answer 200 {"quote":"<base64url of the TD quote (DCAP quote v4)>"}.
// Sources: Microsoft's azure-cvm-tooling (az-tdx-vtpm, imds.rs) and the Azure confidential VM
// guest attestation samples; /work/shared/vectors/azure-cvm/MANIFEST.md "AZ-TDX-1".
// IMDS is plain HTTP on a link-local address that never leaves the host, so there is no TLS to
// do; the quote authenticates itself (DCAP, checked by the broker). Nothing the answer says is
// trusted here beyond its shape.
// Thread-safety: pure functions; FetchTdQuote uses only its own socket and may run concurrently.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/result.h"

namespace sigil::enclave::azure {

inline constexpr char kDefaultImdsUrl[] = "http://169.254.169.254";
inline constexpr char kImdsTdQuotePath[] = "/acc/tdquote";
// A TD quote v4 with its embedded PCK chain is 5-8 KB, about 11 KB as base64url: an answer past
// 64 KiB is not IMDS's TD quote, and is refused before it is buffered whole.
inline constexpr std::size_t kMaxImdsResponseBytes = 64 * 1024;
// The quoting enclave answers in well under a second; a few seconds covers a busy host without
// letting a dead endpoint hang a load.
inline constexpr std::chrono::milliseconds kDefaultImdsTimeout{5000};

struct ImdsEndpoint {
  std::string host;  // as given (name, IPv4, or IPv6 without brackets)
  std::string port;  // decimal, 1-65535; "80" if the URL names none
};

// Accepts exactly http://HOST[:PORT] with an optional final "/" (HOST a name, an IPv4 address or
// [IPv6]); the path is fixed, so anything else (https, user info, a path, a query) is refused.
// kInvalidArgument naming the URL.
Result<ImdsEndpoint> ParseImdsUrl(std::string_view url);

// The request body for a TDREPORT: {"report":"<base64url>"}. kInvalidArgument unless the report
// is 1024 bytes.
Result<std::string> TdQuoteRequestBody(ByteSpan td_report);

// Parses IMDS's 200 answer: a JSON object (core/json rules: UTF-8, no duplicate keys) with
// exactly one member, "quote", a non-empty string of base64url (RFC 4648 section 5; '=' padding
// is accepted only where that length needs it). Returns the decoded quote. kMalformedEvidence
// saying what is wrong, never quoting the answer's bytes.
Result<Bytes> ParseTdQuoteResponse(std::string_view body);

struct ImdsConfig {
  std::string url = kDefaultImdsUrl;  // ParseImdsUrl syntax
  std::chrono::milliseconds timeout = kDefaultImdsTimeout;  // connect + request + answer, total
};

// POSTs the TDREPORT to <url>/acc/tdquote and returns the quote bytes (ParseTdQuoteResponse).
// kInvalidArgument for a bad URL or report; kUnavailable if IMDS cannot be reached, does not
// answer within the timeout, answers with more than kMaxImdsResponseBytes of body or a status
// other than 200 (the status and a printable excerpt of IMDS's error are named);
// kMalformedEvidence for a 200 answer that is not {"quote": base64url}.
Result<Bytes> FetchTdQuote(const ImdsConfig& config, ByteSpan td_report);

}  // namespace sigil::enclave::azure
