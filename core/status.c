#include <fusion/status.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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

/* Callers often wrap the previous detail: fsn_fail(code, "card: %s", fsn_last_error()). An argument may then alias
 * last_error, so the message is formatted into a temporary first and copied after. */
fsn_status fsn_fail(fsn_status status, const char *fmt, ...) {
  char message[sizeof last_error];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  memcpy(last_error, message, sizeof last_error);
  return status;
}
