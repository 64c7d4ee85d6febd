// Sub-command registration for the sigil CLI, one file per command group.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

#include "cli/admin_client.h"
#include "core/bytes.h"
#include "core/json.h"

namespace sigil::cli {

struct GlobalOptions {
  AdminEndpoint endpoint;
  bool json = false;
};

struct Command {
  CLI::App* sub;
  std::function<int()> run;
};

void AddTenantCommands(CLI::App& app, GlobalOptions& g, std::vector<Command>& out);
void AddStatusCommand(CLI::App& app, GlobalOptions& g, std::vector<Command>& out);
void AddKeyCommands(CLI::App& app, GlobalOptions& g, std::vector<Command>& out);
void AddPolicyCommands(CLI::App& app, GlobalOptions& g, std::vector<Command>& out);
// `sigil policy diff`, under the `policy` subcommand (cli/commands_policy_diff.cpp).
void AddPolicyDiffCommand(CLI::App& policy_app, GlobalOptions& g, std::vector<Command>& out);
// `sigil policy approve|show|rollback` (cli/commands_policy_approve.cpp).
void AddPolicyApprovalCommands(CLI::App& policy_app, GlobalOptions& g, std::vector<Command>& out);
void AddAuditCommands(CLI::App& app, GlobalOptions& g, std::vector<Command>& out);
// `sigil audit proof` (cli/commands_audit_proof.cpp), registered under `audit`.
void AddAuditProofCommand(CLI::App& audit, GlobalOptions& g, std::vector<Command>& out);
void AddAuditCheckpointCommand(CLI::App& audit, GlobalOptions& g, std::vector<Command>& out);
// sigil audit receipts | verify-receipt (cli/commands_audit_receipts.cpp).
void AddAuditReceiptCommands(CLI::App& audit, GlobalOptions& g, std::vector<Command>& out);
// RFC 3339 date-time -> Unix ms; `flag` names the option in the error.
Result<std::int64_t> ParseRfc3339Ms(const std::string& s, const char* flag);
// The pinned audit public key: `key_file`, default ADMIN_DIR/audit.pub ({"public_key": b64url}).
Result<Bytes> LoadAuditKey(const GlobalOptions& g, std::string key_file);
// `sigil refs import-nvidia-rim` (cli/commands_refs_rim.cpp), registered under `refs`.
void AddRefsImportNvidiaRimCommand(CLI::App& refs, GlobalOptions& g, std::vector<Command>& out);
void AddModelCommands(CLI::App& app, GlobalOptions& g, std::vector<Command>& out);
void AddAttestCommands(CLI::App& app, GlobalOptions& g, std::vector<Command>& out);
void AddTpmCommands(CLI::App& app, GlobalOptions& g, std::vector<Command>& out);
void AddCollateralCommands(CLI::App& app, GlobalOptions& g, std::vector<Command>& out);
// `sigil tenant create` (under `tenant`) and `sigil admin issue-cert|revoke-cert|renew-cert`
// (cli/commands_admin_certs.cpp).
void AddTenantCreateCommand(CLI::App& tenant, GlobalOptions& g, std::vector<Command>& out);
void AddAdminCertCommands(CLI::App& app, GlobalOptions& g, std::vector<Command>& out);

// The exit code for an error's Code (docs/cli.md): 2 invalid argument, 3 unavailable,
// 4 verification failed, else 1.
int ExitCodeFor(Code code);
// Prints "sigil: error: ..." and returns ExitCodeFor(e.code()).
int ReportError(const Error& e);
// Runs one admin call and prints its result (JSON with --json, else via `human`).
int AdminCall(const GlobalOptions& g, const std::string& method, const std::string& path, const Json& body,
              const std::function<void(const Json&)>& human);

}  // namespace sigil::cli
