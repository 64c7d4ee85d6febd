#include "broker/api/metrics_api.h"

#include "broker/broker_metrics.h"

namespace sigil::broker {

Result<Json> HandleMetrics(const BrokerContext& ctx, const RequestMeta& meta) {
  // The TLS handshake verified the certificate against the admin CA and it names a principal; the
  // role does not matter here, so a scraper needs no operator power, and the registry is not
  // read, so metrics answer while the store is down (a revoked certificate still scrapes counts
  // until it expires, at most 30 days).
  if (meta.admin_cn.empty()) {
    return Fail(Code::kUnauthenticated, "/metrics requires a client certificate from the broker's admin CA");
  }
  if (ctx.metrics == nullptr) return Fail(Code::kUnavailable, "metrics are not collected by this broker");
  return Json(ctx.metrics->Scrape(ctx.store, ctx.now()));
}

}  // namespace sigil::broker
