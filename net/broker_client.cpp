#include "net/broker_client.h"

#include <chrono>
#include <thread>

#include "core/encoding.h"
#include "core/jwk.h"

namespace sigil::net {

Error BrokerError(int status, const std::string& body) {
  auto j = ParseJson(body, "broker response");
  if (j && j->contains("error") && (*j)["error"].is_object()) {
    const Json& e = (*j)["error"];
    std::string name = e.value("code", "internal");
    Code code = Code::kInternal;
    for (int c = 0; c <= static_cast<int>(Code::kInternal); ++c) {
      if (CodeName(static_cast<Code>(c)) == name) code = static_cast<Code>(c);
    }
    return Error(code, e.value("message", "error") + " [" + name + ", HTTP " + std::to_string(status) + "]");
  }
  return Error(Code::kInternal, "broker answered HTTP " + std::to_string(status));
}

Result<std::unique_ptr<BrokerClient>> BrokerClient::Connect(const std::string& url, const std::string& ca_file) {
  SIGIL_ASSIGN_OR_RETURN(auto c, HttpsClient::Create(url, ClientTlsConfig{ca_file, std::nullopt, std::nullopt}));
  return std::unique_ptr<BrokerClient>(new BrokerClient(std::move(c)));
}

Result<Json> BrokerClient::Post(const std::string& path, const std::string& body, const std::string& bearer) {
  SIGIL_ASSIGN_OR_RETURN(HttpResponse r, http_->Send("POST", path, body, bearer));
  // Rate limited (429): the broker refused before doing anything, so the same request may be
  // sent again; wait what Retry-After asks, a few times, as long as the wait stays short.
  for (int attempt = 0; r.status == 429 && attempt < 3 && r.retry_after_seconds >= 1 && r.retry_after_seconds <= 10;
       ++attempt) {
    std::this_thread::sleep_for(std::chrono::seconds(r.retry_after_seconds));
    SIGIL_ASSIGN_OR_RETURN(r, http_->Send("POST", path, body, bearer));
  }
  if (r.status < 200 || r.status >= 300) return BrokerError(r.status, r.body);
  return ParseJson(r.body, "broker response");
}

Result<Bytes> BrokerClient::Challenge(const std::string& tenant, const std::string& tee) {
  SIGIL_ASSIGN_OR_RETURN(Json j, Post("/v1/challenge", Json{{"tenant", tenant}, {"tee", tee}}.dump()));
  SIGIL_ASSIGN_OR_RETURN(std::string nonce, GetString(j, "nonce", "challenge response"));
  return Base64UrlDecode(nonce);
}

Result<std::string> BrokerClient::Attest(const std::string& tenant, const std::string& tee, ByteSpan nonce,
                                         ByteSpan evidence, ByteSpan tee_public_key) {
  Json req{{"tenant", tenant}, {"tee", tee}, {"nonce", Base64UrlEncode(nonce)}, {"evidence", Base64UrlEncode(evidence)},
           {"tee_public_key", X25519PublicKeyToJwk(tee_public_key)}};
  SIGIL_ASSIGN_OR_RETURN(Json j, Post("/v1/attest", req.dump()));
  return GetString(j, "token", "attest response");
}

Result<std::vector<ReleasedKey>> BrokerClient::Release(const std::string& token, ByteSpan tee_public_key,
                                                       const std::vector<ReleaseArtifact>& artifacts) {
  Json arts = Json::array();
  for (const auto& a : artifacts) {
    Json art{{"key", a.key}, {"version", a.version}, {"enc", Base64UrlEncode(a.enc)},
             {"sealed_dek", Base64UrlEncode(a.sealed_dek)}};
    if (!a.owner_signature.empty()) {
      art["signature"] = Json{{"alg", "Ed25519"}, {"public_key", Base64UrlEncode(a.owner_public_key)},
                              {"content_digest", Base64UrlEncode(a.content_digest)},
                              {"signature", Base64UrlEncode(a.owner_signature)}};
    }
    if (a.rewrap) art["rewrap"] = true;
    arts.push_back(std::move(art));
  }
  // The token goes in the body, not in `Authorization: Bearer`: a composite attestation's token
  // carries every GPU's measurements (~11 KB per H100), over the header limits of sigild and of
  // the proxies in front of a fleet, while a body may be 1 MiB (docs/protocol.md /v1/release).
  Json req{{"token", token}, {"tee_public_key", X25519PublicKeyToJwk(tee_public_key)}, {"artifacts", arts}};
  SIGIL_ASSIGN_OR_RETURN(Json j, Post("/v1/release", req.dump()));
  std::vector<ReleasedKey> out;
  if (!j.contains("artifacts") || !j["artifacts"].is_array()) return Fail(Code::kInternal, "release response has no artifacts");
  for (const auto& a : j["artifacts"]) {
    ReleasedKey k;
    SIGIL_ASSIGN_OR_RETURN(k.key, GetString(a, "key", "release"));
    SIGIL_ASSIGN_OR_RETURN(std::int64_t v, GetInt(a, "version", "release"));
    k.version = static_cast<std::uint32_t>(v);
    SIGIL_ASSIGN_OR_RETURN(k.artifact_id, GetString(a, "artifact_id", "release"));
    SIGIL_ASSIGN_OR_RETURN(std::string enc, GetString(a, "enc", "release"));
    SIGIL_ASSIGN_OR_RETURN(std::string sd, GetString(a, "sealed_dek", "release"));
    SIGIL_ASSIGN_OR_RETURN(k.enc, Base64UrlDecode(enc));
    SIGIL_ASSIGN_OR_RETURN(k.sealed_dek, Base64UrlDecode(sd));
    if (a.contains("rewrap")) {
      const Json& r = a["rewrap"];
      HeaderReseal h;
      SIGIL_ASSIGN_OR_RETURN(std::int64_t rv, GetInt(r, "version", "release.rewrap"));
      if (rv < 1 || rv > 0xffffffffLL) return Fail(Code::kInternal, "release.rewrap.version: out of range");
      h.version = static_cast<std::uint32_t>(rv);
      if (r.contains("enc") || r.contains("sealed_dek")) {
        SIGIL_ASSIGN_OR_RETURN(std::string renc, GetString(r, "enc", "release.rewrap"));
        SIGIL_ASSIGN_OR_RETURN(std::string rsd, GetString(r, "sealed_dek", "release.rewrap"));
        SIGIL_ASSIGN_OR_RETURN(h.enc, Base64UrlDecode(renc));
        SIGIL_ASSIGN_OR_RETURN(h.sealed_dek, Base64UrlDecode(rsd));
      }
      k.rewrap = std::move(h);
    }
    out.push_back(std::move(k));
  }
  return out;
}

}  // namespace sigil::net
