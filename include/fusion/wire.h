/* The wire form of ring vectors, beside the channel code that sends them (net/wire.c); <fusion/channel.h> includes
 * it. */
#ifndef FUSION_WIRE_H
#define FUSION_WIRE_H

#include <fusion/status.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The wire form of ring vectors, for callers that build their own frames: element i occupies bits
 * [i ell, (i + 1) ell) of a little-endian bit stream, ceil(n ell / 8) bytes, padding bits zero. Inputs are masked to
 * ell bits. 1 <= ell <= 64. unpack returns FSN_E_PROTOCOL if the padding bits of the last byte are not zero. */
size_t fsn_wire_packed_bytes(size_t n, unsigned ell);
void fsn_wire_pack(uint8_t *out, const uint64_t *v, size_t n, unsigned ell);
FSN_NODISCARD fsn_status fsn_wire_unpack(uint64_t *v, const uint8_t *in, size_t n, unsigned ell);

#ifdef __cplusplus
}
#endif
#endif
