#include "CNGHTTP2.h"

#if NGHTTP2_VERSION_NUM >= 0x013d00
#define CNG_HAS_V2 1
#else
#define CNG_HAS_V2 0
#endif

/* The Swift read function travels in source.ptr; a data pointer can hold a
   function pointer on every platform Swift supports. */
#if CNG_HAS_V2
static nghttp2_ssize cng_read_trampoline(nghttp2_session *session, int32_t stream_id,
                                         uint8_t *buf, size_t length, uint32_t *data_flags,
                                         nghttp2_data_source *source, void *user_data) {
  return ((cng_read_fn)source->ptr)(session, stream_id, buf, length, data_flags, user_data);
}
#define CNG_PROVIDER(name, fn) \
  nghttp2_data_provider2 name; name.source.ptr = (void *)(fn); name.read_callback = cng_read_trampoline
#else
static ssize_t cng_read_trampoline(nghttp2_session *session, int32_t stream_id,
                                   uint8_t *buf, size_t length, uint32_t *data_flags,
                                   nghttp2_data_source *source, void *user_data) {
  return ((cng_read_fn)source->ptr)(session, stream_id, buf, length, data_flags, user_data);
}
#define CNG_PROVIDER(name, fn) \
  nghttp2_data_provider name; name.source.ptr = (void *)(fn); name.read_callback = cng_read_trampoline
#endif

int cng_session_new(nghttp2_session **out, int server,
                    const nghttp2_session_callbacks *callbacks,
                    void *user_data, const cng_limits *limits) {
  nghttp2_option *opt;
  int rv = nghttp2_option_new(&opt);
  if (rv != 0) return rv;
  if (limits) {
    if (limits->max_outbound_ack) nghttp2_option_set_max_outbound_ack(opt, limits->max_outbound_ack);
    if (limits->max_settings) nghttp2_option_set_max_settings(opt, limits->max_settings);
    if (limits->reset_burst)
      nghttp2_option_set_stream_reset_rate_limit(opt, limits->reset_burst, limits->reset_rate_per_sec);
    if (limits->max_continuations) nghttp2_option_set_max_continuations(opt, limits->max_continuations);
    if (limits->max_send_header_block)
      nghttp2_option_set_max_send_header_block_length(opt, limits->max_send_header_block);
    nghttp2_option_set_no_auto_window_update(opt, limits->no_auto_window_update);
  }
  nghttp2_option_set_no_closed_streams(opt, 1);
  /* nghttp2's HTTP messaging rules reject an :authority such as
     "http://127.0.0.1:2379", which grpc-go sends when etcdctl dials a URL
     endpoint (every `--cluster` command does); etcd accepts it. The gRPC
     state machine validates what it needs (method, path, content-type,
     lower-case names) itself. */
  nghttp2_option_set_no_http_messaging(opt, 1);
  if (server) {
    rv = nghttp2_session_server_new2(out, callbacks, user_data, opt);
  } else {
    rv = nghttp2_session_client_new2(out, callbacks, user_data, opt);
  }
  nghttp2_option_del(opt);
  return rv;
}

cng_ssize cng_session_mem_recv(nghttp2_session *session, const uint8_t *in, size_t inlen) {
#if CNG_HAS_V2
  return nghttp2_session_mem_recv2(session, in, inlen);
#else
  return nghttp2_session_mem_recv(session, in, inlen);
#endif
}

cng_ssize cng_session_mem_send(nghttp2_session *session, const uint8_t **data) {
#if CNG_HAS_V2
  return nghttp2_session_mem_send2(session, data);
#else
  return nghttp2_session_mem_send(session, data);
#endif
}

int cng_submit_response(nghttp2_session *session, int32_t stream_id,
                        const nghttp2_nv *nva, size_t nvlen, cng_read_fn read) {
  if (!read) {
#if CNG_HAS_V2
    return nghttp2_submit_response2(session, stream_id, nva, nvlen, NULL);
#else
    return nghttp2_submit_response(session, stream_id, nva, nvlen, NULL);
#endif
  }
  CNG_PROVIDER(prd, read);
#if CNG_HAS_V2
  return nghttp2_submit_response2(session, stream_id, nva, nvlen, &prd);
#else
  return nghttp2_submit_response(session, stream_id, nva, nvlen, &prd);
#endif
}

int32_t cng_submit_request(nghttp2_session *session, const nghttp2_nv *nva,
                           size_t nvlen, cng_read_fn read) {
  if (!read) {
#if CNG_HAS_V2
    return nghttp2_submit_request2(session, NULL, nva, nvlen, NULL, NULL);
#else
    return nghttp2_submit_request(session, NULL, nva, nvlen, NULL, NULL);
#endif
  }
  CNG_PROVIDER(prd, read);
#if CNG_HAS_V2
  return nghttp2_submit_request2(session, NULL, nva, nvlen, &prd, NULL);
#else
  return nghttp2_submit_request(session, NULL, nva, nvlen, &prd, NULL);
#endif
}

int cng_submit_data(nghttp2_session *session, uint8_t flags, int32_t stream_id,
                    cng_read_fn read) {
  CNG_PROVIDER(prd, read);
#if CNG_HAS_V2
  return nghttp2_submit_data2(session, flags, stream_id, &prd);
#else
  return nghttp2_submit_data(session, flags, stream_id, &prd);
#endif
}

int cng_submit_server_settings(nghttp2_session *session, uint32_t max_concurrent_streams,
                               uint32_t initial_window_size, uint32_t max_header_list_size) {
  nghttp2_settings_entry iv[3] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, initial_window_size},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, max_header_list_size},
  };
  return nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, iv, 3);
}
