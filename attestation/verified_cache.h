// VerifiedCache: a bounded, thread-safe memo of SUCCESSFUL verifications of immutable inputs
// (certificate chains, signed collateral), keyed by the SHA-256 of every input byte that decides
// the outcome. A verification that depends on time only through validity periods holds for every
// instant in the intersection of those periods, so each entry stores that window and is used
// only while `now` lies inside it; outside, the caller verifies again. Failures are never
// cached, so a cache can only skip work that would have succeeded.
// Thread-safety: all members are thread-safe. Values are shared, immutable.
#pragma once

#include <openssl/asn1.h>
#include <openssl/x509.h>

#include <chrono>
#include <cstddef>
#include <ctime>
#include <list>
#include <map>
#include <memory>
#include <mutex>

#include "core/digest.h"

namespace sigil::attestation {

using TimePoint = std::chrono::system_clock::time_point;

// [not_before, not_after]: both inclusive, as RFC 5280 4.1.2.5 defines certificate validity.
struct ValidityWindow {
  TimePoint not_before = TimePoint::min();
  TimePoint not_after = TimePoint::max();

  bool Contains(TimePoint t) const { return not_before <= t && t <= not_after; }
  void Narrow(TimePoint from, TimePoint to) {
    if (from > not_before) not_before = from;
    if (to < not_after) not_after = to;
  }
};

// ASN1_TIME -> time point. An unreadable time yields an impossible bound (max for a start, min
// for an end) so that nothing is cached for it.
inline TimePoint Asn1ToTime(const ASN1_TIME* t, bool lower_bound) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    return lower_bound ? TimePoint::max() : TimePoint::min();
  }
  // system_clock counts nanoseconds in 64 bits (until 2262): later times, such as RFC 5280's
  // 99991231235959Z "no expiration", saturate instead of overflowing.
  if (tm.tm_year + 1900 >= 2250) return TimePoint::max();
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

inline void NarrowToCert(ValidityWindow& w, const X509* cert) {
  w.Narrow(Asn1ToTime(X509_get0_notBefore(cert), true), Asn1ToTime(X509_get0_notAfter(cert), false));
}

// A CRL is current from thisUpdate until nextUpdate (RFC 5280 5.1.2.4-5; OpenSSL refuses it at
// nextUpdate and later, hence one second less).
inline void NarrowToCrl(ValidityWindow& w, const X509_CRL* crl) {
  const ASN1_TIME* next = X509_CRL_get0_nextUpdate(crl);
  TimePoint to = next == nullptr ? TimePoint::max() : Asn1ToTime(next, false) - std::chrono::seconds(1);
  w.Narrow(Asn1ToTime(X509_CRL_get0_lastUpdate(crl), true), to);
}

template <class V>
class VerifiedCache {
 public:
  explicit VerifiedCache(std::size_t capacity = 256) : capacity_(capacity) {}

  // The value verified for `key` if its window contains `now`, else null.
  std::shared_ptr<const V> Find(const Sha256Digest& key, TimePoint now) const {
    std::lock_guard lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end() || !it->second.window.Contains(now)) return nullptr;
    return it->second.value;
  }

  // Records a successful verification (evicting the oldest entry when full).
  void Insert(const Sha256Digest& key, std::shared_ptr<const V> value, ValidityWindow window) {
    std::lock_guard lock(mu_);
    if (window.not_after < window.not_before) return;
    auto [it, inserted] = entries_.insert_or_assign(key, Entry{std::move(value), window});
    if (!inserted) return;
    order_.push_back(key);
    while (entries_.size() > capacity_ && !order_.empty()) {
      entries_.erase(order_.front());
      order_.pop_front();
    }
  }

  std::size_t size() const {
    std::lock_guard lock(mu_);
    return entries_.size();
  }

 private:
  struct Entry {
    std::shared_ptr<const V> value;
    ValidityWindow window;
  };
  const std::size_t capacity_;
  mutable std::mutex mu_;
  std::map<Sha256Digest, Entry> entries_;
  std::list<Sha256Digest> order_;
};

}  // namespace sigil::attestation
