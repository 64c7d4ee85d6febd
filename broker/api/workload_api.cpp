#include "broker/api/workload_api.h"

#include <openssl/rand.h>

#include "broker/api/release_gate.h"
#include "broker/api/release_purpose.h"
#include "broker/audit/release_receipt.h"
#include "broker/audit/unauth_activity.h"
#include "broker/broker_metrics.h"
#include "broker/keys/key_pins.h"
#include "broker/keys/key_service.h"
#include "broker/keys/token.h"
#include "core/digest.h"
#include "core/encoding.h"
#include "core/hpke.h"
#include "core/jwk.h"
#include "core/ossl.h"
#include "core/protocol.h"
#include "policies/policy.h"

namespace sigil::broker {
namespace {

// Counts a refusal of an attest or release in the metrics (if collected) and returns it. Only
// for tenants known to exist and registered TEE types, so the labels stay bounded.
Error Counted(const BrokerContext& ctx, const std::string& tenant, const std::string& tee, std::string_view action,
              Error err) {
  if (ctx.metrics != nullptr) ctx.metrics->CountRefusal(tenant, tee, action, err.code());
  return err;
}

// Writes a refusal to the tenant's audit log and returns the refusal. If the log itself cannot be
// written, the refusal still stands (nothing is released either way).
Error Refuse(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant, AuditEvent ev, Error err) {
  err = Counted(ctx, tenant, ev.tee, ev.action, std::move(err));
  ev.request_id = meta.request_id;
  ev.client = meta.client;
  ev.decision = "deny";
  ev.reason = AuditReason(err);
  (void)ctx.audit->Append(tenant, ev);
  return err;
}

Result<Bytes> RandomBytes(std::size_t n) {
  Bytes b(n);
  if (RAND_bytes(b.data(), static_cast<int>(n)) != 1) return OpenSslError(Code::kInternal, "RAND_bytes");
  return b;
}

Result<std::string> Field(const Json& body, const char* name) { return GetString(body, name, "request"); }

Result<Bytes> DecodeField(const std::string& text, const char* where) {
  auto b = Base64UrlDecode(text);
  if (!b) return Fail(Code::kInvalidArgument, std::string(where) + ": " + b.error().message());
  return b;
}

}  // namespace

Result<Json> HandleChallenge(const BrokerContext& ctx, const RequestMeta& meta, const Json& body) {
  SIGIL_ASSIGN_OR_RETURN(std::string tenant, Field(body, "tenant"));
  SIGIL_ASSIGN_OR_RETURN(std::string tee, Field(body, "tee"));
  SIGIL_RETURN_IF_ERROR(ValidateName(tenant, "request.tenant"));
  SIGIL_RETURN_IF_ERROR(ctx.store->GetTenantKek(tenant));  // kNotFound for unknown tenants
  SIGIL_RETURN_IF_ERROR(ctx.verifiers->Find(tee));
  SIGIL_ASSIGN_OR_RETURN(Bytes nonce, RandomBytes(protocol::kNonceSize));
  const auto now = ctx.now();
  const auto expires = now + ctx.settings.nonce_ttl;
  auto put = ctx.store->PutNonce(nonce, tenant, tee, expires, now, ctx.settings.max_outstanding_nonces);
  // Anyone may ask for a challenge: counted in the tenant's per-interval summary, not one
  // permanent record each (broker/audit/unauth_activity.h). The summary must be writable, as any
  // audit record must, before the nonce is handed out.
  if (ctx.unauth) {
    SIGIL_RETURN_IF_ERROR(ctx.unauth->Record(tenant, "challenge", put ? "ok" : "refused", meta.client, now));
  }
  SIGIL_RETURN_IF_ERROR(put);
  return Json{{"nonce", Base64UrlEncode(nonce)}, {"expires_at", Rfc3339(expires)}};
}

Result<Json> HandleAttest(const BrokerContext& ctx, const RequestMeta& meta, const Json& body) {
  SIGIL_ASSIGN_OR_RETURN(std::string tenant, Field(body, "tenant"));
  SIGIL_ASSIGN_OR_RETURN(std::string tee, Field(body, "tee"));
  SIGIL_ASSIGN_OR_RETURN(std::string nonce_s, Field(body, "nonce"));
  SIGIL_ASSIGN_OR_RETURN(std::string evidence_s, Field(body, "evidence"));
  SIGIL_RETURN_IF_ERROR(ValidateName(tenant, "request.tenant"));
  if (!body.contains("tee_public_key")) return Fail(Code::kInvalidArgument, "request.tee_public_key: missing");
  SIGIL_ASSIGN_OR_RETURN(Bytes tee_pk, X25519PublicKeyFromJwk(body["tee_public_key"], "request.tee_public_key"));
  SIGIL_ASSIGN_OR_RETURN(Bytes nonce, DecodeField(nonce_s, "request.nonce"));
  if (nonce.size() != protocol::kNonceSize) return Fail(Code::kInvalidArgument, "request.nonce: expected 32 bytes");
  SIGIL_ASSIGN_OR_RETURN(Bytes evidence, DecodeField(evidence_s, "request.evidence"));
  Bytes collateral;
  if (body.contains("collateral") && body["collateral"].is_string()) {
    SIGIL_ASSIGN_OR_RETURN(collateral, DecodeField(body["collateral"].get<std::string>(), "request.collateral"));
  }
  SIGIL_RETURN_IF_ERROR(ctx.store->GetTenantKek(tenant));
  SIGIL_ASSIGN_OR_RETURN(const attestation::Verifier* verifier, ctx.verifiers->Find(tee));
  const std::string evidence_digest = HexEncode(Sha256(evidence));
  // The evidence is judged first; then the nonce is consumed and the outcome recorded in one
  // transaction, so a nonce is never used without its record, and of several brokers racing on
  // one nonce exactly one commits it (the others record a replay).
  auto binding = protocol::Binding(nonce, tee_pk);
  attestation::VerifyInput in{evidence, collateral, binding, ctx.now()};
  in.tenant = tenant;
  const auto verify_start = BrokerMetrics::Now();
  auto claims = verifier->Verify(in);
  if (ctx.metrics != nullptr) ctx.metrics->ObserveVerification(tee, verify_start);
  std::optional<Error> refusal;
  if (!claims) {
    refusal = claims.error().Wrap("evidence rejected");
  } else if (auto policy = ctx.store->GetPolicy(tenant); !policy) {
    refusal = Error(Code::kPolicyDenied, "tenant '" + tenant + "' has no policy, so no key can be released");
  }
  const auto now = ctx.now();
  TokenBody tb;
  std::string token;
  if (!refusal) {
    SIGIL_ASSIGN_OR_RETURN(Bytes jti, RandomBytes(16));
    tb = TokenBody{tenant, tee, HexEncode(jti), UnixSeconds(now), UnixSeconds(now + ctx.settings.token_ttl),
                   tee_pk, evidence_digest, *claims};
    SIGIL_ASSIGN_OR_RETURN(token, SignToken(tb, *ctx.token_signer));
    if (ctx.issued_tokens != nullptr) ctx.issued_tokens->Remember(token, tb.exp, tb.iat);
  }
  auto event_for = [&](const Error* nonce_error) {
    AuditEvent ev{meta.request_id, "anonymous", "attest", "", 0, "", "", evidence_digest, meta.client, tee, ""};
    const Error* why = nonce_error ? nonce_error : (refusal ? &*refusal : nullptr);
    if (why != nullptr) {
      ev.decision = "deny";
      ev.reason = AuditReason(*why);
      return ev;
    }
    ev.actor = "workload:" + HexEncode(Sha256(AsBytes(CanonicalJson(claims->ToJson())))).substr(0, 16);
    ev.decision = "allow";
    ev.reason = "evidence verified; token " + tb.jti + " issued";
    ev.detail = CanonicalJson(claims->ToJson());
    return ev;
  };
  std::optional<Error> nonce_error;
  const auto commit_start = BrokerMetrics::Now();
  auto recorded = ctx.audit->AppendUsingNonce(tenant, Store::NonceUse{nonce, tee, now}, event_for, &nonce_error);
  if (ctx.metrics != nullptr) ctx.metrics->ObserveAuditCommit("attest", commit_start);
  // A refusal stands even if its record could not be written (nothing is issued either way).
  if (recorded && nonce_error) return Counted(ctx, tenant, tee, "attest", *nonce_error);
  if (refusal) return Counted(ctx, tenant, tee, "attest", *refusal);
  if (!recorded) return Counted(ctx, tenant, tee, "attest", recorded.error());
  if (ctx.metrics != nullptr) ctx.metrics->CountAttestation(tenant, tee);
  return Json{{"token", token}, {"expires_at", Rfc3339(now + ctx.settings.token_ttl)}, {"claims", claims->ToJson()}};
}

namespace {

struct ArtifactRequest {
  std::string tenant, key;
  std::uint32_t version = 0;
  Bytes enc, sealed_dek;
  std::optional<ArtifactProvenance> provenance;  // the model owner's signature, if sent
  bool rewrap = false;  // also seal the DEK to the key's newest version (a rewrap workload)
};

Result<ArtifactRequest> ParseArtifact(const Json& a, std::size_t i) {
  std::string where = "request.artifacts[" + std::to_string(i) + "]";
  ArtifactRequest out;
  SIGIL_ASSIGN_OR_RETURN(std::string full, GetString(a, "key", where));
  auto slash = full.find('/');
  if (slash == std::string::npos) return Fail(Code::kInvalidArgument, where + ".key: expected 'tenant/name'");
  out.tenant = full.substr(0, slash);
  out.key = full.substr(slash + 1);
  // Validated before anything is stored, logged or audited: a key name is copied into the audit
  // record and into human-readable listings.
  SIGIL_RETURN_IF_ERROR(ValidateName(out.tenant, where + ".key (tenant part)"));
  SIGIL_RETURN_IF_ERROR(ValidateName(out.key, where + ".key (name part)"));
  SIGIL_ASSIGN_OR_RETURN(std::int64_t v, GetInt(a, "version", where));
  if (v < 1 || v > 0xffffffffLL) return Fail(Code::kInvalidArgument, where + ".version: out of range");
  out.version = static_cast<std::uint32_t>(v);
  SIGIL_ASSIGN_OR_RETURN(std::string enc, GetString(a, "enc", where));
  SIGIL_ASSIGN_OR_RETURN(std::string sd, GetString(a, "sealed_dek", where));
  auto e = Base64UrlDecode(enc);
  if (!e) return Fail(Code::kInvalidArgument, where + ".enc: " + e.error().message());
  auto s = Base64UrlDecode(sd);
  if (!s) return Fail(Code::kInvalidArgument, where + ".sealed_dek: " + s.error().message());
  out.enc = std::move(*e);
  out.sealed_dek = std::move(*s);
  SIGIL_ASSIGN_OR_RETURN(out.provenance, ParseArtifactProvenance(a, where));
  if (a.contains("rewrap")) {
    if (!a["rewrap"].is_boolean()) return Fail(Code::kInvalidArgument, where + ".rewrap: expected true or false");
    out.rewrap = a["rewrap"].get<bool>();
  }
  return out;
}

}  // namespace

Result<Json> HandleRelease(const BrokerContext& ctx, const RequestMeta& meta, const std::string& token, const Json& body) {
  if (token.empty()) return Fail(Code::kUnauthenticated, "missing attestation token");
  SIGIL_ASSIGN_OR_RETURN(TokenBody tok, VerifyToken(token, ctx.token_public_key, UnixSeconds(ctx.now()), ctx.issued_tokens));
  AuditEvent ev{"", "workload:" + HexEncode(Sha256(AsBytes(CanonicalJson(tok.claims.ToJson())))).substr(0, 16),
                "release", "", 0, "", "", tok.evidence_digest, "", tok.tee, "token " + tok.jti};
  if (!body.contains("tee_public_key")) return Fail(Code::kInvalidArgument, "request.tee_public_key: missing");
  // Must equal the token's key, which was fully checked (small order included) at attest before
  // the token was signed: checking it again would cost an X25519 operation per release.
  SIGIL_ASSIGN_OR_RETURN(Bytes tee_pk,
                         X25519PublicKeyFromJwkToCompare(body["tee_public_key"], "request.tee_public_key"));
  if (!ConstantTimeEqual(tee_pk, tok.tee_public_key)) {
    return Refuse(ctx, meta, tok.tenant, ev,
                  Error(Code::kPermissionDenied, "the token is bound to a different TEE public key"));
  }
  if (!body.contains("artifacts") || !body["artifacts"].is_array() || body["artifacts"].empty() ||
      body["artifacts"].size() > 1024) {
    return Fail(Code::kInvalidArgument, "request.artifacts: expected an array of 1 to 1024 artifacts");
  }
  std::vector<ArtifactRequest> arts;
  for (std::size_t i = 0; i < body["artifacts"].size(); ++i) {
    SIGIL_ASSIGN_OR_RETURN(ArtifactRequest a, ParseArtifact(body["artifacts"][i], i));
    arts.push_back(std::move(a));
  }
  // Decide for the whole batch before releasing anything: all or nothing.
  auto policy = ctx.policies->GetVersioned(*ctx.store, tok.tenant);
  if (!policy) {
    Error e = policy.error().code() == Code::kNotFound
                  ? Error(Code::kPolicyDenied, "tenant '" + tok.tenant + "' has no policy")
                  : policy.error();
    return Refuse(ctx, meta, tok.tenant, ev, e);
  }
  SIGIL_ASSIGN_OR_RETURN(auto refs_map, ctx.store->ListReferences(tok.tenant));
  policy::MapReferenceSets refs;
  for (const auto& [set, values] : refs_map) for (const auto& v : values) refs.Add(set, v);
  std::string purpose;  // the proven workload.mode, for the allow records
  std::vector<KeyVersionRow> rows;  // read once per artifact, for the purpose check and the reseal
  std::vector<policy::Decision> decisions;  // the allowing ones, for the release's memory
  decisions.reserve(arts.size());
  std::vector<std::string> signers;  // owner key id per artifact ("" if unsigned), for the records
  // Per artifact that asked for a rewrap: the key's newest version if it is newer than the
  // artifact's (nullopt: already current, nothing to reseal). Empty entries otherwise.
  std::vector<std::optional<KeyVersionRow>> rewrap_to;
  for (const auto& a : arts) {
    ev.key = a.key;
    ev.version = a.version;
    if (a.tenant != tok.tenant) {
      return Refuse(ctx, meta, tok.tenant, ev, Error(Code::kPermissionDenied,
                    "the token was issued to tenant '" + tok.tenant + "', not to '" + a.tenant + "'"));
    }
    const auto policy_start = BrokerMetrics::Now();
    policy::Decision d = policy::Evaluate(*policy->policy, tok.claims, a.key, refs);
    if (ctx.metrics != nullptr) ctx.metrics->ObservePolicyEvaluation(policy_start);
    if (!d.allow) {
      ev.detail = policy::Explain(d);
      return Refuse(ctx, meta, tok.tenant, ev, Error(Code::kPolicyDenied, d.reason));
    }
    // Key class vs the proven purpose, whatever the policy said (broker/api/release_purpose.h):
    // model weights only to a sealed in-memory load. Decided before any DEK is resealed.
    auto row = ctx.store->GetKeyVersion(a.tenant, a.key, a.version);
    if (!row) return Refuse(ctx, meta, tok.tenant, ev, std::move(row).error());
    auto fit = CheckReleasePurpose(row->key_class, tok.claims);
    if (!fit) return Refuse(ctx, meta, tok.tenant, ev, std::move(fit).error());
    purpose = std::move(*fit);
    if (auto rw = CheckRewrapRequest(tok.claims, a.rewrap); !rw) return Refuse(ctx, meta, tok.tenant, ev, rw.error());
    std::optional<KeyVersionRow> target;
    if (a.rewrap) {
      // The newest version: disable and enable act on every version of a key at once, so the
      // newest is the newest enabled one unless the whole key is unusable.
      auto latest = ctx.store->LatestKeyVersion(a.tenant, a.key);
      if (!latest) return Refuse(ctx, meta, tok.tenant, ev, std::move(latest).error());
      if (latest->state != "enabled") return Refuse(ctx, meta, tok.tenant, ev, KeyUnusable(*latest));
      if (latest->version > a.version) target = std::move(*latest);
    }
    rewrap_to.push_back(std::move(target));
    // Who made the model (broker/keys/key_pins.h): a key that pins owners releases only what
    // one of them signed; any signature sent is verified either way.
    auto pins = GetKeyPins(*ctx.store, *ctx.keys, a.tenant, a.key);
    if (!pins) return Refuse(ctx, meta, tok.tenant, ev, std::move(pins).error());
    auto signer = CheckProvenance(*pins, protocol::ArtifactId(a.enc, a.sealed_dek), a.provenance);
    if (!signer) return Refuse(ctx, meta, tok.tenant, ev, std::move(signer).error());
    signers.push_back(std::move(*signer));
    rows.push_back(std::move(*row));
    decisions.push_back(std::move(d));
  }
  // What the release counts against and whether it spends the token (broker/api/release_gate.h),
  // enforced by the store when the records are committed.
  std::vector<AllowedArtifact> allowed;
  for (std::size_t i = 0; i < arts.size(); ++i) allowed.push_back({arts[i].key, &decisions[i]});
  auto gate = BuildReleaseGate(allowed, tok.claims, tok.jti, tok.exp * 1000);
  if (!gate) return Refuse(ctx, meta, tok.tenant, ev, std::move(gate).error());
  // Each release record states what its receipt will (broker/audit/release_receipt.h): checked
  // before any DEK is resealed, so a claim a receipt cannot carry refuses the release up front.
  const std::string measurement = tok.claims.GetString("measurement").value_or("");
  if (measurement == receipt::kNoMeasurement ||
      (!measurement.empty() && !receipt::Text(receipt::Receipt{.tenant = "t", .key = "k", .version = 1, .artifact_id = "a",
                                                               .tee = "t", .measurement = measurement,
                                                               .evidence_digest = "e", .request_id = "r", .seq = 1})
                                    .has_value())) {
    return Refuse(ctx, meta, tok.tenant, ev, Error(Code::kInvalidArgument,
                  "the workload's measurement claim cannot be stated in a release receipt (not printable ASCII)"));
  }
  // The tenant's KEK is unwrapped once for the whole batch (broker/keys/key_service.h).
  auto keys = ctx.keys->BeginRelease(tok.tenant);
  if (!keys) return Refuse(ctx, meta, tok.tenant, ev, std::move(keys).error());
  Json released = Json::array();
  std::vector<std::string> artifact_ids;
  for (std::size_t i = 0; i < arts.size(); ++i) {
    const ArtifactRequest& a = arts[i];
    ev.key = a.key;
    ev.version = a.version;
    const KeyVersionRow* target = rewrap_to[i] ? &*rewrap_to[i] : nullptr;
    auto r = keys->Reseal(rows[i], SealedArtifact{a.key, a.version, a.enc, a.sealed_dek}, tee_pk, target);
    if (!r) return Refuse(ctx, meta, tok.tenant, ev, std::move(r).error());
    artifact_ids.push_back(r->artifact_id);
    Json out{{"key", a.tenant + "/" + a.key}, {"version", a.version}, {"artifact_id", r->artifact_id},
             {"enc", Base64UrlEncode(r->enc)}, {"sealed_dek", Base64UrlEncode(r->sealed_dek)}};
    if (r->rewrap) {
      out["rewrap"] = Json{{"version", r->rewrap->version}, {"enc", Base64UrlEncode(r->rewrap->enc)},
                           {"sealed_dek", Base64UrlEncode(r->rewrap->sealed_dek)}};
    } else if (a.rewrap) {
      out["rewrap"] = Json{{"version", a.version}};  // already the newest version: no new header
    }
    released.push_back(std::move(out));
  }
  // Durable audit records first; the response (and so the keys) only after they are committed,
  // all in one transaction with the release's memory: a limit reached or a token spent by now
  // (by this broker or another sharing the store) refuses the whole batch, with its record.
  const auto commit_start = BrokerMetrics::Now();
  std::vector<AuditEvent> oks;
  for (std::size_t i = 0; i < arts.size(); ++i) {
    const ArtifactRequest& a = arts[i];
    AuditEvent ok = ev;
    ok.request_id = meta.request_id;
    ok.client = meta.client;
    ok.key = a.key;
    ok.version = a.version;
    ok.decision = "allow";
    ok.reason = "policy allowed; " +
                (signers[i].empty() ? std::string("artifact unsigned") : "artifact signed by owner key " + signers[i]) +
                "; DEK sealed to the attested TEE key (" + purpose + ")";
    if (rewrap_to[i]) {
      ok.reason += "; rewrap to version " + std::to_string(rewrap_to[i]->version) + " (DEK also sealed to it)";
    } else if (a.rewrap) {
      ok.reason += "; rewrap: version " + std::to_string(a.version) + " is already the newest, nothing resealed";
    }
    ok.artifact_id = artifact_ids[i];
    ok.measurement = measurement;
    ok.policy_version = policy->version;
    ok.signer = signers[i];
    oks.push_back(std::move(ok));
  }
  auto refused_event = [&](const Error& why) {
    AuditEvent no = ev;
    no.request_id = meta.request_id;
    no.client = meta.client;
    no.decision = "deny";
    no.reason = AuditReason(why);
    return no;
  };
  std::optional<Error> refusal;
  auto written = ctx.audit->AppendRelease(tok.tenant, std::move(*gate), oks, refused_event, &refusal);
  if (!written) {
    return Counted(ctx, tok.tenant, tok.tee, "release",
                   Error(Code::kUnavailable, "release refused: the audit record could not be written (" +
                                                 written.error().message() + ")"));
  }
  if (refusal) return Counted(ctx, tok.tenant, tok.tee, "release", std::move(*refusal));
  for (std::size_t i = 0; i < arts.size(); ++i) {
    // Signed only now that its record is committed: a receipt names a record that exists.
    auto signed_receipt = ctx.audit->SignReceipt((*written)[i]);
    if (!signed_receipt) {
      return Counted(ctx, tok.tenant, tok.tee, "release",
                     Error(Code::kInternal, "release refused: its receipt could not be signed (" +
                                                signed_receipt.error().message() + ")"));
    }
    released[i]["receipt"] = std::move(*signed_receipt);
  }
  if (ctx.metrics != nullptr) {
    ctx.metrics->ObserveAuditCommit("release", commit_start);
    ctx.metrics->CountReleases(tok.tenant, tok.tee, arts.size());
  }
  return Json{{"artifacts", released}};
}

}  // namespace sigil::broker
