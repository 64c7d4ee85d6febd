#include "loader/attested_load.h"

#include "attestation/dev/platform_key.h"
#include "core/hpke.h"
#include "core/protocol.h"
#include "enclave/dev_attester.h"
#include "loader/container_reader.h"
#include "loader/memfd_decrypt.h"
#include "net/broker_client.h"

namespace sigil::loader {

Result<std::string> MeasureEngineFd(int fd) {
  return enclave::MeasureEngine("/proc/self/fd/" + std::to_string(fd), "");
}

namespace {
Result<enclave::AttesterPtr> MakeAttester(const LoadOptions& o) {
  if (o.tee != "dev") {
    return Fail(Code::kInvalidArgument, "tee '" + o.tee + "' has no attester yet in sigil-load (supported: dev)");
  }
  if (o.dev_platform_key.empty()) return Fail(Code::kInvalidArgument, "--tee dev needs --dev-platform-key");
  SIGIL_ASSIGN_OR_RETURN(std::string measurement, MeasureEngineFd(o.engine_binary_fd));
  SIGIL_ASSIGN_OR_RETURN(Ed25519KeyPair kp, attestation::dev::LoadDevPlatformKey(o.dev_platform_key));
  return enclave::DevAttester::Create(std::move(kp.seed), measurement, o.debug);
}
}  // namespace

Result<ReleasedModel> AttestAndRelease(const LoadOptions& o) {
  SIGIL_ASSIGN_OR_RETURN(Container container, Container::Open(o.model));
  const ContainerHeader& h = container.header();
  SIGIL_ASSIGN_OR_RETURN(enclave::AttesterPtr attester, MakeAttester(o));
  // The ephemeral key lives only in this process's locked memory and dies with it.
  SIGIL_ASSIGN_OR_RETURN(hpke::KeyPair tee_key, hpke::GenerateKeyPair(hpke::Kem::kX25519HkdfSha256));
  SIGIL_ASSIGN_OR_RETURN(auto broker, net::BrokerClient::Connect(o.broker_url, o.ca_file));
  SIGIL_ASSIGN_OR_RETURN(Bytes nonce, broker->Challenge(o.tenant, o.tee));
  auto binding = protocol::Binding(nonce, tee_key.public_key);
  SIGIL_ASSIGN_OR_RETURN(Bytes evidence, attester->Evidence(binding));
  SIGIL_ASSIGN_OR_RETURN(std::string token, broker->Attest(o.tenant, o.tee, nonce, evidence, tee_key.public_key));
  net::ReleaseArtifact artifact{h.tenant + "/" + h.key_name, h.key_version, h.enc, h.sealed_dek};
  SIGIL_ASSIGN_OR_RETURN(auto released, broker->Release(token, tee_key.public_key, {artifact}));
  if (released.size() != 1) return Fail(Code::kInternal, "broker released an unexpected number of keys");
  std::string artifact_id = protocol::ArtifactId(h.enc, h.sealed_dek);
  if (released[0].artifact_id != artifact_id) return Fail(Code::kVerificationFailed, "broker released a key for another artifact");
  SIGIL_ASSIGN_OR_RETURN(SecretBytes dek, hpke::OpenSecret(hpke::kSigilSuite, released[0].enc, tee_key.private_key,
                                                           protocol::ReleaseInfo(h.tenant, h.key_name, h.key_version, artifact_id),
                                                           {}, released[0].sealed_dek));
  return ReleasedModel{std::move(container), std::move(dek)};
}

Result<LockedMemfd> AttestAndDecrypt(const LoadOptions& o) {
  SIGIL_ASSIGN_OR_RETURN(ReleasedModel m, AttestAndRelease(o));
  DecryptOptions d;
  d.threads = o.threads;
  d.require_lock = o.require_lock;
  return DecryptToMemfd(m.container, m.dek, d);
}

}  // namespace sigil::loader
