#include "broker/store/pg_store.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <regex>

#include "broker/store/pg_conn.h"
#include "broker/store/policy_versions.h"
#include "broker/store/release_gate_check.h"
#include "core/json.h"

namespace sigil::broker {
namespace {
using pg::Conn;
using pg::Failure;
using pg::Outcome;
using pg::Params;

// How long an expired nonce is kept (so a late attest hears "expired", not "unknown").
constexpr std::int64_t kNonceGraceMillis = 10 * 60 * 1000;
// The same for a pending TPM enrolment (a late finish hears "expired", not "unknown").
constexpr std::int64_t kEnrolmentGraceMillis = 10 * 60 * 1000;
constexpr int kSchemaVersion = 1;
// Connections per broker: enough for the I/O threads and the probe; PostgreSQL's default
// max_connections (100) then allows a dozen brokers.
constexpr std::size_t kPoolSize = 6;

// The same tables as the SQLite store, in PostgreSQL types. Created under an advisory lock so
// brokers starting together do not race on CREATE TABLE.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v BYTEA NOT NULL);
CREATE TABLE IF NOT EXISTS tenants (name TEXT PRIMARY KEY, kek BYTEA NOT NULL, created_at BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS key_versions (
  tenant TEXT NOT NULL REFERENCES tenants(name), name TEXT NOT NULL, version BIGINT NOT NULL,
  class TEXT NOT NULL, state TEXT NOT NULL, public_key BYTEA NOT NULL, private_key BYTEA NOT NULL,
  created_at BIGINT NOT NULL, destroyed_at BIGINT NOT NULL DEFAULT 0, mac BYTEA NOT NULL DEFAULT '\x',
  PRIMARY KEY (tenant, name, version));
CREATE TABLE IF NOT EXISTS policies (
  tenant TEXT NOT NULL REFERENCES tenants(name), version BIGINT NOT NULL, text TEXT NOT NULL,
  created_at BIGINT NOT NULL, mac BYTEA NOT NULL DEFAULT '\x', PRIMARY KEY (tenant, version));
CREATE TABLE IF NOT EXISTS refs (
  tenant TEXT NOT NULL REFERENCES tenants(name), set_name TEXT NOT NULL, value TEXT NOT NULL,
  mac BYTEA NOT NULL DEFAULT '\x', PRIMARY KEY (tenant, set_name, value));
CREATE TABLE IF NOT EXISTS nonces (
  nonce BYTEA PRIMARY KEY, tenant TEXT NOT NULL, tee TEXT NOT NULL, expires_at BIGINT NOT NULL,
  used BOOLEAN NOT NULL DEFAULT false);
CREATE INDEX IF NOT EXISTS nonces_by_expiry ON nonces(expires_at);
CREATE INDEX IF NOT EXISTS nonces_outstanding ON nonces(tenant, expires_at) WHERE NOT used;
CREATE TABLE IF NOT EXISTS audit (
  tenant TEXT NOT NULL, seq BIGINT NOT NULL, record TEXT NOT NULL, hash TEXT NOT NULL,
  PRIMARY KEY (tenant, seq));
CREATE TABLE IF NOT EXISTS tpm_aks (
  tenant TEXT NOT NULL REFERENCES tenants(name), id TEXT NOT NULL, name TEXT NOT NULL, spki BYTEA NOT NULL,
  created_at BIGINT NOT NULL, tpm_name BYTEA NOT NULL, mac BYTEA NOT NULL DEFAULT '\x', PRIMARY KEY (tenant, id));
CREATE TABLE IF NOT EXISTS tpm_clock (
  ak TEXT PRIMARY KEY, reset_count BIGINT NOT NULL, restart_count BIGINT NOT NULL, clock BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints (
  tenant TEXT PRIMARY KEY, seq BIGINT NOT NULL, head TEXT NOT NULL, time BIGINT NOT NULL,
  signature TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tree_heads (
  tenant TEXT PRIMARY KEY, size BIGINT NOT NULL, time BIGINT NOT NULL, note TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS admin_certs (
  serial TEXT PRIMARY KEY, role TEXT NOT NULL, tenant TEXT NOT NULL, not_after BIGINT NOT NULL, issued_at BIGINT NOT NULL,
  revoked_at BIGINT NOT NULL, issued_by TEXT NOT NULL, mac BYTEA NOT NULL);
CREATE INDEX IF NOT EXISTS admin_certs_by_tenant ON admin_certs(tenant);
CREATE TABLE IF NOT EXISTS release_uses (
  tenant TEXT NOT NULL, counter TEXT NOT NULL, time_ms BIGINT NOT NULL, uses BIGINT NOT NULL);
CREATE INDEX IF NOT EXISTS release_uses_by_counter ON release_uses(tenant, counter, time_ms);
CREATE TABLE IF NOT EXISTS spent_tokens (
  tenant TEXT NOT NULL, token TEXT NOT NULL, expires_ms BIGINT NOT NULL, PRIMARY KEY (tenant, token));
CREATE INDEX IF NOT EXISTS spent_tokens_by_expiry ON spent_tokens(expires_ms);
CREATE TABLE IF NOT EXISTS tpm_enrolments (
  id TEXT PRIMARY KEY, tenant TEXT NOT NULL, ek BYTEA NOT NULL, ak_spki BYTEA NOT NULL, ak_name BYTEA NOT NULL,
  secret_hash BYTEA NOT NULL, expires_ms BIGINT NOT NULL, mac BYTEA NOT NULL);
CREATE INDEX IF NOT EXISTS tpm_enrolments_by_tenant ON tpm_enrolments(tenant, expires_ms);
CREATE INDEX IF NOT EXISTS tpm_enrolments_by_expiry ON tpm_enrolments(expires_ms);
ALTER TABLE policies ADD COLUMN IF NOT EXISTS active BIGINT NOT NULL DEFAULT 1;
CREATE TABLE IF NOT EXISTS policy_approvals (
  tenant TEXT NOT NULL, version BIGINT NOT NULL, approver TEXT NOT NULL, public_key BYTEA NOT NULL,
  signature BYTEA NOT NULL, time_ms BIGINT NOT NULL, PRIMARY KEY (tenant, version, approver));
)sql";

// A published tree head never goes back (Store::PutTreeHead), whichever broker writes last.
constexpr const char* kPutTreeHeadPg =
    "INSERT INTO tree_heads(tenant, size, time, note) VALUES($1, $2, $3, $4) ON CONFLICT (tenant) DO UPDATE "
    "SET size=EXCLUDED.size, time=EXCLUDED.time, note=EXCLUDED.note WHERE EXCLUDED.size > tree_heads.size OR "
    "(EXCLUDED.size = tree_heads.size AND EXCLUDED.time > tree_heads.time)";

// Advisory lock keys: one namespace per purpose, hashed with the tenant. Two tenants that
// collide only share a lock (more waiting, never less safety).
constexpr const char* kLockAudit = "SELECT pg_advisory_xact_lock(hashtextextended('sigil.audit:' || $1, 0))";
constexpr const char* kLockNonces = "SELECT pg_advisory_xact_lock(hashtextextended('sigil.nonce:' || $1, 0))";
constexpr const char* kLockPolicy = "SELECT pg_advisory_xact_lock(hashtextextended('sigil.policy:' || $1, 0))";
constexpr const char* kLockEnrolments = "SELECT pg_advisory_xact_lock(hashtextextended('sigil.tpm-enrol:' || $1, 0))";
constexpr const char* kLockSchema = "SELECT pg_advisory_xact_lock(hashtextextended('sigil.schema', 0))";

std::int64_t Seconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}
std::int64_t Millis(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
std::int64_t NowMillis() { return Millis(std::chrono::system_clock::now()); }

// What the connections have learned about the server, for fail-closed behaviour and readiness
// (the SQLite store's Health, for a server). Corruption reported by the server (SQLSTATE class
// XX) is sticky; unreachability or a full disk lasts until a later write commits. Thread-safe.
class ServerHealth {
 public:
  explicit ServerHealth(std::string where) : where_(std::move(where)) {}
  const std::string& where() const { return where_; }

  // Records a failed statement; returns the message the caller's error carries.
  std::string Note(const Outcome& o) {
    std::lock_guard lock(mu_);
    switch (o.failure) {
      case Failure::kCorrupt:
        if (!corrupt_) corrupt_detail_ = o.message;
        corrupt_ = true;
        return CorruptMessageLocked();
      case Failure::kConnection:
        write_failure_ = "store_unavailable: PostgreSQL at " + where_ + " is unreachable (" + o.message +
                         "); nothing is released until it is back";
        return write_failure_;
      case Failure::kNoSpace:
        write_failure_ = "store_unwritable: PostgreSQL at " + where_ + " cannot take writes (" + o.message + ")";
        return write_failure_;
      default:
        return "store: PostgreSQL: " + o.message;
    }
  }
  void NoteUnreachable(const std::string& why) {
    std::lock_guard lock(mu_);
    write_failure_ = why;
  }
  void WriteCommitted() {
    std::lock_guard lock(mu_);
    write_failure_.clear();
  }
  bool corrupt() const {
    std::lock_guard lock(mu_);
    return corrupt_;
  }
  std::string CorruptMessage() const {
    std::lock_guard lock(mu_);
    return CorruptMessageLocked();
  }
  std::string Problem() const {
    std::lock_guard lock(mu_);
    return corrupt_ ? CorruptMessageLocked() : write_failure_;
  }

 private:
  std::string CorruptMessageLocked() const {
    return "store_corrupt: PostgreSQL at " + where_ + " reported damaged data (" + corrupt_detail_ +
           "); this broker refuses every release and change until it is restarted on a sound database. "
           "Check the server (amcheck, its logs), restore from a backup if needed, then run `sigil audit verify` "
           "for every tenant";
  }
  const std::string where_;
  mutable std::mutex mu_;
  bool corrupt_ = false;
  std::string corrupt_detail_;
  std::string write_failure_;
};

// Connections handed to one caller at a time. A connection the server closed meanwhile (restart,
// failover) is reconnected when it is next taken, so the brokers recover by themselves.
class Pool {
 public:
  explicit Pool(std::string url) : url_(std::move(url)) {}

  class Lease {
   public:
    Lease(Pool* pool, std::unique_ptr<Conn> c) : pool_(pool), conn_(std::move(c)) {}
    Lease(Lease&& o) noexcept : pool_(o.pool_), conn_(std::move(o.conn_)) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (conn_) pool_->Return(std::move(conn_));
    }
    Conn& operator*() const { return *conn_; }
    Conn* operator->() const { return conn_.get(); }

   private:
    Pool* pool_;
    std::unique_ptr<Conn> conn_;
  };

  Result<Lease> Take() {
    std::unique_ptr<Conn> c;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return !idle_.empty() || open_ < kPoolSize; });
      if (!idle_.empty()) {
        c = std::move(idle_.back());
        idle_.pop_back();
      } else {
        ++open_;
      }
    }
    if (c && !c->StillOpen() && !c->Reset()) {
      Drop();
      return Fail(Code::kUnavailable, "store_unavailable: cannot reconnect to PostgreSQL");
    }
    if (!c) {
      auto opened = Conn::Open(url_);
      if (!opened) {
        Drop();
        return std::move(opened).error();
      }
      c = std::move(*opened);
      if (auto s = Setup(*c); !s) {
        Drop();
        return std::move(s).error();
      }
    }
    return Lease(this, std::move(c));
  }

