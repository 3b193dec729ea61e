/* Link emulation profiles (fsn_channel_opts.link in <fusion/channel.h>) and the link cost model. */
#ifndef FUSION_LINK_H
#define FUSION_LINK_H

#include <fusion/status.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Link emulation: bandwidth in bit/s and round-trip time in seconds; all zero = off. */
typedef struct fsn_link_profile {
  double bandwidth_bps, rtt_s;
} fsn_link_profile;

/* Link emulation (fsn_channel_opts.link, both parties the same, else the handshake fails with FSN_E_MISMATCH):
 * the sender stamps each frame with the time its last byte leaves an emulated link that sends frames back to back at
 * the profile bandwidth (the channels of one fsn_channels_* group share that link), the kernel paces the socket a
 * little above that rate, and the receiver returns a frame no earlier than its stamp plus rtt / 2. Stamps are
 * CLOCK_MONOTONIC; the handshake estimates the offset between the parties' clocks from its two crossing messages, so
 * two hosts work to within the asymmetry of the real path, whose own delay then adds to the emulated one. With
 * emulation on, each frame is written to the socket as soon as it is complete.
 *
 * Link profiles: "lan" (3 Gbit/s, 0.3 ms RTT), "wan" (400 Mbit/s, 40 ms), "wan-slow" (100 Mbit/s, 80 ms), "off"
 * or "none" (no emulation), or a custom "bw=400mbit,rtt=40ms" (bw units bit, kbit, mbit, gbit, optional "/s"; rtt
 * units s, ms, us; either key may be left out: no bandwidth limit, or no delay). FSN_E_INVALID names the bad part. */
FSN_NODISCARD fsn_status fsn_link_parse(const char *spec, fsn_link_profile *out);
/* "400 Mbit/s, 40 ms RTT" or "off"; returns the length needed, like snprintf. */
size_t fsn_link_format(char *buf, size_t cap, const fsn_link_profile *p);
/* The model estimate of a run's time: compute_s + bytes * 8 / bandwidth + rounds * rtt (terms with a zero profile
 * field are left out). Pass the bytes that cross the link one way after another (e.g. both directions' sum for a
 * ping-pong protocol, the larger direction for a streaming one). */
double fsn_link_model_seconds(const fsn_link_profile *p, double compute_s, uint64_t bytes, uint64_t rounds);

#ifdef __cplusplus
}
#endif
#endif
