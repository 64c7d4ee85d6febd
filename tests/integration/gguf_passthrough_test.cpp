// Any file type passes through unchanged: a synthetic GGUF file (valid GGUF v3 header: magic,
// version, tensor and metadata counts, one string key/value, per the GGUF spec in
// ggml-org/ggml docs/gguf.md) is encrypted with `sigil model encrypt`, loaded with `sigil-load
// run`, and the engine (`sha256sum {model}`) sees the exact original bytes; as a single .sgl and
// as the only member of a set.
#include <filesystem>

#include "core/digest.h"
#include "core/encoding.h"
#include "core/file_io.h"
#include "tests/integration/broker_fixture.h"
#include "tests/support/matchers.h"

namespace sigil::integration {
namespace {

namespace fs = std::filesystem;
using testing::BinPath;

void PutLe(Bytes& b, std::uint64_t v, int n) {
  for (int i = 0; i < n; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void PutString(Bytes& b, const std::string& s) {  // gguf_string_t: u64 length, bytes
  PutLe(b, s.size(), 8);
  b.insert(b.end(), s.begin(), s.end());
}

// GGUF v3, no tensors, two metadata strings; the second is long so the file spans several
// 4 MiB chunks and ends mid-chunk.
Bytes SyntheticGguf() {
  Bytes b = {'G', 'G', 'U', 'F'};
  PutLe(b, 3, 4);  // version
  PutLe(b, 0, 8);  // tensor_count
  PutLe(b, 2, 8);  // metadata_kv_count
  PutString(b, "general.name");
  PutLe(b, 8, 4);  // GGUF_METADATA_VALUE_TYPE_STRING
  PutString(b, "sigil-synthetic");
  std::string desc(9 * 1024 * 1024 + 77, 'x');
  for (std::size_t i = 0; i < desc.size(); ++i) desc[i] = static_cast<char>('a' + (i * 2654435761u >> 20) % 26);
  PutString(b, "general.description");
  PutLe(b, 8, 4);
  PutString(b, desc);
  return b;
}

std::string Sha256Sum() {
  for (const char* p : {"/usr/bin/sha256sum", "/bin/sha256sum"}) {
    if (fs::exists(p)) return p;
  }
  return "";
}

TEST(GgufPassthrough, EngineSeesTheOriginalBytes) {
  auto& env = BrokerEnv::Get();
  std::string sha256sum = Sha256Sum();
  ASSERT_FALSE(sha256sum.empty()) << "coreutils sha256sum not found";
  testing::TempDir dir;
  Bytes gguf = SyntheticGguf();
  fs::create_directories(dir.File("set"));
  ASSERT_OK(WriteFileAtomic(dir.File("model.gguf"), gguf, 0600));
  ASSERT_OK(WriteFileAtomic(dir.File("set/model.gguf"), gguf, 0600));
  auto pub = env.Sigil({"key", "public", "acme/model"});
  ASSERT_OK(WriteFileAtomic(dir.File("k.pub"), AsBytes(pub.out), 0644));
  auto enc = env.Sigil({"model", "encrypt", "--recipient", dir.File("k.pub"), dir.File("model.gguf"), dir.File("model.sgl")});
  ASSERT_EQ(enc.exit_code, 0) << enc.err;
  auto info = env.Sigil({"model", "inspect", dir.File("model.sgl")});
  EXPECT_NE(info.out.find("application/x-gguf"), std::string::npos) << info.out;
  auto enc_set = env.Sigil({"model", "encrypt", "--recipient", dir.File("k.pub"), dir.File("set"), dir.File("set.enc")});
  ASSERT_EQ(enc_set.exit_code, 0) << enc_set.err;

  auto m = sigil::testing::Run({BinPath("sigil-load"), "measure", "--engine", sha256sum});
  ASSERT_EQ(m.exit_code, 0) << m.err;
  ASSERT_EQ(env.Sigil({"refs", "add", "acme", "engines", m.out.substr(0, 96)}).exit_code, 0);
  const std::string want = HexEncode(Sha256(gguf));
  for (const std::string& model : {dir.File("model.sgl"), dir.File("set.enc")}) {
    auto got = sigil::testing::Run({BinPath("sigil-load"), "run", "--broker", env.url(), "--ca", env.ca(), "--tenant",
                                    "acme", "--dev-platform-key", env.data_dir() + "/dev/platform.key", "--model", model,
                                    "--", sha256sum, "{model}"});
    ASSERT_EQ(got.exit_code, 0) << model << ": " << got.err;
    EXPECT_EQ(got.out.substr(0, 64), want) << model;
  }
}

}  // namespace
}  // namespace sigil::integration
