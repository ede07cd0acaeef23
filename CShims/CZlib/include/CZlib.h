#pragma once
#include <zlib.h>

/// inflateInit2 is a macro Swift cannot call: inflate gzip members (RFC 1952).
int czlib_inflate_init_gzip(z_stream *stream);
