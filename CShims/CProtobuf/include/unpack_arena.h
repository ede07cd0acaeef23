// A bump allocator for protobuf-c's unpack (hand-written, not generated).
//
// protobuf_c_message_unpack mallocs the message, every sub-message, string,
// bytes field and repeated array. Giving it this allocator puts all of that in
// one region: first a caller-provided (stack) buffer, then 16 KiB malloc'd
// chunks. `free` is a no-op; swiftetcd_unpack_arena_destroy releases everything,
// so protobuf_c_message_free_unpacked is not needed for arena-backed messages.
#pragma once
#include <stddef.h>
#include <protobuf-c/protobuf-c.h>

typedef struct SwiftEtcdUnpackArena {
    /// Pass &arena->allocator to the generated *__unpack functions.
    ProtobufCAllocator allocator;
    unsigned char *cursor;
    size_t remaining;
    /// malloc'd chunks, linked through their first word.
    void *chunks;
} SwiftEtcdUnpackArena;

void swiftetcd_unpack_arena_init(SwiftEtcdUnpackArena *arena, void *initial, size_t initial_bytes);
void swiftetcd_unpack_arena_destroy(SwiftEtcdUnpackArena *arena);

/// malloc'd arena blocks not yet released by arenas of the calling thread: zero
/// between decodes unless an arena was never destroyed (tests check it exactly,
/// where process-wide memory figures move with whatever else runs).
long swiftetcd_unpack_arena_live_blocks_on_this_thread(void);

/// Bytes of each per-thread scratch buffer (`swiftetcd_scratch_take`).
enum { SWIFTETCD_SCRATCH_BYTES = 4096 };

/// The calling thread's scratch buffer for one pack or unpack, 16-byte
/// aligned and SWIFTETCD_SCRATCH_BYTES long; NULL while this thread already
/// holds it (a nested pack or unpack), which then uses a buffer of its own.
/// Hand it back with swiftetcd_scratch_give before the thread does anything
/// else with it. Replaces a heap buffer per message: Swift's temporary
/// allocations of this size come from posix_memalign on Linux, and glibc
/// serves 2–4 KiB blocks outside its per-thread cache (several percent of
/// a put's CPU under load).
void *swiftetcd_scratch_take(void);
void swiftetcd_scratch_give(void *buffer);
