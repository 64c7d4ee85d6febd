#include "loader/attested_load.h"

#include "loader/attester_factory.h"

#include <algorithm>

#include "core/digest.h"
#include "core/encoding.h"
#include "core/hpke.h"
#include "core/protocol.h"
#include "enclave/measurement.h"
#include "loader/container_reader.h"
#include "loader/memfd_decrypt.h"
#include "net/broker_client.h"

namespace sigil::loader {

Result<std::string> MeasureEngineFd(int fd, const std::string& sandbox_config) {
  return enclave::MeasureEngine("/proc/self/fd/" + std::to_string(fd), sandbox_config);
}

Result<attestation::WorkloadPurpose> LoadPurpose(const LoadOptions& o) {
  if (o.mode != attestation::kModeSealedMemory && o.mode != attestation::kModeStream &&
      o.mode != attestation::kModeRewrap) {
    return Fail(Code::kInvalidArgument, "load mode must be 'sealed-memory', 'stream' or 'rewrap', not '" + o.mode + "'");
  }
  SIGIL_ASSIGN_OR_RETURN(std::string engine, MeasureEngineFd(o.engine_binary_fd, o.sandbox_config));
  attestation::WorkloadPurpose p{o.mode, std::move(engine), HexEncode(Sha256(AsBytes(o.sandbox_config)))};
  SIGIL_RETURN_IF_ERROR(attestation::ValidatePurpose(p));
  return p;
}

namespace {

// Checked before anything is attested or released: a modified signed container, an unsigned one
// or one from an owner outside --trust-owner never reaches the broker, let alone the engine.
Result<void> CheckProvenance(const LoadOptions& o, const Container& c, net::ReleaseArtifact& a) {
  if (!c.signature()) {
    if (o.trusted_owners.empty()) return Ok();
    return Fail(Code::kVerificationFailed, c.path() + ": not signed by a model owner, and --trust-owner requires it");
  }
  SIGIL_ASSIGN_OR_RETURN(ArtifactSignature sig, VerifyContainerSignature(c));
  if (!o.trusted_owners.empty() &&
      std::none_of(o.trusted_owners.begin(), o.trusted_owners.end(),
                   [&](const Bytes& k) { return ConstantTimeEqual(k, sig.public_key); })) {
    return Fail(Code::kVerificationFailed, c.path() + ": signed by owner key " + sig.signer_id() +
                                               ", which is not one of the --trust-owner keys");
  }
  a.owner_public_key = sig.public_key;
  a.content_digest.assign(sig.content_digest.begin(), sig.content_digest.end());
  a.owner_signature = sig.signature;
  return Ok();
}

// What a rewrap may write, checked as far as the loader can: the broker's reseal names the same
// key, a version not older than the container's, and header-sized fields (or none, if current).
Result<net::HeaderReseal> CheckedReseal(const ContainerHeader& h, const net::ReleasedKey& k) {
  if (!k.rewrap) return Fail(Code::kInternal, "the broker answered a rewrap release without the resealed DEK");
  const net::HeaderReseal& r = *k.rewrap;
  const bool current = r.version == h.key_version && r.enc.empty() && r.sealed_dek.empty();
  const bool newer = r.version > h.key_version && r.enc.size() == kEncSize && r.sealed_dek.size() == kSealedDekSize;
  if (k.key != h.tenant + "/" + h.key_name || (!current && !newer)) {
    return Fail(Code::kInternal, "the broker's rewrap answer does not fit the container (key " + k.key + ", version " +
                                     std::to_string(r.version) + ")");
  }
  return r;
}

// One attestation and one batch release; with `reseals` (rewrap mode), also each artifact's
// reseal to the key's newest version, in the same order.
Result<std::vector<SecretBytes>> ReleaseAll(const LoadOptions& o, const std::vector<const Container*>& containers,
                                            std::vector<net::HeaderReseal>* reseals) {
  if (containers.empty()) return Fail(Code::kInvalidArgument, "nothing to release");
  std::vector<net::ReleaseArtifact> artifacts;
  for (const Container* c : containers) {
    const ContainerHeader& h = c->header();
    net::ReleaseArtifact a{h.tenant + "/" + h.key_name, h.key_version, h.enc, h.sealed_dek, {}, {}, {}, false};
    a.rewrap = reseals != nullptr;
    SIGIL_RETURN_IF_ERROR(CheckProvenance(o, *c, a));
    artifacts.push_back(std::move(a));
  }
  SIGIL_ASSIGN_OR_RETURN(enclave::AttesterPtr attester, MakeAttester(o));
  // The ephemeral key lives only in this process's locked memory and dies with it.
  SIGIL_ASSIGN_OR_RETURN(hpke::KeyPair tee_key, hpke::GenerateKeyPair(hpke::Kem::kX25519HkdfSha256));
  SIGIL_ASSIGN_OR_RETURN(auto broker, net::BrokerClient::Connect(o.broker_url, o.ca_file));
  SIGIL_ASSIGN_OR_RETURN(Bytes nonce, broker->Challenge(o.tenant, o.tee));
  auto binding = protocol::Binding(nonce, tee_key.public_key);
  SIGIL_ASSIGN_OR_RETURN(Bytes evidence, attester->Evidence(binding));
  SIGIL_ASSIGN_OR_RETURN(std::string token, broker->Attest(o.tenant, o.tee, nonce, evidence, tee_key.public_key));
  SIGIL_ASSIGN_OR_RETURN(auto released, broker->Release(token, tee_key.public_key, artifacts));
  if (released.size() != containers.size()) return Fail(Code::kInternal, "broker released an unexpected number of keys");
  std::vector<SecretBytes> deks;
  for (std::size_t i = 0; i < containers.size(); ++i) {
    const ContainerHeader& h = containers[i]->header();
    std::string artifact_id = protocol::ArtifactId(h.enc, h.sealed_dek);
    if (released[i].artifact_id != artifact_id) {
      return Fail(Code::kVerificationFailed, "broker released a key for another artifact than " + containers[i]->path());
    }
    SIGIL_ASSIGN_OR_RETURN(SecretBytes dek,
                           hpke::OpenSecret(hpke::kSigilSuite, released[i].enc, tee_key.private_key,
                                            protocol::ReleaseInfo(h.tenant, h.key_name, h.key_version, artifact_id), {},
                                            released[i].sealed_dek));
    deks.push_back(std::move(dek));
    if (reseals != nullptr) {
      SIGIL_ASSIGN_OR_RETURN(net::HeaderReseal r, CheckedReseal(h, released[i]));
      reseals->push_back(std::move(r));
    }
  }
  return deks;
}

}  // namespace

Result<std::vector<SecretBytes>> AttestAndReleaseAll(const LoadOptions& o,
                                                     const std::vector<const Container*>& containers) {
  if (o.mode == attestation::kModeRewrap) {
    return Fail(Code::kInvalidArgument, "a rewrap releases through AttestAndReleaseForRewrap");
  }
  return ReleaseAll(o, containers, nullptr);
}

Result<RewrapRelease> AttestAndReleaseForRewrap(const LoadOptions& o, Container container) {
  if (o.mode != attestation::kModeRewrap) return Fail(Code::kInvalidArgument, "a rewrap attests in mode 'rewrap'");
  std::vector<net::HeaderReseal> reseals;
  SIGIL_ASSIGN_OR_RETURN(std::vector<SecretBytes> deks, ReleaseAll(o, {&container}, &reseals));
  return RewrapRelease{std::move(container), std::move(deks[0]), std::move(reseals[0])};
}

Result<ReleasedModel> AttestAndRelease(const LoadOptions& o) {
  SIGIL_ASSIGN_OR_RETURN(Container container, Container::Open(o.model));
  SIGIL_ASSIGN_OR_RETURN(std::vector<SecretBytes> deks, AttestAndReleaseAll(o, {&container}));
  return ReleasedModel{std::move(container), std::move(deks[0])};
}

Result<LockedMemfd> AttestAndDecrypt(const LoadOptions& o) {
  SIGIL_ASSIGN_OR_RETURN(ReleasedModel m, AttestAndRelease(o));
  DecryptOptions d;
  d.threads = o.threads;
  d.require_lock = o.require_lock;
  d.verify_digest = o.verify_digest;
  d.progress = o.progress;
  return DecryptToMemfd(m.container, m.dek, d);
}

}  // namespace sigil::loader