  // Session settings every connection needs: durable commits whatever the server's default,
  // and a bound on how long one statement may hold a release.
  static Result<void> Setup(Conn& c) {
    Outcome o = c.ExecScript("SET synchronous_commit = on; SET statement_timeout = '15s'; SET lock_timeout = '10s'");
    if (!o.ok()) return Fail(Code::kUnavailable, "store_unavailable: PostgreSQL session setup: " + o.message);
    return Ok();
  }

 private:
  void Return(std::unique_ptr<Conn> c) {
    std::lock_guard lock(mu_);
    if (c->Healthy()) {
      idle_.push_back(std::move(c));
    } else {
      --open_;  // closed here; the next Take opens a fresh one
    }
    cv_.notify_one();
  }
  void Drop() {
    std::lock_guard lock(mu_);
    --open_;
    cv_.notify_one();
  }

  const std::string url_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Conn>> idle_;
  std::size_t open_ = 0;
};

// Does a stored audit record match the query's field filters? A record that is not readable
// JSON matches every filter (damage is shown, never hidden), as in the SQLite store.
bool MatchesQuery(const std::string& record, const AuditQuery& q) {
  auto parsed = ParseJson(record, "audit record");
  if (!parsed || !parsed->is_object()) return true;
  const Json& j = *parsed;
  auto time_ms = [&]() -> std::optional<std::int64_t> {
    auto it = j.find("time_ms");
    if (it == j.end() || !it->is_number_integer()) return std::nullopt;
    return it->get<std::int64_t>();
  }();
  if (q.since_ms && (!time_ms || *time_ms < *q.since_ms)) return false;
  if (q.until_ms && (!time_ms || *time_ms > *q.until_ms)) return false;
  auto field_is = [&](const char* name, const std::string& want) {
    if (want.empty()) return true;
    auto it = j.find(name);
    return it != j.end() && it->is_string() && it->get<std::string>() == want;
  };
  return field_is("decision", q.decision) && field_is("key", q.key);
}

class PostgresStore final : public Store {
 public:
  PostgresStore(const std::string& url, std::string where) : health_(std::move(where)), pool_(url) {}

  // The tenant row, record 1 and its checkpoint in one transaction (AppendOn takes the tenant's
  // chain lock, as every append does).
  Result<AuditRow> CreateTenant(const std::string& tenant, ByteSpan kek, ByteSpan erasure_epoch,
                                const AuditMaker& genesis, const CheckpointSigner& sign) override {
    return InTransaction([&](Conn& c) -> Result<AuditRow> {
      Outcome o = c.Exec("INSERT INTO tenants(name, kek, created_at) VALUES($1,$2,$3)",
                         Params().Text(tenant).Blob(kek).Int(Seconds(std::chrono::system_clock::now())));
      last_failure_retry_ = o.failure == Failure::kRetry;
      if (o.failure == Failure::kDuplicate) return Fail(Code::kAlreadyExists, "tenant '" + tenant + "' already exists");
      if (!o.ok()) return Fail(Code::kUnavailable, health_.Note(o));
      // After the insert, which waits out a Rekey's lock on tenants: the epoch read then is the
      // one that Rekey committed, and FOR SHARE holds it until this commits.
      SIGIL_RETURN_IF_ERROR(CheckEpoch(c, erasure_epoch));
      auto g = AppendOn(c, tenant, genesis, sign);
      if (!g) return GenesisNotWritten(g.error());
      return g;
    });
  }

  Result<Bytes> GetTenantKek(const std::string& tenant) override {
    return WithConn([&](Conn& c) -> Result<Bytes> {
      SIGIL_ASSIGN_OR_RETURN(pg::Rows r, Query(c, "SELECT kek FROM tenants WHERE name=$1", Params().Text(tenant)));
      if (r.size() == 0) return Fail(Code::kNotFound, "unknown tenant '" + tenant + "'");
      return r.Blob(0, 0);
    });
  }

  Result<std::vector<std::string>> ListTenants() override {
    return WithConn([&](Conn& c) -> Result<std::vector<std::string>> {
      SIGIL_ASSIGN_OR_RETURN(pg::Rows r, Query(c, "SELECT name FROM tenants ORDER BY name"));
      std::vector<std::string> out;
      for (int i = 0; i < r.size(); ++i) out.push_back(r.Text(i, 0));
      return out;
    });
  }

  Result<void> PutKeyVersion(const KeyVersionRow& k, ByteSpan wrapped_kek) override {
    return WithConn([&](Conn& c) -> Result<void> {
      // The tenant row locked FOR SHARE: a Rekey replacing the KEK either waits for this insert
      // (and then counts it) or has committed, and the re-checked condition fails.
      Outcome o = c.Exec(
          "INSERT INTO key_versions(tenant,name,version,class,state,public_key,private_key,created_at,mac) "
          "SELECT $1,$2,$3,$4,$5,$6,$7,$8,$9 WHERE EXISTS "
          "(SELECT 1 FROM tenants WHERE name=$1 AND kek=$10 FOR SHARE) RETURNING 1",
          Params().Text(k.tenant).Text(k.name).Int(k.version).Text(k.key_class).Text(k.state).Blob(k.public_key)
              .Blob(k.wrapped_private_key).Int(k.created_at).Blob(k.mac).Blob(wrapped_kek));
      if (o.failure == Failure::kDuplicate) {
        return Fail(Code::kAlreadyExists, "key '" + k.tenant + "/" + k.name + "' version " + std::to_string(k.version) +
                                              " already exists");
      }
      SIGIL_RETURN_IF_ERROR(Committed(o));
      if (o.rows.size() == 1) return Ok();
      SIGIL_ASSIGN_OR_RETURN(pg::Rows t, Query(c, "SELECT 1 FROM tenants WHERE name=$1", Params().Text(k.tenant)));
      if (t.size() == 0) return Fail(Code::kNotFound, "unknown tenant '" + k.tenant + "'");
      return RekeyConflict("the tenant KEK of '" + k.tenant + "'");
    });
  }

