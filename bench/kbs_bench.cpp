// The KBS front end end to end against the native v1 flow, in the same run on the same broker:
// C concurrent clients run full native flows (challenge, dev evidence, attest, release, open the
// re-sealed DEK), then full KBS flows (auth, dev evidence over the JCS runtime data, attest with
// the session cookie, resource as a JWE to a fresh P-256 key, ECDH-ES+A256KW unwrapped and
// A256GCM opened here). Last line: `kbs: flows_per_s=N ratio_vs_native=R` (bench/run kbs).
#include <openssl/core_names.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <vector>

#include "attestation/dev/platform_key.h"
#include "core/aead.h"
#include "core/digest.h"
#include "core/encoding.h"
#include "core/file_io.h"
#include "core/hpke.h"
#include "core/jcs.h"
#include "core/jwe.h"
#include "core/protocol.h"
#include "enclave/dev_attester.h"
#include "net/broker_client.h"
#include "net/https_client.h"

namespace {
using namespace sigil;
using Clock = std::chrono::steady_clock;

constexpr const char* kMeasurement =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

int RunCmd(std::vector<std::string> argv, const std::string& out_file) {
  pid_t pid = fork();
  if (pid == 0) {
    FILE* f = std::fopen(out_file.c_str(), "w");
    if (f) dup2(fileno(f), 1);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    std::vector<char*> a;
    for (auto& s : argv) a.push_back(s.data());
    a.push_back(nullptr);
    execv(a[0], a.data());
    _exit(127);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

attestation::WorkloadPurpose Purpose() { return {"sealed-memory", kMeasurement, HexEncode(Sha256(AsBytes("")))}; }

Result<void> NativeFlow(net::BrokerClient& c, const net::ReleaseArtifact& art, const SecretBytes& seed) {
  SIGIL_ASSIGN_OR_RETURN(hpke::KeyPair k, hpke::GenerateKeyPair(hpke::Kem::kX25519HkdfSha256));
  SIGIL_ASSIGN_OR_RETURN(Bytes nonce, c.Challenge("bench", "dev"));
  SIGIL_ASSIGN_OR_RETURN(Bytes ev, enclave::MakeDevEvidence(seed, protocol::Binding(nonce, k.public_key), kMeasurement,
                                                            false, std::chrono::system_clock::now(), Purpose()));
  SIGIL_ASSIGN_OR_RETURN(std::string token, c.Attest("bench", "dev", nonce, ev, k.public_key));
  SIGIL_ASSIGN_OR_RETURN(auto rel, c.Release(token, k.public_key, {art}));
  SIGIL_ASSIGN_OR_RETURN(SecretBytes dek, hpke::OpenSecret(hpke::kSigilSuite, rel[0].enc, k.private_key,
                                                           protocol::ReleaseInfo("bench", "model", 1, rel[0].artifact_id),
                                                           {}, rel[0].sealed_dek));
  return Ok();
}

Result<Bytes> Coord(EVP_PKEY* k, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(k, name, &bn) != 1) return Fail(Code::kInternal, "coordinate");
  BignumPtr owned(bn);
  Bytes out(32);
  BN_bn2binpad(bn, out.data(), 32);
  return out;
}

// The JWE's content, opened with the guest's P-256 key (RFC 7516 section 5.2, RFC 7518 4.6).
Result<Bytes> OpenJwe(const Json& jwe, EVP_PKEY* key) {
  SIGIL_ASSIGN_OR_RETURN(Bytes hb, Base64UrlDecode(jwe.value("protected", "")));
  SIGIL_ASSIGN_OR_RETURN(Json header, ParseJson(ToString(hb), "protected"));
  SIGIL_ASSIGN_OR_RETURN(jwe::RecipientKey epk, jwe::ParseRecipientJwk(header["epk"], "epk"));
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  Bytes z(32);
  std::size_t zl = z.size();
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 || EVP_PKEY_derive_set_peer(ctx.get(), epk.pkey.get()) != 1 ||
      EVP_PKEY_derive(ctx.get(), z.data(), &zl) != 1) {
    return Fail(Code::kInternal, "ECDH");
  }
  const Bytes kek = jwe::ConcatKdf(z, "ECDH-ES+A256KW", {}, {}, 32);
  SIGIL_ASSIGN_OR_RETURN(Bytes ek, Base64UrlDecode(jwe.value("encrypted_key", "")));
  EvpCipherCtxPtr c(EVP_CIPHER_CTX_new());
  EVP_CIPHER_CTX_set_flags(c.get(), EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  Bytes cek(ek.size());
  int l1 = 0, l2 = 0;
  if (EVP_DecryptInit_ex(c.get(), EVP_aes_256_wrap(), nullptr, kek.data(), nullptr) != 1 ||
      EVP_DecryptUpdate(c.get(), cek.data(), &l1, ek.data(), static_cast<int>(ek.size())) != 1 ||
      EVP_DecryptFinal_ex(c.get(), cek.data() + l1, &l2) != 1) {
    return Fail(Code::kVerificationFailed, "AES key unwrap");
  }
  cek.resize(static_cast<std::size_t>(l1 + l2));
  SIGIL_ASSIGN_OR_RETURN(Bytes ct, Base64UrlDecode(jwe.value("ciphertext", "")));
  SIGIL_ASSIGN_OR_RETURN(Bytes tag, Base64UrlDecode(jwe.value("tag", "")));
  SIGIL_ASSIGN_OR_RETURN(Bytes iv, Base64UrlDecode(jwe.value("iv", "")));
  ct.insert(ct.end(), tag.begin(), tag.end());
  return AeadOpen(AeadAlg::kAes256Gcm, cek, iv, AsBytes(jwe.value("protected", "")), ct);
}

Result<void> KbsFlow(net::HttpsClient& h, const SecretBytes& seed) {
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return Fail(Code::kInternal, "keygen");
  SIGIL_ASSIGN_OR_RETURN(Bytes x, Coord(key.get(), OSSL_PKEY_PARAM_EC_PUB_X));
  SIGIL_ASSIGN_OR_RETURN(Bytes y, Coord(key.get(), OSSL_PKEY_PARAM_EC_PUB_Y));
  const Json jwk{{"kty", "EC"}, {"crv", "P-256"}, {"x", Base64UrlEncode(x)}, {"y", Base64UrlEncode(y)}};
  SIGIL_ASSIGN_OR_RETURN(net::HttpResponse a, h.Send("POST", "/kbs/v0/auth", R"({"version":"0.4.0","tee":"dev"})"));
  if (a.status != 200) return Fail(Code::kInternal, "auth: " + a.body);
  const std::string cookie = a.set_cookie.substr(0, a.set_cookie.find(';'));
  SIGIL_ASSIGN_OR_RETURN(Json ch, ParseJson(a.body, "challenge"));
  const std::string nonce = ch.value("nonce", "");
  SIGIL_ASSIGN_OR_RETURN(std::string canon,
                         Jcs(Json{{"tee-pubkey", jwk}, {"nonce", nonce}, {"additional-evidence", ""}}));
  const Sha384Digest d = Sha384(AsBytes(canon));
  Bytes binding(64, 0);
  std::copy(d.begin(), d.end(), binding.begin());
  SIGIL_ASSIGN_OR_RETURN(Bytes ev, enclave::MakeDevEvidence(seed, binding, kMeasurement, false,
                                                            std::chrono::system_clock::now(), Purpose()));
  SIGIL_ASSIGN_OR_RETURN(Json evj, ParseJson(ToString(ev), "evidence"));
  const Json body{{"runtime-data", {{"nonce", nonce}, {"tee-pubkey", jwk}}},
                  {"tee-evidence", {{"primary_evidence", evj}, {"additional_evidence", ""}}}};
  SIGIL_ASSIGN_OR_RETURN(net::HttpResponse t, h.Send("POST", "/kbs/v0/attest", DumpJson(body), "", cookie));
  if (t.status != 200) return Fail(Code::kInternal, "attest: " + t.body);
  SIGIL_ASSIGN_OR_RETURN(net::HttpResponse r, h.Send("GET", "/kbs/v0/resource/bench/model/1", "", "", cookie));
  if (r.status != 200) return Fail(Code::kInternal, "resource: " + r.body);
  SIGIL_ASSIGN_OR_RETURN(Json jwe, ParseJson(r.body, "jwe"));
  SIGIL_ASSIGN_OR_RETURN(Bytes secret, OpenJwe(jwe, key.get()));
  if (secret.size() != 32) return Fail(Code::kInternal, "resource is not 32 bytes");
  return Ok();
}

// Runs `flow` flows_per_client times on each of `clients` threads; flows per second.
template <class MakeClient, class OneFlow>
double Run(int clients, int flows_per_client, MakeClient make, OneFlow flow, int& failures) {
  std::atomic<int> fails{0}, done{0};
  const auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      auto client = make();
      if (!client) {
        fails += flows_per_client;
        return;
      }
      for (int i = 0; i < flows_per_client; ++i) {
        auto r = flow(**client);
        if (r) {
          ++done;
        } else if (fails++ == 0) {
          std::fprintf(stderr, "flow failed: %s\n", r.error().message().c_str());
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  failures = fails.load();
  return static_cast<double>(done.load()) / std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  int clients = 4, flows_per_client = 100;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--clients") clients = std::atoi(argv[i + 1]);
    if (a == "--flows") flows_per_client = std::atoi(argv[i + 1]);
  }
  const std::string bin = std::filesystem::canonical("/proc/self/exe").parent_path().string();
  char tmpl[] = "/tmp/sigil-bench-kbs-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  const std::string data = dir + "/broker", admin = data + "/admin";
  if (RunCmd({bin + "/sigild", "init", "--data-dir", data, "--dev-root-key", "--dev-tee", "--listen", "127.0.0.1:0"},
             dir + "/init.out") != 0) {
    std::fprintf(stderr, "sigild init failed\n");
    return 1;
  }
  pid_t broker = fork();
  if (broker == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    FILE* log = std::fopen((dir + "/sigild.log").c_str(), "w");
    if (log) dup2(fileno(log), 2);
    execl((bin + "/sigild").c_str(), "sigild", "serve", "--data-dir", data.c_str(), "--port-file", (dir + "/port").c_str(),
          "--unauth-rate-per-address", "0", "--unauth-rate-per-tenant", "0", static_cast<char*>(nullptr));
    _exit(127);
  }
  std::string port;
  for (int i = 0; i < 200 && port.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto p = ReadTextFile(dir + "/port");
    if (p && !p->empty()) port = p->substr(0, p->find('\n'));
  }
  const std::string url = "https://127.0.0.1:" + port, ca = admin + "/ca.pem";
  const std::string policy = dir + "/policy.json";
  (void)WriteFileAtomic(policy, AsBytes(R"({"version":1,"rules":[{"name":"bench","keys":["model"],"when":{"allOf":[
    {"claim":"tee","equals":"dev"},{"claim":"debug","equals":false},{"claim":"measurement","in_reference":"engines"}]}}]})"), 0644);
  for (auto args : std::vector<std::vector<std::string>>{{"tenant", "create", "bench"}, {"key", "create", "bench/model"},
                                                         {"policy", "set", "bench", policy},
                                                         {"refs", "add", "bench", "engines", kMeasurement}}) {
    args.insert(args.begin(), {bin + "/sigil", "--admin-dir", admin, "--broker", url});
    if (RunCmd(args, dir + "/cli.out") != 0) {
      std::fprintf(stderr, "provisioning failed\n");
      return 1;
    }
  }
  RunCmd({bin + "/sigil", "--admin-dir", admin, "--broker", url, "key", "public", "bench/model"}, dir + "/model.pub");
  auto pub_json = ParseJson(*ReadTextFile(dir + "/model.pub"), "model.pub");
  const Bytes pk = *Base64UrlDecode(pub_json->value("public_key", ""));
  auto dek = SecretBytes::Random(32);
  auto sealed = hpke::Seal(hpke::kSigilSuite, pk, protocol::DekSealInfo("bench", "model", 1), {},
                           dek->Reveal(SecretAccess::Get()));
  const net::ReleaseArtifact art{"bench/model", 1, sealed->enc, sealed->ciphertext};
  auto seed_kp = attestation::dev::LoadDevPlatformKey(data + "/dev/platform.key");
  const SecretBytes& seed = seed_kp->seed;

  int native_fail = 0, kbs_fail = 0;
  const double native = Run(
      clients, flows_per_client, [&] { return net::BrokerClient::Connect(url, ca); },
      [&](net::BrokerClient& c) { return NativeFlow(c, art, seed); }, native_fail);
  const double kbs = Run(
      clients, flows_per_client, [&] { return net::HttpsClient::Create(url, {ca, std::nullopt, std::nullopt}); },
      [&](net::HttpsClient& h) { return KbsFlow(h, seed); }, kbs_fail);
  kill(broker, SIGTERM);
  waitpid(broker, nullptr, 0);
  std::filesystem::remove_all(dir);
  std::printf("native: clients=%d flows=%d failures=%d flows_per_s=%.1f\n", clients, clients * flows_per_client,
              native_fail, native);
  std::printf("kbs: clients=%d flows=%d failures=%d (P-256 guest key, ECDH-ES+A256KW)\n", clients,
              clients * flows_per_client, kbs_fail);
  std::printf("kbs: flows_per_s=%.1f ratio_vs_native=%.2f\n", kbs, native > 0 ? kbs / native : 0.0);
  return native_fail == 0 && kbs_fail == 0 ? 0 : 1;
}
