// The store is not trusted by being there: every row that carries authority (key versions with
// their state and public half, policies, reference values, TPM AKs) is tagged with
// HMAC-SHA256 under a key derived from the root key (HKDF-SHA256, info "sigil/store-row-mac/v1"),
// over the row's identity, version and content. AuthenticatedStore wraps a backend: it tags what
// the broker writes and checks what it reads; a row whose tag does not match (edited, inserted
// or swapped by whoever can write the SQLite file or the PostgreSQL database) is refused with
// kVerificationFailed and an "ALARM" on stderr, and never used. Tenant KEKs and the broker's
// own keys are AEAD-wrapped with their identity as associated data, which already authenticates
// them. What the tags cannot do: stop a writer from deleting rows or putting back an older row
// with its valid tag (rollback); docs/threat-model.md.
#pragma once

#include <memory>

#include "broker/store/store.h"
#include "core/secret_bytes.h"

namespace sigil::broker {

Result<std::unique_ptr<Store>> AuthenticateStore(std::unique_ptr<Store> backend, const SecretBytes& root_key);

// Upgrading a store written before rows were tagged: tags every untagged authority row as it
// stands (sigild serve --tag-existing-rows, once, after the operator has checked the store).
Result<int> TagExistingRows(Store& backend, const SecretBytes& root_key);

}  // namespace sigil::broker