  Result<KeyVersionRow> GetKeyVersion(const std::string& tenant, const std::string& name, std::uint32_t v) override {
    return WithConn([&](Conn& c) -> Result<KeyVersionRow> {
      SIGIL_ASSIGN_OR_RETURN(pg::Rows r, Query(c, std::string(kKeyColumns) + " WHERE tenant=$1 AND name=$2 AND version=$3",
                                               Params().Text(tenant).Text(name).Int(v)));
      if (r.size() == 0) return Fail(Code::kNotFound, "unknown key '" + tenant + "/" + name + "' version " + std::to_string(v));
      return ReadKey(r, 0);
    });
  }

  Result<KeyVersionRow> LatestKeyVersion(const std::string& tenant, const std::string& name) override {
    return WithConn([&](Conn& c) -> Result<KeyVersionRow> {
      SIGIL_ASSIGN_OR_RETURN(pg::Rows r, Query(c, std::string(kKeyColumns) +
                                                      " WHERE tenant=$1 AND name=$2 ORDER BY version DESC LIMIT 1",
                                               Params().Text(tenant).Text(name)));
      if (r.size() == 0) return Fail(Code::kNotFound, "unknown key '" + tenant + "/" + name + "'");
      return ReadKey(r, 0);
    });
  }

  Result<std::vector<KeyVersionRow>> ListKeyVersions(const std::string& tenant) override {
    return WithConn([&](Conn& c) -> Result<std::vector<KeyVersionRow>> {
      SIGIL_ASSIGN_OR_RETURN(pg::Rows r, Query(c, std::string(kKeyColumns) + " WHERE tenant=$1 ORDER BY name, version",
                                               Params().Text(tenant)));
      std::vector<KeyVersionRow> out;
      for (int i = 0; i < r.size(); ++i) out.push_back(ReadKey(r, i));
      return out;
    });
  }

  Result<int> SetKeyState(const std::string& tenant, const std::string& name, const std::string& from,
                          const std::string& to, const KeyRowMac& mac_for) override {
    return InTransaction([&](Conn& c) -> Result<int> {
      SIGIL_ASSIGN_OR_RETURN(std::vector<KeyVersionRow> rows, LockKeyRows(c, tenant, name, "state=$3", Params().Text(from)));
      for (KeyVersionRow& row : rows) {
        row.state = to;
        SIGIL_RETURN_IF_ERROR(UpdateKeyRow(c, row, mac_for));
      }
      return static_cast<int>(rows.size());
    });
  }

  Result<int> DestroyKeyMaterial(const std::string& tenant, const std::string& name,
                                 std::optional<std::uint32_t> version, std::int64_t now, const KeyRowMac& mac_for) override {
    SIGIL_ASSIGN_OR_RETURN(int destroyed, InTransaction([&](Conn& c) -> Result<int> {
      return DestroyOn(c, tenant, name, version, now, mac_for);
    }));
    SIGIL_RETURN_IF_ERROR(VacuumAfterErase());
    return destroyed;
  }

  Result<int> Rekey(const RekeyPlan& plan, const KeyRowMac& mac_for) override {
    SIGIL_ASSIGN_OR_RETURN(int destroyed, InTransaction([&](Conn& c) { return RekeyOn(c, plan, mac_for); }));
    SIGIL_RETURN_IF_ERROR(VacuumAfterErase());
    return destroyed;
  }

  Result<void> VacuumAfterErase() {
    // The update left the old row version behind as a dead tuple; VACUUM removes it from the
    // table (its space is reused later; WAL segments and backups are the operator's to expire,
    // docs/architecture.md). VACUUM cannot run inside a transaction, hence a statement of its own.
    SIGIL_RETURN_IF_ERROR(WithConn([&](Conn& c) -> Result<void> {
      Outcome o = c.ExecScript("VACUUM key_versions");
      if (!o.ok()) {
        return Fail(Code::kUnavailable, "key material erased, but VACUUM key_versions failed (" + o.message +
                                            "); the old row version remains until the next vacuum");
      }
      return Ok();
    }));
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
    return WithConn([&](Conn& c) -> Result<PolicyRow> {
      SIGIL_ASSIGN_OR_RETURN(pg::Rows r, Query(c, "SELECT text, version, mac, active FROM policies WHERE tenant=$1 "
                                                  "AND active=1 ORDER BY version DESC LIMIT 1", Params().Text(tenant)));
      if (r.size() == 0) return Fail(Code::kNotFound, "tenant '" + tenant + "' has no policy");
      return PolicyRow{r.Text(0, 0), r.Int(0, 1), r.Blob(0, 2), r.Int(0, 3) != 0};
    });
  }

  Result<PolicyRow> GetPolicyVersion(const std::string& tenant, std::int64_t version) override {
    return WithConn([&](Conn& c) { return ReadPolicyVersion(c, tenant, version); });
  }

  Result<void> ActivatePolicy(const std::string& tenant, std::int64_t version, const PolicyRowMac& mac_for) override {
    return InTransaction([&](Conn& c) -> Result<void> {
      SIGIL_RETURN_IF_ERROR(Query(c, kLockPolicy, Params().Text(tenant)));
      SIGIL_ASSIGN_OR_RETURN(PolicyRow row, ReadPolicyVersion(c, tenant, version));
      SIGIL_ASSIGN_OR_RETURN(pg::Rows n, Query(c, "SELECT COALESCE(MAX(version),0) FROM policies WHERE tenant=$1 AND active=1",
                                               Params().Text(tenant)));
      SIGIL_RETURN_IF_ERROR(CheckActivation(tenant, row, n.Int(0, 0)));
      row.active = true;
      if (mac_for) row.mac = mac_for(tenant, row);
      return Run(c, "UPDATE policies SET active=1, mac=$1 WHERE tenant=$2 AND version=$3",
                 Params().Blob(row.mac).Text(tenant).Int(version));
    });
  }

  Result<void> AddPolicyApproval(const std::string& tenant, const PolicyApprovalRow& a) override {
    return WithConn([&](Conn& c) -> Result<void> {
      Outcome o = c.Exec("INSERT INTO policy_approvals(tenant,version,approver,public_key,signature,time_ms) "
                         "VALUES($1,$2,$3,$4,$5,$6)",
                         Params().Text(tenant).Int(a.version).Text(a.approver).Blob(a.public_key).Blob(a.signature)
                             .Int(a.time_ms));
      if (o.failure == Failure::kDuplicate) return ApprovalExists(tenant, a);
      return Committed(o);
    });
  }

  Result<std::vector<PolicyApprovalRow>> ListPolicyApprovals(const std::string& tenant, std::int64_t version) override {
    return WithConn([&](Conn& c) -> Result<std::vector<PolicyApprovalRow>> {
      SIGIL_ASSIGN_OR_RETURN(pg::Rows r, Query(c, "SELECT approver, public_key, signature, time_ms FROM policy_approvals "
                                                  "WHERE tenant=$1 AND version=$2 ORDER BY time_ms, approver",
                                               Params().Text(tenant).Int(version)));
      std::vector<PolicyApprovalRow> out;
      for (int i = 0; i < r.size(); ++i) {
        out.push_back(PolicyApprovalRow{version, r.Text(i, 0), r.Blob(i, 1), r.Blob(i, 2), r.Int(i, 3)});
      }
      return out;
    });
  }

  Result<void> AddReference(const std::string& tenant, const std::string& set, const std::string& value,
                            ByteSpan mac) override {
    return WithConn([&](Conn& c) -> Result<void> {
      return Committed(c.Exec("INSERT INTO refs(tenant,set_name,value,mac) VALUES($1,$2,$3,$4) "
                              "ON CONFLICT (tenant,set_name,value) DO UPDATE SET mac=EXCLUDED.mac",
                              Params().Text(tenant).Text(set).Text(value).Blob(mac)));
    });
  }

