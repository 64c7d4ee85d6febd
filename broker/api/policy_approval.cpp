#include "broker/api/policy_approval.h"

#include <charconv>
#include <memory>

#include "broker/api/admin_audit.h"
#include "broker/policy_cache.h"
#include "core/digest.h"
#include "core/ed25519.h"
#include "core/encoding.h"
#include "core/protocol.h"
#include "policies/policy.h"

namespace sigil::broker {
namespace {

std::string TextDigest(const std::string& text) { return HexEncode(Sha256(AsBytes(text))); }

// "version N (sha256 0123456789abcdef...)": how records name a version.
std::string Named(std::int64_t version, const std::string& text) {
  return "version " + std::to_string(version) + " (sha256 " + TextDigest(text) + ")";
}

Result<std::int64_t> ParseVersion(const std::string& s) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 1 || s.size() > 18 || s[0] == '0') {
    return Fail(Code::kInvalidArgument, "policy version must be a positive decimal number");
  }
  return v;
}

// The policy in force (nullopt if the tenant has none) and its parsed form.
struct InForce {
  PolicyRow row;
  std::shared_ptr<const policy::Policy> parsed;
};
Result<std::optional<InForce>> PolicyInForce(const BrokerContext& ctx, const std::string& tenant) {
  auto row = ctx.store->GetPolicy(tenant);
  if (!row) {
    if (row.error().code() == Code::kNotFound) return std::optional<InForce>();
    return std::move(row).error();
  }
  SIGIL_ASSIGN_OR_RETURN(policy::Policy parsed, policy::ParsePolicy(row->text, "policy in force"));
  return std::optional<InForce>(InForce{std::move(*row), std::make_shared<const policy::Policy>(std::move(parsed))});
}

// The approvers of `rule` who validly signed `proposal` (distinct keys; a row whose signature
// does not verify, or whose key the rule does not pin, counts for nothing).
std::vector<const policy::Approver*> ValidApprovals(const std::string& tenant, const PolicyRow& proposal,
                                                    const policy::ApprovalRule& rule,
                                                    const std::vector<PolicyApprovalRow>& rows) {
  const std::string message = protocol::PolicyApprovalMessage(tenant, proposal.version, TextDigest(proposal.text));
  std::vector<const policy::Approver*> out;
  for (const policy::Approver& a : rule.approvers) {
    for (const PolicyApprovalRow& r : rows) {
      if (r.approver == a.fingerprint && Ed25519Verify(a.public_key, AsBytes(message), r.signature)) {
        out.push_back(&a);
        break;
      }
    }
  }
  return out;
}

Json Approvals(const std::vector<const policy::Approver*>& valid) {
  Json out = Json::array();
  for (const policy::Approver* a : valid) out.push_back(Json{{"name", a->name}, {"key", a->fingerprint}});
  return out;
}

// Stores `text` as the tenant's next version: in force at once if the policy in force names no
// approvers, else a proposal. `action` and `why` describe it in the audit record.
Result<Json> StoreVersion(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant,
                          const std::string& text, const std::string& source, const std::string& action,
                          const std::string& why) {
  SIGIL_ASSIGN_OR_RETURN(policy::Policy parsed, policy::ParsePolicy(text, source));
  auto shared = std::make_shared<const policy::Policy>(std::move(parsed));
  SIGIL_ASSIGN_OR_RETURN(auto current, PolicyInForce(ctx, tenant));
  const std::string replacing = current ? ", replacing " + Named(current->row.version, current->row.text) : "";
  Json out{{"tenant", tenant}};
  if (current && current->parsed->approvals().required > 0) {
    const int required = current->parsed->approvals().required;
    SIGIL_ASSIGN_OR_RETURN(std::int64_t version, ctx.store->ProposePolicy(tenant, text));
    // A rollback keeps its own action whether it is in force at once or proposed.
    const std::string proposed = action == "admin.policy.set" ? "admin.policy.propose" : action;
    SIGIL_RETURN_IF_ERROR(AuditAdminAction(ctx, meta, tenant, proposed, "", version,
                                why + "policy " + Named(version, text) + " proposed" + replacing + "; in force once " +
                                    std::to_string(required) + " approver(s) sign it"));
    out["policy_version"] = version;
    out["state"] = "proposed";
    out["approvals_required"] = required;
    out["approvals"] = Json::array();
  } else {
    SIGIL_RETURN_IF_ERROR(ctx.store->PutPolicy(tenant, text));
    SIGIL_ASSIGN_OR_RETURN(auto stored, ctx.store->GetPolicy(tenant));
    // The version just validated is the one releases will use: parsed once, here.
    if (ctx.policies != nullptr) ctx.policies->Put(tenant, stored.version, shared);
    SIGIL_RETURN_IF_ERROR(AuditAdminAction(ctx, meta, tenant, action, "", stored.version,
                                why + "policy " + Named(stored.version, stored.text) + " in force" + replacing));
    out["policy_version"] = stored.version;
    out["state"] = "active";
  }
  // Sets named by the policy that do not exist yet: `in_reference` over them is false, so a
  // typo or a set not yet created silently changes what the policy admits.
  Json warnings = Json::array();
  SIGIL_ASSIGN_OR_RETURN(auto refs, ctx.store->ListReferences(tenant));
  for (const std::string& set : shared->ReferenceSetNames()) {
    if (refs.find(set) == refs.end()) {
      warnings.push_back("reference set '" + set + "' does not exist yet (add values with `sigil refs add " + tenant +
                         " " + set + " VALUE`); until it does, in_reference over it is false");
    }
  }
  out["warnings"] = std::move(warnings);
  return out;
}

}  // namespace

