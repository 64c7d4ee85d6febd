#include "broker/kbs/kbs_sessions.h"

#include <openssl/rand.h>

#include "core/encoding.h"
#include "core/ossl.h"

namespace sigil::broker {
namespace {

Result<Bytes> Random(std::size_t n) {
  Bytes b(n);
  if (RAND_bytes(b.data(), static_cast<int>(n)) != 1) return OpenSslError(Code::kInternal, "RAND_bytes");
  return b;
}

}  // namespace

void KbsSessions::SweepLocked(Clock::time_point now) {
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    it = it->second.expires <= now ? sessions_.erase(it) : std::next(it);
  }
}

Result<KbsSessions::Created> KbsSessions::Create(const std::string& tee, Clock::time_point now,
                                                 Clock::time_point expires) {
  SIGIL_ASSIGN_OR_RETURN(Bytes id, Random(32));
  SIGIL_ASSIGN_OR_RETURN(Bytes nonce, Random(32));
  std::lock_guard lock(mu_);
  if (sessions_.size() >= max_) SweepLocked(now);
  if (sessions_.size() >= max_) {
    return Fail(Code::kUnavailable, "too many open KBS sessions on this broker; retry later");
  }
  Created out{HexEncode(id), nonce};
  sessions_[out.id] = Session{State::kChallenged, tee, std::move(nonce), expires, std::nullopt};
  return out;
}

Result<KbsSessions::Challenge> KbsSessions::TakeNonce(const std::string& id, Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second.expires <= now) {
    return Fail(Code::kUnauthenticated, "unknown or expired KBS session; start again with /kbs/v0/auth");
  }
  if (it->second.state != State::kChallenged) {
    return Fail(Code::kReplay, "this KBS session's nonce was already used; start again with /kbs/v0/auth");
  }
  it->second.state = State::kAttesting;
  return Challenge{it->second.tee, it->second.nonce};
}

void KbsSessions::MarkAttested(const std::string& id, KbsAttested attested, Clock::time_point expires) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second.state != State::kAttesting) return;
  it->second.state = State::kAttested;
  it->second.expires = expires;
  it->second.attested = std::move(attested);
}

Result<KbsAttested> KbsSessions::Attested(const std::string& id, Clock::time_point now) const {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second.expires <= now || it->second.state != State::kAttested) {
    return Fail(Code::kUnauthenticated, "no attested, unexpired KBS session for this cookie");
  }
  return *it->second.attested;
}

std::size_t KbsSessions::SizeForTest() const {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

}  // namespace sigil::broker