  Result<std::vector<ReferenceRow>> ListReferenceRows(const std::string& tenant) override {
    return WithConn([&](Conn& c) -> Result<std::vector<ReferenceRow>> {
      SIGIL_ASSIGN_OR_RETURN(pg::Rows r, Query(c, "SELECT set_name, value, mac FROM refs WHERE tenant=$1 ORDER BY set_name, value",
                                               Params().Text(tenant)));
      std::vector<ReferenceRow> out;
      for (int i = 0; i < r.size(); ++i) out.push_back(ReferenceRow{r.Text(i, 0), r.Text(i, 1), r.Blob(i, 2)});
      return out;
    });
  }

  Result<void> PutNonce(ByteSpan nonce, const std::string& tenant, const std::string& tee, TimePoint exp, TimePoint now,
                        std::size_t max_outstanding) override {
    return InTransaction([&](Conn& c) -> Result<void> {
      // The count and the insert under one per-tenant lock, so brokers sharing the database
      // cannot together exceed the cap.
      SIGIL_RETURN_IF_ERROR(Query(c, kLockNonces, Params().Text(tenant)));
      // A challenge need not survive a crash (a lost nonce is only ever "unknown" to its
      // attest): no WAL flush wait for this commit. Every other write stays synchronous.
      SIGIL_RETURN_IF_ERROR(Query(c, "SET LOCAL synchronous_commit = off"));
      // Prune at most once a second per broker (indexed on expires_at).
      std::int64_t last = last_prune_ms_.load();
      if (Millis(now) - last >= 1000 && last_prune_ms_.compare_exchange_strong(last, Millis(now))) {
        SIGIL_RETURN_IF_ERROR(Query(c, "DELETE FROM nonces WHERE expires_at < $1", Params().Int(Millis(now) - kNonceGraceMillis)));
      }
      SIGIL_ASSIGN_OR_RETURN(pg::Rows n, Query(c, "SELECT COUNT(*) FROM nonces WHERE tenant=$1 AND NOT used AND expires_at >= $2",
                                               Params().Text(tenant).Int(Millis(now))));
      if (n.size() == 1 && static_cast<std::uint64_t>(n.Int(0, 0)) >= max_outstanding) {
        return Fail(Code::kUnavailable, "too many outstanding challenges for this tenant (" + std::to_string(max_outstanding) +
                                            "); retry after they expire");
      }
      return Run(c, "INSERT INTO nonces(nonce,tenant,tee,expires_at) VALUES($1,$2,$3,$4)",
                   Params().Blob(nonce).Text(tenant).Text(tee).Int(Millis(exp)));
    });
  }

  Result<void> ConsumeNonce(ByteSpan nonce, const std::string& tenant, const std::string& tee, TimePoint now) override {
    return WithConn([&](Conn& c) -> Result<void> { return ConsumeOn(c, nonce, tenant, tee, now); });
  }

  // Marks the nonce used on `c` (in the caller's transaction, if any).
  Result<void> ConsumeOn(Conn& c, ByteSpan nonce, const std::string& tenant, const std::string& tee, TimePoint now) {
    // One statement marks it used, so of two brokers racing on the same nonce exactly one
    // gets the row back (PostgreSQL's row lock serialises them; the loser sees used=true).
    Outcome o = c.Exec("UPDATE nonces SET used=true WHERE nonce=$1 AND tenant=$2 AND tee=$3 AND NOT used RETURNING expires_at",
                       Params().Blob(nonce).Text(tenant).Text(tee));
    SIGIL_RETURN_IF_ERROR(Committed(o));
    if (o.rows.size() == 0) {
      SIGIL_ASSIGN_OR_RETURN(pg::Rows seen, Query(c, "SELECT 1 FROM nonces WHERE nonce=$1 AND tenant=$2 AND tee=$3",
                                                  Params().Blob(nonce).Text(tenant).Text(tee)));
      if (seen.size() == 0) return Fail(Code::kNotFound, "nonce was not issued by this broker for this tenant and TEE type");
      return Fail(Code::kReplay, "nonce was already used (replay)");
    }
    if (Millis(now) > o.rows.Int(0, 0)) return Fail(Code::kExpired, "nonce has expired; request a new challenge");
    return Ok();
  }

  // No group commit here (group_commit.h, as the SQLite store has): PostgreSQL already merges the
  // WAL flushes of concurrent commits, and batching in one transaction cost two more round trips
  // per write (savepoints), measured slower: 181-205 against 274 flows/s (bench/run fleet).
  // One append per commit here, so one checkpoint per record.
  Result<AuditRow> AppendAudit(const std::string& tenant, const AuditMaker& make, const CheckpointSigner& sign) override {
    return InTransaction([&](Conn& c) -> Result<AuditRow> { return AppendOn(c, tenant, make, sign); });
  }

  Result<AuditRow> ConsumeNonceAndAppendAudit(const std::string& tenant, const NonceUse& use,
                                              const ConsumingAuditMaker& make, const CheckpointSigner& sign,
                                              std::optional<Error>* consume_error) override {
    return InTransaction([&](Conn& c) -> Result<AuditRow> {
      // The tenant's chain lock before the nonce's row lock, the order every writer takes them in.
      SIGIL_RETURN_IF_ERROR(Query(c, kLockAudit, Params().Text(tenant)));
      auto used = ConsumeOn(c, use.nonce, tenant, use.tee, use.now);
      if (!used && used.error().code() == Code::kUnavailable) return std::move(used).error();
      const Error* why = used ? nullptr : &used.error();
      if (consume_error) *consume_error = used ? std::nullopt : std::optional<Error>(used.error());
      return AppendOn(c, tenant, [&](const std::optional<AuditRow>& head) { return make(head, why); }, sign);
    });
  }

  // Appends on `c`, inside the caller's transaction.
  Result<AuditRow> AppendOn(Conn& c, const std::string& tenant, const AuditMaker& make, const CheckpointSigner& sign) {
    // Brokers appending to the same tenant's chain take turns: the head read, the record built
    // on it and its insert are one step, so the chain stays linear. The primary key (tenant,
    // seq) would refuse a fork even without the lock.
    SIGIL_RETURN_IF_ERROR(Query(c, kLockAudit, Params().Text(tenant)));
    SIGIL_ASSIGN_OR_RETURN(pg::Rows h, Query(c, "SELECT seq, record, hash FROM audit WHERE tenant=$1 ORDER BY seq DESC LIMIT 1",
                                             Params().Text(tenant)));
    std::optional<AuditRow> head;
    if (h.size() == 1) head = ReadAuditRow(h, 0);
    SIGIL_ASSIGN_OR_RETURN(AuditRow rec, make(head));
    SIGIL_ASSIGN_OR_RETURN(Checkpoint cp, sign(rec));
    SIGIL_RETURN_IF_ERROR(Query(c, "INSERT INTO audit(tenant, seq, record, hash) VALUES($1,$2,$3,$4)",
                                Params().Text(tenant).Int(static_cast<std::int64_t>(rec.seq)).Text(rec.record).Text(rec.hash)));
    SIGIL_RETURN_IF_ERROR(Query(c, "INSERT INTO checkpoints(tenant,seq,head,time,signature) VALUES($1,$2,$3,$4,$5) "
                                   "ON CONFLICT (tenant) DO UPDATE SET seq=EXCLUDED.seq, head=EXCLUDED.head, "
                                   "time=EXCLUDED.time, signature=EXCLUDED.signature",
                                Params().Text(tenant).Int(static_cast<std::int64_t>(cp.seq)).Text(cp.head).Int(cp.time)
                                    .Text(cp.signature)));
    return rec;
  }