Result<Json> AdminSetPolicy(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant, const Json& body) {
  SIGIL_RETURN_IF_ERROR(ctx.store->GetTenantKek(tenant));
  SIGIL_ASSIGN_OR_RETURN(std::string text, GetString(body, "policy", "request"));
  std::string source = "policy";
  if (body.contains("source") && body["source"].is_string()) source = body["source"].get<std::string>();
  return StoreVersion(ctx, meta, tenant, text, source, "admin.policy.set", "");
}

Result<Json> AdminGetPolicyVersion(const BrokerContext& ctx, const std::string& tenant, const std::string& version_text) {
  SIGIL_ASSIGN_OR_RETURN(std::int64_t version, ParseVersion(version_text));
  SIGIL_ASSIGN_OR_RETURN(PolicyRow row, ctx.store->GetPolicyVersion(tenant, version));
  Json out{{"tenant", tenant}, {"policy_version", version}, {"policy", row.text}, {"sha256", TextDigest(row.text)},
           {"state", row.active ? "active" : "proposed"}};
  SIGIL_ASSIGN_OR_RETURN(auto current, PolicyInForce(ctx, tenant));
  if (!row.active && current) {
    if (current->row.version > version) {
      out["state"] = "superseded";
    } else {
      SIGIL_ASSIGN_OR_RETURN(auto rows, ctx.store->ListPolicyApprovals(tenant, version));
      out["approvals"] = Approvals(ValidApprovals(tenant, row, current->parsed->approvals(), rows));
      out["approvals_required"] = current->parsed->approvals().required;
    }
  }
  return out;
}

