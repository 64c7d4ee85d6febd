#include "broker/store/sqlite_store.h"

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>

#include "broker/store/group_commit.h"
#include "broker/store/policy_versions.h"
#include "broker/store/release_gate_check.h"
#include "broker/store/sqlite_db.h"

namespace sigil::broker {
namespace {
using sql::Stmt;

// How long an expired nonce is kept (so a late attest hears "expired", not "unknown").
constexpr std::int64_t kNonceGraceMillis = 10 * 60 * 1000;
// The same for a pending TPM enrolment (a late finish hears "expired", not "unknown").
constexpr std::int64_t kEnrolmentGraceMillis = 10 * 60 * 1000;

constexpr const char* kSchema = R"sql(
PRAGMA journal_mode=WAL;
PRAGMA synchronous=FULL;
PRAGMA foreign_keys=ON;
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS tenants (name TEXT PRIMARY KEY, kek BLOB NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS key_versions (
  tenant TEXT NOT NULL REFERENCES tenants(name), name TEXT NOT NULL, version INTEGER NOT NULL,
  class TEXT NOT NULL, state TEXT NOT NULL, public_key BLOB NOT NULL, private_key BLOB NOT NULL,
  created_at INTEGER NOT NULL, PRIMARY KEY (tenant, name, version));
CREATE TABLE IF NOT EXISTS policies (
  tenant TEXT NOT NULL REFERENCES tenants(name), version INTEGER NOT NULL, text TEXT NOT NULL,
  created_at INTEGER NOT NULL, PRIMARY KEY (tenant, version));
CREATE TABLE IF NOT EXISTS refs (
  tenant TEXT NOT NULL REFERENCES tenants(name), set_name TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (tenant, set_name, value));
CREATE TABLE IF NOT EXISTS nonces (
  nonce BLOB PRIMARY KEY, tenant TEXT NOT NULL, tee TEXT NOT NULL, expires_at INTEGER NOT NULL,
  used INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS nonces_by_tenant ON nonces(tenant, expires_at);
CREATE TABLE IF NOT EXISTS audit (
  tenant TEXT NOT NULL, seq INTEGER NOT NULL, record TEXT NOT NULL, hash TEXT NOT NULL,
  PRIMARY KEY (tenant, seq));
CREATE TABLE IF NOT EXISTS tpm_aks (
  tenant TEXT NOT NULL REFERENCES tenants(name), id TEXT NOT NULL, name TEXT NOT NULL, spki BLOB NOT NULL,
  created_at INTEGER NOT NULL, tpm_name BLOB NOT NULL, PRIMARY KEY (tenant, id));
CREATE TABLE IF NOT EXISTS tpm_clock (
  ak TEXT PRIMARY KEY, reset_count INTEGER NOT NULL, restart_count INTEGER NOT NULL, clock INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints (
  tenant TEXT PRIMARY KEY, seq INTEGER NOT NULL, head TEXT NOT NULL, time INTEGER NOT NULL,
  signature TEXT NOT NULL);
)sql";

// A published tree head never goes back (Store::PutTreeHead).
constexpr const char* kPutTreeHead =
    "INSERT INTO tree_heads(tenant, size, time, note) VALUES(?, ?, ?, ?) ON CONFLICT(tenant) DO UPDATE "
    "SET size=excluded.size, time=excluded.time, note=excluded.note WHERE excluded.size > tree_heads.size OR "
    "(excluded.size = tree_heads.size AND excluded.time > tree_heads.time)";

// Versioned migrations on top of kSchema (schema version 1), tracked in PRAGMA user_version so
// existing data directories upgrade in place. Each step runs in one transaction; append only.
struct Migration {
  int version;
  const char* sql;
};
constexpr Migration kMigrations[] = {
    // 2: key lifecycle (sigil key destroy) records when a version's key material was erased.
    {2, "ALTER TABLE key_versions ADD COLUMN destroyed_at INTEGER NOT NULL DEFAULT 0"},
    // 3: rows that carry authority are authenticated (store_auth.h): each keeps its tag.
    {3, "ALTER TABLE key_versions ADD COLUMN mac BLOB NOT NULL DEFAULT x'';"
        "ALTER TABLE policies ADD COLUMN mac BLOB NOT NULL DEFAULT x'';"
        "ALTER TABLE refs ADD COLUMN mac BLOB NOT NULL DEFAULT x'';"
        "ALTER TABLE tpm_aks ADD COLUMN mac BLOB NOT NULL DEFAULT x''"},
    // 4: the nonce queries of every challenge use indexes, not a scan: expiry for pruning, and
    // only the unused ones per tenant for the outstanding cap.
    {4, "CREATE INDEX IF NOT EXISTS nonces_by_expiry ON nonces(expires_at);"
        "CREATE INDEX IF NOT EXISTS nonces_outstanding ON nonces(tenant, expires_at) WHERE used=0"},
    // 5: each tenant's published tree head (a signed C2SP checkpoint note), issued periodically.
    {5, "CREATE TABLE IF NOT EXISTS tree_heads (tenant TEXT PRIMARY KEY, size INTEGER NOT NULL, "
        "time INTEGER NOT NULL, note TEXT NOT NULL)"},
    // 6: policies with memory (Store::AppendRelease): counted releases per sliding-window counter,
    // and the tokens single-use releases spent.
    {6, "CREATE TABLE IF NOT EXISTS release_uses (tenant TEXT NOT NULL, counter TEXT NOT NULL, "
        "time_ms INTEGER NOT NULL, uses INTEGER NOT NULL);"
        "CREATE INDEX IF NOT EXISTS release_uses_by_counter ON release_uses(tenant, counter, time_ms);"
        "CREATE TABLE IF NOT EXISTS spent_tokens (tenant TEXT NOT NULL, token TEXT NOT NULL, "
        "expires_ms INTEGER NOT NULL, PRIMARY KEY (tenant, token));"
        "CREATE INDEX IF NOT EXISTS spent_tokens_by_expiry ON spent_tokens(expires_ms)"},
    // 7: pending TPM enrolments (Store::PutTpmEnrolment), so a restart does not lose them.
    {7, "CREATE TABLE IF NOT EXISTS tpm_enrolments (id TEXT PRIMARY KEY, tenant TEXT NOT NULL, ek BLOB NOT NULL, "
        "ak_spki BLOB NOT NULL, ak_name BLOB NOT NULL, secret_hash BLOB NOT NULL, expires_ms INTEGER NOT NULL, "
        "mac BLOB NOT NULL);"
        "CREATE INDEX IF NOT EXISTS tpm_enrolments_by_tenant ON tpm_enrolments(tenant, expires_ms);"
        "CREATE INDEX IF NOT EXISTS tpm_enrolments_by_expiry ON tpm_enrolments(expires_ms)"},
    // 8: the admin certificates the broker issued, with their role, tenant and revocation.
    {8, "CREATE TABLE IF NOT EXISTS admin_certs (serial TEXT PRIMARY KEY, role TEXT NOT NULL, tenant TEXT NOT NULL, "
        "not_after INTEGER NOT NULL, issued_at INTEGER NOT NULL, revoked_at INTEGER NOT NULL, issued_by TEXT NOT NULL, "
        "mac BLOB NOT NULL);"
        "CREATE INDEX IF NOT EXISTS admin_certs_by_tenant ON admin_certs(tenant)"},
    // 9: policy versions proposed for approval (not in force until approved) and the approvals.
    {9, "ALTER TABLE policies ADD COLUMN active INTEGER NOT NULL DEFAULT 1;"
         "CREATE TABLE IF NOT EXISTS policy_approvals (tenant TEXT NOT NULL, version INTEGER NOT NULL, "
         "approver TEXT NOT NULL, public_key BLOB NOT NULL, signature BLOB NOT NULL, time_ms INTEGER NOT NULL, "
         "PRIMARY KEY (tenant, version, approver))"},
};

Result<void> Migrate(sqlite3* db) {
  SIGIL_ASSIGN_OR_RETURN(Stmt v, Stmt::Prepare(db, "PRAGMA user_version"));
  SIGIL_ASSIGN_OR_RETURN(bool row, v.Step());
  std::int64_t current = row ? v.Int(0) : 0;
  if (current < 1) current = 1;  // kSchema is version 1; older files never set user_version
  for (const Migration& m : kMigrations) {
    if (m.version <= current) continue;
    SIGIL_RETURN_IF_ERROR(sql::Exec(db, "BEGIN IMMEDIATE"));
    std::string step = std::string(m.sql) + ";PRAGMA user_version=" + std::to_string(m.version) + ";";
    if (auto r = sql::Exec(db, step.c_str()); !r) {
      (void)sql::Exec(db, "ROLLBACK");
      return std::move(r).error().Wrap("store migration to schema version " + std::to_string(m.version));
    }
    SIGIL_RETURN_IF_ERROR(sql::Exec(db, "COMMIT"));
    current = m.version;
  }
  return Ok();
}

std::int64_t Seconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}
std::int64_t Millis(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

const char* ColumnTypeName(int type) {
  switch (type) {
    case SQLITE_INTEGER: return "an integer";
    case SQLITE_FLOAT: return "a real number";
    case SQLITE_TEXT: return "text";
    case SQLITE_BLOB: return "a blob";
    default: return "NULL";
  }
}

// Reads (seq, record, hash) of an audit row as stored. A flipped byte in the file can change a
// column's type as well as its content; such a row is returned with `defect` saying what is
// wrong, never dropped and never an error for the whole listing, so verification names it.
AuditRow ReadAuditRow(const Stmt& s) {
  AuditRow row;
  auto note = [&](std::string what) { row.defect += (row.defect.empty() ? "" : "; ") + std::move(what); };
  if (s.Type(0) == SQLITE_INTEGER && s.Int(0) >= 1) {
    row.seq = static_cast<std::uint64_t>(s.Int(0));
  } else if (s.Type(0) == SQLITE_INTEGER) {
    note("stored seq is " + std::to_string(s.Int(0)));
  } else {
    note(std::string("stored seq is ") + ColumnTypeName(s.Type(0)) + ", not an integer");
  }
  // Blob() returns the exact bytes for text and blob columns alike.
  Bytes record = s.Blob(1);
  row.record.assign(record.begin(), record.end());
  if (s.Type(1) != SQLITE_TEXT) note(std::string("stored record is ") + ColumnTypeName(s.Type(1)) + ", not text");
  Bytes hash = s.Blob(2);
  row.hash.assign(hash.begin(), hash.end());
  if (s.Type(2) != SQLITE_TEXT) note(std::string("stored hash is ") + ColumnTypeName(s.Type(2)) + ", not text");
  return row;
}

class SqliteStore final : public Store {
 public:
  SqliteStore(sql::DbPtr db, std::unique_ptr<sql::Health> health, std::unique_ptr<sql::ReaderPool> reads)
      : health_(std::move(health)), db_(std::move(db)), reads_(std::move(reads)),
        group_([this](const std::vector<GroupCommit<SqliteStore>::Write*>& batch) { RunBatch(batch); }) {}

  // Through group commit like every append: the tenant row, record 1 and the checkpoint over it
  // are written in the batch's transaction (the checkpoint at its end), so they commit together.
  Result<AuditRow> CreateTenant(const std::string& tenant, ByteSpan kek, ByteSpan erasure_epoch,
                                const AuditMaker& genesis, const CheckpointSigner& sign) override {
    std::optional<AuditRow> row;
    auto submitted = group_.Submit([&](SqliteStore&) -> Result<void> {
      SIGIL_RETURN_IF_ERROR(CheckEpochLocked(erasure_epoch));
      SIGIL_ASSIGN_OR_RETURN(Stmt s, Prepare("INSERT INTO tenants(name, kek, created_at) VALUES(?,?,?)"));
      auto r = s.Bind(1, tenant).Bind(2, kek).Bind(3, Seconds(std::chrono::system_clock::now())).Run();
      if (!r && r.error().code() == Code::kAlreadyExists) {
        return Fail(Code::kAlreadyExists, "tenant '" + tenant + "' already exists");
      }
      if (!r) return std::move(r).error();
      auto g = AppendLocked(tenant, genesis, sign);
      if (!g) return GenesisNotWritten(g.error());
      row = std::move(*g);
      return Ok();
    });
    SIGIL_RETURN_IF_ERROR(submitted);
    return std::move(*row);
  }

  Result<Bytes> GetTenantKek(const std::string& tenant) override {
    sql::ReaderPool::Lease reader = reads_->Acquire();
    SIGIL_RETURN_IF_ERROR(Usable());
    SIGIL_ASSIGN_OR_RETURN(Stmt s, reader.Prepare("SELECT kek FROM tenants WHERE name=?"));
    s.Bind(1, tenant);
    SIGIL_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return Fail(Code::kNotFound, "unknown tenant '" + tenant + "'");
    return s.Blob(0);
  }

  Result<std::vector<std::string>> ListTenants() override {
    sql::ReaderPool::Lease reader = reads_->Acquire();
    SIGIL_RETURN_IF_ERROR(Usable());
    SIGIL_ASSIGN_OR_RETURN(Stmt s, reader.Prepare("SELECT name FROM tenants ORDER BY name"));
    std::vector<std::string> out;
    for (;;) {
      SIGIL_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) return out;
      out.push_back(s.Text(0));
    }
  }

  Result<void> PutKeyVersion(const KeyVersionRow& k, ByteSpan wrapped_kek) override {
    std::lock_guard lock(mu_);
    SIGIL_RETURN_IF_ERROR(Usable());
    // One statement: the row goes in only while the tenant's KEK is the one it was wrapped under.
    SIGIL_ASSIGN_OR_RETURN(Stmt s, Prepare(
        "INSERT INTO key_versions(tenant,name,version,class,state,public_key,private_key,created_at,mac) "
        "SELECT ?,?,?,?,?,?,?,?,? WHERE EXISTS (SELECT 1 FROM tenants WHERE name=?1 AND kek=?10)"));
    auto r = s.Bind(1, k.tenant).Bind(2, k.name).Bind(3, std::int64_t{k.version}).Bind(4, k.key_class)
                 .Bind(5, k.state).Bind(6, ByteSpan(k.public_key)).Bind(7, ByteSpan(k.wrapped_private_key))
                 .Bind(8, k.created_at).Bind(9, ByteSpan(k.mac)).Bind(10, wrapped_kek).Run();
    if (!r && r.error().code() == Code::kAlreadyExists) {
      return Fail(Code::kAlreadyExists, "key '" + k.tenant + "/" + k.name + "' version " +
                                            std::to_string(k.version) + " already exists");
    }
    SIGIL_RETURN_IF_ERROR(r);
    if (Changes() == 1) return Ok();
    SIGIL_ASSIGN_OR_RETURN(Stmt t, Prepare("SELECT 1 FROM tenants WHERE name=?"));
    t.Bind(1, k.tenant);
    SIGIL_ASSIGN_OR_RETURN(bool known, t.Step());
    if (!known) return Fail(Code::kNotFound, "unknown tenant '" + k.tenant + "'");
    return RekeyConflict("the tenant KEK of '" + k.tenant + "'");
  }

  Result<KeyVersionRow> GetKeyVersion(const std::string& tenant, const std::string& name, std::uint32_t v) override {
    sql::ReaderPool::Lease reader = reads_->Acquire();
    SIGIL_RETURN_IF_ERROR(Usable());
    SIGIL_ASSIGN_OR_RETURN(Stmt s, reader.Prepare(std::string(kKeyColumns) + " WHERE tenant=? AND name=? AND version=?"));
    s.Bind(1, tenant).Bind(2, name).Bind(3, std::int64_t{v});
    SIGIL_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return Fail(Code::kNotFound, "unknown key '" + tenant + "/" + name + "' version " + std::to_string(v));
    return ReadKey(s);
  }

  Result<KeyVersionRow> LatestKeyVersion(const std::string& tenant, const std::string& name) override {
    sql::ReaderPool::Lease reader = reads_->Acquire();
    SIGIL_RETURN_IF_ERROR(Usable());
    SIGIL_ASSIGN_OR_RETURN(Stmt s, reader.Prepare(std::string(kKeyColumns) +
                                           " WHERE tenant=? AND name=? ORDER BY version DESC LIMIT 1"));
    s.Bind(1, tenant).Bind(2, name);
    SIGIL_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return Fail(Code::kNotFound, "unknown key '" + tenant + "/" + name + "'");
    return ReadKey(s);
  }

  Result<std::vector<KeyVersionRow>> ListKeyVersions(const std::string& tenant) override {
    sql::ReaderPool::Lease reader = reads_->Acquire();
    SIGIL_RETURN_IF_ERROR(Usable());
    SIGIL_ASSIGN_OR_RETURN(Stmt s, reader.Prepare(std::string(kKeyColumns) + " WHERE tenant=? ORDER BY name, version"));
    s.Bind(1, tenant);
    std::vector<KeyVersionRow> out;
    for (;;) {
      SIGIL_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) return out;
      out.push_back(ReadKey(s));
    }
  }

  Result<int> SetKeyState(const std::string& tenant, const std::string& name, const std::string& from,
                          const std::string& to, const KeyRowMac& mac_for) override {
    std::lock_guard lock(mu_);
    SIGIL_RETURN_IF_ERROR(Usable());
    return InWriteTransaction([&]() -> Result<int> {
      SIGIL_ASSIGN_OR_RETURN(std::vector<KeyVersionRow> rows, KeyRowsLocked(tenant, name, "state=?3", from));
      for (KeyVersionRow& row : rows) {
        row.state = to;
        SIGIL_RETURN_IF_ERROR(UpdateKeyRowLocked(row, mac_for));
      }
      return static_cast<int>(rows.size());
    });
  }

  Result<int> DestroyKeyMaterial(const std::string& tenant, const std::string& name,
                                 std::optional<std::uint32_t> version, std::int64_t now, const KeyRowMac& mac_for) override {
    std::lock_guard lock(mu_);
    SIGIL_RETURN_IF_ERROR(Usable());
    SIGIL_ASSIGN_OR_RETURN(int destroyed, InWriteTransaction([&]() -> Result<int> {
      return DestroyLocked(tenant, name, version, now, mac_for);
    }));
    SIGIL_RETURN_IF_ERROR(CheckpointAfterErase());
    return destroyed;
  }

  Result<int> Rekey(const RekeyPlan& plan, const KeyRowMac& mac_for) override {
    std::lock_guard lock(mu_);
    SIGIL_RETURN_IF_ERROR(Usable());
    SIGIL_ASSIGN_OR_RETURN(int destroyed, InWriteTransaction([&]() { return RekeyLocked(plan, mac_for); }));
    SIGIL_RETURN_IF_ERROR(CheckpointAfterErase());
    return destroyed;
  }

  // After an erase, under mu_.
  Result<void> CheckpointAfterErase() {
    // The WAL still holds images of the pages written before the erase; copy the current pages
    // back and truncate it (https://sqlite.org/pragma.html#pragma_wal_checkpoint). Another
    // reader can make the checkpoint partial; report that rather than claim erasure.
    // The broker's own readers are held off meanwhile, so only another process can block it.
    SIGIL_ASSIGN_OR_RETURN(bool blocked, reads_->WithNoReaders([&]() -> Result<bool> {
      SIGIL_ASSIGN_OR_RETURN(Stmt cp, Prepare("PRAGMA wal_checkpoint(TRUNCATE)"));
      SIGIL_ASSIGN_OR_RETURN(bool row, cp.Step());
      return row && cp.Int(0) != 0;
    }));
    if (blocked) {
      return Fail(Code::kUnavailable, "key material erased, but the WAL checkpoint was blocked by a reader; "
                                      "old page images may remain until the next checkpoint");
    }
    return Ok();
  }

  Result<void> PutPolicy(const std::string& tenant, const std::string& text, const PolicyRowMac& mac_for) override {
    SIGIL_RETURN_IF_ERROR(InsertPolicy(tenant, text, true, mac_for));
    return Ok();
  }

  Result<std::int64_t> ProposePolicy(const std::string& tenant, const std::string& text,
                                     const PolicyRowMac& mac_for) override {
    return InsertPolicy(tenant, text, false, mac_for);
  }

  Result<PolicyRow> GetPolicy(const std::string& tenant) override {
    sql::ReaderPool::Lease reader = reads_->Acquire();
    SIGIL_RETURN_IF_ERROR(Usable());
    SIGIL_ASSIGN_OR_RETURN(Stmt s, reader.Prepare("SELECT text, version, mac, active FROM policies WHERE tenant=? AND active=1 "
                                           "ORDER BY version DESC LIMIT 1"));
    s.Bind(1, tenant);
    SIGIL_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return Fail(Code::kNotFound, "tenant '" + tenant + "' has no policy");
    return PolicyRow{s.Text(0), s.Int(1), s.Blob(2), s.Int(3) != 0};
  }

  Result<PolicyRow> GetPolicyVersion(const std::string& tenant, std::int64_t version) override {
    std::lock_guard lock(mu_);
    SIGIL_RETURN_IF_ERROR(Usable());
    return ReadPolicyVersion(tenant, version);
  }

  Result<void> ActivatePolicy(const std::string& tenant, std::int64_t version, const PolicyRowMac& mac_for) override {
    std::lock_guard lock(mu_);
    SIGIL_RETURN_IF_ERROR(Usable());
    return InWriteTransaction([&]() -> Result<void> {
      SIGIL_ASSIGN_OR_RETURN(PolicyRow row, ReadPolicyVersion(tenant, version));
      SIGIL_ASSIGN_OR_RETURN(Stmt n, Prepare("SELECT COALESCE(MAX(version),0) FROM policies WHERE tenant=? AND active=1"));
      n.Bind(1, tenant);
      SIGIL_RETURN_IF_ERROR(n.Step());
      SIGIL_RETURN_IF_ERROR(CheckActivation(tenant, row, n.Int(0)));
      row.active = true;
      if (mac_for) row.mac = mac_for(tenant, row);
      SIGIL_ASSIGN_OR_RETURN(Stmt u, Prepare("UPDATE policies SET active=1, mac=? WHERE tenant=? AND version=?"));
      return u.Bind(1, ByteSpan(row.mac)).Bind(2, tenant).Bind(3, version).Run();
    });
  }

  Result<void> AddPolicyApproval(const std::string& tenant, const PolicyApprovalRow& a) override {
    std::lock_guard lock(mu_);
    SIGIL_RETURN_IF_ERROR(Usable());
    SIGIL_ASSIGN_OR_RETURN(Stmt s, Prepare("INSERT INTO policy_approvals(tenant,version,approver,public_key,signature,time_ms) "
                                           "VALUES(?,?,?,?,?,?)"));
    auto r = s.Bind(1, tenant).Bind(2, a.version).Bind(3, a.approver).Bind(4, ByteSpan(a.public_key))
                 .Bind(5, ByteSpan(a.signature)).Bind(6, a.time_ms).Run();
    if (!r && r.error().code() == Code::kAlreadyExists) return ApprovalExists(tenant, a);
    return r;
  }

  Result<std::vector<PolicyApprovalRow>> ListPolicyApprovals(const std::string& tenant, std::int64_t version) override {
    std::lock_guard lock(mu_);
    SIGIL_RETURN_IF_ERROR(Usable());
    SIGIL_ASSIGN_OR_RETURN(Stmt s, Prepare("SELECT approver, public_key, signature, time_ms FROM policy_approvals "
                                           "WHERE tenant=? AND version=? ORDER BY time_ms, approver"));
    s.Bind(1, tenant).Bind(2, version);
    std::vector<PolicyApprovalRow> out;
    for (;;) {
      SIGIL_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.push_back(PolicyApprovalRow{version, s.Text(0), s.Blob(1), s.Blob(2), s.Int(3)});
    }
    return out;
  }

  Result<void> AddReference(const std::string& tenant, const std::string& set, const std::string& value,
                            ByteSpan mac) override {
    std::lock_guard lock(mu_);
    SIGIL_RETURN_IF_ERROR(Usable());
    SIGIL_ASSIGN_OR_RETURN(Stmt s, Prepare("INSERT INTO refs(tenant,set_name,value,mac) VALUES(?,?,?,?) "
                                           "ON CONFLICT(tenant,set_name,value) DO UPDATE SET mac=excluded.mac"));
    return s.Bind(1, tenant).Bind(2, set).Bind(3, value).Bind(4, mac).Run();
  }

  Result<std::vector<ReferenceRow>> ListReferenceRows(const std::string& tenant) override {
    sql::ReaderPool::Lease reader = reads_->Acquire();
    SIGIL_RETURN_IF_ERROR(Usable());
    SIGIL_ASSIGN_OR_RETURN(Stmt s, reader.Prepare("SELECT set_name, value, mac FROM refs WHERE tenant=? ORDER BY set_name, value"));
    s.Bind(1, tenant);
    std::vector<ReferenceRow> out;
    for (;;) {
      SIGIL_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) return out;
      out.push_back(ReferenceRow{s.Text(0), s.Text(1), s.Blob(2)});
    }
  }

