#include "broker/data_dir.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>

#include <openssl/crypto.h>

#include "attestation/dev/platform_key.h"
#include "attestation/dev/verifier.h"
#include "attestation/tee_catalog.h"
#include "broker/broker_metrics.h"
#include "broker/collateral/collateral_cache.h"
#include "broker/http/principal.h"
#include "broker/keys/certs.h"
#include "broker/keys/erasure_chain.h"
#include "broker/keys/key_service.h"
#include "broker/keys/key_wrap.h"
#include "broker/store/store_auth.h"
#include "broker/store/store_open.h"
#include "core/ed25519.h"
#include "core/encoding.h"
#include "core/file_io.h"
#include "core/log.h"

namespace sigil::broker {

Result<void> WriteAdminBrokerUrl(const DataDir& d, const std::string& listen) {
  std::string host = listen.substr(0, listen.rfind(':'));
  if (host == "0.0.0.0" || host == "[::]") host = "127.0.0.1";
  Json broker{{"url", "https://" + host + listen.substr(listen.rfind(':'))}};
  return WriteFileAtomic(d.admin("broker.json"), AsBytes(broker.dump(2) + "\n"), 0644);
}

namespace {

// The first operator certificate's lifetime: admin certificates are short-lived and renewed with
// `sigil admin renew-cert` (docs/cli.md).
constexpr long kInitOperatorCertSeconds = 30L * 86400;

Result<void> MakeDir(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) {
    return Fail(Code::kUnavailable, "cannot create " + path + ": " + std::strerror(errno));
  }
  return Ok();
}

// Generates an Ed25519 key, stores its seed wrapped by the root key and its public half in meta.
Result<Bytes> CreateBrokerSigningKey(Store& store, const SecretBytes& root, const std::string& name) {
  SIGIL_ASSIGN_OR_RETURN(Ed25519KeyPair kp, Ed25519Generate());
  SIGIL_ASSIGN_OR_RETURN(Bytes wrapped, WrapKey(root, kp.seed, BrokerKeyIdentity(name)));
  SIGIL_RETURN_IF_ERROR(store.PutMeta(name + ".wrapped", wrapped));
  SIGIL_RETURN_IF_ERROR(store.PutMeta(name + ".public", kp.public_key));
  return kp.public_key;
}

// Every regular file in `dir` (certificates, PEM or DER); empty if the directory is absent.
Result<std::vector<Bytes>> ReadTrustDir(const std::string& dir) {
  std::vector<Bytes> out;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return out;
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.is_regular_file()) names.push_back(e.path().string());
  }
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    SIGIL_ASSIGN_OR_RETURN(Bytes b, ReadFile(n, 1 << 20));
    out.push_back(std::move(b));
  }
  return out;
}