Result<Json> AdminApprovePolicy(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant,
                                const std::string& version_text, const Json& body) {
  SIGIL_ASSIGN_OR_RETURN(std::int64_t version, ParseVersion(version_text));
  SIGIL_ASSIGN_OR_RETURN(std::string key_text, GetString(body, "public_key", "request"));
  SIGIL_ASSIGN_OR_RETURN(std::string sig_text, GetString(body, "signature", "request"));
  auto spki = Base64Decode(key_text);
  auto signature = Base64Decode(sig_text);
  if (!spki || spki->size() > 1024) return Fail(Code::kInvalidArgument, "public_key is not base64 of a DER public key");
  if (!signature || signature->size() != kEd25519SignatureSize) {
    return Fail(Code::kInvalidArgument, "signature is not base64 of a 64-byte Ed25519 signature");
  }
  SIGIL_ASSIGN_OR_RETURN(PolicyRow proposal, ctx.store->GetPolicyVersion(tenant, version));
  const std::string name = "policy " + Named(version, proposal.text);
  if (proposal.active) return Fail(Code::kAlreadyExists, name + " is already in force");
  SIGIL_ASSIGN_OR_RETURN(auto current, PolicyInForce(ctx, tenant));
  if (!current || current->row.version > version || current->parsed->approvals().required == 0) {
    return Fail(Code::kAlreadyExists, name + " was superseded by the version in force; propose it again");
  }
  const policy::ApprovalRule& rule = current->parsed->approvals();
  const std::string fingerprint = HexEncode(Sha256(*spki));
  const policy::Approver* approver = nullptr;
  for (const policy::Approver& a : rule.approvers) {
    if (a.fingerprint == fingerprint) approver = &a;
  }
  if (approver == nullptr) {
    return Fail(Code::kPermissionDenied, "key " + fingerprint.substr(0, 16) + " is not an approver of policy version " +
                                             std::to_string(current->row.version) + " (the policy in force)");
  }
  const std::string message = protocol::PolicyApprovalMessage(tenant, version, TextDigest(proposal.text));
  if (auto ok = Ed25519Verify(approver->public_key, AsBytes(message), *signature); !ok) {
    return Fail(Code::kVerificationFailed, "the approval signature of " + approver->name + " does not verify over " +
                                               name + " (sigil policy approve signs the file you reviewed)");
  }
  const std::int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(ctx.now().time_since_epoch()).count();
  SIGIL_RETURN_IF_ERROR(ctx.store->AddPolicyApproval(
      tenant, PolicyApprovalRow{version, fingerprint, *spki, *signature, now_ms}));
  SIGIL_RETURN_IF_ERROR(AuditAdminAction(ctx, meta, tenant, "admin.policy.approve", "", version,
                              "approver " + approver->name + " (key " + fingerprint + ") signed " + name +
                                  " with signature " + Base64Encode(*signature)));
  SIGIL_ASSIGN_OR_RETURN(auto rows, ctx.store->ListPolicyApprovals(tenant, version));
  const auto valid = ValidApprovals(tenant, proposal, rule, rows);
  Json out{{"tenant", tenant}, {"policy_version", version}, {"approvals", Approvals(valid)},
           {"approvals_required", rule.required}, {"state", "proposed"}};
  if (static_cast<int>(valid.size()) < rule.required) return out;
  SIGIL_ASSIGN_OR_RETURN(policy::Policy parsed, policy::ParsePolicy(proposal.text, "proposal"));
  if (auto activated = ctx.store->ActivatePolicy(tenant, version); !activated) {
    // Another approval, at this or another broker, completed it first: the same outcome.
    SIGIL_ASSIGN_OR_RETURN(PolicyRow now, ctx.store->GetPolicyVersion(tenant, version));
    if (!now.active) return std::move(activated).error();
    out["state"] = "active";
    return out;
  }
  if (ctx.policies != nullptr) ctx.policies->Put(tenant, version, std::make_shared<const policy::Policy>(std::move(parsed)));
  std::string signers;
  for (const policy::Approver* a : valid) signers += (signers.empty() ? "" : ", ") + a->name;
  SIGIL_RETURN_IF_ERROR(AuditAdminAction(ctx, meta, tenant, "admin.policy.activate", "", version,
                              name + " in force, approved by " + signers + ", replacing " +
                                  Named(current->row.version, current->row.text)));
  out["state"] = "active";
  return out;
}

Result<Json> AdminRollbackPolicy(const BrokerContext& ctx, const RequestMeta& meta, const std::string& tenant,
                                 const Json& body) {
  SIGIL_RETURN_IF_ERROR(ctx.store->GetTenantKek(tenant));
  const auto to = body.find("to");
  if (to == body.end() || !to->is_number_integer() || to->get<std::int64_t>() < 1) {
    return Fail(Code::kInvalidArgument, "request: 'to' must be a policy version number");
  }
  const std::int64_t version = to->get<std::int64_t>();
  SIGIL_ASSIGN_OR_RETURN(PolicyRow old, ctx.store->GetPolicyVersion(tenant, version));
  SIGIL_ASSIGN_OR_RETURN(auto current, PolicyInForce(ctx, tenant));
  if (!old.active || !current || current->row.version <= version) {
    return Fail(Code::kInvalidArgument, "policy version " + std::to_string(version) +
                                            " was never in force before the version in force; only those can be rolled back to");
  }
  // A rollback is a new version with the old text: the history only grows, and under approvals
  // it needs them like any change (an old, laxer policy is exactly what they guard against).
  return StoreVersion(ctx, meta, tenant, old.text, "policy version " + std::to_string(version), "admin.policy.rollback",
                      "rollback to " + Named(version, old.text) + ": ");
}

}  // namespace sigil::broker