  Result<void> PutNonce(ByteSpan nonce, const std::string& tenant, const std::string& tee, TimePoint exp,
                        TimePoint now, std::size_t max_outstanding) override {
    std::lock_guard lock(mu_);
    SIGIL_RETURN_IF_ERROR(Usable());
    // A challenge need not survive a crash: a lost nonce is only ever "unknown" to the attest
    // that presents it (the workload asks again), never accepted. So its commit skips the fsync
    // (synchronous=NORMAL for this transaction in WAL mode); the next durable commit (an audit
    // record) syncs the WAL, these frames included. Every other write stays FULL.
    SIGIL_RETURN_IF_ERROR(Exec("PRAGMA synchronous=NORMAL"));
    auto r = InWriteTransaction([&] { return PutNonceLocked(nonce, tenant, tee, exp, now, max_outstanding); });
    if (auto full = Exec("PRAGMA synchronous=FULL"); !full) return full;
    return r;
  }

  Result<void> PutNonceLocked(ByteSpan nonce, const std::string& tenant, const std::string& tee, TimePoint exp,
                              TimePoint now, std::size_t max_outstanding) {
    // Prune (at most once a second), so the table holds at most the nonces of the last TTL plus
    // the grace period (during which a late attest still hears "expired" rather than "unknown").
    if (Millis(now) - last_prune_ms_ >= kPruneEveryMillis) {
      SIGIL_ASSIGN_OR_RETURN(Stmt gc, Prepare("DELETE FROM nonces WHERE expires_at < ?"));
      SIGIL_RETURN_IF_ERROR(gc.Bind(1, Millis(now) - kNonceGraceMillis).Run());
      last_prune_ms_ = Millis(now);
    }
    SIGIL_ASSIGN_OR_RETURN(Stmt c, Prepare("SELECT COUNT(*) FROM nonces WHERE tenant=? AND used=0 AND expires_at >= ?"));
    c.Bind(1, tenant).Bind(2, Millis(now));
    SIGIL_ASSIGN_OR_RETURN(bool row, c.Step());
    if (row && static_cast<std::uint64_t>(c.Int(0)) >= max_outstanding) {
      return Fail(Code::kUnavailable, "too many outstanding challenges for this tenant (" +
                                          std::to_string(max_outstanding) + "); retry after they expire");
    }
    SIGIL_ASSIGN_OR_RETURN(Stmt s, Prepare("INSERT INTO nonces(nonce,tenant,tee,expires_at) VALUES(?,?,?,?)"));
    return s.Bind(1, nonce).Bind(2, tenant).Bind(3, tee).Bind(4, Millis(exp)).Run();
  }

