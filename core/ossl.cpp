#include "core/ossl.h"

#include <openssl/err.h>

#include <string>

namespace sigil {

Error OpenSslError(Code code, std::string_view what) {
  std::string msg(what);
  unsigned long e = 0;
  bool first = true;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    msg += first ? " (" : "; ";
    msg += buf;
    first = false;
  }
  if (!first) msg += ")";
  return Error(code, msg);
}

}  // namespace sigil