  // A release's records and its gate in one transaction, under the tenant's append lock: every
  // broker that counts a tenant's releases holds it, so no two see the same count.
  Result<std::vector<AuditRow>> AppendRelease(const std::string& tenant, const ReleaseGate& gate,
                                              const std::vector<AuditMaker>& allow, const RefusalAuditMaker& deny,
                                              const CheckpointSigner& sign, std::optional<Error>* refused) override {
    std::optional<Error> why;
    auto rows = InTransaction([&](Conn& c) -> Result<std::vector<AuditRow>> {
      SIGIL_RETURN_IF_ERROR(Query(c, kLockAudit, Params().Text(tenant)));
      const GateSql sql = GateSqlOn(c, tenant);
      SIGIL_ASSIGN_OR_RETURN(why, CheckReleaseGate(gate, sql));
      std::vector<AuditRow> out;
      if (why) {
        SIGIL_ASSIGN_OR_RETURN(AuditRow r, AppendOn(c, tenant, [&](const std::optional<AuditRow>& head) {
          return deny(head, *why);
        }, sign));
        out.push_back(std::move(r));
        return out;
      }
      for (const AuditMaker& make : allow) {
        SIGIL_ASSIGN_OR_RETURN(AuditRow r, AppendOn(c, tenant, make, sign));
        out.push_back(std::move(r));
      }
      SIGIL_RETURN_IF_ERROR(RecordReleaseGate(gate, sql));
      return out;
    });
    if (refused) *refused = rows ? why : std::nullopt;
    return rows;
  }

  // The gate's statements (release_gate_check.h) on `c`, inside the caller's transaction.
  GateSql GateSqlOn(Conn& c, const std::string& tenant) {
    GateSql g;
    g.token_spent = [this, &c, &tenant](const std::string& token) -> Result<bool> {
      SIGIL_ASSIGN_OR_RETURN(pg::Rows r, Query(c, "SELECT 1 FROM spent_tokens WHERE tenant=$1 AND token=$2",
                                               Params().Text(tenant).Text(token)));
      return r.size() > 0;
    };
    g.prune = [this, &c, &tenant](const std::string& counter, std::int64_t cutoff) -> Result<void> {
      SIGIL_RETURN_IF_ERROR(Query(c, "DELETE FROM release_uses WHERE tenant=$1 AND counter=$2 AND time_ms<=$3",
                   Params().Text(tenant).Text(counter).Int(cutoff)));
      return Ok();
    };
    g.count = [this, &c, &tenant](const std::string& counter, std::int64_t after) -> Result<GateSql::Count> {
      SIGIL_ASSIGN_OR_RETURN(pg::Rows r, Query(c, "SELECT COALESCE(SUM(uses),0)::BIGINT, COALESCE(MIN(time_ms),0)::BIGINT "
                                                  "FROM release_uses WHERE tenant=$1 AND counter=$2 AND time_ms>$3",
                                               Params().Text(tenant).Text(counter).Int(after)));
      if (r.size() != 1) return GateSql::Count{};
      return GateSql::Count{r.Int(0, 0), r.Int(0, 1)};
    };
    g.add = [this, &c, &tenant](const std::string& counter, std::int64_t time, std::int64_t uses) -> Result<void> {
      SIGIL_RETURN_IF_ERROR(Query(c, "INSERT INTO release_uses(tenant,counter,time_ms,uses) VALUES($1,$2,$3,$4)",
                   Params().Text(tenant).Text(counter).Int(time).Int(uses)));
      return Ok();
    };
    g.spend = [this, &c, &tenant](const std::string& token, std::int64_t expires, std::int64_t now) -> Result<void> {
      // Tokens past their lifetime are refused anyway: forget them as new ones are spent.
      SIGIL_RETURN_IF_ERROR(Query(c, "DELETE FROM spent_tokens WHERE expires_ms < $1",
                                  Params().Int(now - kSpentTokenKeepMillis)));
      SIGIL_RETURN_IF_ERROR(Query(c, "INSERT INTO spent_tokens(tenant,token,expires_ms) VALUES($1,$2,$3)",
                   Params().Text(tenant).Text(token).Int(expires)));
      return Ok();
    };
    return g;
  }

  Result<std::vector<AuditRow>> ListAudit(const std::string& tenant) override {
    return WithConn([&](Conn& c) -> Result<std::vector<AuditRow>> {
      SIGIL_ASSIGN_OR_RETURN(pg::Rows r, Query(c, "SELECT seq, record, hash FROM audit WHERE tenant=$1 ORDER BY seq",
                                               Params().Text(tenant)));
      return ReadAuditRows(r);
    }, /*audit_read=*/true);
  }

  Result<std::vector<AuditRow>> QueryAudit(const std::string& tenant, const AuditQuery& q) override {
    return WithConn([&](Conn& c) -> Result<std::vector<AuditRow>> {
      // Filtered here rather than with jsonb in SQL: a record that is not valid JSON (edited in
      // the database) would make the cast fail the whole page, where it must match instead.
      std::vector<AuditRow> out;
      std::uint64_t after = q.after_seq;
      constexpr int kBatch = 512;
      while (out.size() < q.limit) {
        SIGIL_ASSIGN_OR_RETURN(pg::Rows r, Query(c, "SELECT seq, record, hash FROM audit WHERE tenant=$1 AND seq > $2 "
                                                    "ORDER BY seq LIMIT $3",
                                                 Params().Text(tenant).Int(static_cast<std::int64_t>(after)).Int(kBatch)));
        for (int i = 0; i < r.size() && out.size() < q.limit; ++i) {
          AuditRow row = ReadAuditRow(r, i);
          after = row.seq;
          if (MatchesQuery(row.record, q)) out.push_back(std::move(row));
        }
        if (r.size() < kBatch) break;
      }
      return out;
    }, /*audit_read=*/true);
  }

  Result<std::optional<Checkpoint>> GetCheckpoint(const std::string& tenant) override {
    return WithConn([&](Conn& c) -> Result<std::optional<Checkpoint>> {
      SIGIL_ASSIGN_OR_RETURN(pg::Rows r, Query(c, "SELECT seq, head, time, signature FROM checkpoints WHERE tenant=$1",
                                               Params().Text(tenant)));
      if (r.size() == 0) return std::optional<Checkpoint>();
      return std::optional<Checkpoint>(
          Checkpoint{static_cast<std::uint64_t>(r.Int(0, 0)), r.Text(0, 1), r.Int(0, 2), r.Text(0, 3)});
    }, /*audit_read=*/true);
  }

  Result<void> PutTreeHead(const std::string& tenant, const TreeHead& head) override {
    return WithConn([&](Conn& c) -> Result<void> {
      return Committed(c.Exec(kPutTreeHeadPg, Params().Text(tenant).Int(static_cast<std::int64_t>(head.size))
                                                  .Int(head.time_ms).Text(head.note)));
    });
  }

  Result<std::optional<TreeHead>> GetTreeHead(const std::string& tenant) override {
    return WithConn([&](Conn& c) -> Result<std::optional<TreeHead>> {
      SIGIL_ASSIGN_OR_RETURN(pg::Rows r, Query(c, "SELECT size, time, note FROM tree_heads WHERE tenant=$1",
                                               Params().Text(tenant)));
      if (r.size() == 0) return std::optional<TreeHead>();
      return std::optional<TreeHead>(TreeHead{static_cast<std::uint64_t>(r.Int(0, 0)), r.Int(0, 1), r.Text(0, 2)});
    }, /*audit_read=*/true);
  }

  Result<void> PutTpmAk(const TpmAkRow& row) override {
    return WithConn([&](Conn& c) -> Result<void> {
      Outcome o = c.Exec("INSERT INTO tpm_aks(tenant,id,name,spki,created_at,tpm_name,mac) VALUES($1,$2,$3,$4,$5,$6,$7)",
                         Params().Text(row.tenant).Text(row.id).Text(row.name).Blob(row.spki).Int(row.created_at)
                             .Blob(row.tpm_name).Blob(row.mac));
      if (o.failure == Failure::kDuplicate) {
        return Fail(Code::kAlreadyExists, "TPM AK " + row.id + " is already registered for tenant '" + row.tenant + "'");
      }
      return Committed(o);
    });
  }

  Result<std::vector<TpmAkRow>> ListTpmAks(const std::string& tenant) override {
    return WithConn([&](Conn& c) -> Result<std::vector<TpmAkRow>> {
      SIGIL_ASSIGN_OR_RETURN(pg::Rows r, Query(c, "SELECT tenant,id,name,spki,created_at,tpm_name,mac FROM tpm_aks WHERE tenant=$1 "
                                                  "ORDER BY created_at, id", Params().Text(tenant)));
      std::vector<TpmAkRow> out;
      for (int i = 0; i < r.size(); ++i) {
        out.push_back(TpmAkRow{r.Text(i, 0), r.Text(i, 1), r.Text(i, 2), r.Blob(i, 3), r.Int(i, 4), r.Blob(i, 5), r.Blob(i, 6)});
      }
      return out;
    });
  }