  Result<void> ConsumeNonce(ByteSpan nonce, const std::string& tenant, const std::string& tee, TimePoint now) override {
    std::lock_guard lock(mu_);
    SIGIL_RETURN_IF_ERROR(Usable());
    // One write transaction from the read on: a read transaction upgraded to a write after
    // another connection committed fails with SQLITE_BUSY_SNAPSHOT (no busy wait), which a
    // second process on the same file would see as "store unavailable" instead of "replay".
    // A consumed nonce stays consumed even when the answer is kExpired: commit unless the
    // store itself failed.
    SIGIL_ASSIGN_OR_RETURN(std::optional<Error> refused, InWriteTransaction([&]() -> Result<std::optional<Error>> {
      auto r = ConsumeNonceLocked(nonce, tenant, tee, now);
      if (r) return std::optional<Error>();
      if (r.error().code() == Code::kUnavailable) return std::move(r).error();
      return std::optional<Error>(r.error());
    }));
    if (refused) return *refused;
    return Ok();
  }

  Result<void> ConsumeNonceLocked(ByteSpan nonce, const std::string& tenant, const std::string& tee, TimePoint now) {
    SIGIL_ASSIGN_OR_RETURN(Stmt q, Prepare("SELECT tenant, tee, expires_at, used FROM nonces WHERE nonce=?"));
    q.Bind(1, nonce);
    SIGIL_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row || q.Text(0) != tenant || q.Text(1) != tee) {
      return Fail(Code::kNotFound, "nonce was not issued by this broker for this tenant and TEE type");
    }
    std::int64_t expires = q.Int(2);
    bool used = q.Int(3) != 0;
    SIGIL_ASSIGN_OR_RETURN(Stmt u, Prepare("UPDATE nonces SET used=1 WHERE nonce=? AND used=0"));
    SIGIL_RETURN_IF_ERROR(u.Bind(1, nonce).Run());
    if (used || sqlite3_changes(db_.get()) != 1) return Fail(Code::kReplay, "nonce was already used (replay)");
    if (Millis(now) > expires) return Fail(Code::kExpired, "nonce has expired; request a new challenge");
    return Ok();
  }

