// The one registration point for TEE types on the workload side: which Attester sigil-load and
// the C API use for LoadOptions::tee. The verifying side's table is attestation/tee_catalog.h;
// adding a TEE is its attester plus one line in attester_factory.cpp.
#pragma once

#include <string>
#include <vector>

#include "enclave/attester.h"
#include "loader/attested_load.h"

namespace sigil::loader {

// The attester for o.tee, configured from `o` (kInvalidArgument naming the supported types for
// an unknown one, or naming the missing option).
Result<enclave::AttesterPtr> MakeAttester(const LoadOptions& o);

// The TEE types sigil-load can attest as, in the table's order.
std::vector<std::string> AttesterTypes();

}  // namespace sigil::loader
