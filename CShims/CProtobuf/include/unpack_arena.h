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