  // Audit appends (every release and attest makes one) go through group commit: concurrent ones
  // share one transaction and one fsync, each answered after the commit holding its record.
  Result<AuditRow> AppendAudit(const std::string& tenant, const AuditMaker& make, const CheckpointSigner& sign) override {
    std::optional<AuditRow> row;
    SIGIL_RETURN_IF_ERROR(group_.Submit([&](SqliteStore&) -> Result<void> {
      SIGIL_ASSIGN_OR_RETURN(row, AppendLocked(tenant, make, sign));
      return Ok();
    }));
    return std::move(*row);
  }

  Result<AuditRow> ConsumeNonceAndAppendAudit(const std::string& tenant, const NonceUse& use,
                                              const ConsumingAuditMaker& make, const CheckpointSigner& sign,
                                              std::optional<Error>* consume_error) override {
    std::optional<AuditRow> row;
    std::optional<Error> why;
    SIGIL_RETURN_IF_ERROR(group_.Submit([&](SqliteStore&) -> Result<void> {
      auto used = ConsumeNonceLocked(use.nonce, tenant, use.tee, use.now);
      if (!used && used.error().code() == Code::kUnavailable) return std::move(used).error();
      why = used ? std::nullopt : std::optional<Error>(used.error());
      SIGIL_ASSIGN_OR_RETURN(row, AppendLocked(tenant, [&](const std::optional<AuditRow>& head) {
        return make(head, why ? &*why : nullptr);
      }, sign));
      return Ok();
    }));
    if (consume_error) *consume_error = why;
    return std::move(*row);
  }

  // A release's records and its gate in one group-commit write (one savepoint): the counters
  // are read and counted under the store's single writer, so no two releases see the same count.
  Result<std::vector<AuditRow>> AppendRelease(const std::string& tenant, const ReleaseGate& gate,
                                              const std::vector<AuditMaker>& allow, const RefusalAuditMaker& deny,
                                              const CheckpointSigner& sign, std::optional<Error>* refused) override {
    std::vector<AuditRow> rows;
    std::optional<Error> why;
    SIGIL_RETURN_IF_ERROR(group_.Submit([&](SqliteStore&) -> Result<void> {
      rows.clear();
      const GateSql sql = GateSqlFor(tenant);
      SIGIL_ASSIGN_OR_RETURN(why, CheckReleaseGate(gate, sql));
      if (why) {
        SIGIL_ASSIGN_OR_RETURN(AuditRow r, AppendLocked(tenant, [&](const std::optional<AuditRow>& head) {
          return deny(head, *why);
        }, sign));
        rows.push_back(std::move(r));
        return Ok();
      }
      for (const AuditMaker& make : allow) {
        SIGIL_ASSIGN_OR_RETURN(AuditRow r, AppendLocked(tenant, make, sign));
        rows.push_back(std::move(r));
      }
      return RecordReleaseGate(gate, sql);
    }));
    if (refused) *refused = why;
    return rows;
  }

