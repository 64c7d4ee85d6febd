// sigild: the Sigil key broker. `sigild init` creates a data directory; `sigild serve` runs the
// HTTPS API until SIGTERM/SIGINT.
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "broker/audit/audit_log.h"
#include "broker/audit/unauth_activity.h"
#include "broker/data_dir.h"
#include "broker/http/rate_limiter.h"
#include "broker/http/router.h"
#include "broker/kbs/kbs_sessions.h"
#include "broker/store/pg_store.h"
#include "broker/tpm/tpm_enrol_api.h"
#include "core/file_io.h"
#include "core/log.h"
#include "core/text.h"
#include "net/https_server.h"
#include "net/tls.h"

namespace {
using namespace sigil;
using namespace sigil::broker;

int Die(const Error& e) {
  log::Error(e.message());
  return e.code() == Code::kInvalidArgument ? 2 : 1;
}

int RunInit(const InitOptions& o) {
  // The passphrase and the fresh root key are in memory here too: the same hardening as serve
  // (no core dump, not dumpable so same-user processes cannot ptrace or read it), before
  // anything secret is read.
  if (auto h = HardenProcess(); !h) return Die(h.error());
  if (o.root_mode == RootKeyMode::kDevPlaintext) {
    log::Warning("--dev-root-key stores the root key IN PLAIN TEXT in " + o.data_dir + "/root.key. Development only.");
  }
  if (auto r = InitDataDir(o); !r) return Die(r.error());
  std::printf("initialised %s\n  admin credentials: %s/admin/\n  broker CA: %s/admin/ca.pem\n", o.data_dir.c_str(),
              o.data_dir.c_str(), o.data_dir.c_str());
  if (o.root_mode == RootKeyMode::kTpm) {
    std::printf("  root key sealed to the TPM (%s), PCRs %s%s\n", o.tpm_tcti.empty() ? "default TCTI" : o.tpm_tcti.c_str(),
                o.seal_pcrs.c_str(), o.seal_password_file.empty() ? "" : " and a password");
    if (o.recovery_passphrase_file.empty()) {
      log::Warning("no recovery copy (--recovery-passphrase-file): if these PCRs change, the root key and everything "
                   "it wraps is lost");
    } else {
      std::printf("  recovery copy (passphrase-wrapped): %s/root.key.recovery\n", o.data_dir.c_str());
    }
  }
  if (o.dev_tee) {
    std::printf("  INSECURE dev TEE platform key: %s/dev/platform.key (for demos and tests only)\n", o.data_dir.c_str());
  }
  return 0;
}

int RunJoin(const InitOptions& o) {
  if (auto h = HardenProcess(); !h) return Die(h.error());  // the root key is in memory here too
  if (auto r = JoinDataDir(o); !r) return Die(r.error());
  std::printf("joined the fleet of %s as %s\n  this broker's server certificate: %s/tls/server.pem (issued by the fleet CA)\n"
              "  admin credentials: those of the fleet (any broker's admin/ directory)\n",
              RedactStoreUrl(o.store).c_str(), o.data_dir.c_str(), o.data_dir.c_str());
  return 0;
}

int RunPublishJoinCopy(const std::string& data_dir, const OpenOptions& o, const std::string& join_passphrase_file) {
  if (auto h = HardenProcess(); !h) return Die(h.error());  // the root key is in memory here too
  auto epoch = PublishJoinCopy(data_dir, o, join_passphrase_file);
  if (!epoch) return Die(epoch.error());
  std::printf("published the fleet's join copy (root key and erasure chain at epoch %llu) in the store of %s\n"
              "  other brokers join with: sigild join ... --join-passphrase-file (this passphrase)\n",
              static_cast<unsigned long long>(*epoch), data_dir.c_str());
  return 0;
}

int RunRecover(const RecoverOptions& o) {
  if (auto h = HardenProcess(); !h) return Die(h.error());  // the root key is in memory here too
  if (auto r = RecoverRootKey(o); !r) return Die(r.error());
  std::printf("re-sealed the root key of %s to the TPM's current PCR values\n", o.data_dir.c_str());
  return 0;
}

// Self-defence of `sigild serve` (docs/threat-model.md, "Floods"): token buckets on the endpoints
// anyone may call, and bounds on open connections.
struct ServeProtection {
  double rate_per_address = 50;  // requests per second, burst twice that; 0: unlimited
  double rate_per_tenant = 200;
  std::size_t max_connections = 1024;
  std::size_t max_connections_per_address = 64;
  // Slow clients (slow headers, slow bodies; net/https_server.cpp): the first request, TLS
  // handshake included, must arrive whole within request_timeout of the accept, and each later
  // one on a kept-alive connection within idle_timeout of the previous answer. Past its deadline
  // the connection is closed unanswered, however steadily the client trickles bytes.
  int request_timeout = 10;
  int idle_timeout = 30;
  // Each tenant's tree head (signed C2SP checkpoint) is published at least this often (0: only
  // on demand, when GET .../audit/checkpoint asks).
  int checkpoint_interval = 60;
};

// Publishes every tenant's tree head that is older than `interval` or does not cover its whole
// log (AuditLog::FreshTreeHead). A failure is logged and left for the next round: the published
// head then only ages, which a monitor sees in its time.
void PublishTreeHeads(const BrokerContext& ctx, std::chrono::seconds interval) {
  auto tenants = ctx.store->ListTenants();
  if (!tenants) {
    log::Error("tree heads not published: " + tenants.error().message());
    return;
  }
  // Half an interval of slack: a head published by the previous round counts as due in this one.
  const auto max_age = std::chrono::duration_cast<std::chrono::milliseconds>(interval) / 2;
  for (const std::string& tenant : *tenants) {
    if (auto h = ctx.audit->FreshTreeHead(tenant, max_age); !h && h.error().code() != Code::kNotFound) {
      log::Error("tree head not published: " + h.error().message(), {{"tenant", tenant}});
    }
  }
}

int RunServe(const std::string& data_dir, const OpenOptions& open_options, std::string listen,
             int nonce_ttl, const std::string& port_file, int threads, int handler_threads,
             const ServeProtection& protection) {
  if (auto h = HardenProcess(); !h) return Die(h.error());
  auto opened = OpenDataDir(data_dir, open_options);
  if (!opened) return Die(opened.error());
  OpenBroker& b = **opened;
  if (b.dev_root_key) log::Warning("the root key is stored in plain text (dev mode)");
  if (b.verifiers->Find("dev")) {
    log::Warning("the INSECURE development TEE is enabled; only tenants whose policy names tee 'dev' accept it, and "
                 "every such record is flagged in the audit log");
  }
  if (nonce_ttl > 0) b.context.settings.nonce_ttl = std::chrono::seconds(nonce_ttl);
  b.context.settings.checkpoint_interval = std::chrono::seconds(protection.checkpoint_interval);
  auto tpm_enrol = TpmEnrolment::Open(data_dir);  // EK CAs from DATA/trust/tpm-ek-ca
  if (!tpm_enrol) return Die(tpm_enrol.error());
  b.context.tpm_enrol = tpm_enrol->get();
  if (listen.empty()) listen = b.listen;
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) return Die(Error(Code::kInvalidArgument, "--listen must be ADDRESS:PORT"));
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  int port = std::atoi(listen.c_str() + colon + 1);
  if (port < 0 || port > 65535) return Die(Error(Code::kInvalidArgument, "--listen: bad port"));
  DataDir d(data_dir);
  auto tls = net::MakeServerTlsContext({d.tls("server.pem"), d.tls("server.key"), d.tls("ca.pem")});
  if (!tls) return Die(tls.error());
  boost::asio::io_context io;
  const BrokerContext& ctx = b.context;
  net::ServerLimits limits;
  limits.handler_threads = static_cast<std::size_t>(handler_threads);
  limits.max_connections = protection.max_connections;
  limits.max_connections_per_address = protection.max_connections_per_address;
  limits.read_timeout = std::chrono::seconds(protection.request_timeout);
  limits.idle_timeout = std::chrono::seconds(protection.idle_timeout);
  // At most 65,536 buckets each (a few MiB): a flood of distinct addresses or tenant names is
  // refused, not remembered (broker/http/rate_limiter.h).
  RateLimiter by_address({protection.rate_per_address, 2 * protection.rate_per_address}, 65536);
  RateLimiter by_tenant({protection.rate_per_tenant, 2 * protection.rate_per_tenant}, 65536);
  b.context.rate_by_address = &by_address;
  b.context.rate_by_tenant = &by_tenant;
  KbsSessions kbs_sessions;  // the KBS front end's cookies, in memory (broker/kbs/kbs_sessions.h)
  b.context.kbs = &kbs_sessions;
  auto server = net::HttpsServer::Create(io, *tls, host, static_cast<unsigned short>(port), limits,
                                         [&ctx](const net::HttpRequest& r) { return Route(ctx, r); });
  if (!server) return Die(server.error());
  // GET /metrics reads the open connections at scrape time (set before io.run() serves anything).
  if (b.metrics) {
    b.metrics->SetConnectionSource([s = server->get()] { return static_cast<double>(s->open_connections()); });
    (*server)->SetRefusalObserver([m = b.metrics.get()](std::string_view reason) { m->CountRefusedConnection(reason); });
  }
  std::string url_host = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  log::Info("listening on https://" + url_host + ":" + std::to_string((*server)->port()),
            {{"port", static_cast<int>((*server)->port())}});
  if (port == 0) {
    // Port 0 picked a port now: record it where the admin CLI looks, or say what to do instead.
    const std::string bound = url_host + ":" + std::to_string((*server)->port());
    if (auto w = WriteAdminBrokerUrl(d, bound); !w) {
      log::Warning("could not record the port in " + d.admin("broker.json") + " (" + w.error().message() +
                   "); admins must pass --broker https://" + bound + " or set SIGIL_BROKER_URL");
    }
  }
  if (!port_file.empty()) {
    std::string p = std::to_string((*server)->port()) + "\n";
    if (auto w = WriteFileAtomic(port_file, AsBytes(p), 0644); !w) return Die(w.error());
  }
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int sig) {
    log::Info("signal " + std::to_string(sig) + ", shutting down");
    (*server)->Stop();
    io.stop();  // in-flight handlers finish first: each runs to completion on its thread
  });
  // Periodic work that touches the store runs on a thread of its own, never on an I/O thread: a
  // store that blocks (a lock held, a stalled disk) must not stall TLS or /healthz.
  //  - every 5 s: summaries of unauthenticated requests whose interval ended, also for tenants
  //    that have gone quiet (broker/audit/unauth_activity.h);
  //  - every 3 s: a durable write probe, so /readyz follows the store (disk full, read-only,
  //    damaged) and recovers by itself once writes succeed again; transitions are logged once;
  //  - every checkpoint interval: each tenant's tree head, published (AuditLog::FreshTreeHead
  //    issues one only where the published head is older or smaller: with several brokers on one
  //    store, whichever comes first publishes for all).
  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool stopping = false;
  std::thread maintenance([&] {
    using Clock = std::chrono::steady_clock;
    auto next_summary = Clock::now() + std::chrono::seconds(5);
    auto next_probe = Clock::now() + std::chrono::seconds(3);
    const auto interval = b.context.settings.checkpoint_interval;
    auto next_heads = interval.count() > 0 ? Clock::now() : Clock::time_point::max();
    std::string store_problem;
    std::unique_lock lock(stop_mu);
    while (!stop_cv.wait_until(lock, std::min({next_summary, next_probe, next_heads}), [&] { return stopping; })) {
      lock.unlock();
      if (Clock::now() >= next_heads) {
        PublishTreeHeads(b.context, interval);
        next_heads = Clock::now() + interval;
      }
      if (Clock::now() >= next_summary) {
        if (auto f = b.unauth->Flush(std::chrono::system_clock::now(), /*all=*/false); !f) {
          log::Error("unauthenticated-activity summary not written: " + f.error().message());
        }
        next_summary = Clock::now() + std::chrono::seconds(5);
      }
      if (Clock::now() >= next_probe) {
        (void)b.store->ProbeWrite();
        auto ready = b.store->CheckReady();
        std::string problem = ready ? "" : ready.error().message();
        if (problem != store_problem) {
          if (problem.empty()) {
            log::Info("store writable again; ready");
          } else {
            log::Error("NOT READY: " + problem);
          }
          store_problem = problem;
        }
        next_probe = Clock::now() + std::chrono::seconds(3);
      }
      lock.lock();
    }
  });
  std::vector<std::thread> pool;
  // Last resort for the I/O threads: handlers catch their own exceptions (net/http_pipeline.h),
  // so one escaping here comes from Asio or Beast itself (e.g. bad_alloc); it is logged and the
  // thread goes back to serving instead of terminating the broker.
  auto serve_io = [&io] {
    for (;;) {
      try {
        io.run();
        return;
      } catch (const std::exception& e) {
        log::Error(std::string("I/O thread recovered from an exception: ") + e.what());
      } catch (...) {
        log::Error("I/O thread recovered from an unknown exception");
      }
    }
  };
  for (int i = 1; i < threads; ++i) pool.emplace_back(serve_io);
  serve_io();
  for (auto& t : pool) t.join();
  {
    std::lock_guard lock(stop_mu);
    stopping = true;
  }
  stop_cv.notify_all();
  maintenance.join();
  // The open interval's summary of unauthenticated requests is written before exit.
  if (auto f = b.unauth->Flush(std::chrono::system_clock::now(), /*all=*/true); !f) {
    log::Error("unauthenticated-activity summary not written: " + f.error().message());
  }
  log::Info("stopped");
  return 0;
}