// Hardware verifiers are enabled by the operator placing trust anchors in the data directory,
// trust/<dir>/ per TEE as attestation/tee_catalog.cpp lists them: trust/sev-snp/ (AMD ARK
// certificates or KDS cert_chain files), trust/intel/ (the Intel SGX Root CA), trust/tpm-aks/
// (TPM attestation keys for every tenant, PEM/DER SPKI), trust/nvidia-gpu/ (NVIDIA roots for the
// GPUs of composite evidence: attestation/composite). Collateral (VCEK, PCK
// CRLs, TCB info, QE identity) comes with an attest request or, when the request has none, from
// the collateral store (collateral/, written by `sigil collateral import`; broker/collateral/collateral_cache.h
// re-reads it when files change and warns "collateral_warn_days" (sigild.json, default 30) before
// anything expires). Returns that cache (for the collateral expiry metric).
Result<std::shared_ptr<CollateralCache>> AddHardwareVerifiers(const DataDir& d, Store& store,
                                                               attestation::Registry& registry) {
  CollateralCacheOptions cache_options{d.Path(""), std::chrono::hours(24 * 30)};
  cache_options.data_dir.pop_back();  // Path("") ends in '/'
  if (auto text = ReadTextFile(d.config()); text) {
    auto cfg = ParseJson(*text, d.config());
    if (cfg && cfg->contains("collateral_warn_days")) {
      SIGIL_ASSIGN_OR_RETURN(std::int64_t days, GetInt(*cfg, "collateral_warn_days", d.config()));
      cache_options.warn_window = std::chrono::hours(24 * days);
    }
  }
  auto collateral = std::make_shared<CollateralCache>(std::move(cache_options));
  // Every TEE of the catalog (attestation/tee_catalog.h) whose trust directory has anchors; the
  // TPM also without them, since tenants register their own AKs in the store (`sigil tpm
  // register-ak`), where the replay state per AK is kept too, so a restart does not forget it.
  std::map<std::string_view, std::vector<Bytes>> anchors_by_dir;
  for (const auto& kind : attestation::TeeKinds()) {
    if (kind.trust_dir.empty() || anchors_by_dir.contains(kind.trust_dir)) continue;
    SIGIL_ASSIGN_OR_RETURN(anchors_by_dir[kind.trust_dir], ReadTrustDir(d.Path("trust/" + std::string(kind.trust_dir))));
  }
  // trust/nvidia-gpu/: NVIDIA Device Identity CA roots for the GPUs of composite evidence.
  SIGIL_ASSIGN_OR_RETURN(const std::vector<Bytes> gpu_anchors,
                         ReadTrustDir(d.Path("trust/" + std::string(attestation::kGpuTrustDir))));
  for (const auto& kind : attestation::TeeKinds()) {
    if (kind.trust_dir.empty()) continue;  // offline only (tee_catalog.h)
    const std::vector<Bytes>& anchors = anchors_by_dir[kind.trust_dir];
    if (anchors.empty() && !kind.enabled_without_anchors) continue;
    attestation::VerifierSetup setup;
    setup.trust_anchors = anchors;
    setup.snp_cert_source = CollateralCache::SnpSource(collateral);
    setup.dcap_collateral_source = CollateralCache::DcapSource(collateral);
    setup.tpm_tenant_aks = [&store](std::string_view tenant) -> Result<std::vector<attestation::tpm::RegisteredAk>> {
      SIGIL_ASSIGN_OR_RETURN(std::vector<TpmAkRow> rows, store.ListTpmAks(std::string(tenant)));
      std::vector<attestation::tpm::RegisteredAk> out;
      for (auto& r : rows) out.push_back({std::move(r.spki), std::move(r.tpm_name)});
      return out;
    };
    setup.tpm_replay_check = [&store](const std::string& ak, const attestation::tpm::ClockState& c) {
      return store.AdvanceTpmClock(ak, TpmClockRow{c.reset_count, c.restart_count, c.clock});
    };
    setup.gpu_trust_anchors = gpu_anchors;
    // Wrapped as the catalog says: purpose-bound report data (purpose_bound.h) and composite
    // CPU + GPU bundles (attestation/composite), the same verifier `sigil attest verify` builds.
    auto v = attestation::BuildVerifier(kind, std::move(setup));
    if (!v) return std::move(v).error().Wrap("trust/" + std::string(kind.trust_dir) + " (" + std::string(kind.tee) + ")");
    registry.Add(std::move(*v));
  }
  return collateral;
}

Result<SecretBytes> LoadBrokerSigningKey(Store& store, const SecretBytes& root, const std::string& name) {
  SIGIL_ASSIGN_OR_RETURN(Bytes wrapped, store.GetMeta(name + ".wrapped"));
  return UnwrapKey(root, wrapped, BrokerKeyIdentity(name));
}

// The public half of a broker signing key, derived from its seed (authenticated by the root
// key's AEAD), never taken from the store: whoever can write the store could otherwise put in a
// token key of their own and sign tokens that satisfy any policy. The stored copy (kept for
// readers of the store) must agree; if it does not, the store was edited and the broker refuses.
Result<Bytes> DerivePublicKey(Store& store, const SecretBytes& seed, const std::string& name, const std::string& path) {
  SIGIL_ASSIGN_OR_RETURN(Ed25519KeyPair kp, Ed25519FromSeed(seed.Reveal(SecretAccess::Get())));
  auto stored = store.GetMeta(name + ".public");
  if (!stored && stored.error().code() != Code::kNotFound) return std::move(stored).error();
  if (stored && *stored != kp.public_key) {
    return Fail(Code::kVerificationFailed,
                "ALARM: the store " + path + " holds a " + name + ".public that is not the public half of its " + name +
                    " (derived from the wrapped seed): someone with write access to the store replaced it, e.g. to "
                    "accept tokens they sign. Refusing to start; restore the store from a backup and find out who "
                    "wrote to it");
  }
  return kp.public_key;
}

