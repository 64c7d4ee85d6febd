#include "cli/commands.h"
#include "cli/terminal_text.h"

namespace sigil::cli {

int ExitCodeFor(Code code) {
  switch (code) {
    case Code::kInvalidArgument: return 2;
    case Code::kUnavailable:
    case Code::kRateLimited: return 3;
    case Code::kVerificationFailed: return 4;
    default: return 1;
  }
}

int ReportError(const Error& e) {
  std::fprintf(stderr, "sigil: error: %s\n", ForTerminal(e.message()).c_str());
  return ExitCodeFor(e.code());
}

int AdminCall(const GlobalOptions& g, const std::string& method, const std::string& path, const Json& body,
              const std::function<void(const Json&)>& human) {
  auto client = AdminClient::Connect(g.endpoint);
  if (!client) return ReportError(client.error());
  auto r = (*client)->Call(method, path, body);
  if (!r) return ReportError(r.error());
  if (g.json) {
    std::printf("%s\n", r->dump(2).c_str());
  } else {
    human(*r);
  }
  return 0;
}

}  // namespace sigil::cli