  Result<void> DeleteTpmAk(const std::string& tenant, const std::string& id) override {
    return WithConn([&](Conn& c) -> Result<void> {
      Outcome o = c.Exec("DELETE FROM tpm_aks WHERE tenant=$1 AND id=$2", Params().Text(tenant).Text(id));
      SIGIL_RETURN_IF_ERROR(Committed(o));
      if (o.rows.Affected() == 0) return Fail(Code::kNotFound, "no TPM AK " + id + " registered for tenant '" + tenant + "'");
      return Ok();
    });
  }

  Result<void> AdvanceTpmClock(const std::string& ak, const TpmClockRow& st) override {
    if (st.clock > static_cast<std::uint64_t>(INT64_MAX)) return Fail(Code::kInvalidArgument, "TPM clock out of range");
    return WithConn([&](Conn& c) -> Result<void> {
      // One statement: insert, or update only if strictly newer (row comparison is
      // lexicographic), so brokers sharing the database cannot both accept the same quote.
      Outcome o = c.Exec(
          "INSERT INTO tpm_clock(ak,reset_count,restart_count,clock) VALUES($1,$2,$3,$4) "
          "ON CONFLICT (ak) DO UPDATE SET reset_count=EXCLUDED.reset_count, restart_count=EXCLUDED.restart_count, "
          "clock=EXCLUDED.clock WHERE (EXCLUDED.reset_count, EXCLUDED.restart_count, EXCLUDED.clock) > "
          "(tpm_clock.reset_count, tpm_clock.restart_count, tpm_clock.clock) RETURNING ak",
          Params().Text(ak).Int(st.reset_count).Int(st.restart_count).Int(static_cast<std::int64_t>(st.clock)));
      SIGIL_RETURN_IF_ERROR(Committed(o));
      if (o.rows.size() == 0) {
        return Fail(Code::kReplay, "TPM clock (resetCount, restartCount, clock) did not advance since the last "
                                   "accepted quote from this AK");
      }
      return Ok();
    });
  }

  Result<void> PutTpmEnrolment(const TpmEnrolmentRow& row, TimePoint now, std::size_t max_outstanding) override {
    return InTransaction([&](Conn& c) -> Result<void> {
      // The count and the insert under one per-tenant lock, so brokers sharing the database
      // cannot together pass the cap.
      SIGIL_RETURN_IF_ERROR(Query(c, kLockEnrolments, Params().Text(row.tenant)));
      SIGIL_RETURN_IF_ERROR(Query(c, "DELETE FROM tpm_enrolments WHERE expires_ms < $1",
                                  Params().Int(Millis(now) - kEnrolmentGraceMillis)));
      SIGIL_ASSIGN_OR_RETURN(pg::Rows n, Query(c, "SELECT COUNT(*) FROM tpm_enrolments WHERE tenant=$1 AND expires_ms >= $2",
                                               Params().Text(row.tenant).Int(Millis(now))));
      if (n.size() == 1 && static_cast<std::uint64_t>(n.Int(0, 0)) >= max_outstanding) {
        return Fail(Code::kUnavailable, "too many pending TPM enrolments for this tenant (" +
                                            std::to_string(max_outstanding) + "); retry later");
      }
      Outcome o = c.Exec("INSERT INTO tpm_enrolments(id,tenant,ek,ak_spki,ak_name,secret_hash,expires_ms,mac) "
                         "VALUES($1,$2,$3,$4,$5,$6,$7,$8)",
                         Params().Text(row.id).Text(row.tenant).Blob(row.ek).Blob(row.ak_spki).Blob(row.ak_name)
                             .Blob(row.secret_hash).Int(row.expires_ms).Blob(row.mac));
      if (o.failure == Failure::kDuplicate) return Fail(Code::kAlreadyExists, "enrolment " + row.id + " already exists");
      return Committed(o);
    });
  }

  Result<TpmEnrolmentRow> TakeTpmEnrolment(const std::string& id) override {
    return WithConn([&](Conn& c) -> Result<TpmEnrolmentRow> {
      // One statement deletes and returns the row: of brokers racing to finish one enrolment,
      // PostgreSQL's row lock lets exactly one delete it; the others find it gone.
      Outcome o = c.Exec("DELETE FROM tpm_enrolments WHERE id=$1 RETURNING tenant,ek,ak_spki,ak_name,secret_hash,"
                         "expires_ms,mac", Params().Text(id));
      SIGIL_RETURN_IF_ERROR(Committed(o));
      if (o.rows.size() == 0) return Fail(Code::kNotFound, "enrolment " + id.substr(0, 64) + " is unknown or already used");
      return TpmEnrolmentRow{id, o.rows.Text(0, 0), o.rows.Blob(0, 1), o.rows.Blob(0, 2), o.rows.Blob(0, 3),
                             o.rows.Blob(0, 4), o.rows.Int(0, 5), o.rows.Blob(0, 6)};
    });
  }

  Result<void> ProbeWrite() override {
    last_probe_ms_.store(NowMillis());
    return WithConn([&](Conn& c) -> Result<void> {
      return Committed(c.Exec("INSERT INTO meta(k, v) VALUES('store.probe', $1) ON CONFLICT (k) DO UPDATE SET v=EXCLUDED.v",
                              Params().Blob(AsBytes(std::to_string(NowMillis())))));
    });
  }

  Result<void> CheckReady() override {
    if (health_.corrupt()) return Fail(Code::kUnavailable, health_.CorruptMessage());
    std::int64_t last = last_probe_ms_.load();
    if (NowMillis() - last >= kProbeStaleMillis && last_probe_ms_.compare_exchange_strong(last, NowMillis())) {
      (void)ProbeWrite();
    }
    if (std::string problem = health_.Problem(); !problem.empty()) return Fail(Code::kUnavailable, problem);
    return Ok();
  }

  static constexpr const char* kAdminCertColumns =
      "SELECT serial, role, tenant, not_after, issued_at, revoked_at, issued_by, mac FROM admin_certs";
  static AdminCertRow ReadAdminCert(const pg::Rows& r, int i) {
    return AdminCertRow{r.Text(i, 0), r.Text(i, 1), r.Text(i, 2), r.Int(i, 3), r.Int(i, 4), r.Int(i, 5), r.Text(i, 6), r.Blob(i, 7)};
  }

  Result<void> PutAdminCert(const AdminCertRow& row) override {
    return WithConn([&](Conn& c) -> Result<void> {
      Outcome o = c.Exec("INSERT INTO admin_certs(serial,role,tenant,not_after,issued_at,revoked_at,issued_by,mac) "
                         "VALUES($1,$2,$3,$4,$5,$6,$7,$8)",
                         Params().Text(row.serial).Text(row.role).Text(row.tenant).Int(row.not_after).Int(row.issued_at)
                             .Int(row.revoked_at).Text(row.issued_by).Blob(row.mac));
      if (o.failure == Failure::kDuplicate) return Fail(Code::kAlreadyExists, "admin certificate " + row.serial + " exists");
      return Committed(o);
    });
  }

  Result<AdminCertRow> GetAdminCert(const std::string& serial) override {
    return WithConn([&](Conn& c) -> Result<AdminCertRow> {
      SIGIL_ASSIGN_OR_RETURN(pg::Rows r, Query(c, std::string(kAdminCertColumns) + " WHERE serial=$1", Params().Text(serial)));
      if (r.size() == 0) return Fail(Code::kNotFound, "no admin certificate with serial " + serial + " was issued by this broker");
      return ReadAdminCert(r, 0);
    });
  }

  Result<std::vector<AdminCertRow>> ListAdminCerts(const std::string& tenant) override {
    return WithConn([&](Conn& c) -> Result<std::vector<AdminCertRow>> {
      SIGIL_ASSIGN_OR_RETURN(pg::Rows r, Query(c, std::string(kAdminCertColumns) + " WHERE tenant=$1 ORDER BY issued_at, serial",
                                               Params().Text(tenant)));
      std::vector<AdminCertRow> out;
      for (int i = 0; i < r.size(); ++i) out.push_back(ReadAdminCert(r, i));
      return out;
    });
  }

