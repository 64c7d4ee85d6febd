// The KBS attestation protocol (Confidential Containers RCAR, version 0.4.0 as Trustee implements
// it) as a front end to Sigil's verifiers, policies, keys and audit log; HTTP-free like
// broker/api/workload_api.h (the route table passes the cookie and bearer token in and the new
// cookie out). docs/protocol.md "KBS front end" is the contract.
//   KbsAuth:     {"version":"0.4.0","tee","extra-params"} -> {"nonce","extra-params"} + session
//   KbsAttest:   {"runtime-data":{"nonce","tee-pubkey"},"tee-evidence":{...}} -> {"token": EAR}
//   KbsResource: repository/type/tag = tenant/key/("latest" | version) -> flattened JWE of the
//                key version's 32-byte private half, after the tenant's policy and an audit record.
// Errors are KbsError-kinded (broker/kbs/kbs_errors.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "broker/broker_context.h"
#include "core/json.h"

namespace sigil::broker {

inline constexpr const char* kKbsVersion = "0.4.0";
inline constexpr const char* kKbsCookieName = "kbs-session-id";
// Claims the front end adds to a tpm session's verified claims (so signed in its EAR token):
// the fingerprint (attestation::tpm::AkFingerprint) of the AK that signed the quote, and, when
// that AK is not broker-global but registered by a tenant, that tenant: its resources are then
// the only ones the session can be released (KbsResource).
inline constexpr const char* kKbsTpmAkClaim = "kbs.tpm_ak";
inline constexpr const char* kKbsTpmAkTenantClaim = "kbs.tpm_ak_tenant";

// The Sigil verifier name for a KBS tee name (snp, tdx, sgx, az-snp-vtpm -> azure-snp-vtpm,
// az-tdx-vtpm -> azure-tdx-vtpm, tpm, and "dev" for Sigil's insecure development TEE); empty if
// Sigil has none. "sample" is never accepted.
std::string SigilTeeForKbs(std::string_view kbs_tee);

// The challenge's extra-params for a session of Sigil verifier `sigil_tee`, given the request's
// extra-params. {} except for the Azure vTPM verifiers, whose quote carries only 32 bytes of the
// binding (the TPM rule, extraData == binding[0..32)): those answer
// {"selected-hash-algorithm": "sha256"} (RCAR; guest-components v0.10.0+ hashes the runtime data
// with it, default SHA-384 otherwise) and need the request to list "sha256" in
// "supported-hash-algorithms" (kInvalidArgument otherwise: a SHA-384 quote could never verify).
Result<Json> KbsChallengeExtraParams(std::string_view sigil_tee, const Json& request_extra_params);

// The 64-byte binding a session's evidence must carry: H(runtime_jcs) zero-padded, H = SHA-256 for
// the sessions KbsChallengeExtraParams selects it for, SHA-384 for all others.
Bytes KbsBinding(std::string_view sigil_tee, ByteSpan runtime_jcs);

// `set_cookie` receives the Set-Cookie header value for the new session.
Result<Json> KbsAuth(const BrokerContext& ctx, const RequestMeta& meta, const Json& body, std::string& set_cookie);
Result<Json> KbsAttest(const BrokerContext& ctx, const RequestMeta& meta, const Json& body,
                       const std::string& session_id, std::string& set_cookie);
Result<Json> KbsResource(const BrokerContext& ctx, const RequestMeta& meta, const std::string& repository,
                         const std::string& type, const std::string& tag, const std::string& session_id,
                         const std::string& bearer_token);

// The artifact_id of a KBS release's audit record and receipt (docs/protocol.md "Release
// receipts"): "kbs:<repository>/<type>/<version>", the resolved version (never "latest").
std::string KbsArtifactId(std::string_view repository, std::string_view type, std::uint32_t version);

// The value of the kbs-session-id cookie in a Cookie header ("" if absent).
std::string KbsSessionFromCookieHeader(std::string_view cookie_header);

}  // namespace sigil::broker
