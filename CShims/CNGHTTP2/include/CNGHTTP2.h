#pragma once
/// Thin shim over nghttp2 for GRPCWire. It hides the difference between the
/// old `ssize_t` APIs (nghttp2 < 1.61, e.g. Debian 12's 1.52) and the `*2`
/// APIs, so Swift calls one set of functions whatever the installed version.
/// Callbacks themselves are written in Swift and set with the plain
/// `nghttp2_session_callbacks_set_*` functions, which did not change.
#include <nghttp2/nghttp2.h>
#include <stddef.h>
#include <stdint.h>

/// The signed size type of the session APIs (ssize_t or nghttp2_ssize; both ptrdiff_t wide).
typedef ptrdiff_t cng_ssize;

/// Data read callback used for every DATA provider this shim submits.
/// Same contract as nghttp2_data_source_read_callback2: copy at most `length`
/// bytes into `buf`, set NGHTTP2_DATA_FLAG_EOF / NO_END_STREAM in `*data_flags`,
/// or return NGHTTP2_ERR_DEFERRED when nothing is ready yet.
typedef cng_ssize (*cng_read_fn)(nghttp2_session *session, int32_t stream_id,
                                 uint8_t *buf, size_t length,
                                 uint32_t *data_flags, void *user_data);

/// Hostile-peer limits applied to a session (0 leaves nghttp2's default).
typedef struct {
  size_t max_outbound_ack;      /* queued SETTINGS/PING ACKs before the peer is dropped */
  size_t max_settings;          /* entries per SETTINGS frame */
  uint64_t reset_burst;         /* RST_STREAM token bucket size (rapid reset) */
  uint64_t reset_rate_per_sec;  /* RST_STREAM tokens regenerated per second */
  size_t max_continuations;     /* CONTINUATION frames after one HEADERS */
  size_t max_send_header_block; /* bytes of one outgoing header block */
  int no_auto_window_update;    /* 1: the application calls nghttp2_session_consume */
} cng_limits;

/// Creates a session (server if `server` != 0) with the given callbacks and limits.
int cng_session_new(nghttp2_session **out, int server,
                    const nghttp2_session_callbacks *callbacks,
                    void *user_data, const cng_limits *limits);

cng_ssize cng_session_mem_recv(nghttp2_session *session, const uint8_t *in, size_t inlen);
cng_ssize cng_session_mem_send(nghttp2_session *session, const uint8_t **data);

/// Submits response headers; with `read` non-NULL a DATA provider follows
/// (served by `read`), otherwise the HEADERS frame carries END_STREAM.
int cng_submit_response(nghttp2_session *session, int32_t stream_id,
                        const nghttp2_nv *nva, size_t nvlen, cng_read_fn read);

/// Client side (tests): submits a request; `read` as above (NULL: no body).
int32_t cng_submit_request(nghttp2_session *session, const nghttp2_nv *nva,
                           size_t nvlen, cng_read_fn read);

/// Submits DATA for an open stream served by `read` (used by test clients).
int cng_submit_data(nghttp2_session *session, uint8_t flags, int32_t stream_id,
                    cng_read_fn read);

/// Advertises our SETTINGS: concurrent streams, initial window, max frame, header list size.
int cng_submit_server_settings(nghttp2_session *session, uint32_t max_concurrent_streams,
                               uint32_t initial_window_size, uint32_t max_header_list_size);
