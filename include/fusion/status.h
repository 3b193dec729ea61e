/* Status codes shared by every fallible function of the toolkit. */
#ifndef FUSION_STATUS_H
#define FUSION_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define FSN_NODISCARD         __attribute__((warn_unused_result))
#define FSN_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define FSN_NODISCARD
#define FSN_PRINTF(fmt, args)
#endif

/* 0 is success; every error is negative. */
typedef enum fsn_status {
  FSN_OK = 0,
  FSN_E_INVALID = -1,     /* an argument is out of range or inconsistent */
  FSN_E_NOMEM = -2,       /* an allocation failed */
  FSN_E_IO = -3,          /* an operating-system call failed */
  FSN_E_TIMEOUT = -4,     /* a read or connect did not complete in time */
  FSN_E_CLOSED = -5,      /* the peer closed the connection */
  FSN_E_PROTOCOL = -6,    /* a malformed or unexpected message from the peer */
  FSN_E_MISMATCH = -7,    /* the two parties disagree on parameters */
  FSN_E_UNSUPPORTED = -8, /* a feature (ISA level, operator, option) is not available */
  FSN_E_FORMAT = -9,      /* a malformed or truncated file */
  FSN_E_CRYPTO = -10,     /* a cryptographic primitive rejected its input */
  FSN_E_CHEATING = -11,   /* mix-and-check caught a deviation */
} fsn_status;

/* A constant string naming the status, e.g. "peer closed the connection". */
const char *fsn_strerror(fsn_status status);

/* The detail of the last error set on this thread ("recv: peer closed after 12 of 4096 bytes"), or "" if none.
 * Valid until the next failing call on the same thread. */
const char *fsn_last_error(void);

/* Record a detail message for the calling thread and return `status`, so a failure is one line:
 *   return fsn_fail(FSN_E_PROTOCOL, "frame length %zu above limit %zu", len, max); */
fsn_status fsn_fail(fsn_status status, const char *fmt, ...) FSN_PRINTF(2, 3);

#ifdef __cplusplus
}
#endif
#endif
