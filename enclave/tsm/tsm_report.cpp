#include "enclave/tsm/tsm_report.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <thread>

#include "core/unique_fd.h"

namespace sigil::enclave::tsm {
namespace {

Error Sys(const std::string& what, int err) {
  return Error(Code::kUnavailable, what + ": " + std::strerror(err));
}

// Removes the report entry; configfs frees the kernel object on rmdir. Failure is not an error
// for the caller (the report is already read), so it is ignored.
class EntryGuard {
 public:
  explicit EntryGuard(std::string path) : path_(std::move(path)) {}
  ~EntryGuard() { ::rmdir(path_.c_str()); }
  EntryGuard(const EntryGuard&) = delete;
  EntryGuard& operator=(const EntryGuard&) = delete;

 private:
  std::string path_;
};

Result<Bytes> ReadAll(const std::string& path, std::size_t limit) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return Sys("cannot open " + path, errno);
  Bytes out;
  std::uint8_t buf[4096];
  while (true) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Sys("cannot read " + path, errno);
    if (n == 0) break;
    out.insert(out.end(), buf, buf + n);
    if (out.size() > limit) return Fail(Code::kUnavailable, path + " is larger than expected");
  }
  return out;
}

Result<void> WriteAll(const std::string& path, ByteSpan data) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
  if (fd.get() < 0) return Sys("cannot open " + path, errno);
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Sys("cannot write " + path, errno);
    done += static_cast<std::size_t>(n);
  }
  return Ok();
}

std::string Trim(const Bytes& b) {
  std::string s(b.begin(), b.end());
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

Result<std::uint64_t> ReadGeneration(const std::string& entry) {
  SIGIL_ASSIGN_OR_RETURN(Bytes raw, ReadAll(entry + "/generation", 64));
  const std::string text = Trim(raw);
  // from_chars, not stoull: a digit string beyond 2^64 must be an error value, not an exception.
  std::uint64_t gen = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), gen);
  if (text.empty() || text.front() < '0' || text.front() > '9' || ec != std::errc() ||
      end != text.data() + text.size()) {
    return Fail(Code::kUnavailable, entry + "/generation is not a 64-bit decimal number: '" + text.substr(0, 40) + "'");
  }
  return gen;
}

// configfs creates an entry's attributes together with the directory. This bounded wait costs
// nothing there and lets the tests' user-space stand-in for the kernel populate a plain
// directory after mkdir.
Result<void> WaitForAttributes(const std::string& entry) {
  const std::string generation = entry + "/generation";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  struct stat st;
  while (::stat(generation.c_str(), &st) != 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      return Fail(Code::kUnavailable, entry + " has no 'generation' attribute: not a configfs-tsm "
                                              "report entry");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return Ok();
}

std::string EntryName() {
  static std::atomic<std::uint64_t> counter{0};
  return "sigil-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1));
}

}  // namespace

Result<TsmReport> GetTsmReport(const std::string& root, ByteSpan inblob,
                               std::string_view want_provider) {
  struct stat st;
  if (::stat(root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Fail(Code::kUnavailable,
                "configfs-tsm is not available at " + root +
                    " (needs Linux >= 6.7 with a TSM provider such as sev-guest or tdx-guest, "
                    "inside a confidential VM, and configfs mounted)");
  }
  const std::string entry = root + "/" + EntryName();
  if (::mkdir(entry.c_str(), 0700) != 0) return Sys("cannot create report entry " + entry, errno);
  EntryGuard guard(entry);
  SIGIL_RETURN_IF_ERROR(WaitForAttributes(entry));
  TsmReport report;
  SIGIL_ASSIGN_OR_RETURN(Bytes provider, ReadAll(entry + "/provider", 256));
  report.provider = Trim(provider);
  if (!want_provider.empty() && report.provider != want_provider) {
    return Fail(Code::kUnavailable, "configfs-tsm provider is '" + report.provider + "', expected '" +
                                        std::string(want_provider) + "'");
  }
  SIGIL_ASSIGN_OR_RETURN(const std::uint64_t before, ReadGeneration(entry));
  SIGIL_RETURN_IF_ERROR(WriteAll(entry + "/inblob", inblob));
  SIGIL_ASSIGN_OR_RETURN(report.outblob, ReadAll(entry + "/outblob", std::size_t{1} << 20));
  struct stat aux;
  if (::stat((entry + "/auxblob").c_str(), &aux) == 0) {
    SIGIL_ASSIGN_OR_RETURN(report.auxblob, ReadAll(entry + "/auxblob", std::size_t{1} << 20));
  }
  SIGIL_ASSIGN_OR_RETURN(const std::uint64_t after, ReadGeneration(entry));
  // ABI doc: generation increments on every write to inblob (or an option). Exactly our one
  // write in between means outblob answers our inblob.
  if (after != before + 1) {
    return Fail(Code::kUnavailable, "configfs-tsm entry " + entry + " generation went from " +
                                        std::to_string(before) + " to " + std::to_string(after) +
                                        ": another writer raced this request; retry");
  }
  if (report.outblob.empty()) return Fail(Code::kUnavailable, entry + "/outblob is empty");
  return report;
}

}  // namespace sigil::enclave::tsm
