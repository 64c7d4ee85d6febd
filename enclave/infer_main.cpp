// sigil-infer: the reference inference engine. A small real program that sigil-load can start
// with decrypted weights at /proc/self/fd/N, and that demos use end to end.
//   sigil-infer make-weights OUT.safetensors [--seed N] [--dims 16,64,64,8]
//   sigil-infer run MODEL [--input "0.1,0.2,..."] [--json]
//   sigil-infer shard IN.safetensors OUT_DIR [--shards N]
// MODEL is a safetensors file or a sharded model's index JSON (enclave/sharded_model.h).
// Exit status 0 on success, 1 with a one-line "sigil-infer: error: ..." on stderr otherwise
// (CLI11's own codes for usage errors).
#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>

#include "core/file_io.h"
#include "enclave/infer_io.h"
#include "enclave/mlp.h"
#include "enclave/sharded_model.h"
#include "enclave/weights.h"


#if defined(__SANITIZE_ADDRESS__)
// Sanitizer builds only: LeakSanitizer stops the world with ptrace, which the engine sandbox's
// seccomp filter denies by design, so the leak check would abort every sandboxed run.
extern "C" int __lsan_is_turned_off() { return 1; }
#endif

namespace {
using namespace sigil;
using namespace sigil::enclave;

int Failed(const Error& e) {
  std::string msg = e.message();
  for (char& c : msg) c = (c == '\n' || c == '\r') ? ' ' : c;  // keep it to one line
  std::fprintf(stderr, "sigil-infer: error: %s\n", msg.c_str());
  return 1;
}

int MakeWeightsCommand(const std::string& out, std::uint64_t seed, const std::string& dims_text) {
  auto dims = ParseDims(dims_text);
  if (!dims) return Failed(dims.error());
  auto bytes = MakeWeights(*dims, seed);
  if (!bytes) return Failed(bytes.error());
  // Demo weights are not secret; 0644 so other tools (sigil model encrypt) can read them.
  auto written = WriteFileAtomic(out, *bytes, 0644);
  if (!written) return Failed(written.error());
  return 0;
}

int ShardCommand(const std::string& in, const std::string& out_dir, std::size_t count) {
  auto file = ReadFile(in);
  if (!file) return Failed(file.error());
  auto model = ShardSafetensors(*file, count);
  if (!model) return Failed(model.error().Wrap(in));
  for (const ShardFile& s : model->shards) {
    if (auto w = WriteFileAtomic(out_dir + "/" + s.name, s.bytes, 0644); !w) return Failed(w.error());
  }
  auto w = WriteFileAtomic(out_dir + "/model.safetensors.index.json", AsBytes(model->index_json), 0644);
  return w ? 0 : Failed(w.error());
}

int RunCommand(const std::string& model_path, const std::string* input_text, bool json) {
  auto mlp = LoadAnyMlp(model_path);
  if (!mlp) return Failed(mlp.error());
  std::vector<float> input = DefaultInput(mlp->input_size());
  if (input_text != nullptr) {
    auto parsed = ParseInputVector(*input_text);
    if (!parsed) return Failed(parsed.error());
    input = std::move(parsed).value();
  }
  auto out = mlp->Forward(input);
  if (!out) return Failed(out.error());
  std::fputs(FormatOutput(*out, ArgMax(*out), json).c_str(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

int Main(int argc, char** argv) {
  CLI::App app{"sigil-infer: reference inference engine (MLP over F32 safetensors)"};
  app.require_subcommand(1);

  std::string out_path, dims = "16,64,64,8";
  std::uint64_t seed = 0;
  CLI::App* make = app.add_subcommand("make-weights", "write deterministic demo weights (splitmix64)");
  make->add_option("OUT", out_path, "output .safetensors path")->required();
  make->add_option("--seed", seed, "PRNG seed (default 0)");
  make->add_option("--dims", dims, "layer widths, input first (default 16,64,64,8)");

  std::string model_path, input_text;
  bool json = false;
  CLI::App* run = app.add_subcommand("run", "run the MLP and print softmax outputs and argmax");
  run->add_option("MODEL", model_path, "safetensors file or sharded index JSON (a /proc/self/fd/N path works)")->required();
  CLI::Option* input_opt = run->add_option("--input", input_text, "comma-separated input vector");
  run->add_flag("--json", json, "print one JSON object");

  std::string shard_in, shard_dir;
  std::size_t shard_count = 2;
  CLI::App* shard = app.add_subcommand("shard", "split a safetensors file into shards plus model.safetensors.index.json");
  shard->add_option("IN", shard_in, "input .safetensors")->required();
  shard->add_option("OUT_DIR", shard_dir, "existing output directory")->required()->check(CLI::ExistingDirectory);
  shard->add_option("--shards", shard_count, "number of shards (default 2)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (make->parsed()) return MakeWeightsCommand(out_path, seed, dims);
  if (shard->parsed()) return ShardCommand(shard_in, shard_dir, shard_count);
  return RunCommand(model_path, input_opt->count() > 0 ? &input_text : nullptr, json);
}
}  // namespace

int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {  // e.g. bad_alloc: still one line and a non-zero exit
    std::fprintf(stderr, "sigil-infer: error: %s\n", e.what());
    return 1;
  }
}