// TPM mode: `root` sealed to the TPM, plus the opt-in passphrase-wrapped recovery copy.
Result<void> SealExistingTpmRootKey(const DataDir& d, const InitOptions& o, const SecretBytes& root) {
  std::unique_ptr<SecretBytes> password, recovery;
  if (!o.seal_password_file.empty()) {
    SIGIL_ASSIGN_OR_RETURN(SecretBytes p, ReadSecretLine(o.seal_password_file));
    password = std::make_unique<SecretBytes>(std::move(p));
  }
  if (!o.recovery_passphrase_file.empty()) {
    SIGIL_ASSIGN_OR_RETURN(SecretBytes p, ReadSecretLine(o.recovery_passphrase_file));
    recovery = std::make_unique<SecretBytes>(std::move(p));
  }
  SIGIL_RETURN_IF_ERROR(WriteTpmRootKey(d.root_key(), root, TpmSealSpec{o.tpm_tcti, o.seal_pcrs, password.get()}));
  if (recovery) {
    SIGIL_RETURN_IF_ERROR(WritePassphraseRootKey(d.root_key_recovery(), root, *recovery));
  }
  return Ok();
}

// TPM mode at init: a fresh root key, sealed.
Result<SecretBytes> CreateTpmRootKey(const DataDir& d, const InitOptions& o) {
  SIGIL_ASSIGN_OR_RETURN(SecretBytes root, SecretBytes::Random(32));
  SIGIL_RETURN_IF_ERROR(SealExistingTpmRootKey(d, o, root));
  return root;
}

std::string AsString(const Bytes& b) { return std::string(b.begin(), b.end()); }

// Where this data directory's store lives, from sigild.json ("store", absent for store.db).
Result<StoreLocation> ConfiguredStore(const DataDir& d, const Json& cfg) {
  std::string location;
  if (cfg.contains("store")) {
    SIGIL_ASSIGN_OR_RETURN(location, GetString(cfg, "store", d.config()));
  }
  std::string root = d.Path("");
  root.pop_back();  // Path("") ends in '/'
  return ResolveStoreLocation(location, root);
}

// The files every broker's data directory has besides its keys: admin/ca.pem, admin/audit.pub,
// admin/broker.json and sigild.json.
Result<void> WriteBrokerFiles(const DataDir& d, const InitOptions& o, ByteSpan ca_pem, ByteSpan audit_pub, bool dev_tee) {
  SIGIL_RETURN_IF_ERROR(WriteFileAtomic(d.admin("ca.pem"), ca_pem, 0644));
  Json audit_key{{"type", "sigil-audit-public-key"}, {"public_key", Base64UrlEncode(audit_pub)}};
  SIGIL_RETURN_IF_ERROR(WriteFileAtomic(d.admin("audit.pub"), AsBytes(audit_key.dump(2) + "\n"), 0644));
  SIGIL_RETURN_IF_ERROR(WriteAdminBrokerUrl(d, o.listen));
  Json config{{"listen", o.listen}, {"dev_tee", dev_tee}, {"nonce_ttl_seconds", 60}, {"token_ttl_seconds", 300}};
  if (!o.store.empty()) config["store"] = o.store;
  return WriteFileAtomic(d.config(), AsBytes(config.dump(2) + "\n"), 0644);
}

Result<void> RefuseInitialised(const DataDir& d, const std::string& dir) {
  struct stat st;
  if (::stat(d.root_key().c_str(), &st) == 0) {
    return Fail(Code::kAlreadyExists, dir + " is already initialised (root.key exists); refusing to overwrite");
  }
  SIGIL_RETURN_IF_ERROR(MakeDir(dir, 0700));
  SIGIL_RETURN_IF_ERROR(MakeDir(d.Path("tls"), 0700));
  return MakeDir(d.Path("admin"), 0700);
}

// The fleet's erasure chain from the store's join copy, moved forward to the store's epoch and
// checked against its record.
Result<ErasureChain> JoinErasureChain(Store& store, const SecretBytes& root, const SecretBytes& join_pass,
                                      const std::string& shown) {
  auto share = store.GetMeta(kErasureChainShareMeta);
  if (!share && share.error().code() == Code::kNotFound) {
    return Fail(Code::kNotFound, "the store " + shown + " keeps no copy of the fleet's erasure chain: a key destruction "
                                 "deletes it (or the store predates it). On a broker of the fleet, run `sigild "
                                 "publish-join-copy --data-dir DIR --join-passphrase-file NEW` with a new passphrase, "
                                 "then join with that passphrase");
  }
  if (!share) return std::move(share).error();
  auto chain = ErasureChain::DecodeShare(*share, join_pass);
  if (!chain) return chain.error().Wrap("the store's copy of the erasure chain");
  SIGIL_ASSIGN_OR_RETURN(Bytes record, store.GetMeta(kErasureEpochMeta));
  SIGIL_ASSIGN_OR_RETURN(std::uint64_t epoch, ErasureChain::RecordEpoch(record));
  SIGIL_ASSIGN_OR_RETURN(ErasureChain current, chain->AdvancedTo(epoch));
  SIGIL_ASSIGN_OR_RETURN(Bytes expected, current.Record(root));
  if (expected != record) {
    return Fail(Code::kVerificationFailed, "the store's copy of the erasure chain does not produce its epoch record "
                                           "(an edited store, or a copy published by another fleet)");
  }
  return current;
}

}  // namespace