  // The gate's statements (release_gate_check.h) for one tenant, run inside a group-commit write.
  GateSql GateSqlFor(const std::string& tenant) {
    GateSql g;
    g.token_spent = [this, &tenant](const std::string& token) -> Result<bool> {
      SIGIL_ASSIGN_OR_RETURN(Stmt q, Prepare("SELECT 1 FROM spent_tokens WHERE tenant=? AND token=?"));
      q.Bind(1, tenant).Bind(2, token);
      return q.Step();
    };
    g.prune = [this, &tenant](const std::string& counter, std::int64_t cutoff) -> Result<void> {
      SIGIL_ASSIGN_OR_RETURN(Stmt d, Prepare("DELETE FROM release_uses WHERE tenant=? AND counter=? AND time_ms<=?"));
      return d.Bind(1, tenant).Bind(2, counter).Bind(3, cutoff).Run();
    };
    g.count = [this, &tenant](const std::string& counter, std::int64_t after) -> Result<GateSql::Count> {
      SIGIL_ASSIGN_OR_RETURN(Stmt q, Prepare("SELECT COALESCE(SUM(uses),0), COALESCE(MIN(time_ms),0) FROM release_uses "
                                             "WHERE tenant=? AND counter=? AND time_ms>?"));
      q.Bind(1, tenant).Bind(2, counter).Bind(3, after);
      SIGIL_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) return GateSql::Count{};
      return GateSql::Count{q.Int(0), q.Int(1)};
    };
    g.add = [this, &tenant](const std::string& counter, std::int64_t time, std::int64_t uses) -> Result<void> {
      SIGIL_ASSIGN_OR_RETURN(Stmt i, Prepare("INSERT INTO release_uses(tenant,counter,time_ms,uses) VALUES(?,?,?,?)"));
      return i.Bind(1, tenant).Bind(2, counter).Bind(3, time).Bind(4, uses).Run();
    };
    g.spend = [this, &tenant](const std::string& token, std::int64_t expires, std::int64_t now) -> Result<void> {
      // Tokens past their lifetime are refused anyway: forget them as new ones are spent.
      SIGIL_ASSIGN_OR_RETURN(Stmt d, Prepare("DELETE FROM spent_tokens WHERE expires_ms < ?"));
      SIGIL_RETURN_IF_ERROR(d.Bind(1, now - kSpentTokenKeepMillis).Run());
      SIGIL_ASSIGN_OR_RETURN(Stmt i, Prepare("INSERT INTO spent_tokens(tenant,token,expires_ms) VALUES(?,?,?)"));
      return i.Bind(1, tenant).Bind(2, token).Bind(3, expires).Run();
    };
    return g;
  }

  Result<std::vector<AuditRow>> ListAudit(const std::string& tenant) override {
    std::lock_guard lock(mu_);
    // Readable on a damaged store too: what is left of the audit trail stays exportable.
    SIGIL_ASSIGN_OR_RETURN(Stmt s, Prepare("SELECT seq, record, hash FROM audit WHERE tenant=? ORDER BY rowid"));
    s.Bind(1, tenant);
    return ReadAuditRows(s);
  }

  Result<std::vector<AuditRow>> QueryAudit(const std::string& tenant, const AuditQuery& q) override {
    std::lock_guard lock(mu_);
    // Readable on a damaged store too: what is left of the audit trail stays exportable.
    std::vector<AuditRow> out;
    if (q.after_seq == 0) {
      // Rows whose seq is unreadable cannot be paginated by seq: the first page carries them
      // (bounded, outside the page limit) so a damaged row is seen, and named, once.
      SIGIL_ASSIGN_OR_RETURN(Stmt d, Prepare("SELECT seq, record, hash FROM audit WHERE tenant=? "
                                             "AND (typeof(seq) <> 'integer' OR seq < 1) ORDER BY rowid LIMIT 1000"));
      d.Bind(1, tenant);
      SIGIL_ASSIGN_OR_RETURN(out, ReadAuditRows(d));
    }
    // Records are canonical JSON written by AuditLog; SQLite's JSON functions filter them here so
    // only the matching page crosses the wire. json_extract raises an error on text that is not
    // JSON (one flipped byte can do that), which would fail every page holding it: the CASE
    // (evaluated lazily, unlike AND/OR) lets such a record match every filter instead.
    SIGIL_ASSIGN_OR_RETURN(Stmt s, Prepare(
        "SELECT seq, record, hash FROM audit WHERE tenant=?1 AND typeof(seq) = 'integer' AND seq > ?2 "
        "AND CASE WHEN typeof(record) = 'text' AND json_valid(record) THEN "
        "  (?3 IS NULL OR json_extract(record,'$.time_ms') >= ?3) "
        "  AND (?4 IS NULL OR json_extract(record,'$.time_ms') <= ?4) "
        "  AND (?5 = '' OR json_extract(record,'$.decision') = ?5) "
        "  AND (?6 = '' OR json_extract(record,'$.key') = ?6) "
        "ELSE 1 END "
        "ORDER BY seq LIMIT ?7"));
    s.Bind(1, tenant).Bind(2, static_cast<std::int64_t>(q.after_seq));
    if (q.since_ms) s.Bind(3, *q.since_ms);
    if (q.until_ms) s.Bind(4, *q.until_ms);
    s.Bind(5, q.decision).Bind(6, q.key).Bind(7, static_cast<std::int64_t>(q.limit));
    SIGIL_ASSIGN_OR_RETURN(auto page, ReadAuditRows(s));
    out.insert(out.end(), std::make_move_iterator(page.begin()), std::make_move_iterator(page.end()));
    return out;
  }

  Result<std::optional<Checkpoint>> GetCheckpoint(const std::string& tenant) override {
    sql::ReaderPool::Lease reader = reads_->Acquire();
    // Readable on a damaged store too: what is left of the audit trail stays exportable.
    SIGIL_ASSIGN_OR_RETURN(Stmt s, reader.Prepare("SELECT seq, head, time, signature FROM checkpoints WHERE tenant=?"));
    s.Bind(1, tenant);
    SIGIL_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return std::optional<Checkpoint>();
    return std::optional<Checkpoint>(Checkpoint{static_cast<std::uint64_t>(s.Int(0)), s.Text(1), s.Int(2), s.Text(3)});
  }

  Result<void> PutTreeHead(const std::string& tenant, const TreeHead& head) override {
    std::lock_guard lock(mu_);
    SIGIL_RETURN_IF_ERROR(Usable());
    SIGIL_ASSIGN_OR_RETURN(Stmt s, Prepare(kPutTreeHead));
    return s.Bind(1, tenant).Bind(2, static_cast<std::int64_t>(head.size)).Bind(3, head.time_ms).Bind(4, head.note).Run();
  }

  Result<std::optional<TreeHead>> GetTreeHead(const std::string& tenant) override {
    sql::ReaderPool::Lease reader = reads_->Acquire();
    SIGIL_ASSIGN_OR_RETURN(Stmt s, reader.Prepare("SELECT size, time, note FROM tree_heads WHERE tenant=?"));
    s.Bind(1, tenant);
    SIGIL_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return std::optional<TreeHead>();
    return std::optional<TreeHead>(TreeHead{static_cast<std::uint64_t>(s.Int(0)), s.Int(1), s.Text(2)});
  }

  Result<void> PutTpmAk(const TpmAkRow& row) override {
    std::lock_guard lock(mu_);
    SIGIL_RETURN_IF_ERROR(Usable());
    SIGIL_ASSIGN_OR_RETURN(Stmt s, Prepare("INSERT INTO tpm_aks(tenant,id,name,spki,created_at,tpm_name,mac) VALUES(?,?,?,?,?,?,?)"));
    auto r = s.Bind(1, row.tenant).Bind(2, row.id).Bind(3, row.name).Bind(4, row.spki).Bind(5, row.created_at)
                 .Bind(6, row.tpm_name).Bind(7, ByteSpan(row.mac)).Run();
    if (!r && r.error().code() == Code::kAlreadyExists) {
      return Fail(Code::kAlreadyExists, "TPM AK " + row.id + " is already registered for tenant '" + row.tenant + "'");
    }
    return r;
  }

  Result<std::vector<TpmAkRow>> ListTpmAks(const std::string& tenant) override {
    sql::ReaderPool::Lease reader = reads_->Acquire();
    SIGIL_RETURN_IF_ERROR(Usable());
    SIGIL_ASSIGN_OR_RETURN(Stmt s, reader.Prepare("SELECT tenant,id,name,spki,created_at,tpm_name,mac FROM tpm_aks WHERE tenant=? "
                                           "ORDER BY created_at, id"));
    s.Bind(1, tenant);
    std::vector<TpmAkRow> out;
    for (;;) {
      SIGIL_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) return out;
      out.push_back(TpmAkRow{s.Text(0), s.Text(1), s.Text(2), s.Blob(3), s.Int(4), s.Blob(5), s.Blob(6)});
    }
  }

  Result<void> DeleteTpmAk(const std::string& tenant, const std::string& id) override {
    std::lock_guard lock(mu_);
    SIGIL_RETURN_IF_ERROR(Usable());
    SIGIL_ASSIGN_OR_RETURN(Stmt s, Prepare("DELETE FROM tpm_aks WHERE tenant=? AND id=? RETURNING id"));
    s.Bind(1, tenant).Bind(2, id);
    SIGIL_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return Fail(Code::kNotFound, "no TPM AK " + id + " registered for tenant '" + tenant + "'");
    return s.Run();
  }

  Result<void> AdvanceTpmClock(const std::string& ak, const TpmClockRow& st) override {
    std::lock_guard lock(mu_);
    SIGIL_RETURN_IF_ERROR(Usable());
    // The clock is a uint64 of milliseconds; SQLite integers are int64. Values above 2^63 ms
    // (292 million years) cannot occur, and are refused rather than wrapped.
    if (st.clock > static_cast<std::uint64_t>(INT64_MAX)) return Fail(Code::kInvalidArgument, "TPM clock out of range");
    // One statement: insert, or update only if strictly newer (lexicographic), so the check and
    // the write are atomic even across processes sharing the file.
    SIGIL_ASSIGN_OR_RETURN(Stmt s, Prepare(
        "INSERT INTO tpm_clock(ak,reset_count,restart_count,clock) VALUES(?1,?2,?3,?4) "
        "ON CONFLICT(ak) DO UPDATE SET reset_count=?2, restart_count=?3, clock=?4 "
        "WHERE (?2, ?3, ?4) > (reset_count, restart_count, clock) RETURNING ak"));
    s.Bind(1, ak).Bind(2, static_cast<std::int64_t>(st.reset_count)).Bind(3, static_cast<std::int64_t>(st.restart_count))
        .Bind(4, static_cast<std::int64_t>(st.clock));
    SIGIL_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) {
      return Fail(Code::kReplay, "TPM clock (resetCount, restartCount, clock) did not advance since the last "
                                 "accepted quote from this AK");
    }
    return s.Run();
  }

  Result<void> PutTpmEnrolment(const TpmEnrolmentRow& row, TimePoint now, std::size_t max_outstanding) override {
    std::lock_guard lock(mu_);
    SIGIL_RETURN_IF_ERROR(Usable());
    // The prune, the count and the insert in one write transaction, so processes sharing the
    // file cannot together pass the cap.
    return InWriteTransaction([&]() -> Result<void> {
      SIGIL_ASSIGN_OR_RETURN(Stmt gc, Prepare("DELETE FROM tpm_enrolments WHERE expires_ms < ?"));
      SIGIL_RETURN_IF_ERROR(gc.Bind(1, Millis(now) - kEnrolmentGraceMillis).Run());
      SIGIL_ASSIGN_OR_RETURN(Stmt c, Prepare("SELECT COUNT(*) FROM tpm_enrolments WHERE tenant=? AND expires_ms >= ?"));
      c.Bind(1, row.tenant).Bind(2, Millis(now));
      SIGIL_ASSIGN_OR_RETURN(bool counted, c.Step());
      if (counted && static_cast<std::uint64_t>(c.Int(0)) >= max_outstanding) {
        return Fail(Code::kUnavailable, "too many pending TPM enrolments for this tenant (" +
                                            std::to_string(max_outstanding) + "); retry later");
      }
      SIGIL_ASSIGN_OR_RETURN(Stmt s, Prepare("INSERT INTO tpm_enrolments(id,tenant,ek,ak_spki,ak_name,secret_hash,"
                                             "expires_ms,mac) VALUES(?,?,?,?,?,?,?,?)"));
      return s.Bind(1, row.id).Bind(2, row.tenant).Bind(3, ByteSpan(row.ek)).Bind(4, ByteSpan(row.ak_spki))
          .Bind(5, ByteSpan(row.ak_name)).Bind(6, ByteSpan(row.secret_hash)).Bind(7, row.expires_ms)
          .Bind(8, ByteSpan(row.mac)).Run();
    });
  }

  Result<TpmEnrolmentRow> TakeTpmEnrolment(const std::string& id) override {
    std::lock_guard lock(mu_);
    SIGIL_RETURN_IF_ERROR(Usable());
    // One statement deletes and returns the row, in a write transaction taken up front (as
    // ConsumeNonce, so a second process waits rather than fail on a stale snapshot): of two
    // finishes of one enrolment exactly one gets it back.
    return InWriteTransaction([&]() -> Result<TpmEnrolmentRow> {
      SIGIL_ASSIGN_OR_RETURN(Stmt s, Prepare("DELETE FROM tpm_enrolments WHERE id=? RETURNING tenant,ek,ak_spki,"
                                             "ak_name,secret_hash,expires_ms,mac"));
      s.Bind(1, id);
      SIGIL_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) return Fail(Code::kNotFound, "enrolment " + id.substr(0, 64) + " is unknown or already used");
      TpmEnrolmentRow out{id, s.Text(0), s.Blob(1), s.Blob(2), s.Blob(3), s.Blob(4), s.Int(5), s.Blob(6)};
      SIGIL_RETURN_IF_ERROR(s.Run());
      return out;
    });
  }

  Result<void> ProbeWrite() override {
    std::lock_guard lock(mu_);
    SIGIL_RETURN_IF_ERROR(Usable());
    const std::int64_t now = NowMillis();
    last_probe_ms_.store(now);
    // A committed, fsync'd write like an audit append (WAL frames appended, synchronous=FULL),
    // not a transaction rolled back: in WAL mode a rolled-back write never touches the file,
    // so it cannot notice a full disk.
    SIGIL_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    auto w = [&]() -> Result<void> {
      SIGIL_ASSIGN_OR_RETURN(Stmt s, Prepare("INSERT OR REPLACE INTO meta(k, v) VALUES('store.probe', ?)"));
      return s.Bind(1, now).Run();
    }();
    if (w) w = Exec("COMMIT");
    if (!w) {
      (void)Exec("ROLLBACK");
      return w;
    }
    health_->WriteCommitted();
    return Ok();
  }

  Result<void> CheckReady() override {
    if (health_->corrupt()) return Fail(Code::kUnavailable, health_->CorruptMessage());
    // The owner (sigild) probes periodically; a store nobody probes is probed here, at most once
    // per kProbeStaleMillis, so /readyz requests cannot turn into a stream of fsyncs.
    std::int64_t last = last_probe_ms_.load();
    if (NowMillis() - last >= kProbeStaleMillis && last_probe_ms_.compare_exchange_strong(last, NowMillis())) {
      (void)ProbeWrite();
    }
    if (std::string problem = health_->Problem(); !problem.empty()) return Fail(Code::kUnavailable, problem);
    return CheckFreeSpace();
  }

  static constexpr const char* kAdminCertColumns =
      "SELECT serial, role, tenant, not_after, issued_at, revoked_at, issued_by, mac FROM admin_certs";
  static AdminCertRow ReadAdminCert(const Stmt& s) {
    return AdminCertRow{s.Text(0), s.Text(1), s.Text(2), s.Int(3), s.Int(4), s.Int(5), s.Text(6), s.Blob(7)};
  }

  Result<void> PutAdminCert(const AdminCertRow& row) override {
    std::lock_guard lock(mu_);
    SIGIL_RETURN_IF_ERROR(Usable());
    SIGIL_ASSIGN_OR_RETURN(Stmt s, Prepare("INSERT INTO admin_certs(serial,role,tenant,not_after,issued_at,revoked_at,"
                                           "issued_by,mac) VALUES(?,?,?,?,?,?,?,?)"));
    return s.Bind(1, row.serial).Bind(2, row.role).Bind(3, row.tenant).Bind(4, row.not_after).Bind(5, row.issued_at)
        .Bind(6, row.revoked_at).Bind(7, row.issued_by).Bind(8, ByteSpan(row.mac)).Run();
  }

  Result<AdminCertRow> GetAdminCert(const std::string& serial) override {
    sql::ReaderPool::Lease reader = reads_->Acquire();
    SIGIL_RETURN_IF_ERROR(Usable());
    SIGIL_ASSIGN_OR_RETURN(Stmt s, reader.Prepare(std::string(kAdminCertColumns) + " WHERE serial=?"));
    s.Bind(1, serial);
    SIGIL_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return Fail(Code::kNotFound, "no admin certificate with serial " + serial + " was issued by this broker");
    return ReadAdminCert(s);
  }

  Result<std::vector<AdminCertRow>> ListAdminCerts(const std::string& tenant) override {
    sql::ReaderPool::Lease reader = reads_->Acquire();
    SIGIL_RETURN_IF_ERROR(Usable());
    SIGIL_ASSIGN_OR_RETURN(Stmt s, reader.Prepare(std::string(kAdminCertColumns) + " WHERE tenant=? ORDER BY issued_at, serial"));
    s.Bind(1, tenant);
    std::vector<AdminCertRow> out;
    for (;;) {
      SIGIL_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) return out;
      out.push_back(ReadAdminCert(s));
    }
  }

  Result<void> RevokeAdminCert(const std::string& serial, std::int64_t when, const AdminCertRowMac& mac_for) override {
    std::lock_guard lock(mu_);
    SIGIL_RETURN_IF_ERROR(Usable());
    return InWriteTransaction([&]() -> Result<void> {
      SIGIL_ASSIGN_OR_RETURN(Stmt q, Prepare(std::string(kAdminCertColumns) + " WHERE serial=?"));
      q.Bind(1, serial);
      SIGIL_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) return Fail(Code::kNotFound, "no admin certificate with serial " + serial + " was issued by this broker");
      AdminCertRow r = ReadAdminCert(q);
      if (r.revoked_at != 0) return Ok();
      r.revoked_at = when;
      r.mac = mac_for ? mac_for(r) : Bytes{};
      SIGIL_ASSIGN_OR_RETURN(Stmt u, Prepare("UPDATE admin_certs SET revoked_at=?, mac=? WHERE serial=?"));
      return u.Bind(1, when).Bind(2, ByteSpan(r.mac)).Bind(3, serial).Run();
    });
  }

  Result<void> PutMeta(const std::string& key, ByteSpan value) override {
    std::lock_guard lock(mu_);
    SIGIL_RETURN_IF_ERROR(Usable());
    SIGIL_ASSIGN_OR_RETURN(Stmt s, Prepare("INSERT OR REPLACE INTO meta(k, v) VALUES(?, ?)"));
    return s.Bind(1, key).Bind(2, value).Run();
  }

  Result<Bytes> GetMeta(const std::string& key) override {
    sql::ReaderPool::Lease reader = reads_->Acquire();
    SIGIL_RETURN_IF_ERROR(Usable());
    SIGIL_ASSIGN_OR_RETURN(Stmt s, reader.Prepare("SELECT v FROM meta WHERE k=?"));
    s.Bind(1, key);
    SIGIL_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return Fail(Code::kNotFound, "store has no '" + key + "'");
    return s.Blob(0);
  }

 private:
  static std::int64_t NowMillis() { return Millis(std::chrono::system_clock::now()); }

  // The tenant's next policy version (after every version, proposed ones included).
  Result<std::int64_t> InsertPolicy(const std::string& tenant, const std::string& text, bool active,
                                    const PolicyRowMac& mac_for) {
    std::lock_guard lock(mu_);
    SIGIL_RETURN_IF_ERROR(Usable());
    return InWriteTransaction([&]() -> Result<std::int64_t> {
      SIGIL_ASSIGN_OR_RETURN(Stmt v, Prepare("SELECT COALESCE(MAX(version),0)+1 FROM policies WHERE tenant=?"));
      v.Bind(1, tenant);
      SIGIL_RETURN_IF_ERROR(v.Step());
      PolicyRow row{text, v.Int(0), {}, active};
      if (mac_for) row.mac = mac_for(tenant, row);
      SIGIL_ASSIGN_OR_RETURN(Stmt s, Prepare("INSERT INTO policies(tenant,version,text,created_at,mac,active) VALUES(?,?,?,?,?,?)"));
      SIGIL_RETURN_IF_ERROR(s.Bind(1, tenant).Bind(2, row.version).Bind(3, text)
                                .Bind(4, Seconds(std::chrono::system_clock::now())).Bind(5, ByteSpan(row.mac))
                                .Bind(6, std::int64_t{active ? 1 : 0}).Run());
      return row.version;
    });
  }

  Result<PolicyRow> ReadPolicyVersion(const std::string& tenant, std::int64_t version) {
    SIGIL_ASSIGN_OR_RETURN(Stmt s, Prepare("SELECT text, version, mac, active FROM policies WHERE tenant=? AND version=?"));
    s.Bind(1, tenant).Bind(2, version);
    SIGIL_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return Fail(Code::kNotFound, "tenant '" + tenant + "' has no policy version " + std::to_string(version));
    return PolicyRow{s.Text(0), s.Int(1), s.Blob(2), s.Int(3) != 0};
  }

  // A release appends a few pages to the WAL; below this much space for the broker's user the
  // next one may not be recorded, so the broker reports itself not ready before writes fail.
  static constexpr std::uint64_t kMinFreeBytes = 4ull << 20;
  static constexpr std::int64_t kProbeStaleMillis = 10'000;

  Result<void> CheckFreeSpace() const {
    std::string dir = health_->path();
    auto slash = dir.rfind('/');
    dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : dir.substr(0, slash));
    struct statvfs fs;
    if (::statvfs(dir.c_str(), &fs) != 0) {
      return Fail(Code::kUnavailable, "store_unwritable: cannot read the free space of " + dir + ": " + std::strerror(errno));
    }
    const std::uint64_t free_bytes = static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
    if (fs.f_flag & ST_RDONLY) {
      return Fail(Code::kUnavailable, "store_unwritable: the file system holding " + health_->path() + " is read-only");
    }
    if (free_bytes < kMinFreeBytes) {
      return Fail(Code::kUnavailable, "store_low_space: " + std::to_string(free_bytes / 1024) +
                                          " KiB free on the file system holding " + health_->path() + " (readiness needs " +
                                          std::to_string(kMinFreeBytes / 1024) + " KiB): the next release may not be recorded");
    }
    return Ok();
  }

  static constexpr const char* kKeyColumns =
      "SELECT tenant,name,version,class,state,public_key,private_key,created_at,destroyed_at,mac FROM key_versions";

  Result<Stmt> Prepare(const std::string& q) { return Stmt::Prepare(db_.get(), q.c_str(), health_.get(), &statements_); }
  Result<void> Exec(const char* q) { return sql::Exec(db_.get(), q, health_.get()); }
  // Fail closed: once SQLite has reported the file damaged, nothing read from it or written to
  // it is trusted again by this process (audit reads excepted, for forensics).
  Result<void> Usable() const {
    if (health_->corrupt()) return Fail(Code::kUnavailable, health_->CorruptMessage());
    return Ok();
  }

  static Result<std::vector<AuditRow>> ReadAuditRows(Stmt& s) {
    std::vector<AuditRow> out;
    for (;;) {
      SIGIL_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) return out;
      out.push_back(ReadAuditRow(s));
    }
  }

  static KeyVersionRow ReadKey(const Stmt& s) {
    return KeyVersionRow{s.Text(0), s.Text(1), s.Text(3), static_cast<std::uint32_t>(s.Int(2)),
                         s.Text(4), s.Blob(5), s.Blob(6), s.Int(7), s.Int(8), s.Blob(9)};
  }

  // One group-commit batch (group_commit.h): one transaction, a savepoint per write, one commit.
  void RunBatch(const std::vector<GroupCommit<SqliteStore>::Write*>& batch) {
    std::lock_guard lock(mu_);
    auto fail_all = [&](const Error& e) {
      for (auto* w : batch) w->outcome = e;
    };
    if (auto u = Usable(); !u) return fail_all(u.error());
    if (auto b = Exec("BEGIN IMMEDIATE"); !b) return fail_all(b.error());
    batch_heads_.clear();
    for (auto* w : batch) {
      write_head_.reset();
      auto sp = Exec("SAVEPOINT w");
      Result<void> r = sp ? w->run(*this) : std::move(sp);
      if (!r) (void)Exec("ROLLBACK TO w");
      (void)Exec("RELEASE w");
      if (r && write_head_) {
        std::string tenant = write_head_->tenant;
        batch_heads_.insert_or_assign(std::move(tenant), std::move(*write_head_));
      }
      w->outcome = std::move(r);
    }
    // One signed checkpoint per tenant per commit, over its newest record. If one cannot be
    // written, the batch is not committed: a head without its checkpoint would not verify.
    for (auto& [tenant, newest] : batch_heads_) {
      if (auto c = WriteCheckpointLocked(tenant, newest); !c) {
        (void)Exec("ROLLBACK");
        return fail_all(c.error());
      }
    }
    batch_heads_.clear();
    if (auto c = Exec("COMMIT"); !c) {
      (void)Exec("ROLLBACK");
      for (auto* w : batch) {
        if (*w->outcome) w->outcome = c.error();
      }
      return;
    }
    health_->WriteCommitted();
  }

  // Runs `fn` in one BEGIN IMMEDIATE transaction: committed if it succeeds, rolled back if not.
  template <typename Fn>
  auto InWriteTransaction(Fn&& fn) -> decltype(fn()) {
    SIGIL_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    auto r = fn();
    if (!r) {
      (void)Exec("ROLLBACK");
      return r;
    }
    if (auto c = Exec("COMMIT"); !c) {
      (void)Exec("ROLLBACK");
      return std::move(c).error();
    }
    health_->WriteCommitted();
    return r;
  }

  // The versions of tenant/name matching `condition` (on ?3 = `arg`), for an update in place.
  Result<std::vector<KeyVersionRow>> KeyRowsLocked(const std::string& tenant, const std::string& name,
                                                   const std::string& condition, const std::string& arg) {
    SIGIL_ASSIGN_OR_RETURN(Stmt s, Prepare(std::string(kKeyColumns) + " WHERE tenant=?1 AND name=?2 AND " + condition +
                                           " ORDER BY version"));
    s.Bind(1, tenant).Bind(2, name).Bind(3, arg);
    std::vector<KeyVersionRow> rows;
    for (;;) {
      SIGIL_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) return rows;
      rows.push_back(ReadKey(s));
    }
  }

  // Writes state, private key, destroyed_at and the new tag of one version.
  Result<void> UpdateKeyRowLocked(KeyVersionRow& row, const KeyRowMac& mac_for) {
    row.mac = mac_for ? mac_for(row) : Bytes{};
    SIGIL_ASSIGN_OR_RETURN(Stmt u, Prepare("UPDATE key_versions SET state=?, private_key=?, destroyed_at=?, mac=? "
                                           "WHERE tenant=? AND name=? AND version=?"));
    return u.Bind(1, row.state).Bind(2, ByteSpan(row.wrapped_private_key)).Bind(3, row.destroyed_at).Bind(4, ByteSpan(row.mac))
        .Bind(5, row.tenant).Bind(6, row.name).Bind(7, std::int64_t{row.version}).Run();
  }

  int Changes() const { return sqlite3_changes(db_.get()); }

  // The store's erasure epoch record is `expected` (empty: there is none).
  Result<void> CheckEpochLocked(ByteSpan expected) {
    SIGIL_ASSIGN_OR_RETURN(Stmt s, Prepare("SELECT v FROM meta WHERE k=?"));
    s.Bind(1, std::string(kErasureEpochMeta));
    SIGIL_ASSIGN_OR_RETURN(bool row, s.Step());
    const bool same = row ? s.Blob(0) == Bytes(expected.begin(), expected.end()) : expected.empty();
    if (!same) return RekeyConflict("the erasure epoch");
    return Ok();
  }

  Result<int> RekeyLocked(const RekeyPlan& plan, const KeyRowMac& mac_for) {
    if (plan.epoch_from.empty()) {
      SIGIL_ASSIGN_OR_RETURN(Stmt e, Prepare("INSERT INTO meta(k, v) SELECT ?1, ?2 WHERE NOT EXISTS "
                                             "(SELECT 1 FROM meta WHERE k=?1)"));
      SIGIL_RETURN_IF_ERROR(e.Bind(1, std::string(kErasureEpochMeta)).Bind(2, ByteSpan(plan.epoch_to)).Run());
    } else {
      SIGIL_ASSIGN_OR_RETURN(Stmt e, Prepare("UPDATE meta SET v=?1 WHERE k=?2 AND v=?3"));
      SIGIL_RETURN_IF_ERROR(e.Bind(1, ByteSpan(plan.epoch_to)).Bind(2, std::string(kErasureEpochMeta))
                                .Bind(3, ByteSpan(plan.epoch_from)).Run());
    }
    if (Changes() != 1) return RekeyConflict("the erasure epoch");
    SIGIL_ASSIGN_OR_RETURN(Stmt count, Prepare("SELECT count(*) FROM tenants"));
    SIGIL_ASSIGN_OR_RETURN(bool counted, count.Step());
    if (!counted || count.Int(0) != static_cast<std::int64_t>(plan.keks.size())) return RekeyConflict("the set of tenants");
    for (const RekeyPlan::Kek& k : plan.keks) {
      SIGIL_ASSIGN_OR_RETURN(Stmt u, Prepare("UPDATE tenants SET kek=? WHERE name=? AND kek=?"));
      SIGIL_RETURN_IF_ERROR(u.Bind(1, ByteSpan(k.to)).Bind(2, k.tenant).Bind(3, ByteSpan(k.from)).Run());
      if (Changes() != 1) return RekeyConflict("the KEK of '" + k.tenant + "'");
    }
    if (!plan.destroy) return 0;
    const RekeyPlan::Destroy& d = *plan.destroy;
    SIGIL_ASSIGN_OR_RETURN(int destroyed, DestroyLocked(d.tenant, d.name, d.version, d.now, mac_for));
    SIGIL_ASSIGN_OR_RETURN(Stmt live, Prepare("SELECT count(*) FROM key_versions WHERE tenant=? AND state!='destroyed'"));
    live.Bind(1, d.tenant);
    SIGIL_ASSIGN_OR_RETURN(bool has, live.Step());
    if (!has || live.Int(0) != static_cast<std::int64_t>(plan.versions.size())) {
      return RekeyConflict("the key versions of '" + d.tenant + "'");
    }
    for (const RekeyPlan::Version& v : plan.versions) {
      KeyVersionRow row = v.to;
      row.mac = mac_for ? mac_for(row) : Bytes{};
      SIGIL_ASSIGN_OR_RETURN(Stmt u, Prepare("UPDATE key_versions SET private_key=?, mac=? WHERE tenant=? AND name=? "
                                             "AND version=? AND private_key=? AND state=?"));
      SIGIL_RETURN_IF_ERROR(u.Bind(1, ByteSpan(row.wrapped_private_key)).Bind(2, ByteSpan(row.mac)).Bind(3, row.tenant)
                                .Bind(4, row.name).Bind(5, std::int64_t{row.version}).Bind(6, ByteSpan(v.from))
                                .Bind(7, row.state).Run());
      if (Changes() != 1) return RekeyConflict("key '" + row.tenant + "/" + row.name + "' version " + std::to_string(row.version));
    }
    SIGIL_ASSIGN_OR_RETURN(Stmt del, Prepare("DELETE FROM meta WHERE k=?"));
    SIGIL_RETURN_IF_ERROR(del.Bind(1, std::string(kErasureChainShareMeta)).Run());
    return destroyed;
  }

  Result<int> DestroyLocked(const std::string& tenant, const std::string& name, std::optional<std::uint32_t> version,
                            std::int64_t now, const KeyRowMac& mac_for) {
    SIGIL_ASSIGN_OR_RETURN(std::vector<KeyVersionRow> rows,
                           KeyRowsLocked(tenant, name, "state!='destroyed' AND (?3 = '' OR version = CAST(?3 AS INTEGER))",
                                         version ? std::to_string(*version) : ""));
    for (KeyVersionRow& row : rows) {
      // Overwrite in place first, so even a copy of the record in a freed cell holds only zeros,
      // then drop the blob and mark the version; secure_delete zeroes the freed space.
      SIGIL_ASSIGN_OR_RETURN(Stmt zero, Prepare("UPDATE key_versions SET private_key=zeroblob(length(private_key)) "
                                                "WHERE tenant=? AND name=? AND version=?"));
      SIGIL_RETURN_IF_ERROR(zero.Bind(1, tenant).Bind(2, name).Bind(3, std::int64_t{row.version}).Run());
      row.state = "destroyed";
      row.wrapped_private_key.clear();
      row.destroyed_at = now;
      SIGIL_RETURN_IF_ERROR(UpdateKeyRowLocked(row, mac_for));
    }
    return static_cast<int>(rows.size());
  }

  // Inside a group-commit write: the record goes in now, its tenant's checkpoint once per batch
  // (RunBatch).
  Result<AuditRow> AppendLocked(const std::string& tenant, const AuditMaker& make, const CheckpointSigner& sign) {
    // The head is the highest readable seq: a damaged row (seq stored as text sorts above every
    // integer) must not make the next record reuse seq 1 and fail every append after it.
    SIGIL_ASSIGN_OR_RETURN(Stmt h, Prepare("SELECT seq, record, hash FROM audit WHERE tenant=? "
                                           "AND typeof(seq) = 'integer' ORDER BY seq DESC LIMIT 1"));
    h.Bind(1, tenant);
    SIGIL_ASSIGN_OR_RETURN(bool row, h.Step());
    std::optional<AuditRow> head;
    if (row) head = ReadAuditRow(h);
    SIGIL_ASSIGN_OR_RETURN(AuditRow rec, make(head));
    SIGIL_ASSIGN_OR_RETURN(Stmt ins, Prepare("INSERT INTO audit(tenant, seq, record, hash) VALUES(?,?,?,?)"));
    SIGIL_RETURN_IF_ERROR(ins.Bind(1, tenant).Bind(2, static_cast<std::int64_t>(rec.seq)).Bind(3, rec.record)
                              .Bind(4, rec.hash).Run());
    write_head_ = BatchHead{tenant, rec, sign};
    return rec;
  }

  // A record appended in the running batch and how to sign its checkpoint (the signer is the
  // appending caller's, alive until its write is answered).
  struct BatchHead {
    std::string tenant;
    AuditRow row;
    CheckpointSigner sign;
  };
  Result<void> WriteCheckpointLocked(const std::string& tenant, const BatchHead& newest) {
    SIGIL_ASSIGN_OR_RETURN(Checkpoint cp, newest.sign(newest.row));
    SIGIL_ASSIGN_OR_RETURN(Stmt c, Prepare("INSERT OR REPLACE INTO checkpoints(tenant,seq,head,time,signature) VALUES(?,?,?,?,?)"));
    return c.Bind(1, tenant).Bind(2, static_cast<std::int64_t>(cp.seq)).Bind(3, cp.head).Bind(4, cp.time)
        .Bind(5, cp.signature).Run();
  }

  std::mutex mu_;
  std::unique_ptr<sql::Health> health_;
  sql::DbPtr db_;
  sql::StmtCache statements_;  // after db_: finalized before the connection closes
  // Plain reads (tenant, key, policy, reference, meta rows) go through these connections, not
  // db_ under mu_: they would otherwise wait for every group commit's transaction and fsync.
  // Measured under the fleet benchmark: 11% of sigild's context switches were waits for mu_ in
  // GetTenantKek and GetPolicy. Writes, and reads inside a write, stay on db_.
  std::unique_ptr<sql::ReaderPool> reads_;
  std::atomic<std::int64_t> last_probe_ms_{0};
  std::int64_t last_prune_ms_ = 0;  // guarded by mu_
  GroupCommit<SqliteStore> group_;
  // The newest record each tenant got in the running batch (guarded by mu_).
  std::optional<BatchHead> write_head_;
  std::map<std::string, BatchHead> batch_heads_;
  static constexpr std::int64_t kPruneEveryMillis = 1000;
};

}  // namespace