  Result<void> RevokeAdminCert(const std::string& serial, std::int64_t when, const AdminCertRowMac& mac_for) override {
    return InTransaction([&](Conn& c) -> Result<void> {
      SIGIL_ASSIGN_OR_RETURN(pg::Rows r, Query(c, std::string(kAdminCertColumns) + " WHERE serial=$1 FOR UPDATE",
                                               Params().Text(serial)));
      if (r.size() == 0) return Fail(Code::kNotFound, "no admin certificate with serial " + serial + " was issued by this broker");
      AdminCertRow row = ReadAdminCert(r, 0);
      if (row.revoked_at != 0) return Ok();
      row.revoked_at = when;
      row.mac = mac_for ? mac_for(row) : Bytes{};
      SIGIL_RETURN_IF_ERROR(Query(c, "UPDATE admin_certs SET revoked_at=$1, mac=$2 WHERE serial=$3",
                                  Params().Int(when).Blob(row.mac).Text(serial)));
      return Ok();
    });
  }

  Result<void> PutMeta(const std::string& key, ByteSpan value) override {
    return WithConn([&](Conn& c) -> Result<void> {
      return Committed(c.Exec("INSERT INTO meta(k, v) VALUES($1, $2) ON CONFLICT (k) DO UPDATE SET v=EXCLUDED.v",
                              Params().Text(key).Blob(value)));
    });
  }

  Result<Bytes> GetMeta(const std::string& key) override {
    return WithConn([&](Conn& c) -> Result<Bytes> {
      SIGIL_ASSIGN_OR_RETURN(pg::Rows r, Query(c, "SELECT v FROM meta WHERE k=$1", Params().Text(key)));
      if (r.size() == 0) return Fail(Code::kNotFound, "store has no '" + key + "'");
      return r.Blob(0, 0);
    });
  }

  // Creates (kCreate) or checks the schema; run once by OpenPostgresStore.
  Result<void> Prepare(StoreOpen how) {
    return InTransaction([&](Conn& c) -> Result<void> {
      SIGIL_RETURN_IF_ERROR(Query(c, kLockSchema));
      SIGIL_ASSIGN_OR_RETURN(pg::Rows exists, Query(c, "SELECT to_regclass('meta') IS NOT NULL"));
      const bool have = exists.size() == 1 && exists.Text(0, 0) == "t";
      if (!have && how == StoreOpen::kExisting) {
        return Fail(Code::kNotFound, "the PostgreSQL database " + health_.where() + " holds no Sigil store; "
                                     "was it initialised (sigild init --store URL)?");
      }
      if (!have) {
        Outcome o = c.ExecScript(kSchema);
        if (!o.ok()) return Fail(Code::kUnavailable, "creating the Sigil schema in " + health_.where() + ": " + o.message);
        SIGIL_RETURN_IF_ERROR(Query(c, "INSERT INTO meta(k, v) VALUES('schema.version', $1)",
                                    Params().Blob(AsBytes(std::to_string(kSchemaVersion)))));
        return Ok();
      }
      SIGIL_ASSIGN_OR_RETURN(pg::Rows v, Query(c, "SELECT v FROM meta WHERE k='schema.version'"));
      const std::string version = v.size() == 1 ? AsString(v.Blob(0, 0)) : "";
      if (version != std::to_string(kSchemaVersion)) {
        return Fail(Code::kUnavailable, "the Sigil store in " + health_.where() + " has schema version '" + version +
                                            "'; this sigild reads version " + std::to_string(kSchemaVersion));
      }
      // A store created by an older sigild gains the tables added since (tpm_enrolments, ...):
      // every statement of kSchema is IF NOT EXISTS. Quietly: libpq would print a NOTICE
      // ("already exists, skipping") per table to stderr on every start.
      SIGIL_RETURN_IF_ERROR(Query(c, "SET LOCAL client_min_messages = warning"));
      Outcome o = c.ExecScript(kSchema);
      if (!o.ok()) return Fail(Code::kUnavailable, "updating the Sigil schema in " + health_.where() + ": " + o.message);
      return Ok();
    });
  }

 private:
  static constexpr std::int64_t kProbeStaleMillis = 10'000;

  // The tenant's next policy version (after every version, proposed ones included).
  Result<std::int64_t> InsertPolicy(const std::string& tenant, const std::string& text, bool active,
                                    const PolicyRowMac& mac_for) {
    return InTransaction([&](Conn& c) -> Result<std::int64_t> {
      SIGIL_RETURN_IF_ERROR(Query(c, kLockPolicy, Params().Text(tenant)));
      SIGIL_ASSIGN_OR_RETURN(pg::Rows v, Query(c, "SELECT COALESCE(MAX(version),0)+1 FROM policies WHERE tenant=$1",
                                               Params().Text(tenant)));
      PolicyRow row{text, v.Int(0, 0), {}, active};
      if (mac_for) row.mac = mac_for(tenant, row);
      SIGIL_RETURN_IF_ERROR(Run(c, "INSERT INTO policies(tenant,version,text,created_at,mac,active) VALUES($1,$2,$3,$4,$5,$6)",
                                Params().Text(tenant).Int(row.version).Text(text)
                                    .Int(Seconds(std::chrono::system_clock::now())).Blob(row.mac).Int(active ? 1 : 0)));
      return row.version;
    });
  }

  Result<PolicyRow> ReadPolicyVersion(Conn& c, const std::string& tenant, std::int64_t version) {
    SIGIL_ASSIGN_OR_RETURN(pg::Rows r, Query(c, "SELECT text, version, mac, active FROM policies WHERE tenant=$1 AND version=$2",
                                             Params().Text(tenant).Int(version)));
    if (r.size() == 0) return Fail(Code::kNotFound, "tenant '" + tenant + "' has no policy version " + std::to_string(version));
    return PolicyRow{r.Text(0, 0), r.Int(0, 1), r.Blob(0, 2), r.Int(0, 3) != 0};
  }
  static constexpr const char* kKeyColumns =
      "SELECT tenant,name,version,class,state,public_key,private_key,created_at,destroyed_at,mac FROM key_versions";

  static std::string AsString(const Bytes& b) { return std::string(b.begin(), b.end()); }

  // Runs `fn` on a pooled connection. Fail closed: after the server has reported damaged data,
  // nothing but audit reads (kept for forensics) is served.
  template <typename Fn>
  auto WithConn(Fn&& fn, bool audit_read = false) -> decltype(fn(std::declval<Conn&>())) {
    if (!audit_read && health_.corrupt()) return Fail(Code::kUnavailable, health_.CorruptMessage());
    auto lease = pool_.Take();
    if (!lease) {
      health_.NoteUnreachable(lease.error().message());
      return std::move(lease).error();
    }
    return fn(**lease);
  }

  // Runs `fn` in one transaction, retried (up to three times) when PostgreSQL aborts it for a
  // serialisation failure or deadlock; any other failure rolls everything back.
  template <typename Fn>
  auto InTransaction(Fn&& fn) -> decltype(fn(std::declval<Conn&>())) {
    return WithConn([&](Conn& c) -> decltype(fn(c)) {
      for (int attempt = 0;; ++attempt) {
        SIGIL_RETURN_IF_ERROR(Committed(c.ExecScript("BEGIN")));
        auto r = fn(c);
        if (r) {
          Outcome commit = c.ExecScript("COMMIT");
          if (commit.ok()) {
            health_.WriteCommitted();
            return r;
          }
          if (commit.failure == Failure::kRetry && attempt < 2) continue;
          return Fail(Code::kUnavailable, health_.Note(commit));
        }
        (void)c.ExecScript("ROLLBACK");
        if (last_failure_retry_ && attempt < 2) continue;
        return r;
      }
    });
  }

  // A statement inside a larger step: its rows, or its failure as an error (health noted).
  Result<pg::Rows> Query(Conn& c, const std::string& sql, const Params& p = Params()) {
    Outcome o = c.Exec(sql, p);
    last_failure_retry_ = o.failure == Failure::kRetry;
    if (!o.ok()) return Fail(Code::kUnavailable, health_.Note(o));
    return std::move(o.rows);
  }

  Result<void> Run(Conn& c, const std::string& sql, const Params& p) {
    SIGIL_RETURN_IF_ERROR(Query(c, sql, p));
    return Ok();
  }

  // A single-statement write's outcome (autocommit: ok means committed).
  Result<void> Committed(const Outcome& o) {
    if (!o.ok()) {
      if (o.failure == Failure::kConstraint) return Fail(Code::kNotFound, "store: " + o.message);
      return Fail(Code::kUnavailable, health_.Note(o));
    }
    health_.WriteCommitted();
    return Ok();
  }