Result<void> InitDataDir(const InitOptions& o) {
  DataDir d(o.data_dir);
  SIGIL_ASSIGN_OR_RETURN(StoreLocation where, ResolveStoreLocation(o.store, o.data_dir));
  SIGIL_RETURN_IF_ERROR(RefuseInitialised(d, o.data_dir));
  std::unique_ptr<SecretBytes> pass, join_pass;
  if (o.root_mode == RootKeyMode::kPassphrase) {
    SIGIL_ASSIGN_OR_RETURN(SecretBytes p, ReadPassphrase(o.passphrase_file));
    pass = std::make_unique<SecretBytes>(std::move(p));
  }
  if (!o.join_passphrase_file.empty()) {
    SIGIL_ASSIGN_OR_RETURN(SecretBytes p, ReadSecretLine(o.join_passphrase_file));
    join_pass = std::make_unique<SecretBytes>(std::move(p));
  }
  // The store before the root key: a shared database that already serves a fleet is refused
  // without leaving a root key behind (another broker joins it with `sigild join`).
  SIGIL_ASSIGN_OR_RETURN(auto store, OpenStore(where, StoreOpen::kCreate));  // init alone creates it
  if (store->GetMeta("token_key.wrapped")) {
    return Fail(Code::kAlreadyExists, "the store " + where.shown + " already holds a broker's keys; to add a broker to "
                                      "its fleet use `sigild join`, not init");
  }
  auto created = o.root_mode == RootKeyMode::kTpm ? CreateTpmRootKey(d, o) : CreateRootKey(d.root_key(), o.root_mode, pass.get());
  if (!created) return std::move(created).error();
  SecretBytes root = std::move(*created);
  SIGIL_RETURN_IF_ERROR(CreateBrokerSigningKey(*store, root, "token_key"));
  SIGIL_ASSIGN_OR_RETURN(Bytes audit_pub, CreateBrokerSigningKey(*store, root, "audit_key"));
  TlsFiles tls{d.tls("ca.pem"), d.tls("server.pem"), d.tls("server.key"), d.admin("admin.pem"), d.admin("admin.key")};
  SIGIL_ASSIGN_OR_RETURN(GeneratedTls generated, GenerateTlsMaterial(tls, o.tls_names, PrincipalUri(Role::kOperator, ""),
                                                                     kInitOperatorCertSeconds));
  SIGIL_ASSIGN_OR_RETURN(Bytes ca, ReadFile(d.tls("ca.pem")));
  // The admin CA's key exists only wrapped by the root key, in the store (never in clear on
  // disk): the broker unwraps it to issue admin certificates, and a joining broker to be issued
  // a server certificate that clients already trust.
  SIGIL_ASSIGN_OR_RETURN(Bytes wrapped, WrapKey(root, generated.ca_key_pem, BrokerKeyIdentity("tls_ca_key")));
  SIGIL_RETURN_IF_ERROR(store->PutMeta("tls_ca_key.wrapped", wrapped));
  SIGIL_RETURN_IF_ERROR(store->PutMeta("tls_ca.pem", ca));
  // The first operator certificate is registered like every admin certificate after it (only
  // registered, unrevoked certificates are accepted), its row tagged under the root key.
  {
    SIGIL_ASSIGN_OR_RETURN(auto tagged, AuthenticateStore(std::move(store), root));
    store = std::move(tagged);
    const IssuedAdminCert& op = generated.operator_cert;
    SIGIL_RETURN_IF_ERROR(store->PutAdminCert(AdminCertRow{op.serial, "operator", "", op.not_after,
                                                           UnixSeconds(std::chrono::system_clock::now()), 0,
                                                           "sigild init", {}}));
  }
  // The erasure chain starts at epoch 0: this broker's secret outside the store, the fleet's
  // record in it (docs/architecture.md "Destroying a key version").
  SIGIL_ASSIGN_OR_RETURN(ErasureChain chain, ErasureChain::Fresh());
  SIGIL_RETURN_IF_ERROR(chain.Save(d.shred_key(), root));
  SIGIL_ASSIGN_OR_RETURN(Bytes record, chain.Record(root));
  SIGIL_RETURN_IF_ERROR(store->PutMeta(kErasureEpochMeta, record));
  if (join_pass) {
    SIGIL_ASSIGN_OR_RETURN(Bytes shared, EncodePassphraseRootKey(root, *join_pass));
    SIGIL_RETURN_IF_ERROR(store->PutMeta("root_key.shared", shared));
    SIGIL_ASSIGN_OR_RETURN(Bytes chain_share, chain.EncodeShare(*join_pass));
    SIGIL_RETURN_IF_ERROR(store->PutMeta(kErasureChainShareMeta, chain_share));
  }
  if (o.dev_tee) {
    SIGIL_RETURN_IF_ERROR(MakeDir(d.Path("dev"), 0700));
    SIGIL_ASSIGN_OR_RETURN(Ed25519KeyPair dev, attestation::dev::GenerateDevPlatformKey());
    SIGIL_RETURN_IF_ERROR(attestation::dev::SaveDevPlatformKey(d.dev("platform.key"), dev));
    SIGIL_RETURN_IF_ERROR(attestation::dev::SaveDevPlatformPublicKey(d.dev("platform.pub"), dev.public_key));
    SIGIL_RETURN_IF_ERROR(store->PutMeta("dev.platform.public", dev.public_key));
  }
  return WriteBrokerFiles(d, o, ca, audit_pub, o.dev_tee);
}