// SIGILD_<OPTION> (upper case, '-' as '_'; e.g. SIGILD_HANDLER_THREADS=32) for every option of
// `sigild serve` that the command line does not give: appended to the arguments, so the
// environment beats the config file and loses to the command line. A flag's variable is true
// when set to 1, true or yes. (CLI11 2.1 lets a config file beat the environment, the opposite
// of what operators expect from containers and systemd's Environment=.)
std::vector<std::string> WithEnvironment(const CLI::App& serve, std::vector<std::string> args) {
  if (std::find(args.begin(), args.end(), "serve") == args.end()) return args;
  for (const CLI::Option* opt : serve.get_options()) {
    if (opt->get_lnames().empty() || opt->get_lnames()[0] == "help") continue;
    const std::string name = opt->get_lnames()[0];
    std::string env = "SIGILD_" + name;
    for (char& c : env) c = c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    const char* value = std::getenv(env.c_str());
    if (value == nullptr) continue;
    const bool given = std::any_of(args.begin(), args.end(), [&](const std::string& a) {
      return a == "--" + name || a.rfind("--" + name + "=", 0) == 0;
    });
    if (given) continue;
    if (opt->get_type_size() == 0) {  // a flag
      const std::string v = value;
      if (v == "1" || v == "true" || v == "yes") args.push_back("--" + name);
    } else {
      args.push_back("--" + name + "=" + value);
    }
  }
  return args;
}

}  // namespace

