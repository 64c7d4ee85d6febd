// The Merkle view of a tenant's audit log (RFC 9162 tree: broker/audit/merkle.h) and the name
// its signed checkpoints carry (C2SP signed note: broker/audit/checkpoint_note.h). Shared by the
// broker, which serves checkpoints and proofs, and the CLI, which verifies them.
//
// Leaf i (0-based) is record seq i+1, its exact stored bytes: the same bytes the hash chain
// covers, so one record has one identity in both structures.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "broker/audit/merkle.h"
#include "broker/store/store.h"
#include "core/result.h"

namespace sigil::broker {

// "sigil-audit/<tenant>": the checkpoint's origin line and the key name it is signed under.
std::string AuditTreeOrigin(const std::string& tenant);

// The leaf hashes of records 1..size. kVerificationFailed if the rows are not exactly seq
// 1..size in order with readable contents (a damaged log has no trustworthy tree: `sigil audit
// verify` names the damage); kInvalidArgument if size exceeds the rows.
Result<std::vector<merkle::Hash>> AuditLeafHashes(const std::vector<AuditRow>& rows, std::uint64_t size);

}  // namespace sigil::broker
