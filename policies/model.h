// The parsed policy model: a Policy is an ordered list of Rules, each naming the keys it covers
// and a condition tree over attestation claims. Only ParsePolicy (policies/parse.h) builds a
// Policy, after validating every limit documented in policies/README.md; evaluation
// (policies/evaluate.h) relies on those invariants.
// Thread-safety: a Policy is immutable after parsing; concurrent const use is safe (std::regex
// matching on a const regex does not mutate it). Parse once per policy version and share it
// (broker/policy_cache.h): evaluation never re-parses or recompiles.
#pragma once

#include <cstdint>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "attestation/claims.h"
#include "core/bytes.h"
#include "core/result.h"

namespace sigil::policy {

// kForEachGpu: its one child holds for every GPU of composite evidence (policies/README.md).
enum class ConditionKind : std::uint8_t { kAllOf, kAnyOf, kNot, kClaimTest, kForEachGpu };

// kIndicesInReference: `claim` names a family of indexed claims (CLAIM.N), tested together
// against a set of "N:value" entries (policies/README.md, NVIDIA RIM reference sets).
enum class TestOp : std::uint8_t {
  kEquals, kIn, kGte, kLte, kInReference, kMatches, kPresent, kVersionGte, kHexVersionGte,
  kIndicesInReference
};

// One node of a rule's condition tree.
struct Condition {
  ConditionKind kind = ConditionKind::kClaimTest;
  std::string path;  // JSON path in the policy file, e.g. "$.rules[0].when.allOf[2]"

  // kAllOf / kAnyOf: one or more children. kNot, kForEachGpu: exactly one child.
  std::vector<Condition> children;

  // kClaimTest only.
  std::string claim;
  TestOp op = TestOp::kEquals;
  std::vector<attestation::ClaimValue> values;  // kEquals: one; kIn: one or more of one type;
                                                // k(Hex)VersionGte: the operand's text
  std::int64_t bound = 0;                       // kGte / kLte
  std::string reference_set;                    // kInReference, kIndicesInReference
  std::string pattern;                          // kMatches: the source text of the pattern
  std::regex regex;                             // kMatches: compiled at parse time
  bool present = true;                          // kPresent: true tests presence, false absence
  std::vector<std::uint32_t> version;           // k(Hex)VersionGte: the operand's components
};

// A policy with memory (policies/README.md "Release limits"): at most `max` releases of each key
// the rule covers within any window of `per_seconds` (a sliding window, not calendar buckets),
// counted over all workloads together, or apart for each value of the claim `per_claim` (the
// workload's measurement, its TEE identity `platform.id`, a TPM AK `tpm.ak`, ...). The broker
// counts releases in its store, atomically with each release's audit record, so the limit holds
// across a fleet of brokers sharing one store.
struct ReleaseLimit {
  std::string path;              // "$.rules[0].limits[1]"
  std::int64_t max = 0;          // 1..kMaxReleaseLimitCount
  std::int64_t per_seconds = 0;  // 1..kMaxReleaseLimitSeconds
  std::string per_claim;         // empty: every workload counts against one budget per key
};

struct Rule {
  std::string name;               // unique within the policy
  std::string path;               // "$.rules[N]"
  std::vector<std::string> keys;  // key names or globs (policies/glob.h), at least one
  Condition when;
  // Computed at parse time: true when every way for `when` to hold passes through a
  // non-negated test {"claim":"tee","equals":"dev"} or {"claim":"tee","in":[..."dev"...]}.
  // Only such rules may admit evidence whose claim `tee` is "dev" (policies/README.md).
  bool names_dev_tee = false;
  // Checked only once `when` holds: a release this rule allows counts against every limit, and
  // is refused if one is reached.
  std::vector<ReleaseLimit> limits;
  // A release this rule allows spends the attestation token (the KBS session, on that front
  // end): no later release, of any key, is made with it.
  bool single_use_token = false;
};

// Who may approve a new version of this policy (policies/README.md "Approvals"): a later
// version goes in force only once `required` distinct approvers signed it.
struct Approver {
  std::string name;
  Bytes public_key;         // raw Ed25519 key (32 bytes)
  std::string fingerprint;  // lowercase hex SHA-256 of its DER SubjectPublicKeyInfo
};
struct ApprovalRule {
  std::string path;  // "$.approvals"
  int required = 0;  // 0: no approvals, a new version is in force as soon as it is stored
  std::vector<Approver> approvers;
};

class Policy {
 public:
  // The source name given to ParsePolicy (a file name), used in messages.
  const std::string& source() const { return source_; }
  // Rules in file order. Evaluation tries them in this order.
  const std::vector<Rule>& rules() const { return rules_; }
  // Sorted, de-duplicated names of the reference sets the policy uses (for `sigil policy set`
  // to warn about sets that do not exist yet).
  std::vector<std::string> ReferenceSetNames() const;
  // Who must approve the policy's successor; required == 0 if the policy has no `approvals`.
  const ApprovalRule& approvals() const { return approvals_; }

 private:
  friend Result<Policy> ParsePolicy(std::string_view text, std::string_view source_name);
  Policy(std::string source, std::vector<Rule> rules, ApprovalRule approvals)
      : source_(std::move(source)), rules_(std::move(rules)), approvals_(std::move(approvals)) {}

  std::string source_;
  std::vector<Rule> rules_;
  ApprovalRule approvals_;
};

// True if `c` names the dev TEE in every way it can hold (the rule behind Rule::names_dev_tee):
// a claim test on `tee` with equals "dev" or an `in` list containing "dev"; an allOf with at
// least one such child; an anyOf whose children all do. A `not` never counts.
bool NamesDevTee(const Condition& c);

}  // namespace sigil::policy
