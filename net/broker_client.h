// The workload's side of protocol v1 (docs/protocol.md): challenge, attest, release. Used by
// sigil-load and by the integration tests. Errors from the broker come back with the broker's
// code and message.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/json.h"
#include "core/result.h"
#include "net/https_client.h"

namespace sigil::net {

struct ReleaseArtifact {
  std::string key;  // "tenant/name"
  std::uint32_t version = 0;
  Bytes enc, sealed_dek;
  // The model owner's signature (loader/FORMAT.md "Signature trailer"); all empty if unsigned.
  // Sent as the artifact's "signature" member (docs/protocol.md).
  Bytes owner_public_key, content_digest, owner_signature;
  // Ask for the DEK also sealed to the key's newest version (sigil-load rewrap; only a workload
  // proving workload.mode "rewrap" may). Sent as "rewrap": true.
  bool rewrap = false;
};

// A rewrap's new header material (docs/protocol.md "POST /v1/release"): the DEK sealed to key
// `version` with protocol::DekSealInfo. enc and sealed_dek are empty when the artifact's version
// already was the newest.
struct HeaderReseal {
  std::uint32_t version = 0;
  Bytes enc, sealed_dek;
};

struct ReleasedKey {
  std::string key;
  std::uint32_t version = 0;
  std::string artifact_id;
  Bytes enc, sealed_dek;  // sealed to the TEE key with protocol::ReleaseInfo
  std::optional<HeaderReseal> rewrap;  // present iff the artifact asked for a rewrap
};

class BrokerClient {
 public:
  static Result<std::unique_ptr<BrokerClient>> Connect(const std::string& url, const std::string& ca_file);
  Result<Bytes> Challenge(const std::string& tenant, const std::string& tee);
  // Returns the attestation token.
  Result<std::string> Attest(const std::string& tenant, const std::string& tee, ByteSpan nonce, ByteSpan evidence,
                             ByteSpan tee_public_key);
  Result<std::vector<ReleasedKey>> Release(const std::string& token, ByteSpan tee_public_key,
                                           const std::vector<ReleaseArtifact>& artifacts);
  // Raw call for tests: POST `path` with `body`; returns the parsed JSON or the broker's error.
  Result<Json> Post(const std::string& path, const std::string& body, const std::string& bearer = "");

 private:
  explicit BrokerClient(std::unique_ptr<HttpsClient> c) : http_(std::move(c)) {}
  std::unique_ptr<HttpsClient> http_;
};

// Parses a broker error body into an Error with the broker's code (kInternal if unknown).
Error BrokerError(int status, const std::string& body);

}  // namespace sigil::net
