#!/bin/sh
# Every call to the random number generator is checked (issue 10). Run by CTest as
# `rng_calls_checked`; prints each offending line and exits 1.
#   - RAND_bytes / RAND_priv_bytes: the return value is compared on the same line (`!= 1` or
#     `== 1`): OpenSSL's generator can fail (no entropy, a failed reseed) and then leaves the
#     buffer as it was.
#   - getrandom(2): its result is compared on the same line (short reads and EINTR exist).
#   - libsodium's randombytes_buf cannot fail, but only once sodium_init() has succeeded: a file
#     that calls it must also call EnsureSodium() (core/secret_bytes.h, which aborts otherwise).
set -u
root=${1:-$(dirname "$0")/..}
cd "$root" || exit 2
bad=0
files=$(git ls-files '*.c' '*.cc' '*.cpp' '*.h' 2>/dev/null || find . -name build -prune -o \( -name '*.c' -o -name '*.cpp' -o -name '*.h' \) -print)
for f in $files; do
  [ -f "$f" ] || continue
  out=$(grep -nE '(^|[^"A-Za-z_])(RAND_bytes|RAND_priv_bytes|getrandom)\(' "$f" | grep -vE '(!=|==) *(1|-1|0)\b|>= *0|< *0' || true)
  if [ -n "$out" ]; then
    echo "$out" | sed "s|^|$f:|"
    bad=1
  fi
  if grep -q 'randombytes_buf(' "$f" && ! grep -qE 'EnsureSodium\(|sodium_init\(' "$f"; then
    echo "$f: calls randombytes_buf without EnsureSodium()"
    bad=1
  fi
done
[ "$bad" -eq 0 ] && echo "rng: every call checked"
exit "$bad"