  static AuditRow ReadAuditRow(const pg::Rows& r, int i) {
    AuditRow row;
    row.seq = static_cast<std::uint64_t>(r.Int(i, 0));
    row.record = r.Text(i, 1);
    row.hash = r.Text(i, 2);
    if (r.Int(i, 0) < 1) {
      row.seq = 0;
      row.defect = "stored seq is " + r.Text(i, 0);
    }
    return row;
  }
  static std::vector<AuditRow> ReadAuditRows(const pg::Rows& r) {
    std::vector<AuditRow> out;
    for (int i = 0; i < r.size(); ++i) out.push_back(ReadAuditRow(r, i));
    return out;
  }
  static KeyVersionRow ReadKey(const pg::Rows& r, int i) {
    return KeyVersionRow{r.Text(i, 0), r.Text(i, 1), r.Text(i, 3), static_cast<std::uint32_t>(r.Int(i, 2)),
                         r.Text(i, 4), r.Blob(i, 5), r.Blob(i, 6), r.Int(i, 7), r.Int(i, 8), r.Blob(i, 9)};
  }

  // The versions of tenant/name matching `condition` (parameters from $3 on: `more`), locked
  // for update until the transaction ends.
  Result<std::vector<KeyVersionRow>> LockKeyRows(Conn& c, const std::string& tenant, const std::string& name,
                                                 const std::string& condition, Params more) {
    Params p;
    p.Text(tenant).Text(name);
    p.Append(more);
    SIGIL_ASSIGN_OR_RETURN(pg::Rows r, Query(c, std::string(kKeyColumns) + " WHERE tenant=$1 AND name=$2 AND " + condition +
                                                    " ORDER BY version FOR UPDATE", p));
    std::vector<KeyVersionRow> rows;
    for (int i = 0; i < r.size(); ++i) rows.push_back(ReadKey(r, i));
    return rows;
  }

  Result<int> DestroyOn(Conn& c, const std::string& tenant, const std::string& name, std::optional<std::uint32_t> version,
                        std::int64_t now, const KeyRowMac& mac_for) {
    Params p;
    if (version) p.Int(*version);
    SIGIL_ASSIGN_OR_RETURN(std::vector<KeyVersionRow> rows,
                           LockKeyRows(c, tenant, name, version ? "state<>'destroyed' AND version=$3" : "state<>'destroyed'", p));
    for (KeyVersionRow& row : rows) {
      row.state = "destroyed";
      row.wrapped_private_key.clear();
      row.destroyed_at = now;
      SIGIL_RETURN_IF_ERROR(UpdateKeyRow(c, row, mac_for));
    }
    return static_cast<int>(rows.size());
  }

  // The store's erasure epoch record is `expected` (empty: there is none), held FOR SHARE.
  Result<void> CheckEpoch(Conn& c, ByteSpan expected) {
    SIGIL_ASSIGN_OR_RETURN(pg::Rows r, Query(c, "SELECT v FROM meta WHERE k=$1 FOR SHARE",
                                             Params().Text(kErasureEpochMeta)));
    const bool same = r.size() == 1 ? r.Blob(0, 0) == Bytes(expected.begin(), expected.end()) : expected.empty();
    if (!same) return RekeyConflict("the erasure epoch");
    return Ok();
  }

  Result<int> RekeyOn(Conn& c, const RekeyPlan& plan, const KeyRowMac& mac_for) {
    // The tenants table first, against inserts and KEK changes (reads go on), so the count
    // below is exact and concurrent Rekeys queue here; CreateTenant takes the same order
    // (tenants, then the epoch row), so the two cannot deadlock.
    SIGIL_RETURN_IF_ERROR(Run(c, "LOCK TABLE tenants IN EXCLUSIVE MODE", Params()));
    SIGIL_ASSIGN_OR_RETURN(pg::Rows e, plan.epoch_from.empty()
        ? Query(c, "INSERT INTO meta(k, v) VALUES($1, $2) ON CONFLICT (k) DO NOTHING RETURNING 1",
                Params().Text(kErasureEpochMeta).Blob(plan.epoch_to))
        : Query(c, "UPDATE meta SET v=$1 WHERE k=$2 AND v=$3 RETURNING 1",
                Params().Blob(plan.epoch_to).Text(kErasureEpochMeta).Blob(plan.epoch_from)));
    if (e.size() != 1) return RekeyConflict("the erasure epoch");
    SIGIL_ASSIGN_OR_RETURN(pg::Rows n, Query(c, "SELECT count(*) FROM tenants"));
    if (n.Int(0, 0) != static_cast<std::int64_t>(plan.keks.size())) return RekeyConflict("the set of tenants");
    for (const RekeyPlan::Kek& k : plan.keks) {
      SIGIL_ASSIGN_OR_RETURN(pg::Rows u, Query(c, "UPDATE tenants SET kek=$1 WHERE name=$2 AND kek=$3 RETURNING 1",
                                               Params().Blob(k.to).Text(k.tenant).Blob(k.from)));
      if (u.size() != 1) return RekeyConflict("the KEK of '" + k.tenant + "'");
    }
    if (!plan.destroy) return 0;
    const RekeyPlan::Destroy& d = *plan.destroy;
    SIGIL_ASSIGN_OR_RETURN(int destroyed, DestroyOn(c, d.tenant, d.name, d.version, d.now, mac_for));
    SIGIL_ASSIGN_OR_RETURN(pg::Rows live, Query(c, "SELECT count(*) FROM key_versions WHERE tenant=$1 AND state<>'destroyed'",
                                                Params().Text(d.tenant)));
    if (live.Int(0, 0) != static_cast<std::int64_t>(plan.versions.size())) {
      return RekeyConflict("the key versions of '" + d.tenant + "'");
    }
    for (const RekeyPlan::Version& v : plan.versions) {
      KeyVersionRow row = v.to;
      row.mac = mac_for ? mac_for(row) : Bytes{};
      SIGIL_ASSIGN_OR_RETURN(pg::Rows u, Query(c, "UPDATE key_versions SET private_key=$1, mac=$2 WHERE tenant=$3 AND "
                                                  "name=$4 AND version=$5 AND private_key=$6 AND state=$7 RETURNING 1",
                                               Params().Blob(row.wrapped_private_key).Blob(row.mac).Text(row.tenant)
                                                   .Text(row.name).Int(row.version).Blob(v.from).Text(row.state)));
      if (u.size() != 1) {
        return RekeyConflict("key '" + row.tenant + "/" + row.name + "' version " + std::to_string(row.version));
      }
    }
    SIGIL_RETURN_IF_ERROR(Run(c, "DELETE FROM meta WHERE k=$1", Params().Text(kErasureChainShareMeta)));
    return destroyed;
  }

  // Writes state, private key, destroyed_at and the new tag of one version.
  Result<void> UpdateKeyRow(Conn& c, KeyVersionRow& row, const KeyRowMac& mac_for) {
    row.mac = mac_for ? mac_for(row) : Bytes{};
    return Run(c, "UPDATE key_versions SET state=$1, private_key=$2, destroyed_at=$3, mac=$4 "
                  "WHERE tenant=$5 AND name=$6 AND version=$7",
               Params().Text(row.state).Blob(row.wrapped_private_key).Int(row.destroyed_at).Blob(row.mac).Text(row.tenant)
                   .Text(row.name).Int(row.version));
  }

  ServerHealth health_;
  Pool pool_;
  std::atomic<std::int64_t> last_probe_ms_{0};
  std::atomic<std::int64_t> last_prune_ms_{0};
  // Set by the last Query on this thread's connection; read right after by InTransaction.
  static thread_local bool last_failure_retry_;
};

thread_local bool PostgresStore::last_failure_retry_ = false;

}  // namespace

std::string RedactStoreUrl(const std::string& url) {
  // postgresql://user:secret@host/db -> postgresql://user:***@host/db; password=... -> password=***
  static const std::regex userinfo(R"(^([a-z]+://[^/:@]*):[^@/]*@)");
  static const std::regex param(R"(password=[^&\s]*)");
  return std::regex_replace(std::regex_replace(url, userinfo, "$1:***@"), param, "password=***");
}

Result<std::unique_ptr<Store>> OpenPostgresStore(const std::string& url, StoreOpen how) {
  auto store = std::make_unique<PostgresStore>(url, RedactStoreUrl(url));
  if (auto r = store->Prepare(how); !r) {
    return Fail(r.error().code(), r.error().message());
  }
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace sigil::broker
