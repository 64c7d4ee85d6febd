#include "core/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sigil {
namespace {
Error Errno(const std::string& what, const std::string& path) {
  return Error(Code::kUnavailable, what + " " + path + ": " + std::strerror(errno));
}
}  // namespace

Result<Bytes> ReadFile(const std::string& path, std::size_t max_size) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    Error e = Errno("cannot open", path);
    return Error(errno == ENOENT ? Code::kNotFound : e.code(), e.message());
  }
  Bytes out;
  std::uint8_t buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      Error e = Errno("cannot read", path);
      ::close(fd);
      return e;
    }
    if (n == 0) break;
    if (out.size() + static_cast<std::size_t>(n) > max_size) {
      ::close(fd);
      return Fail(Code::kInvalidArgument, path + ": larger than " + std::to_string(max_size) + " bytes");
    }
    out.insert(out.end(), buf, buf + n);
  }
  ::close(fd);
  return out;
}

Result<std::string> ReadTextFile(const std::string& path, std::size_t max_size) {
  SIGIL_ASSIGN_OR_RETURN(Bytes b, ReadFile(path, max_size));
  return ToString(b);
}

Result<void> WriteFileAtomic(const std::string& path, ByteSpan data, mode_t mode) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  // A stale temporary from a crashed writer is removed first: O_EXCL then guarantees the file
  // is ours, and fchmod enforces `mode` whatever the umask.
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return Errno("cannot create", tmp);
  if (::fchmod(fd, mode) != 0) {
    Error e = Errno("cannot chmod", tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return e;
  }
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      Error e = Errno("cannot write", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return e;
    }
    off += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    Error e = Errno("cannot flush", tmp);
    ::unlink(tmp.c_str());
    return e;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Error e = Errno("cannot rename onto", path);
    ::unlink(tmp.c_str());
    return e;
  }
  // The rename is durable only once the directory entry is: a crash must not bring back the
  // old file (for shred.key, the old file is exactly what an erasure must not leave behind).
  const std::size_t slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return Errno("cannot open directory", dir);
  const int synced = ::fsync(dfd);
  ::close(dfd);
  if (synced != 0) return Errno("cannot flush directory", dir);
  return Ok();
}

}  // namespace sigil