int main(int argc, char** argv) {
  // tpm2-tss logs "WARNING:esys..." to stderr on expected failures (e.g. a wrong seal password)
  // before we return our own error naming the cause; keep its errors only, unless the operator
  // chose a level (overwrite=0). Must precede any ESAPI use: TSS2_LOG is read on first log call.
  ::setenv("TSS2_LOG", "all+ERROR", 0);
  CLI::App app{"sigild: the Sigil attested key broker"};
  app.require_subcommand(1);
  // Everything `sigild serve` takes can live in a TOML file, section [serve], keys named like the
  // long options (docs/cli.md); unknown keys are refused rather than silently ignored.
  app.set_config("--config", "", "TOML file with the options of the subcommand, in a section named after it");
  app.allow_config_extras(false);
  InitOptions init;
  bool dev_root = false;
  std::string seal;
  // init and join create a data directory the same way; join takes its keys from the fleet's
  // shared store instead of making new ones.
  auto data_dir_options = [&](CLI::App* c) {
    c->add_option("--data-dir", init.data_dir, "directory to create")->required();
    c->add_flag("--dev-root-key", dev_root, "INSECURE: keep the root key in plain text (development only)");
    c->add_option("--passphrase-file", init.passphrase_file, "file whose first line is the root key passphrase (default: $SIGIL_ROOT_PASSPHRASE)");
    c->add_option("--seal", seal, "protect the root key with: 'tpm' (sealed to PCRs, tpm_seal.h) instead of a passphrase")
        ->check(CLI::IsMember({"tpm"}));
    c->add_option("--tpm-tcti", init.tpm_tcti, "TPM TCTI, e.g. device:/dev/tpmrm0 or swtpm:host=127.0.0.1,port=2321");
    c->add_option("--seal-pcrs", init.seal_pcrs, "PCRs the sealed root key is bound to")->capture_default_str();
    c->add_option("--seal-password-file", init.seal_password_file, "optional seal password (first line)");
    c->add_option("--recovery-passphrase-file", init.recovery_passphrase_file,
                  "opt-in: also write root.key.recovery, the root key wrapped by this passphrase (Argon2id)");
    c->add_option("--listen", init.listen, "address:port to serve on")->capture_default_str();
    c->add_option("--tls-name", init.tls_names, "extra DNS name or IP for the server certificate");
  };
  auto* ci = app.add_subcommand("init", "create a data directory: root key, store, TLS and admin credentials");
  data_dir_options(ci);
  ci->add_flag("--dev-tee", init.dev_tee, "enable the INSECURE development TEE (creates its platform key)");
  ci->add_option("--store", init.store, "store location: sqlite:PATH, or postgresql://... shared by a fleet (default: DATA/store.db)");
  ci->add_option("--join-passphrase-file", init.join_passphrase_file,
                 "fleet: keep a copy of the root key in the store wrapped by this passphrase (Argon2id), for sigild join");
  auto* cj = app.add_subcommand("join", "create a data directory for another broker of a fleet sharing a PostgreSQL store");
  data_dir_options(cj);
  cj->add_flag("--dev-tee", init.dev_tee, "serve the INSECURE development TEE too (if the fleet was initialised with it)");
  cj->add_option("--store", init.store, "the fleet's store (postgresql://...)")->required();
  cj->add_option("--join-passphrase-file", init.join_passphrase_file, "the passphrase given to init --join-passphrase-file")
      ->required();
  std::string data_dir, listen, port_file;
  OpenOptions open_options;
  int nonce_ttl = 0, threads = 4, handler_threads = 16;
  ServeProtection protection;
  auto* cs = app.add_subcommand("serve", "run the broker");
  cs->add_option("--data-dir", data_dir, "data directory made by init")->required();
  cs->add_option("--passphrase-file", open_options.passphrase_file, "root key passphrase file (default: $SIGIL_ROOT_PASSPHRASE)");
  cs->add_option("--tpm-tcti", open_options.tpm_tcti, "TPM mode: TCTI to unseal with (default: the one recorded at init)");
  cs->add_option("--seal-password-file", open_options.seal_password_file, "TPM mode: the seal password (first line)");
  cs->add_option("--listen", listen, "override the configured address:port (port 0 picks one)");
  cs->add_option("--nonce-ttl", nonce_ttl, "nonce lifetime in seconds (default from config: 60)");
  cs->add_option("--port-file", port_file, "write the bound port to this file once listening");
  cs->add_option("--threads", threads, "I/O threads (TLS, reads, writes)")->capture_default_str()->check(CLI::Range(1, 64));
  cs->add_option("--handler-threads", handler_threads,
                 "threads that verify evidence and answer requests (they also wait on the store, so more than cores)")
      ->capture_default_str()->check(CLI::Range(1, 256));
  cs->add_option("--unauth-rate-per-address", protection.rate_per_address,
                 "challenges, attests and TPM enrolment starts per second from one client address (burst: twice "
                 "that; 0: unlimited, e.g. behind a proxy that limits)")
      ->capture_default_str()->check(CLI::Range(0.0, 1e6));
  cs->add_option("--unauth-rate-per-tenant", protection.rate_per_tenant,
                 "the same, per tenant named in the request (0: unlimited)")
      ->capture_default_str()->check(CLI::Range(0.0, 1e6));
  cs->add_option("--max-connections", protection.max_connections, "open connections in all")
      ->capture_default_str()->check(CLI::Range(1, 1000000));
  cs->add_option("--max-connections-per-address", protection.max_connections_per_address,
                 "open connections from one client address")
      ->capture_default_str()->check(CLI::Range(1, 1000000));
  cs->add_option("--request-timeout", protection.request_timeout,
                 "seconds from accept to a connection's whole first request, TLS handshake included (slow headers or "
                 "bodies are cut then)")
      ->capture_default_str()->check(CLI::Range(1, 3600));
  cs->add_option("--checkpoint-interval", protection.checkpoint_interval,
                 "seconds between publications of each tenant's signed tree head (0: on demand only)")
      ->capture_default_str()->check(CLI::Range(0, 86400));
  cs->add_option("--idle-timeout", protection.idle_timeout, "seconds from an answer to the whole next request on a kept-alive connection")
      ->capture_default_str()->check(CLI::Range(1, 3600));
  std::string log_format = "text";
  cs->add_option("--log-format", log_format,
                 "log records on stderr: 'text' (one line each) or 'json' (one JSON object per line: time, level, "
                 "msg, and request_id, tenant, code, route, method, status when known)")
      ->capture_default_str()->check(CLI::IsMember({"text", "json"}));
  cs->add_flag("--tag-existing-rows", open_options.tag_existing_rows,
               "once, after upgrading a store written before rows were authenticated: tag its untagged policies, "
               "references, keys and TPM AKs as they stand (check the store first)");
  std::string publish_dir, publish_join_passphrase_file;
  OpenOptions publish_options;
  auto* cp = app.add_subcommand("publish-join-copy",
                                "fleet: write a new join copy (root key and erasure chain, sealed with a new passphrase) "
                                "into the store; needed after a key destruction before another broker joins");
  cp->add_option("--data-dir", publish_dir, "this broker's data directory")->required();
  cp->add_option("--join-passphrase-file", publish_join_passphrase_file,
                 "the new join passphrase (first line); use a new one after a key destruction")->required();
  cp->add_option("--passphrase-file", publish_options.passphrase_file,
                 "this broker's root key passphrase file (default: $SIGIL_ROOT_PASSPHRASE)");
  cp->add_option("--tpm-tcti", publish_options.tpm_tcti, "TPM mode: TCTI to unseal with");
  cp->add_option("--seal-password-file", publish_options.seal_password_file, "TPM mode: the seal password");
  RecoverOptions recover;
  auto* cr = app.add_subcommand("recover-root-key",
                                "TPM mode: after a checked PCR change, re-seal the root key from its recovery copy");
  cr->add_option("--data-dir", recover.data_dir, "data directory")->required();
  cr->add_option("--recovery-passphrase-file", recover.recovery_passphrase_file, "the recovery passphrase (first line)")
      ->required();
  cr->add_option("--tpm-tcti", recover.tpm_tcti, "TCTI (default: the one recorded in root.key)");
  cr->add_option("--seal-pcrs", recover.seal_pcrs, "PCRs to seal to (default: those recorded in root.key)");
  cr->add_option("--seal-password-file", recover.seal_password_file, "seal password (needed if one was used)");
  std::vector<std::string> args = WithEnvironment(*cs, std::vector<std::string>(argv + 1, argv + argc));
  std::reverse(args.begin(), args.end());  // CLI11's parse(vector) takes the arguments last first
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (ci->parsed() || cj->parsed()) {
    if (dev_root && !seal.empty()) {
      return Die(Error(Code::kInvalidArgument, "--dev-root-key and --seal are mutually exclusive"));
    }
    init.root_mode = dev_root ? RootKeyMode::kDevPlaintext
                              : (seal == "tpm" ? RootKeyMode::kTpm : RootKeyMode::kPassphrase);
    return ci->parsed() ? RunInit(init) : RunJoin(init);
  }
  if (cr->parsed()) return RunRecover(recover);
  if (cp->parsed()) return RunPublishJoinCopy(publish_dir, publish_options, publish_join_passphrase_file);
  log::SetFormat(log::ParseFormat(log_format).value_or(log::Format::kText));  // checked by the parser
  return RunServe(data_dir, open_options, listen, nonce_ttl, port_file, threads, handler_threads, protection);
}