Result<void> JoinDataDir(const InitOptions& o) {
  DataDir d(o.data_dir);
  if (o.store.empty()) return Fail(Code::kInvalidArgument, "join needs --store: the fleet's shared store");
  if (o.join_passphrase_file.empty()) return Fail(Code::kInvalidArgument, "join needs --join-passphrase-file");
  SIGIL_ASSIGN_OR_RETURN(StoreLocation where, ResolveStoreLocation(o.store, o.data_dir));
  SIGIL_ASSIGN_OR_RETURN(SecretBytes join_pass, ReadSecretLine(o.join_passphrase_file));
  std::unique_ptr<SecretBytes> pass;
  if (o.root_mode == RootKeyMode::kPassphrase) {
    SIGIL_ASSIGN_OR_RETURN(SecretBytes p, ReadPassphrase(o.passphrase_file));
    pass = std::make_unique<SecretBytes>(std::move(p));
  }
  SIGIL_ASSIGN_OR_RETURN(auto store, OpenStore(where, StoreOpen::kExisting));
  auto shared = store->GetMeta("root_key.shared");
  if (!shared && shared.error().code() == Code::kNotFound) {
    return Fail(Code::kNotFound, "the store " + where.shown + " keeps no shared root key copy: the first broker must be "
                                 "initialised with --join-passphrase-file for others to join");
  }
  if (!shared) return std::move(shared).error();
  RootKeyUnlock unlock;
  unlock.passphrase = &join_pass;
  SIGIL_ASSIGN_OR_RETURN(SecretBytes root, DecodeRootKey(AsString(*shared), "the store's shared root key", unlock, nullptr));
  // The copy must be the root key the store's keys are wrapped with (AEAD-checked), not merely
  // a key that decrypts under the passphrase.
  SIGIL_ASSIGN_OR_RETURN(SecretBytes token_seed, LoadBrokerSigningKey(*store, root, "token_key"));
  SIGIL_ASSIGN_OR_RETURN(SecretBytes audit_seed, LoadBrokerSigningKey(*store, root, "audit_key"));
  SIGIL_ASSIGN_OR_RETURN(Bytes audit_pub, DerivePublicKey(*store, audit_seed, "audit_key", where.shown));
  SIGIL_ASSIGN_OR_RETURN(Bytes ca_pem, store->GetMeta("tls_ca.pem"));
  SIGIL_ASSIGN_OR_RETURN(Bytes ca_key_wrapped, store->GetMeta("tls_ca_key.wrapped"));
  SIGIL_ASSIGN_OR_RETURN(SecretBytes ca_key, UnwrapKey(root, ca_key_wrapped, BrokerKeyIdentity("tls_ca_key")));
  auto dev_pub = store->GetMeta("dev.platform.public");
  if (!dev_pub && dev_pub.error().code() != Code::kNotFound) return std::move(dev_pub).error();
  SIGIL_ASSIGN_OR_RETURN(ErasureChain chain, JoinErasureChain(*store, root, join_pass, where.shown));

  SIGIL_RETURN_IF_ERROR(RefuseInitialised(d, o.data_dir));
  if (o.root_mode == RootKeyMode::kTpm) {
    SIGIL_RETURN_IF_ERROR(SealExistingTpmRootKey(d, o, root));
  } else {
    SIGIL_RETURN_IF_ERROR(WriteRootKey(d.root_key(), root, o.root_mode, pass.get()));
  }
  SIGIL_RETURN_IF_ERROR(chain.Save(d.shred_key(), root));
  SIGIL_RETURN_IF_ERROR(WriteFileAtomic(d.tls("ca.pem"), ca_pem, 0644));
  SIGIL_RETURN_IF_ERROR(IssueServerCertificate(ca_pem, ca_key, d.tls("server.pem"), d.tls("server.key"), o.tls_names));
  const bool dev_tee = o.dev_tee && static_cast<bool>(dev_pub);
  if (o.dev_tee && !dev_pub) {
    return Fail(Code::kNotFound, "--dev-tee: the fleet was not initialised with the development TEE");
  }
  if (dev_tee) {
    SIGIL_RETURN_IF_ERROR(MakeDir(d.Path("dev"), 0700));
    SIGIL_RETURN_IF_ERROR(attestation::dev::SaveDevPlatformPublicKey(d.dev("platform.pub"), *dev_pub));
  }
  return WriteBrokerFiles(d, o, ca_pem, audit_pub, dev_tee);
}

