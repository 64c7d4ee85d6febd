// With g++ (no libFuzzer), every fuzz target is linked with this file, which replays the
// checked-in corpus (the directory given as the one argument, CTest passes
// tests/fuzz/corpus/NAME) through LLVMFuzzerTestOneInput, so crashers found by the clang build
// stay fixed in ordinary CI. The directory is an argument, not a compile definition, so this file
// is compiled once for all ~25 targets rather than once each.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

std::filesystem::path corpus_dir;

std::vector<std::filesystem::path> CorpusFiles() {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(corpus_dir)) {
    if (e.is_regular_file()) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(FuzzCorpus, ReplaysEveryFile) {
  auto files = CorpusFiles();
  ASSERT_FALSE(files.empty()) << "empty corpus at " << corpus_dir;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::vector<std::uint8_t> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    SCOPED_TRACE(f.string());
    EXPECT_EQ(LLVMFuzzerTestOneInput(data.data(), data.size()), 0);
  }
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);  // leaves the arguments that are not gtest flags
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s [gtest flags] CORPUS_DIR\n", argv[0]);
    return 2;
  }
  corpus_dir = argv[1];
  return RUN_ALL_TESTS();
}
