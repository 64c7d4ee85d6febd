// The shared store: PostgreSQL (15 or later) through libpq, for several brokers serving one
// fleet. Same contract as the embedded SQLite store (store.h); what differs is documented in
// docs/architecture.md ("Several brokers"). Durability comes from the server: every write is a
// committed transaction with synchronous_commit=on, which the store sets on each connection.
#pragma once

#include <memory>
#include <string>

#include "broker/store/store.h"

namespace sigil::broker {

// Connects with `url` (a libpq URI, postgresql://...), checks or (kCreate) creates the schema,
// and keeps a small pool of connections that reconnect by themselves when the server comes back.
// kExisting refuses a database without Sigil's schema (never initialise one outside init).
Result<std::unique_ptr<Store>> OpenPostgresStore(const std::string& url, StoreOpen how = StoreOpen::kExisting);

// `url` with any password removed, for messages and logs.
std::string RedactStoreUrl(const std::string& url);

}  // namespace sigil::broker
