#include "broker/kbs/kbs_api.h"

#include <openssl/rand.h>

#include <optional>

#include "attestation/tpm/evidence.h"
#include "attestation/tpm/signature.h"
#include "attestation/tpm/verifier.h"
#include "broker/api/release_gate.h"
#include "broker/api/release_purpose.h"
#include "broker/audit/release_receipt.h"
#include "broker/broker_metrics.h"
#include "broker/kbs/ear_token.h"
#include "broker/kbs/kbs_errors.h"
#include "broker/kbs/kbs_init_data.h"
#include "broker/kbs/kbs_sessions.h"
#include "broker/kbs/trustee_evidence.h"
#include "broker/keys/key_pins.h"
#include "broker/keys/key_service.h"
#include "core/digest.h"
#include "core/encoding.h"
#include "core/jcs.h"
#include "core/jwe.h"
#include "core/ossl.h"
#include "core/protocol.h"
#include "core/text.h"
#include "policies/policy.h"

namespace sigil::broker {
namespace {

Error Attestation(Error e) { return KbsError(KbsKind::kAttestationError, std::move(e)); }
Error Invalid(const std::string& m) { return Attestation(Error(Code::kInvalidArgument, m)); }

std::string Cookie(const std::string& id, std::chrono::seconds max_age) {
  // HttpOnly and Secure: the session is a bearer credential and sigild speaks only HTTPS.
  return std::string(kKbsCookieName) + "=" + id + "; Max-Age=" + std::to_string(max_age.count()) +
         "; Path=/kbs; HttpOnly; Secure; SameSite=Strict";
}

Result<std::string> StringMember(const Json& obj, const char* name, const char* where) {
  if (!obj.is_object() || !obj.contains(name) || !obj[name].is_string()) {
    return Invalid(std::string(where) + "." + name + ": expected a string");
  }
  return obj[name].get<std::string>();
}

// The KBS tee name a session was opened with, from the Sigil verifier name it keeps (the inverse
// of SigilTeeForKbs on the names it maps).
std::string_view KbsTeeForSigil(std::string_view sigil_tee) {
  if (sigil_tee == "sev-snp") return "snp";
  if (sigil_tee == "azure-snp-vtpm") return "az-snp-vtpm";
  if (sigil_tee == "azure-tdx-vtpm") return "az-tdx-vtpm";
  return sigil_tee;
}

// Sessions whose binding is SHA-256 of the runtime data (KbsChallengeExtraParams).
bool BindsWithSha256(std::string_view sigil_tee) {
  return sigil_tee == "azure-snp-vtpm" || sigil_tee == "azure-tdx-vtpm";
}

// The evidence (and, for SNP, the certificates) a Sigil verifier takes, from the KBS primary
// evidence: Sigil's base64 string or JSON object, or the JSON that Trustee's attesters send for
// tdx, sgx and snp (broker/kbs/trustee_evidence.h).
Result<KbsEvidence> PrimaryEvidence(std::string_view kbs_tee, const Json& tee_evidence) {
  if (!tee_evidence.is_object() || !tee_evidence.contains("primary_evidence")) {
    return Invalid("tee-evidence.primary_evidence: missing");
  }
  auto out = KbsPrimaryEvidence(kbs_tee, tee_evidence["primary_evidence"]);
  if (!out) return Attestation(std::move(out).error());
  return out;
}

Result<Bytes> Random(std::size_t n) {
  Bytes b(n);
  if (RAND_bytes(b.data(), static_cast<int>(n)) != 1) return OpenSslError(Code::kInternal, "RAND_bytes");
  return b;
}

// The fingerprint of the AK a tpm session's evidence carries. KBS attestation names no tenant,
// so the AK is what selects the tenant whose registration vouches for the quote: evidence
// without one is refused (400), not tried against every tenant's AKs.
Result<std::string> EvidenceAkFingerprint(ByteSpan evidence) {
  auto e = attestation::tpm::ParseEvidence(evidence);
  if (!e) return Attestation(std::move(e).error().Wrap("tee-evidence.primary_evidence"));
  if (!e->ak) {
    return Invalid("tee-evidence.primary_evidence.ak: missing; a tpm quote sent through KBS must carry its AK, "
                   "because the AK selects the tenant whose registration vouches for it");
  }
  auto key = attestation::tpm::LoadAk(*e->ak, Code::kMalformedEvidence);
  if (!key) return Attestation(std::move(key).error().Wrap("tee-evidence.primary_evidence.ak"));
  auto der = attestation::tpm::AkDer(**key);
  if (!der) return Attestation(std::move(der).error().Wrap("tee-evidence.primary_evidence.ak"));
  return attestation::tpm::AkFingerprint(*der);
}

// The tenants that registered the AK with fingerprint `fp` (Store::ListTpmAks).
Result<std::vector<std::string>> TenantsRegisteringAk(Store& store, const std::string& fp) {
  SIGIL_ASSIGN_OR_RETURN(std::vector<std::string> tenants, store.ListTenants());
  std::vector<std::string> out;
  for (const std::string& t : tenants) {
    SIGIL_ASSIGN_OR_RETURN(std::vector<TpmAkRow> rows, store.ListTpmAks(t));
    for (const TpmAkRow& r : rows) {
      if (r.id == fp) {
        out.push_back(t);
        break;
      }
    }
  }
  return out;
}

std::string ClaimsActor(const attestation::Claims& claims) {
  return "workload:" + HexEncode(Sha256(AsBytes(CanonicalJson(claims.ToJson())))).substr(0, 16);
}

}  // namespace

std::string SigilTeeForKbs(std::string_view kbs_tee) {
  if (kbs_tee == "snp") return "sev-snp";
  if (kbs_tee == "az-snp-vtpm") return "azure-snp-vtpm";
  if (kbs_tee == "az-tdx-vtpm") return "azure-tdx-vtpm";
  if (kbs_tee == "tdx" || kbs_tee == "sgx" || kbs_tee == "tpm" || kbs_tee == "dev") return std::string(kbs_tee);
  return "";
}

Result<Json> KbsChallengeExtraParams(std::string_view sigil_tee, const Json& request_extra_params) {
  if (!BindsWithSha256(sigil_tee)) return Json::object();
  bool sha256 = false;
  if (request_extra_params.is_object()) {
    const auto it = request_extra_params.find("supported-hash-algorithms");
    if (it != request_extra_params.end() && it->is_array()) {
      for (const Json& a : *it) {
        if (!a.is_string()) continue;
        std::string name = a.get_ref<const std::string&>();
        for (char& c : name) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
        sha256 = sha256 || name == "sha256";
      }
    }
  }
  if (!sha256) {
    return Error(Code::kInvalidArgument,
                 "request.extra-params.supported-hash-algorithms: must list \"sha256\" for tee " +
                     std::string(KbsTeeForSigil(sigil_tee)) +
                     " (its vTPM quote carries 32 bytes of the report data; guest-components v0.10.0+ sends the list)");
  }
  return Json{{"selected-hash-algorithm", "sha256"}};
}

Bytes KbsBinding(std::string_view sigil_tee, ByteSpan runtime_jcs) {
  Bytes binding(protocol::kBindingSize, 0);
  if (BindsWithSha256(sigil_tee)) {
    const auto digest = Sha256(runtime_jcs);
    std::copy(digest.begin(), digest.end(), binding.begin());
  } else {
    const Sha384Digest digest = Sha384(runtime_jcs);
    std::copy(digest.begin(), digest.end(), binding.begin());
  }
  return binding;
}

std::string KbsArtifactId(std::string_view repository, std::string_view type, std::uint32_t version) {
  return "kbs:" + std::string(repository) + "/" + std::string(type) + "/" + std::to_string(version);
}

std::string KbsSessionFromCookieHeader(std::string_view header) {
  const std::string_view want = kKbsCookieName;
  std::size_t i = 0;
  while (i < header.size()) {
    std::size_t end = header.find(';', i);
    if (end == std::string_view::npos) end = header.size();
    std::string_view pair = header.substr(i, end - i);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    if (pair.size() > want.size() && pair.substr(0, want.size()) == want && pair[want.size()] == '=') {
      return std::string(pair.substr(want.size() + 1));
    }
    i = end + 1;
  }
  return "";
}

Result<Json> KbsAuth(const BrokerContext& ctx, const RequestMeta&, const Json& body, std::string& set_cookie) {
  if (ctx.kbs == nullptr) return Attestation(Error(Code::kUnavailable, "the KBS front end is not enabled on this broker"));
  SIGIL_ASSIGN_OR_RETURN(std::string version, StringMember(body, "version", "request"));
  // Trustee checks semver "=0.4.0": an exact match, nothing older or newer.
  if (version != kKbsVersion) {
    return Invalid("KBS Client Protocol Version Mismatch: expect =" + std::string(kKbsVersion) + " while the request is " +
                   EscapeForDisplay(version, 32));
  }
  SIGIL_ASSIGN_OR_RETURN(std::string tee, StringMember(body, "tee", "request"));
  const std::string sigil_tee = SigilTeeForKbs(tee);
  if (sigil_tee.empty() || !ctx.verifiers->Find(sigil_tee)) {
    return Invalid("tee '" + EscapeForDisplay(tee, 32) + "' is not verified by this broker (enabled: " +
                   [&] {
                     std::string all;
                     for (const auto& t : ctx.verifiers->Types()) all += (all.empty() ? "" : ", ") + t;
                     return all;
                   }() + "; KBS names: snp, tdx, sgx, az-snp-vtpm, az-tdx-vtpm, tpm, dev)");
  }
  auto extra_params = KbsChallengeExtraParams(sigil_tee, body.is_object() && body.contains("extra-params")
                                                             ? body["extra-params"]
                                                             : Json());
  if (!extra_params) return Attestation(std::move(extra_params).error());
  const auto now = ctx.now();
  auto created = ctx.kbs->Create(sigil_tee, now, now + ctx.settings.nonce_ttl);
  if (!created) return Attestation(std::move(created).error());
  set_cookie = Cookie(created->id, ctx.settings.nonce_ttl);
  // Standard base64 with padding, as Trustee sends it; the guest echoes it back as a string.
  return Json{{"nonce", Base64Encode(created->nonce)}, {"extra-params", *extra_params}};
}

Result<Json> KbsAttest(const BrokerContext& ctx, const RequestMeta& meta, const Json& body, const std::string& session_id,
                       std::string& set_cookie) {
  if (ctx.kbs == nullptr) return Attestation(Error(Code::kUnavailable, "the KBS front end is not enabled on this broker"));
  if (session_id.empty()) return Attestation(Error(Code::kUnauthenticated, "cookie kbs-session-id not found; call /kbs/v0/auth first"));
  const auto now = ctx.now();
  // The nonce is taken (and so used up) before anything else is looked at: whatever happens
  // next, this session cannot attest again.
  auto challenge = ctx.kbs->TakeNonce(session_id, now);
  if (!challenge) return Attestation(std::move(challenge).error());
  // init-data (optional): its shape and TOML are checked here, its digest against the evidence
  // once the evidence is verified (broker/kbs/kbs_init_data.h).
  std::optional<KbsInitData> init_data;
  if (body.contains("init-data") && !body["init-data"].is_null()) {
    auto parsed = ParseKbsInitData(body["init-data"]);
    if (!parsed) return Attestation(std::move(parsed).error());
    init_data = std::move(*parsed);
  }
  if (!body.contains("runtime-data") || !body["runtime-data"].is_object()) return Invalid("runtime-data: expected an object");
  const Json& rd = body["runtime-data"];
  SIGIL_ASSIGN_OR_RETURN(std::string nonce, StringMember(rd, "nonce", "runtime-data"));
  if (nonce != Base64Encode(challenge->nonce)) {
    return Attestation(Error(Code::kVerificationFailed, "runtime-data.nonce is not this session's nonce"));
  }
  if (!rd.contains("tee-pubkey")) return Invalid("runtime-data.tee-pubkey: missing");
  auto tee_key = jwe::ParseRecipientJwk(rd["tee-pubkey"], "runtime-data.tee-pubkey");
  if (!tee_key) return Attestation(std::move(tee_key).error());
  if (!body.contains("tee-evidence")) return Invalid("tee-evidence: missing");
  const Json& te = body["tee-evidence"];
  std::string additional;
  if (te.is_object() && te.contains("additional_evidence")) {
    if (!te["additional_evidence"].is_string()) return Invalid("tee-evidence.additional_evidence: expected a string");
    additional = te["additional_evidence"].get<std::string>();
  }
  // Devices' evidence (GPUs) is not verified by this front end: refused, never ignored, so a
  // policy cannot believe a GPU was checked.
  if (!additional.empty()) return Invalid("tee-evidence.additional_evidence: additional (device) evidence is not supported");
  SIGIL_ASSIGN_OR_RETURN(KbsEvidence primary, PrimaryEvidence(KbsTeeForSigil(challenge->tee), te));
  const Bytes& evidence = primary.evidence;
  // The report data: SHA-384 (SHA-256 for the Azure vTPM sessions, which selected it in the
  // challenge) over the RFC 8785 form of the runtime data as Trustee's attestation service builds
  // it for the primary evidence, zero-padded to the 64 bytes Sigil's verifiers compare (SNP
  // REPORT_DATA and TDX REPORTDATA hold all 64; a TPM quote's qualifying data the first 32).
  Json runtime{{"tee-pubkey", rd["tee-pubkey"]}, {"nonce", nonce}, {"additional-evidence", additional}};
  auto canonical = Jcs(runtime);
  if (!canonical) return Invalid("runtime-data: " + canonical.error().message());
  const Bytes binding = KbsBinding(challenge->tee, AsBytes(*canonical));
  auto verifier = ctx.verifiers->Find(challenge->tee);
  if (!verifier) return Attestation(std::move(verifier).error());
  attestation::VerifyInput in{evidence, primary.collateral, binding, now, {}};
  const bool tpm = challenge->tee == "tpm";
  std::string ak_fingerprint;
  if (tpm) {
    SIGIL_ASSIGN_OR_RETURN(ak_fingerprint, EvidenceAkFingerprint(evidence));
  }
  const auto verify_start = BrokerMetrics::Now();
  // First with no tenant: only the broker-global AKs (DATA/trust/tpm-aks/), good for every
  // tenant. A quote from an AK that is not one of them fails there before its signature is
  // checked or any replay state moves; it is then verified once more, for the one tenant that
  // registered its AK, and bound to that tenant (kKbsTpmAkTenantClaim). An AK registered by two
  // or more tenants is refused: the AK is all that selects the tenant, and the first of them
  // would be an arbitrary choice (each tenant's registration may differ, e.g. in its TPM Name).
  auto claims = (*verifier)->Verify(in);
  std::string ak_tenant;
  if (!claims && tpm && claims.error().code() == Code::kVerificationFailed) {
    auto owners = TenantsRegisteringAk(*ctx.store, ak_fingerprint);
    if (!owners) return KbsError(KbsKind::kPluginInternalError, std::move(owners).error());
    if (owners->size() > 1) {
      return Attestation(Error(Code::kVerificationFailed,
                               "evidence rejected: the evidence's AK (fingerprint " + ak_fingerprint +
                                   ") is registered for more than one tenant, so it selects none; KBS attestation "
                                   "names no tenant and takes the tenant from the AK"));
    }
    if (owners->size() == 1) {
      ak_tenant = owners->front();
      in.tenant = ak_tenant;
      claims = (*verifier)->Verify(in);
    }
  }
  if (ctx.metrics != nullptr) ctx.metrics->ObserveVerification(challenge->tee, verify_start);
  if (!claims) return Attestation(claims.error().Wrap("evidence rejected"));
  if (tpm) {
    claims->Set(kKbsTpmAkClaim, ak_fingerprint);
    if (!ak_tenant.empty()) claims->Set(kKbsTpmAkTenantClaim, ak_tenant);
  }
  if (init_data) {
    if (auto bound = BindKbsInitData(*init_data, challenge->tee, *claims); !bound) {
      return Attestation(std::move(bound).error());
    }
  }
  SIGIL_ASSIGN_OR_RETURN(Bytes jti, Random(16));
  EarBody ear;
  ear.jti = HexEncode(jti);
  ear.iat = UnixSeconds(now);
  ear.exp = UnixSeconds(now + ctx.settings.token_ttl);
  ear.evidence_digest = HexEncode(Sha256(evidence));
  ear.tee_pubkey = rd["tee-pubkey"];
  ear.claims = *claims;
  auto token = SignEar(ear, *ctx.token_signer);
  if (!token) return KbsError(KbsKind::kPluginInternalError, std::move(token).error());
  ctx.kbs->MarkAttested(session_id,
                        KbsAttested{*token, ear.jti, challenge->tee, ear.evidence_digest, ear.tee_pubkey, *claims},
                        now + ctx.settings.token_ttl);
  set_cookie = Cookie(session_id, ctx.settings.token_ttl);
  (void)meta;
  return Json{{"token", *token}};
}

Result<Json> KbsResource(const BrokerContext& ctx, const RequestMeta& meta, const std::string& repository,
                         const std::string& type, const std::string& tag, const std::string& session_id,
                         const std::string& bearer) {
  const auto now = ctx.now();
  // Who is asking: the bearer token wins over the cookie when both are sent (as in Trustee).
  KbsAttested who;
  std::string via;
  if (!bearer.empty()) {
    auto ear = VerifyEar(bearer, ctx.token_public_key, UnixSeconds(now));
    if (!ear) return KbsError(KbsKind::kTokenVerifierError, std::move(ear).error());
    auto tee = ear->claims.GetString("tee");
    who = KbsAttested{bearer, ear->jti, tee.value_or(""), ear->evidence_digest, ear->tee_pubkey, ear->claims};
    via = "bearer token";
  } else if (!session_id.empty() && ctx.kbs != nullptr) {
    auto s = ctx.kbs->Attested(session_id, now);
    if (!s) return KbsError(KbsKind::kTokenNotFound, std::move(s).error());
    who = std::move(*s);
    via = "session cookie";
  } else {
    return KbsError(KbsKind::kTokenNotFound,
                    Error(Code::kUnauthenticated, "no attested kbs-session-id cookie and no 'Authorization: Bearer' token"));
  }
  // The resource: repository = tenant, type = key name, tag = "latest" or a version number.
  const std::string& tenant = repository;
  std::uint32_t version = 0;
  if (tag != "latest") {
    if (tag.empty() || tag.size() > 9 || tag.find_first_not_of("0123456789") != std::string::npos || tag[0] == '0') {
      return KbsError(KbsKind::kInvalidRequestPath,
                      Error(Code::kNotFound, "tag: expected 'latest' or a key version number"));
    }
    version = static_cast<std::uint32_t>(std::stoul(tag));
  }
  if (auto t = ctx.store->GetTenantKek(tenant); !t) {
    return KbsError(t.error().code() == Code::kNotFound ? KbsKind::kInvalidRequestPath : KbsKind::kPluginInternalError,
                    t.error().code() == Code::kNotFound ? Error(Code::kNotFound, "no repository '" + tenant + "'")
                                                        : t.error());
  }
  const std::string resource = repository + "/" + type + "/" + tag;
  AuditEvent ev;
  ev.request_id = meta.request_id;
  ev.client = meta.client;
  ev.actor = ClaimsActor(who.claims);
  ev.action = "release";
  ev.key = type;
  ev.version = version;
  ev.evidence_digest = who.evidence_digest;
  ev.tee = who.tee;
  ev.measurement = who.claims.GetString("measurement").value_or("");
  // Every record of a KBS release says so: the path asked for, the credential and the token.
  Json kbs_detail{{"via", "kbs"}, {"resource", resource}, {"credential", via}, {"token", who.token_id}};
  auto refuse = [&](KbsKind kind, Error err, const std::string& trace = "") {
    AuditEvent deny = ev;
    deny.decision = "deny";
    deny.reason = "kbs: " + AuditReason(err);
    Json d = kbs_detail;
    if (!trace.empty()) d["policy"] = trace;
    deny.detail = CanonicalJson(d);
    (void)ctx.audit->Append(tenant, deny);
    if (ctx.metrics != nullptr) ctx.metrics->CountRefusal(tenant, who.tee, "release", err.code());
    return KbsError(kind, std::move(err));
  };
  // A tpm session whose AK a tenant registered (not a broker-global one) is that tenant's only:
  // another repository is refused, and so is this one once the registration is removed (checked
  // on every request, so a removal takes effect within the token's lifetime). The other tenant is
  // not named: this record goes to the log of the repository asked for.
  if (auto vouched = who.claims.GetString(kKbsTpmAkTenantClaim)) {
    if (*vouched != tenant) {
      return refuse(KbsKind::kPolicyDeny,
                    Error(Code::kPolicyDenied, "the TPM AK that signed this session's quote is registered for another "
                                               "tenant, not for repository '" + tenant + "'"));
    }
    const auto fp = who.claims.GetString(kKbsTpmAkClaim);
    auto aks = ctx.store->ListTpmAks(tenant);
    if (!aks) return refuse(KbsKind::kPluginInternalError, std::move(aks).error());
    bool registered = false;
    for (const TpmAkRow& r : *aks) registered = registered || (fp && r.id == *fp);
    if (!registered) {
      return refuse(KbsKind::kPolicyDeny,
                    Error(Code::kPolicyDenied, "the TPM AK that signed this session's quote is no longer registered "
                                               "for tenant '" + tenant + "'"));
    }
  }
  auto row = version == 0 ? ctx.store->LatestKeyVersion(tenant, type) : ctx.store->GetKeyVersion(tenant, type, version);
  if (!row) {
    if (row.error().code() == Code::kNotFound) {
      return refuse(KbsKind::kInvalidRequestPath, Error(Code::kNotFound, "no resource '" + resource + "'"));
    }
    return refuse(KbsKind::kPluginInternalError, std::move(row).error());
  }
  ev.version = row->version;
  // The version of the policy that decides is the one the release record (and so its receipt)
  // names.
  auto policy = ctx.policies->GetVersioned(*ctx.store, tenant);
  if (!policy) {
    return refuse(KbsKind::kPolicyDeny, policy.error().code() == Code::kNotFound
                                            ? Error(Code::kPolicyDenied, "tenant '" + tenant + "' has no policy")
                                            : policy.error());
  }
  auto refs_map = ctx.store->ListReferences(tenant);
  if (!refs_map) return refuse(KbsKind::kPluginInternalError, std::move(refs_map).error());
  policy::MapReferenceSets refs;
  for (const auto& [set, values] : *refs_map) {
    for (const auto& v : values) refs.Add(set, v);
  }
  const auto policy_start = BrokerMetrics::Now();
  policy::Decision d = policy::Evaluate(*policy->policy, who.claims, type, refs);
  if (ctx.metrics != nullptr) ctx.metrics->ObservePolicyEvaluation(policy_start);
  if (!d.allow) return refuse(KbsKind::kPolicyDeny, Error(Code::kPolicyDenied, d.reason), policy::Explain(d));
  auto gate = BuildReleaseGate({{type, &d}}, who.claims, who.token_id,
                               UnixSeconds(now + ctx.settings.token_ttl) * 1000);  // the EAR expires by then
  if (!gate) return refuse(KbsKind::kPolicyDeny, std::move(gate).error());
  if (row->state != "enabled") return refuse(KbsKind::kPolicyDeny, KeyUnusable(*row));
  auto purpose = CheckReleasePurpose(row->key_class, who.claims);
  if (!purpose) return refuse(KbsKind::kPolicyDeny, std::move(purpose).error());
  // A KBS resource is the key version's private half, which opens every artifact sealed to it,
  // signed or not: a key that pins model owners (broker/keys/key_pins.h) is never served here.
  auto pins = GetKeyPins(*ctx.store, *ctx.keys, tenant, type);
  if (!pins) return refuse(KbsKind::kPluginInternalError, std::move(pins).error());
  if (pins->requires_signature()) {
    return refuse(KbsKind::kPolicyDeny, Error(Code::kPolicyDenied, "provenance: key '" + type + "' pins model owners, "
                                                                   "so only signed artifacts are released (/v1/release), "
                                                                   "never the key itself"));
  }
  // The release record states what its receipt will (broker/audit/release_receipt.h), as a /v1
  // release's does. The artifact of a KBS release is the resolved resource path, "kbs:" then
  // repository/type/version (the version `latest` stood for): the KBS resource that names
  // exactly the bytes released, never a /v1 artifact id (64 hex digits). Checked before the key
  // is unwrapped, so a claim or name a receipt cannot carry refuses the release up front.
  const std::string artifact_id = KbsArtifactId(tenant, type, row->version);
  if (ev.measurement == receipt::kNoMeasurement ||
      !receipt::Text(receipt::Receipt{.tenant = tenant, .key = type, .version = row->version,
                                      .artifact_id = artifact_id, .tee = who.tee,
                                      .measurement = ev.measurement.empty() ? receipt::kNoMeasurement : ev.measurement,
                                      .evidence_digest = who.evidence_digest,
                                      .policy_version = policy->version, .request_id = "r", .seq = 1})
           .has_value()) {
    return refuse(KbsKind::kPolicyDeny,
                  Error(Code::kInvalidArgument, "the release cannot be stated in a release receipt (the workload's "
                                                "measurement claim, TEE or resource is not printable ASCII)"));
  }
  auto tee_key = jwe::ParseRecipientJwk(who.tee_pubkey, "tee-pubkey");
  if (!tee_key) return refuse(KbsKind::kJweError, std::move(tee_key).error());
  auto keys = ctx.keys->BeginRelease(tenant);
  if (!keys) return refuse(KbsKind::kPluginInternalError, std::move(keys).error());
  auto secret = keys->PrivateKey(*row);
  if (!secret) return refuse(KbsKind::kPolicyDeny, std::move(secret).error());
  auto jwe = jwe::Encrypt(*tee_key, secret->Reveal(SecretAccess::Get()));
  if (!jwe) return refuse(KbsKind::kJweError, std::move(jwe).error());
  // The audit record is durable before the response leaves (fail closed).
  AuditEvent ok = ev;
  ok.decision = "allow";
  ok.reason = "kbs: policy allowed; the private half of the key version wrapped to the TEE key (" +
              std::string(tee_key->kind == jwe::RecipientKey::Kind::kRsa ? "RSA-OAEP-256" : "ECDH-ES+A256KW") +
              ", A256GCM) (" + *purpose + ")";
  ok.detail = CanonicalJson(kbs_detail);
  ok.artifact_id = artifact_id;
  ok.policy_version = policy->version;
  const auto commit_start = BrokerMetrics::Now();
  // With the release's memory (broker/api/release_gate.h), as a /v1 release: the token is the
  // session's EAR, whether it came as the bearer or behind the cookie.
  std::optional<Error> refusal;
  auto written = ctx.audit->AppendRelease(tenant, std::move(*gate), {ok}, [&](const Error& why) {
    AuditEvent deny = ev;
    deny.decision = "deny";
    deny.reason = "kbs: " + AuditReason(why);
    deny.detail = CanonicalJson(kbs_detail);
    return deny;
  }, &refusal);
  if (!written) {
    return KbsError(KbsKind::kPluginInternalError,
                    Error(Code::kUnavailable, "release refused: the audit record could not be written (" +
                                                  written.error().message() + ")"));
  }
  if (refusal) {
    if (ctx.metrics != nullptr) ctx.metrics->CountRefusal(tenant, who.tee, "release", refusal->code());
    return KbsError(KbsKind::kPolicyDeny, std::move(*refusal));
  }
  const AuditRow* w = &written->front();
  // Signed only now that its record is committed, as for /v1: a receipt names a record that
  // exists. The JWE body has no room for it (the KBS protocol fixes its shape) and the route
  // table has no response header for it, so it is not sent: `sigil audit receipts` re-derives
  // this same receipt, byte for byte, from the record. Signing it here still refuses a release
  // whose record would yield no receipt, as /v1 does.
  if (auto signed_receipt = ctx.audit->SignReceipt(*w); !signed_receipt) {
    return KbsError(KbsKind::kPluginInternalError,
                    Error(Code::kInternal, "release refused: its receipt could not be signed (" +
                                               signed_receipt.error().message() + ")"));
  }
  if (ctx.metrics != nullptr) {
    ctx.metrics->ObserveAuditCommit("release", commit_start);
    ctx.metrics->CountReleases(tenant, who.tee, 1);
  }
  return *jwe;
}

}  // namespace sigil::broker
