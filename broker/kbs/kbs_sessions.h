// KBS protocol sessions (the kbs-session-id cookie), held in this broker's memory: a session is
// created by POST /kbs/v0/auth with a fresh nonce, consumed exactly once by POST /kbs/v0/attest,
// and then carries the attestation result until it expires. Bounded: at most `max_sessions`
// live sessions (expired ones are swept first); more are refused, not remembered.
// Sessions do not survive a restart and are not shared between brokers: a cookie works only
// against the broker that issued it, so a nonce can be accepted only by that broker, once.
// Thread-safety: all methods are thread-safe (one mutex).
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "attestation/claims.h"
#include "core/bytes.h"
#include "core/json.h"
#include "core/result.h"

namespace sigil::broker {

struct KbsAttested {
  std::string token;     // the EAR JWT issued for this session
  std::string token_id;  // its jti
  std::string tee;       // Sigil's TEE name
  std::string evidence_digest;
  Json tee_pubkey;  // the JWK the resource is wrapped to
  attestation::Claims claims;
};

class KbsSessions {
 public:
  using Clock = std::chrono::system_clock;
  explicit KbsSessions(std::size_t max_sessions = 10000) : max_(max_sessions) {}

  // A new session for `tee` with a fresh 32-byte nonce, alive until `expires`; its id is 32
  // random bytes, hex. kUnavailable when full.
  struct Created {
    std::string id;
    Bytes nonce;
  };
  Result<Created> Create(const std::string& tee, Clock::time_point now, Clock::time_point expires);

  // Takes the session's nonce for an attestation, once: the session moves to "attesting" and no
  // second call gets it. kUnauthenticated for an unknown, expired or already used session.
  struct Challenge {
    std::string tee;
    Bytes nonce;
  };
  Result<Challenge> TakeNonce(const std::string& id, Clock::time_point now);
  // Records the successful attestation of a session whose nonce was taken; alive until `expires`.
  void MarkAttested(const std::string& id, KbsAttested attested, Clock::time_point expires);
  // The attestation of an attested, unexpired session; kUnauthenticated otherwise.
  Result<KbsAttested> Attested(const std::string& id, Clock::time_point now) const;

  std::size_t SizeForTest() const;

 private:
  enum class State { kChallenged, kAttesting, kAttested };
  struct Session {
    State state = State::kChallenged;
    std::string tee;
    Bytes nonce;
    Clock::time_point expires;
    std::optional<KbsAttested> attested;
  };
  void SweepLocked(Clock::time_point now);

  const std::size_t max_;
  mutable std::mutex mu_;
  std::map<std::string, Session, std::less<>> sessions_;
};

}  // namespace sigil::broker