namespace {

// The recovery steps every refusal of a damaged store names.
std::string RecoverySteps(const std::string& path) {
  return "Recovery: keep a copy of the damaged file (with its -wal file, if any), restore " + path +
         " from a backup, or salvage what is readable with `sqlite3 " + path + " .recover | sqlite3 NEW.db`, check NEW.db "
         "with `sqlite3 NEW.db 'PRAGMA integrity_check'`, move it into place and start sigild again; then run "
         "`sigil audit verify` for every tenant";
}

// Read connections (sql::ReaderPool): a handful covers the handler threads' short reads.
constexpr int kReaders = 4;

// PRAGMA integrity_check rather than quick_check: it also checks that every index matches its
// table, and the nonce, audit and key lookups go through those indexes (an index out of step
// with its table can hide a used nonce). Measured on a 43 MB store with 100,000 audit records:
// integrity_check 0.23 s, quick_check 0.18 s with the file in the page cache, both 1.3-2.5 s
// from a cold cache (I/O bound), against 2.5-6 s of Argon2id at start.
Result<void> CheckIntegrity(sqlite3* db, const std::string& path) {
  auto s = Stmt::Prepare(db, "PRAGMA integrity_check(8)");
  std::string problems;
  if (s) {
    for (;;) {
      auto row = s->Step();
      if (!row) {
        problems = row.error().message();
        break;
      }
      if (!*row) break;
      std::string line = s->Text(0);
      if (line == "ok") return Ok();
      problems += (problems.empty() ? "" : "; ") + line;
    }
  } else {
    problems = s.error().message();
  }
  return Fail(Code::kUnavailable, "store " + path + " is damaged: SQLite's integrity check failed (" + problems +
                                      "); refusing to serve from it. " + RecoverySteps(path));
}

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path, StoreOpen how) {
  // Only `sigild init` creates a store: a missing file is an error, never a fresh empty store
  // (which would then fail on a missing key and stay behind, looking like a data directory).
  struct stat st;
  if (how == StoreOpen::kExisting && ::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return Fail(Code::kNotFound, "store " + path + " does not exist; was the data directory initialised (sigild init)?");
    }
    return Fail(Code::kUnavailable, "cannot open store " + path + ": " + std::strerror(errno));
  }
  const int create = how == StoreOpen::kCreate ? SQLITE_OPEN_CREATE : 0;
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | create | SQLITE_OPEN_FULLMUTEX, nullptr);
  sql::DbPtr db(raw);
  if (rc != SQLITE_OK) {
    return Fail(Code::kUnavailable, "cannot open store " + path + ": " + (raw ? sqlite3_errmsg(raw) : "out of memory"));
  }
  // SQLite falls back to a read-only connection when the file cannot be opened for writing; such
  // a connection never becomes writable, so the broker could not record a single release.
  if (sqlite3_db_readonly(db.get(), "main") == 1) {
    return Fail(Code::kUnavailable, "store " + path + " can only be opened read-only (file permissions or a read-only "
                                    "file system): the broker could not record any release; make it writable and start again");
  }
  sqlite3_busy_timeout(db.get(), 2000);
  // Zero the content of deleted records and freed pages, so erased key material (sigil key
  // destroy) does not linger in the file (https://sqlite.org/pragma.html#pragma_secure_delete).
  SIGIL_RETURN_IF_ERROR(sql::Exec(db.get(), "PRAGMA secure_delete=ON"));
  SIGIL_RETURN_IF_ERROR(CheckIntegrity(db.get(), path));
  auto health = std::make_unique<sql::Health>(path);
  if (auto r = sql::Exec(db.get(), kSchema, health.get()); !r) {
    if (health->corrupt()) return Fail(Code::kUnavailable, "store " + path + " is damaged (" + r.error().message() + "). " + RecoverySteps(path));
    return std::move(r).error();
  }
  SIGIL_RETURN_IF_ERROR(Migrate(db.get()));
  SIGIL_ASSIGN_OR_RETURN(std::unique_ptr<sql::ReaderPool> reads, sql::ReaderPool::Open(path, kReaders, health.get()));
  return std::unique_ptr<Store>(new SqliteStore(std::move(db), std::move(health), std::move(reads)));
}

}  // namespace sigil::broker
