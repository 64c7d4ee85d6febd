// sigil-load: the workload side. `run` attests to the broker, receives the model key wrapped to
// an ephemeral key, decrypts the .sgl into a sealed, locked memfd, and starts the engine with the
// weights reachable only through that fd. `measure` prints the measurement the dev attester
// reports for an engine binary (what operators add as a reference value). `cat` streams a
// dataset's plaintext to stdout; its evidence says so (workload.mode "stream", docs/protocol.md).
// `rewrap` moves a container to its key's newest version (workload.mode "rewrap",
// loader/rewrap_command.h).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>

#include "core/file_io.h"
#include "core/secret_bytes.h"
#include "enclave/tpm/activate.h"
#include "enclave/tpm/tpm_attester.h"
#include "loader/attested_load.h"
#include "loader/engine_exec.h"
#include "loader/memfd_decrypt.h"
#include "loader/model_set_load.h"
#include "loader/owner_key.h"
#include "loader/progress.h"
#include "loader/rewrap_command.h"
#include "net/broker_client.h"

namespace {
using namespace sigil;

int Die(const Error& e) {
  std::fprintf(stderr, "sigil-load: error: %s\n", e.message().c_str());
  switch (e.code()) {
    case Code::kInvalidArgument: return 2;
    case Code::kUnavailable:
    case Code::kRateLimited: return 3;
    case Code::kPolicyDenied:
    case Code::kPermissionDenied:
    case Code::kKeyDisabled:
    case Code::kKeyDestroyed:
    case Code::kVerificationFailed:
    case Code::kExpired:
    case Code::kReplay:
    case Code::kUnauthenticated: return 4;
    default: return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  // tpm2-tss logs "WARNING:esys..." to stderr on expected failures (e.g. a wrong seal password)
  // before we return our own error naming the cause; keep its errors only, unless the operator
  // chose a level (overwrite=0). Must precede any ESAPI use: TSS2_LOG is read on first log call.
  ::setenv("TSS2_LOG", "all+ERROR", 0);
  CLI::App app{"sigil-load: attest, receive the model key, decrypt in memory, run the engine"};
  app.require_subcommand(1);
  std::string engine;
  auto* measure = app.add_subcommand("measure", "print the dev-TEE measurement of an engine binary");
  measure->add_option("--engine", engine, "engine binary")->required();
  // The sandbox flags are measured with the engine: measure and run must be given the same ones.
  loader::SandboxConfig sandbox;
  auto add_sandbox_flags = [&sandbox](CLI::App* sub) {
    sub->add_flag("--no-network", sandbox.no_network, "engine sandbox: socket() only for AF_UNIX (seccomp)");
    sub->add_flag("--host-network{false}", sandbox.private_netns,
                  "engine sandbox: keep the host network namespace instead of a fresh one");
    sub->add_flag("--allow-unlocked", sandbox.allow_unlocked_weights,
                  "continue with a warning if the weights cannot be locked in memory (mlock) instead of "
                  "failing; recorded in the measured sandbox configuration, so it needs its own approval");
  };
  add_sandbox_flags(measure);
  bool in_process = false;
  measure->add_flag("--in-process", in_process,
                    "measure a program that links the C API (loader/c_api/sigil_load.h) and runs outside "
                    "sigil-load's sandbox: the measurement then has an empty sandbox configuration");
  auto add_tpm_flags = [](CLI::App* sub, loader::LoadOptions& lo) {
    sub->add_option("--tpm-tcti", lo.tpm_tcti, "--tee tpm|azure-*: TCTI, e.g. device:/dev/tpmrm0 or swtpm:host=127.0.0.1,port=2321 (default: tpm2-tss default)");
    sub->add_option("--tpm-pcrs", lo.tpm_pcrs, "--tee tpm|azure-*: PCRs to quote, e.g. sha256:0,1,2,7+sha1:0")->capture_default_str();
    sub->add_option("--tpm-ak-handle", lo.tpm_ak_handle, "--tee tpm: persistent AK handle (0x81...); default: a primary AK in the owner hierarchy; --tee azure-*: the vTPM AK (default 0x81000003)");
    sub->add_option("--tpm-ak-kind", lo.tpm_ak_kind, "--tee tpm: primary AK type: rsa, rsapss, ecc-p256, ecc-p384")->capture_default_str();
  };
  // tpm-ak: the AK's public key for the operator to register with the broker (trust/tpm-aks/).
  loader::LoadOptions ako;
  std::string ak_out, ak_persist;
  auto* tpm_ak = app.add_subcommand("tpm-ak", "print or save the TPM attestation key's public key (PEM SPKI), optionally persisting the AK");
  add_tpm_flags(tpm_ak, ako);
  tpm_ak->add_option("--persist", ak_persist, "make the primary AK persistent at this handle (0x81...) so every run reuses it");
  tpm_ak->add_option("--out", ak_out, "write the PEM here instead of stdout");
  loader::LoadOptions o;
  std::vector<std::string> engine_argv;
  // tpm-enrol: EK-based AK enrolment (MakeCredential/ActivateCredential), instead of register-ak.
  loader::LoadOptions eo;
  std::string enrol_broker, enrol_ca, enrol_tenant, enrol_ek_cert, enrol_ek_kind = "rsa";
  auto* tpm_enrol = app.add_subcommand("tpm-enrol", "enrol this TPM's AK with the broker by proving it shares a TPM with a registered or CA-certified EK");
  tpm_enrol->add_option("--broker", enrol_broker, "broker URL, https://HOST:PORT")->required();
  tpm_enrol->add_option("--ca", enrol_ca, "broker CA certificate (PEM)")->required()->check(CLI::ExistingFile);
  tpm_enrol->add_option("--tenant", enrol_tenant, "tenant")->required();
  tpm_enrol->add_option("--ek-cert", enrol_ek_cert, "send this EK certificate (PEM) instead of the EK public key")->check(CLI::ExistingFile);
  tpm_enrol->add_option("--tpm-ek-kind", enrol_ek_kind, "EK template: rsa (RSA-2048, L-1) or ecc-p256 (L-2)")
      ->check(CLI::IsMember({"rsa", "ecc-p256"}))->capture_default_str();
  add_tpm_flags(tpm_enrol, eo);
  auto* run = app.add_subcommand("run", "attest, decrypt the model into a sealed memfd and run ENGINE ARGS ({model} = its path)");
  run->add_option("--broker", o.broker_url, "broker URL, https://HOST:PORT")->required();
  run->add_option("--ca", o.ca_file, "broker CA certificate (PEM)")->required()->check(CLI::ExistingFile);
  run->add_option("--tenant", o.tenant, "tenant")->required();
  run->add_option("--tee", o.tee, "TEE type (dev, tpm, sev-snp, tdx, azure-snp-vtpm, azure-tdx-vtpm, cca)")->capture_default_str();
  run->add_option("--dev-platform-key", o.dev_platform_key, "INSECURE dev TEE platform key file");
  run->add_option("--tsm-root", o.tsm_root, "--tee sev-snp|tdx|cca: configfs-tsm report directory")->capture_default_str();
  run->add_option("--azure-imds-url", o.azure_imds_url, "--tee azure-tdx-vtpm: Azure IMDS, http://IP[:PORT], asked for the TD quote (POST /acc/tdquote)")->capture_default_str();
  run->add_flag("--debug", o.debug, "report a debug-enabled TEE (dev TEE only; policies normally refuse it)");
  run->add_option("--model", o.model, ".sgl file, or a model set directory (sigil-set.json)")->required()->check(CLI::ExistingPath);
  run->add_option("--threads", o.threads, "decryption threads (0 = all usable CPUs)")->capture_default_str();
  bool progress_json = false;
  run->add_flag("--json", progress_json, "decryption progress as JSON lines on stderr (docs/cli.md); "
                                         "default: a progress bar if stderr is a terminal");
  bool require_mlock = false;
  run->add_flag("--require-mlock", require_mlock, "the default: refuse to run if the weights cannot be locked in "
                                                  "memory (see --allow-unlocked)");
  run->add_flag("--verify-digest", o.verify_digest,
                "also check the plaintext SHA-256 recorded by the encryptor (the AEAD already authenticates "
                "every byte; this only catches a faulty encryptor and costs one sequential hash pass)");
  std::vector<std::string> run_owners, cat_owners;
  const char* kTrustOwner = "model owner's Ed25519 public key (PEM, `openssl pkey -pubout`); repeatable: every "
                            "container must be signed by one of them, checked before attesting";
  run->add_option("--trust-owner", run_owners, kTrustOwner)->check(CLI::ExistingFile);
  run->add_option("ENGINE", engine_argv, "engine command after --")->required();
  add_sandbox_flags(run);
  add_tpm_flags(run, o);
  // The purpose PCR (attestation/tpm/evidence.h says why 8-15 and why 13 by default).
  auto add_purpose_flags = [](CLI::App* sub, loader::LoadOptions& lo) {
    sub->add_option("--tpm-purpose-pcr", lo.tpm_purpose_pcr,
                    "--tee tpm|azure-*: PCR (SHA-256 bank, 8-15) that receives the load's purpose event before the quote; "
                    "reserve it for sigil-load")
        ->check(CLI::Range(8, 15))->capture_default_str();
    sub->add_option("--tpm-purpose-log", lo.tpm_purpose_log,
                    "--tee tpm|azure-*: the purpose PCR's event log, kept across loads until reboot "
                    "(default /run/sigil/tpm-purpose-pcrN.json)");
  };
  add_purpose_flags(run, o);
  // GPUs of composite CPU + GPU evidence, with any --tee (docs/cli.md "GPU reports").
  auto add_gpu_flags = [](CLI::App* sub, loader::LoadOptions& lo) {
    sub->add_option("--gpu-report-cmd", lo.gpu.command,
                    "add GPUs to the evidence: run this command (no shell; {nonce} = the GPU nonce, 64 hex "
                    "digits) and read one JSON line per GPU from its stdout, {\"report\":HEX,\"cert_chain\":PEM}");
    sub->add_option("--gpu-report", lo.gpu.report_files,
                    "TESTING/OFFLINE: add GPUs from reports captured beforehand (same JSON lines; repeatable); "
                    "their fixed nonce makes sigil-load refuse them for a live attestation")
        ->check(CLI::ExistingFile);
    sub->add_option_function<unsigned>(
           "--gpu-report-timeout", [&lo](const unsigned& s) { lo.gpu.timeout = std::chrono::seconds(s); },
           "seconds the GPU report command may take (default 60)")
        ->check(CLI::Range(1u, 3600u));
  };
  add_gpu_flags(run, o);
  loader::LoadOptions co;
  auto* cat = app.add_subcommand("cat", "attest, then stream the verified plaintext of a dataset .sgl to stdout, "
                                        "chunk by chunk (a chunk is written only after its tag verifies)");
  cat->add_option("--broker", co.broker_url, "broker URL, https://HOST:PORT")->required();
  cat->add_option("--ca", co.ca_file, "broker CA certificate (PEM)")->required()->check(CLI::ExistingFile);
  cat->add_option("--tenant", co.tenant, "tenant")->required();
  cat->add_option("--tee", co.tee, "TEE type (dev, tpm, sev-snp, tdx, azure-snp-vtpm, azure-tdx-vtpm, cca)")->capture_default_str();
  cat->add_option("--dev-platform-key", co.dev_platform_key, "INSECURE dev TEE platform key file");
  cat->add_option("--tsm-root", co.tsm_root, "--tee sev-snp|tdx|cca: configfs-tsm report directory")->capture_default_str();
  cat->add_option("--azure-imds-url", co.azure_imds_url, "--tee azure-tdx-vtpm: Azure IMDS, http://IP[:PORT], asked for the TD quote (POST /acc/tdquote)")->capture_default_str();
  cat->add_option("--measure", engine, "binary whose measurement the evidence reports (the consumer; it is not "
                                      "sandboxed, so this is `sigil-load measure --in-process` of it)")->required();
  bool hold = false;
  cat->add_flag("--hold", hold,
                "write nothing until the whole container has authenticated (every chunk, and the plaintext "
                "SHA-256 if recorded): holds the whole plaintext in locked memory, so a tampered or "
                "truncated file releases no plaintext at all");
  cat->add_option("--trust-owner", cat_owners, kTrustOwner)->check(CLI::ExistingFile);
  cat->add_option("MODEL", co.model, ".sgl file")->required()->check(CLI::ExistingFile);
  add_tpm_flags(cat, co);
  add_purpose_flags(cat, co);
  add_gpu_flags(cat, co);
  loader::LoadOptions ro;
  loader::RewrapCommand rw;
  auto* rewrap = app.add_subcommand("rewrap", "attest, then re-encrypt IN.sgl to its key's newest version as OUT.sgl "
                                              "(fresh salt, every chunk verified and re-encrypted; only ciphertext "
                                              "is written)");
  rewrap->add_option("--broker", ro.broker_url, "broker URL, https://HOST:PORT")->required();
  rewrap->add_option("--ca", ro.ca_file, "broker CA certificate (PEM)")->required()->check(CLI::ExistingFile);
  rewrap->add_option("--tenant", ro.tenant, "tenant")->required();
  rewrap->add_option("--tee", ro.tee, "TEE type (dev, tpm, sev-snp, tdx, azure-snp-vtpm, azure-tdx-vtpm, cca)")->capture_default_str();
  rewrap->add_option("--dev-platform-key", ro.dev_platform_key, "INSECURE dev TEE platform key file");
  rewrap->add_option("--tsm-root", ro.tsm_root, "--tee sev-snp|tdx|cca: configfs-tsm report directory")->capture_default_str();
  rewrap->add_option("--azure-imds-url", ro.azure_imds_url, "--tee azure-tdx-vtpm: Azure IMDS, http://IP[:PORT], asked for the TD quote (POST /acc/tdquote)")->capture_default_str();
  rewrap->add_option("--sign", rw.sign_key, "model owner's Ed25519 private key (PEM): sign the output; required if IN "
                                            "is signed")->check(CLI::ExistingFile);
  rewrap->add_flag("--allow-new-signer", rw.allow_new_signer,
                   "let --sign be another owner key than the one that signed IN");
  rewrap->add_flag("--force", rw.force, "replace OUT if it exists");
  rewrap->add_option("--trust-owner", rw.trust_owners, kTrustOwner)->check(CLI::ExistingFile);
  bool rewrap_json = false;
  rewrap->add_flag("--json", rewrap_json, "progress as JSON lines on stderr, and the result as JSON on stdout");
  rewrap->add_option("IN", rw.in, ".sgl file")->required()->check(CLI::ExistingPath);
  rewrap->add_option("OUT", rw.out, "new .sgl file (must not exist, unless --force)")->required();
  add_tpm_flags(rewrap, ro);
  add_purpose_flags(rewrap, ro);
  add_gpu_flags(rewrap, ro);
  CLI11_PARSE(app, argc, argv);
  for (auto [files, lo] : {std::pair{&run_owners, &o}, std::pair{&cat_owners, &co}}) {
    for (const auto& f : *files) {
      auto k = loader::ReadOwnerPublicKeyFile(f);
      if (!k) return Die(k.error());
      lo->trusted_owners.push_back(std::move(*k));
    }
  }
  if (auto h = HardenProcess(); !h) return Die(h.error());
  if (rewrap->parsed()) {
    rw.json = rewrap_json;
    auto r = loader::RunRewrap(std::move(ro), rw);
    if (!r) return Die(r.error());
    std::fputs(r->c_str(), stdout);
    return 0;
  }

  if (tpm_enrol->parsed()) {
    enclave::tpm::EnrolOptions e;
    e.tcti = eo.tpm_tcti;
    e.tenant = enrol_tenant;
    e.ecc_ek = enrol_ek_kind == "ecc-p256";
    auto kind = enclave::tpm::ParseAkKind(eo.tpm_ak_kind);
    if (!kind) return Die(kind.error());
    e.kind = *kind;
    if (!eo.tpm_ak_handle.empty()) {
      auto h = enclave::tpm::ParsePersistentHandle(eo.tpm_ak_handle);
      if (!h) return Die(h.error());
      e.ak_handle = *h;
    }
    if (!enrol_ek_cert.empty()) {
      auto cert = ReadFile(enrol_ek_cert, 1 << 16);
      if (!cert) return Die(cert.error());
      e.ek_cert.assign(cert->begin(), cert->end());
    }
    auto client = net::BrokerClient::Connect(enrol_broker, enrol_ca);
    if (!client) return Die(client.error());
    auto done = enclave::tpm::EnrolAkByEk(e, [&](const std::string& path, const Json& body) {
      return (*client)->Post(path, body.dump());
    });
    if (!done) return Die(done.error());
    std::printf("%s\n", done->dump().c_str());
    return 0;
  }
  if (tpm_ak->parsed()) {
    enclave::tpm::TpmAttesterConfig c;
    c.tcti = ako.tpm_tcti;
    auto kind = enclave::tpm::ParseAkKind(ako.tpm_ak_kind);
    if (!kind) return Die(kind.error());
    c.ak_kind = *kind;
    std::optional<TPM2_HANDLE> persist;
    for (auto [text, slot] : {std::pair{&ako.tpm_ak_handle, &c.ak_handle}, std::pair{&ak_persist, &persist}}) {
      if (text->empty()) continue;
      auto h = enclave::tpm::ParsePersistentHandle(*text);
      if (!h) return Die(h.error());
      *slot = *h;
    }
    auto pem = enclave::tpm::ExportAkPem(c, persist);
    if (!pem) return Die(pem.error());
    if (ak_out.empty()) {
      std::fputs(pem->c_str(), stdout);
    } else if (auto w = WriteFileAtomic(ak_out, AsBytes(*pem), 0644); !w) {
      return Die(w.error());
    }
    return 0;
  }
  if (measure->parsed()) {
    auto fd = loader::OpenEngineBinary(engine);
    if (!fd) return Die(fd.error());
    if (in_process && (sandbox.no_network || !sandbox.private_netns || sandbox.allow_unlocked_weights)) {
      ::close(*fd);
      return Die(Error(Code::kInvalidArgument, "measure: --in-process takes no sandbox flags (a C API program is not sandboxed by sigil-load)"));
    }
    auto m = loader::MeasureEngineFd(*fd, in_process ? std::string() : loader::CanonicalSandboxConfig(sandbox));
    ::close(*fd);
    if (!m) return Die(m.error());
    std::printf("%s\n", m->c_str());
    return 0;
  }
  if (cat->parsed()) {
    auto bin = loader::OpenEngineBinary(engine);
    if (!bin) return Die(bin.error());
    co.engine_binary_fd = *bin;
    // The evidence says what happens to the plaintext: it leaves through stdout, to a consumer
    // no sandbox confines. The broker refuses model-weights keys to this mode.
    co.mode = "stream";
    co.sandbox_config = "";
    auto released = loader::AttestAndRelease(co);
    if (!released) return Die(released.error());
    // Truncation or tampering fails loudly with a non-zero exit; no unverified byte is written.
    // Streaming writes each chunk once it authenticates, so a bad chunk k leaves chunks 0..k-1
    // in the output (the error says how many bytes); --hold writes nothing until all verified.
    if (hold) {
      std::string lock_warning;
      auto r = loader::DecryptHeldToStream(released->container, released->dek, STDOUT_FILENO, {}, &lock_warning);
      if (!lock_warning.empty()) std::fprintf(stderr, "sigil-load: WARNING: %s\n", lock_warning.c_str());
      if (!r) return Die(r.error());
      return 0;
    }
    if (auto r = loader::DecryptToStream(released->container, released->dek, STDOUT_FILENO); !r) {
      if (r.error().code() != Code::kVerificationFailed) return Die(r.error());
      return Die(Error(Code::kVerificationFailed,
                       r.error().message() + " (with --hold, cat writes nothing unless the whole file authenticates)"));
    }
    return 0;
  }
  auto fd = loader::OpenEngineBinary(engine_argv[0]);
  if (!fd) return Die(fd.error());
  o.engine_binary_fd = *fd;
  if (require_mlock && sandbox.allow_unlocked_weights) {
    return Die(Error(Code::kInvalidArgument, "run: --require-mlock and --allow-unlocked contradict each other"));
  }
  o.require_lock = !sandbox.allow_unlocked_weights;  // a failed mlock is an error unless opted out
  o.sandbox_config = loader::CanonicalSandboxConfig(sandbox);
  for (const auto& note : loader::SandboxNotes(sandbox)) std::fprintf(stderr, "sigil-load: note: %s\n", note.c_str());
  loader::ProgressReporter progress("decrypt", progress_json ? loader::ProgressMode::kJson : loader::ProgressMode::kAuto,
                                    STDERR_FILENO);
  if (progress.active()) o.progress = progress.Fn();
  if (loader::IsModelSetDir(o.model)) {
    // A set: one attestation and release for all members; {model} is the main member (the
    // index of a sharded model) and SIGIL_MODEL_FILES maps each member name to its memfd.
    auto set = loader::AttestAndDecryptSet(o);
    progress.Finish();
    if (!set) return Die(set.error());
    for (auto& m : set->members) {
      if (!m.memfd.locked()) std::fprintf(stderr, "sigil-load: WARNING: %s\n", m.memfd.lock_warning().c_str());
      if (auto r = m.memfd.SetInheritable(true); !r) return Die(r.error());
    }
    if (::setenv("SIGIL_MODEL_FILES", set->ModelFilesEnv().c_str(), 1) != 0) {
      return Die(Error(Code::kInternal, "setenv SIGIL_MODEL_FILES failed"));
    }
    int main_fd = set->main_fd() >= 0 ? set->main_fd() : set->members.front().memfd.fd();
    std::vector<int> member_fds;  // the engine inherits only the descriptors listed here
    for (auto& m : set->members) member_fds.push_back(m.memfd.fd());
    auto rc = loader::RunEngine({*fd, engine_argv, main_fd, member_fds, sandbox});
    if (!rc) return Die(rc.error());
    return *rc;
  }
  auto loaded = loader::AttestAndDecrypt(o);
  progress.Finish();
  if (!loaded) return Die(loaded.error());
  if (!loaded->locked()) std::fprintf(stderr, "sigil-load: WARNING: %s\n", loaded->lock_warning().c_str());
  auto rc = loader::RunEngine({*fd, engine_argv, loaded->fd(), {}, sandbox});
  if (!rc) return Die(rc.error());
  return *rc;
}
