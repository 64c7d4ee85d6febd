#include "broker/api/audit_proof_api.h"

#include <chrono>

#include "broker/audit/audit_log.h"
#include "broker/audit/audit_tree.h"
#include "broker/audit/audit_wire.h"
#include "broker/audit/release_receipt.h"
#include "core/encoding.h"

namespace sigil::broker {
namespace {

Json HashList(const std::vector<merkle::Hash>& hashes) {
  Json out = Json::array();
  for (const auto& h : hashes) out.push_back(Base64Encode(ByteSpan(h.data(), h.size())));
  return out;
}

// A positive integer field of the request (a seq or a tree size), or `fallback` if absent.
Result<std::uint64_t> PositiveField(const Json& body, const char* field, std::uint64_t fallback) {
  if (!body.contains(field)) return fallback;
  SIGIL_ASSIGN_OR_RETURN(std::int64_t v, GetInt(body, field, "request"));
  if (v < 1) return Fail(Code::kInvalidArgument, std::string("request.") + field + ": must be at least 1");
  return static_cast<std::uint64_t>(v);
}


}  // namespace

Result<Json> AdminAuditProof(const BrokerContext& ctx, const std::string& tenant, const Json& body) {
  if (!body.is_object()) return Fail(Code::kInvalidArgument, "request: body must be a JSON object");
  for (const auto& [field, value] : body.items()) {
    if (field != "seq" && field != "size" && field != "from" && field != "to") {
      return Fail(Code::kInvalidArgument, "request: unknown field (expected seq and size, or from and to)");
    }
  }
  const bool inclusion = body.contains("seq");
  if (inclusion == body.contains("from") || (inclusion && body.contains("to")) || (!inclusion && body.contains("size"))) {
    return Fail(Code::kInvalidArgument, "request: give either seq (and size) or from (and to)");
  }
  SIGIL_RETURN_IF_ERROR(ctx.store->GetTenantKek(tenant));
  // The same consistent snapshot as the listing: the signed chain head first, then the records
  // it covers (records appended meanwhile are left for the next request). The tree is the
  // tenant's cached one (audit_tree.h: O(log^2 n) hashes per proof, only new records read).
  SIGIL_ASSIGN_OR_RETURN(auto head, ctx.store->GetCheckpoint(tenant));
  if (!head) return Fail(Code::kNotFound, "tenant has no audit records");
  const std::uint64_t current = head->seq;
  Json out{{"tenant", tenant}};
  if (inclusion) {
    SIGIL_ASSIGN_OR_RETURN(std::uint64_t seq, PositiveField(body, "seq", 0));
    SIGIL_ASSIGN_OR_RETURN(std::uint64_t size, PositiveField(body, "size", current));
    if (size > current) {
      return Fail(Code::kInvalidArgument, "'size' " + std::to_string(size) + " is beyond the tree size of the log (" +
                                              std::to_string(current) + " records)");
    }
    if (seq > size) {
      return Fail(Code::kInvalidArgument, "'seq' " + std::to_string(seq) + " is beyond the tree size " + std::to_string(size));
    }
    SIGIL_ASSIGN_OR_RETURN(auto proved, ctx.audit->trees().InclusionProof(tenant, current, seq, size));
    SIGIL_ASSIGN_OR_RETURN(std::string note, ctx.audit->SignTreeHead(tenant, size, proved.root));
    out["tree_size"] = size;
    out["checkpoint"] = note;
    out["seq"] = seq;
    out["leaf_index"] = seq - 1;
    out["record"] = AuditRowToJson(proved.record);
    out["proof"] = HashList(proved.proof);
    return out;
  }
  SIGIL_ASSIGN_OR_RETURN(std::uint64_t from, PositiveField(body, "from", 0));
  SIGIL_ASSIGN_OR_RETURN(std::uint64_t to, PositiveField(body, "to", current));
  if (to > current) {
    return Fail(Code::kInvalidArgument, "'to' " + std::to_string(to) + " is beyond the tree size of the log (" +
                                            std::to_string(current) + " records)");
  }
  if (from > to) return Fail(Code::kInvalidArgument, "'from' must not exceed 'to' (sizes " + std::to_string(from) + ", " + std::to_string(to) + ")");
  SIGIL_ASSIGN_OR_RETURN(auto proved, ctx.audit->trees().ConsistencyProof(tenant, current, from, to));
  SIGIL_ASSIGN_OR_RETURN(std::string from_note, ctx.audit->SignTreeHead(tenant, from, proved.root1));
  SIGIL_ASSIGN_OR_RETURN(std::string to_note, ctx.audit->SignTreeHead(tenant, to, proved.root2));
  out["from"] = from;
  out["to"] = to;
  out["from_checkpoint"] = from_note;
  out["checkpoint"] = to_note;
  out["proof"] = HashList(proved.proof);
  return out;
}

Result<Json> AdminAuditReceipts(const BrokerContext& ctx, const std::string& tenant, const Json& body) {
  if (!body.is_object()) return Fail(Code::kInvalidArgument, "request: body must be a JSON object");
  for (const auto& [field, value] : body.items()) {
    if (field != "key" && field != "since_ms" && field != "after_seq" && field != "size" && field != "limit") {
      return Fail(Code::kInvalidArgument, "request: unknown field (expected key, since_ms, after_seq, size, limit)");
    }
  }
  AuditQuery q;
  q.decision = "allow";
  if (body.contains("key")) {
    SIGIL_ASSIGN_OR_RETURN(q.key, GetString(body, "key", "request"));
    SIGIL_RETURN_IF_ERROR(ValidateName(q.key, "request.key"));
  }
  if (body.contains("since_ms")) {
    SIGIL_ASSIGN_OR_RETURN(std::int64_t since, GetInt(body, "since_ms", "request"));
    q.since_ms = since;
  }
  if (body.contains("after_seq")) {
    SIGIL_ASSIGN_OR_RETURN(std::int64_t after, GetInt(body, "after_seq", "request"));
    if (after < 0) return Fail(Code::kInvalidArgument, "request.after_seq: must not be negative");
    q.after_seq = static_cast<std::uint64_t>(after);
  }
  SIGIL_ASSIGN_OR_RETURN(std::uint64_t limit, PositiveField(body, "limit", 1000));
  if (limit > 1000) return Fail(Code::kInvalidArgument, "request.limit: at most 1000");
  SIGIL_RETURN_IF_ERROR(ctx.store->GetTenantKek(tenant));
  // One signed head for the whole answer: every proof is in the tree of `size` records.
  SIGIL_ASSIGN_OR_RETURN(auto head, ctx.store->GetCheckpoint(tenant));
  if (!head) return Fail(Code::kNotFound, "tenant has no audit records");
  const std::uint64_t current = head->seq;
  SIGIL_ASSIGN_OR_RETURN(std::uint64_t size, PositiveField(body, "size", current));
  if (size > current) {
    return Fail(Code::kInvalidArgument, "'size' " + std::to_string(size) + " is beyond the tree size of the log (" +
                                            std::to_string(current) + " records)");
  }
  Json receipts = Json::array();
  std::uint64_t unreceipted = 0;  // allowed releases recorded before receipts existed
  bool more = false;
  while (!more) {
    q.limit = 1000;
    SIGIL_ASSIGN_OR_RETURN(auto rows, ctx.store->QueryAudit(tenant, q));
    for (const AuditRow& row : rows) {
      if (row.seq > size) break;
      q.after_seq = row.seq;
      auto derived = receipt::FromRecord(row);
      if (!derived) {
        // Only releases are receipted; a release record without the receipt fields predates them.
        auto j = ParseJson(row.record, "record");
        if (j && j->is_object() && j->value("action", "") == "release") ++unreceipted;
        continue;
      }
      SIGIL_ASSIGN_OR_RETURN(auto proved, ctx.audit->trees().InclusionProof(tenant, current, row.seq, size));
      SIGIL_ASSIGN_OR_RETURN(std::string note, ctx.audit->SignReceipt(proved.record));
      receipts.push_back(Json{{"seq", row.seq}, {"leaf_index", row.seq - 1}, {"receipt", note},
                              {"record", AuditRowToJson(proved.record)}, {"proof", HashList(proved.proof)}});
      if (receipts.size() == limit) {
        more = true;
        break;
      }
    }
    if (rows.size() < q.limit || (!rows.empty() && rows.back().seq >= size)) break;
  }
  SIGIL_ASSIGN_OR_RETURN(auto root, ctx.audit->trees().InclusionProof(tenant, current, 1, size));
  SIGIL_ASSIGN_OR_RETURN(std::string checkpoint, ctx.audit->SignTreeHead(tenant, size, root.root));
  Json out{{"format", "sigil-release-receipts/v1"}, {"tenant", tenant}, {"tree_size", size},
           {"checkpoint", checkpoint}, {"receipts", std::move(receipts)}, {"unreceipted", unreceipted}};
  if (more) out["next_after_seq"] = q.after_seq;
  return out;
}

Result<Json> AdminAuditTreeHead(const BrokerContext& ctx, const std::string& tenant) {
  SIGIL_RETURN_IF_ERROR(ctx.store->GetTenantKek(tenant));  // kNotFound names an unknown tenant
  // With periodic publication off (interval 0), every request issues a head of its own.
  const auto max_age = std::chrono::duration_cast<std::chrono::milliseconds>(ctx.settings.checkpoint_interval);
  SIGIL_ASSIGN_OR_RETURN(TreeHead head, ctx.audit->FreshTreeHead(tenant, max_age));
  return Json{{"tenant", tenant}, {"tree_size", head.size}, {"time_ms", head.time_ms}, {"checkpoint", head.note}};
}

}  // namespace sigil::broker
