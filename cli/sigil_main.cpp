// sigil: the admin CLI. Exit codes (docs/cli.md): 0 ok; 1 refused or failed at the broker;
// 2 bad usage or invalid input; 3 broker unreachable; 4 verification failed (audit, policy test).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "cli/admin_client.h"
#include "cli/commands.h"

int main(int argc, char** argv) {
  using namespace sigil::cli;
  CLI::App app{"sigil: administer a Sigil broker, encrypt models, verify audit logs"};
  app.require_subcommand(1);
  app.fallthrough();  // global options such as --json may follow the sub-command
  GlobalOptions g;
  if (const char* d = std::getenv("SIGIL_ADMIN_DIR")) g.endpoint.admin_dir = d;
  if (const char* u = std::getenv("SIGIL_BROKER_URL")) g.endpoint.broker_url = u;
  app.add_option("--admin-dir", g.endpoint.admin_dir, "admin credentials dir (DATA/admin; default $SIGIL_ADMIN_DIR)");
  app.add_option("--broker", g.endpoint.broker_url, "broker URL (default: from ADMIN_DIR/broker.json)");
  app.add_flag("--json", g.json, "machine-readable output");
  std::vector<Command> commands;
  AddTenantCommands(app, g, commands);
  AddStatusCommand(app, g, commands);
  AddKeyCommands(app, g, commands);
  AddPolicyCommands(app, g, commands);
  AddAuditCommands(app, g, commands);
  AddModelCommands(app, g, commands);
  AddAttestCommands(app, g, commands);
  AddTpmCommands(app, g, commands);
  AddCollateralCommands(app, g, commands);
  AddAdminCertCommands(app, g, commands);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // With --json an argument error is JSON on stdout too (docs/cli.md), same exit code. The
    // flag is looked for in argv: CLI11 may not have stored it when parsing stopped.
    bool json = false;
    for (int i = 1; i < argc && std::string_view(argv[i]) != "--"; ++i) {
      json = json || std::string_view(argv[i]) == "--json";
    }
    if (!json || e.get_exit_code() == 0) return app.exit(e);  // --help prints text
    sigil::Json out{{"ok", false}, {"error", {{"code", "invalid_argument"}, {"message", e.what()}}}};
    std::printf("%s\n", out.dump(2, ' ', false, sigil::Json::error_handler_t::replace).c_str());
    return e.get_exit_code();
  }
  for (auto& c : commands) {
    if (c.sub->parsed()) return c.run();
  }
  std::fprintf(stderr, "sigil: no command given (see --help)\n");
  return 2;
}