Result<std::unique_ptr<OpenBroker>> OpenDataDir(const std::string& data_dir, const std::string& passphrase_file) {
  return OpenDataDir(data_dir, OpenOptions{passphrase_file, "", "", false});
}

Result<std::unique_ptr<OpenBroker>> OpenDataDir(const std::string& data_dir, const OpenOptions& options) {
  const std::string& passphrase_file = options.passphrase_file;
  DataDir d(data_dir);
  auto b = std::make_unique<OpenBroker>();
  SIGIL_ASSIGN_OR_RETURN(std::string cfg_text, ReadTextFile(d.config()));
  SIGIL_ASSIGN_OR_RETURN(Json cfg, ParseJson(cfg_text, d.config()));
  SIGIL_ASSIGN_OR_RETURN(b->listen, GetString(cfg, "listen", d.config()));
  SIGIL_ASSIGN_OR_RETURN(bool dev_tee, GetBool(cfg, "dev_tee", d.config()));
  SIGIL_ASSIGN_OR_RETURN(std::int64_t nonce_ttl, GetInt(cfg, "nonce_ttl_seconds", d.config()));
  SIGIL_ASSIGN_OR_RETURN(std::int64_t token_ttl, GetInt(cfg, "token_ttl_seconds", d.config()));
  std::unique_ptr<SecretBytes> pass;
  if (auto p = ReadPassphrase(passphrase_file)) pass = std::make_unique<SecretBytes>(std::move(*p));
  std::unique_ptr<SecretBytes> seal_password;
  if (!options.seal_password_file.empty()) {
    SIGIL_ASSIGN_OR_RETURN(SecretBytes p, ReadSecretLine(options.seal_password_file));
    seal_password = std::make_unique<SecretBytes>(std::move(p));
  }
  // The store first: a missing or damaged store is refused before seconds of Argon2id.
  SIGIL_ASSIGN_OR_RETURN(StoreLocation where, ConfiguredStore(d, cfg));
  SIGIL_ASSIGN_OR_RETURN(b->store, OpenStore(where));
  RootKeyMode root_mode = RootKeyMode::kPassphrase;
  SIGIL_ASSIGN_OR_RETURN(b->root_key, LoadRootKey(d.root_key(), RootKeyUnlock{pass.get(), options.tpm_tcti,
                                                                             seal_password.get()}, &root_mode));
  b->dev_root_key = root_mode == RootKeyMode::kDevPlaintext;
  if (options.tag_existing_rows) {
    SIGIL_ASSIGN_OR_RETURN(int tagged, TagExistingRows(*b->store, b->root_key));
    log::Info("tagged existing store rows (--tag-existing-rows)", {{"rows", tagged}});
  }
  // From here on every authority row read from the store is checked (store_auth.h).
  SIGIL_ASSIGN_OR_RETURN(b->store, AuthenticateStore(std::move(b->store), b->root_key));
  SIGIL_ASSIGN_OR_RETURN(SecretBytes token_seed, LoadBrokerSigningKey(*b->store, b->root_key, "token_key"));
  SIGIL_ASSIGN_OR_RETURN(SecretBytes audit_seed, LoadBrokerSigningKey(*b->store, b->root_key, "audit_key"));
  SIGIL_ASSIGN_OR_RETURN(Bytes token_pub, DerivePublicKey(*b->store, token_seed, "token_key", where.shown));
  SIGIL_ASSIGN_OR_RETURN(b->token_signer, Ed25519Signer::FromSeed(token_seed.Reveal(SecretAccess::Get())));
  SIGIL_RETURN_IF_ERROR(DerivePublicKey(*b->store, audit_seed, "audit_key", where.shown));
  // The admin CA, to issue admin certificates: its key only ever unwrapped in memory.
  SIGIL_ASSIGN_OR_RETURN(b->admin_ca_pem, b->store->GetMeta("tls_ca.pem"));
  SIGIL_ASSIGN_OR_RETURN(Bytes ca_key_wrapped, b->store->GetMeta("tls_ca_key.wrapped"));
  SIGIL_ASSIGN_OR_RETURN(b->admin_ca_key, UnwrapKey(b->root_key, ca_key_wrapped, BrokerKeyIdentity("tls_ca_key")));
  // Data directories made before the key was kept only wrapped held it in clear here: gone now.
  if (std::error_code ec; std::filesystem::remove(d.tls("ca.key"), ec)) {
    log::Warning("removed the admin CA's private key from " + d.tls("ca.key") + ": it is kept only wrapped by the root key");
  }
  SIGIL_ASSIGN_OR_RETURN(Ed25519Signer audit_key, Ed25519Signer::FromSeed(audit_seed.Reveal(SecretAccess::Get())));
  b->audit = std::make_unique<AuditLog>(*b->store, std::move(audit_key), [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  });
  b->verifiers = std::make_unique<attestation::Registry>();
  if (dev_tee) {
    SIGIL_ASSIGN_OR_RETURN(Bytes dev_pub, attestation::dev::LoadDevPlatformPublicKey(d.dev("platform.pub")));
    SIGIL_ASSIGN_OR_RETURN(auto dev_verifier, attestation::dev::DevVerifier::Create(dev_pub));
    // Dev evidence may carry GPUs too (composite bundles, for demos and end-to-end tests).
    SIGIL_ASSIGN_OR_RETURN(std::vector<Bytes> gpu_anchors,
                           ReadTrustDir(d.Path("trust/" + std::string(attestation::kGpuTrustDir))));
    SIGIL_ASSIGN_OR_RETURN(auto dev_with_gpus, attestation::WithGpus(std::move(dev_verifier), std::move(gpu_anchors)));
    b->verifiers->Add(std::move(dev_with_gpus));
  }
  SIGIL_ASSIGN_OR_RETURN(auto collateral, AddHardwareVerifiers(d, *b->store, *b->verifiers));
  b->metrics = std::make_unique<BrokerMetrics>();
  b->metrics->SetCollateralSource(std::move(collateral));
  BrokerContext& c = b->context;
  c.store = b->store.get();
  c.audit = b->audit.get();
  b->unauth = std::make_unique<UnauthenticatedActivity>(*b->audit, c.settings.unauth_summary_interval);
  c.unauth = b->unauth.get();
  c.verifiers = b->verifiers.get();
  c.policies = b->policies.get();
  c.metrics = b->metrics.get();
  // This broker's erasure chain, at the store's epoch before any KEK is opened.
  std::optional<ErasureChain> chain;
  if (std::error_code ec; std::filesystem::exists(d.shred_key(), ec)) {
    SIGIL_ASSIGN_OR_RETURN(chain, ErasureChain::Load(d.shred_key(), b->root_key));
  } else if (auto record = b->store->GetMeta(kErasureEpochMeta); record || record.error().code() != Code::kNotFound) {
    if (!record) return std::move(record).error();
    return Fail(Code::kNotFound, d.shred_key() + " is missing, but the store's keys are wrapped under the fleet's erasure "
                                 "chain: restore the file from this data directory's backup, or make a new data "
                                 "directory with `sigild join` (docs/architecture.md \"Destroying a key version\")");
  } else {
    // A data directory from before the chain: start one (SyncErasureChain upgrades the store).
    SIGIL_ASSIGN_OR_RETURN(chain, ErasureChain::Fresh());
  }
  b->keys = std::make_unique<KeyService>(*b->store, b->root_key, std::move(*chain), d.shred_key());
  SIGIL_RETURN_IF_ERROR(b->keys->SyncErasureChain());
  c.keys = b->keys.get();
  c.token_signer = &*b->token_signer;
  c.issued_tokens = &b->issued_tokens;
  c.admin_ca_pem = &b->admin_ca_pem;
  c.admin_ca_key = &b->admin_ca_key;
  c.token_public_key = token_pub;
  c.settings.nonce_ttl = std::chrono::seconds(nonce_ttl);
  c.settings.token_ttl = std::chrono::seconds(token_ttl);
  return b;
}

