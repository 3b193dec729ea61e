#include <fusion/status.h>

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char last_error[512];

const char *fsn_strerror(fsn_status status) {
  switch (status) {
  case FSN_OK: return "success";
  case FSN_E_INVALID: return "invalid argument";
  case FSN_E_NOMEM: return "out of memory";
  case FSN_E_IO: return "I/O error";
  case FSN_E_TIMEOUT: return "timed out";
  case FSN_E_CLOSED: return "peer closed the connection";
  case FSN_E_PROTOCOL: return "protocol error";
  case FSN_E_MISMATCH: return "parameter mismatch between the parties";
  case FSN_E_UNSUPPORTED: return "not supported";
  case FSN_E_FORMAT: return "malformed input file";
  case FSN_E_CRYPTO: return "cryptographic failure";
  case FSN_E_CHEATING: return "mix-and-check detected a deviation";
  }
  return "unknown status";
}

const char *fsn_last_error(void) { return last_error; }

fsn_status fsn_fail(fsn_status status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  return status;
}
