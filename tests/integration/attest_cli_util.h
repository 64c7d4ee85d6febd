// Shared by the `sigil attest verify` tests (attest_verify_test.cpp, attest_verify_new_tees_test.cpp):
// vector paths, whole-file reads and writes, running the CLI, reading its --json output.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/json.h"
#include "tests/support/process.h"

namespace sigil::integration {

inline std::string Vector(const std::string& rel) { return std::string(SIGIL_SHARED_DIR) + "/vectors/" + rel; }

inline Bytes Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline void Spit(const std::string& path, const Bytes& b) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

inline sigil::testing::CommandResult Sigil(std::vector<std::string> args) {
  args.insert(args.begin(), sigil::testing::BinPath("sigil"));
  return sigil::testing::Run(args);
}

// With --json every outcome is one JSON object on stdout.
inline Json JsonOut(const sigil::testing::CommandResult& r) {
  auto j = ParseJson(r.out, "sigil --json output");
  EXPECT_TRUE(j.has_value()) << "not JSON: " << r.out << " / stderr: " << r.err;
  return j ? *j : Json();
}

}  // namespace sigil::integration