Result<std::uint64_t> PublishJoinCopy(const std::string& data_dir, const OpenOptions& options,
                                      const std::string& join_passphrase_file) {
  if (join_passphrase_file.empty()) return Fail(Code::kInvalidArgument, "publish-join-copy needs --join-passphrase-file");
  SIGIL_ASSIGN_OR_RETURN(SecretBytes join_pass, ReadSecretLine(join_passphrase_file));
  SIGIL_ASSIGN_OR_RETURN(std::unique_ptr<OpenBroker> b, OpenDataDir(data_dir, options));
  SIGIL_ASSIGN_OR_RETURN(Bytes chain_share, b->keys->EncodeErasureChainShare(join_pass));
  SIGIL_ASSIGN_OR_RETURN(Bytes root_share, EncodePassphraseRootKey(b->root_key, join_pass));
  SIGIL_RETURN_IF_ERROR(b->store->PutMeta("root_key.shared", root_share));
  SIGIL_RETURN_IF_ERROR(b->store->PutMeta(kErasureChainShareMeta, chain_share));
  return b->keys->ErasureEpoch();
}

Result<void> RecoverRootKey(const RecoverOptions& o) {
  DataDir d(o.data_dir);
  // The recorded TCTI, PCRs and password flag are the defaults for the new seal.
  SIGIL_ASSIGN_OR_RETURN(std::string text, ReadTextFile(d.root_key(), 1 << 16));
  SIGIL_ASSIGN_OR_RETURN(Json current, ParseJson(text, d.root_key()));
  SIGIL_ASSIGN_OR_RETURN(std::string mode, GetString(current, "mode", d.root_key()));
  if (mode != "tpm") return Fail(Code::kInvalidArgument, d.root_key() + " is not sealed to a TPM (mode '" + mode + "')");
  TpmSealSpec spec;
  SIGIL_ASSIGN_OR_RETURN(spec.tcti, GetString(current, "tcti", d.root_key()));
  SIGIL_ASSIGN_OR_RETURN(spec.pcrs, GetString(current, "pcrs", d.root_key()));
  SIGIL_ASSIGN_OR_RETURN(bool had_password, GetBool(current, "password", d.root_key()));
  if (!o.tpm_tcti.empty()) spec.tcti = o.tpm_tcti;
  if (!o.seal_pcrs.empty()) spec.pcrs = o.seal_pcrs;
  std::unique_ptr<SecretBytes> password;
  if (!o.seal_password_file.empty()) {
    SIGIL_ASSIGN_OR_RETURN(SecretBytes p, ReadSecretLine(o.seal_password_file));
    password = std::make_unique<SecretBytes>(std::move(p));
  } else if (had_password) {
    return Fail(Code::kInvalidArgument, "the root key was sealed with a password: pass --seal-password-file "
                                        "(the same or a new one) so the new seal keeps one");
  }
  spec.password = password.get();
  if (o.recovery_passphrase_file.empty()) {
    return Fail(Code::kInvalidArgument, "--recovery-passphrase-file is required");
  }
  SIGIL_ASSIGN_OR_RETURN(SecretBytes pass, ReadSecretLine(o.recovery_passphrase_file));
  RootKeyUnlock unlock;
  unlock.passphrase = &pass;
  struct stat st;
  if (::stat(d.root_key_recovery().c_str(), &st) != 0) {
    return Fail(Code::kNotFound, d.root_key_recovery() + " does not exist: no recovery copy was made at init "
                                 "(sigild init --recovery-passphrase-file)");
  }
  SIGIL_ASSIGN_OR_RETURN(SecretBytes root, LoadRootKey(d.root_key_recovery(), unlock, nullptr));
  {
    SIGIL_ASSIGN_OR_RETURN(std::string cfg_text, ReadTextFile(d.config()));
    SIGIL_ASSIGN_OR_RETURN(Json cfg, ParseJson(cfg_text, d.config()));
    SIGIL_ASSIGN_OR_RETURN(StoreLocation where, ConfiguredStore(d, cfg));
    SIGIL_ASSIGN_OR_RETURN(auto store, OpenStore(where));
    auto check = LoadBrokerSigningKey(*store, root, "token_key");
    if (!check) {
      return Fail(Code::kVerificationFailed, d.root_key_recovery() + " holds a different root key than the one "
                                             "this data directory's store was created with");
    }
  }
  return WriteTpmRootKey(d.root_key(), root, spec);
}

}  // namespace sigil::broker
