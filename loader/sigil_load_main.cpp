// sigil-load: the workload side. `run` attests to the broker, receives the model key wrapped to
// an ephemeral key, decrypts the .sgl into a sealed, locked memfd, and starts the engine with the
// weights reachable only through that fd. `measure` prints the measurement the dev attester
// reports for an engine binary (what operators add as a reference value).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <unistd.h>

#include "core/secret_bytes.h"
#include "loader/attested_load.h"
#include "loader/engine_exec.h"

namespace {
using namespace sigil;

int Die(const Error& e) {
  std::fprintf(stderr, "sigil-load: error: %s\n", e.message().c_str());
  switch (e.code()) {
    case Code::kInvalidArgument: return 2;
    case Code::kUnavailable: return 3;
    case Code::kPolicyDenied:
    case Code::kPermissionDenied:
    case Code::kVerificationFailed:
    case Code::kExpired:
    case Code::kReplay:
    case Code::kUnauthenticated: return 4;
    default: return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"sigil-load: attest, receive the model key, decrypt in memory, run the engine"};
  app.require_subcommand(1);
  std::string engine;
  auto* measure = app.add_subcommand("measure", "print the dev-TEE measurement of an engine binary");
  measure->add_option("--engine", engine, "engine binary")->required();
  loader::LoadOptions o;
  std::vector<std::string> engine_argv;
  auto* run = app.add_subcommand("run", "attest, decrypt the model into a sealed memfd and run ENGINE ARGS ({model} = its path)");
  run->add_option("--broker", o.broker_url, "broker URL, https://HOST:PORT")->required();
  run->add_option("--ca", o.ca_file, "broker CA certificate (PEM)")->required()->check(CLI::ExistingFile);
  run->add_option("--tenant", o.tenant, "tenant")->required();
  run->add_option("--tee", o.tee, "TEE type (dev)")->capture_default_str();
  run->add_option("--dev-platform-key", o.dev_platform_key, "INSECURE dev TEE platform key file");
  run->add_flag("--debug", o.debug, "report a debug-enabled TEE (dev TEE only; policies normally refuse it)");
  run->add_option("--model", o.model, ".sgl file")->required()->check(CLI::ExistingFile);
  run->add_option("--threads", o.threads, "decryption threads (0 = all cores)")->capture_default_str();
  run->add_flag("--require-mlock", o.require_lock, "refuse to run if the weights cannot be locked in memory");
  run->add_option("ENGINE", engine_argv, "engine command after --")->required();
  loader::LoadOptions co;
  auto* cat = app.add_subcommand("cat", "attest, then stream the verified plaintext of a dataset .sgl to stdout, "
                                        "chunk by chunk (a chunk is written only after its tag verifies)");
  cat->add_option("--broker", co.broker_url, "broker URL, https://HOST:PORT")->required();
  cat->add_option("--ca", co.ca_file, "broker CA certificate (PEM)")->required()->check(CLI::ExistingFile);
  cat->add_option("--tenant", co.tenant, "tenant")->required();
  cat->add_option("--tee", co.tee, "TEE type (dev)")->capture_default_str();
  cat->add_option("--dev-platform-key", co.dev_platform_key, "INSECURE dev TEE platform key file");
  cat->add_option("--measure", engine, "binary whose measurement the evidence reports (the consumer)")->required();
  cat->add_option("MODEL", co.model, ".sgl file")->required()->check(CLI::ExistingFile);
  CLI11_PARSE(app, argc, argv);
  if (auto h = HardenProcess(); !h) return Die(h.error());

  if (measure->parsed()) {
    auto fd = loader::OpenEngineBinary(engine);
    if (!fd) return Die(fd.error());
    auto m = loader::MeasureEngineFd(*fd);
    ::close(*fd);
    if (!m) return Die(m.error());
    std::printf("%s\n", m->c_str());
    return 0;
  }
  if (cat->parsed()) {
    auto bin = loader::OpenEngineBinary(engine);
    if (!bin) return Die(bin.error());
    co.engine_binary_fd = *bin;
    auto released = loader::AttestAndRelease(co);
    if (!released) return Die(released.error());
    // Truncation or tampering fails loudly with a non-zero exit; no unverified byte is written.
    if (auto r = loader::DecryptToStream(released->container, released->dek, STDOUT_FILENO); !r) return Die(r.error());
    return 0;
  }
  auto fd = loader::OpenEngineBinary(engine_argv[0]);
  if (!fd) return Die(fd.error());
  o.engine_binary_fd = *fd;
  auto loaded = loader::AttestAndDecrypt(o);
  if (!loaded) return Die(loaded.error());
  if (!loaded->locked()) std::fprintf(stderr, "sigil-load: WARNING: %s\n", loaded->lock_warning().c_str());
  auto rc = loader::RunEngine({*fd, engine_argv, loaded->fd()});
  if (!rc) return Die(rc.error());
  return *rc;
}
