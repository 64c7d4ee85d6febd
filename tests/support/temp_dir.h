// A temporary directory removed (recursively) when the object goes out of scope.
#pragma once

#include <string>

namespace sigil::testing {
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};
}  // namespace sigil::testing
