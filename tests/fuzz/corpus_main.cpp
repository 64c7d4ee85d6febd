// With g++ (no libFuzzer), every fuzz target is linked with this file, which replays the
// checked-in corpus (SIGIL_FUZZ_CORPUS) through LLVMFuzzerTestOneInput as one gtest per file,
// so crashers found by the clang build stay fixed in ordinary CI.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

std::vector<std::filesystem::path> CorpusFiles() {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(SIGIL_FUZZ_CORPUS)) {
    if (e.is_regular_file()) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(FuzzCorpus, ReplaysEveryFile) {
  auto files = CorpusFiles();
  ASSERT_FALSE(files.empty()) << "empty corpus at " << SIGIL_FUZZ_CORPUS;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::vector<std::uint8_t> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    SCOPED_TRACE(f.string());
    EXPECT_EQ(LLVMFuzzerTestOneInput(data.data(), data.size()), 0);
  }
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
