// See include/unpack_arena.h.
#include "unpack_arena.h"
#include <stdint.h>
#include <stdlib.h>

enum { ARENA_ALIGN = 16, ARENA_CHUNK_BYTES = 16 * 1024, ARENA_HEADER = 16 };

static _Thread_local long live_blocks_on_this_thread;

long swiftetcd_unpack_arena_live_blocks_on_this_thread(void) { return live_blocks_on_this_thread; }

/// A malloc'd block of `bytes` usable bytes after a header linking it into the arena.
static unsigned char *arena_new_block(SwiftEtcdUnpackArena *arena, size_t bytes) {
    if (bytes > SIZE_MAX - ARENA_HEADER) return NULL;
    void **block = malloc(ARENA_HEADER + bytes);
    if (block == NULL) return NULL;
    *block = arena->chunks;
    arena->chunks = block;
    live_blocks_on_this_thread += 1;
    return (unsigned char *)block + ARENA_HEADER;
}

static void *arena_alloc(void *data, size_t size) {
    SwiftEtcdUnpackArena *arena = data;
    size_t misalign = (uintptr_t)arena->cursor & (ARENA_ALIGN - 1);
    size_t padding = misalign ? ARENA_ALIGN - misalign : 0;
    if (size <= arena->remaining && padding <= arena->remaining - size) {
        unsigned char *result = arena->cursor + padding;
        arena->cursor = result + size;
        arena->remaining -= padding + size;
        return result;
    }
    if (size > ARENA_CHUNK_BYTES / 4) {
        // Large (a big value): its own block; keep filling the current chunk.
        return arena_new_block(arena, size);
    }
    unsigned char *chunk = arena_new_block(arena, ARENA_CHUNK_BYTES);
    if (chunk == NULL) return NULL;
    arena->cursor = chunk + size;
    arena->remaining = ARENA_CHUNK_BYTES - size;
    return chunk;
}

static void arena_free(void *data, void *pointer) {
    (void)data;
    (void)pointer;
}

void swiftetcd_unpack_arena_init(SwiftEtcdUnpackArena *arena, void *initial, size_t initial_bytes) {
    arena->allocator.alloc = arena_alloc;
    arena->allocator.free = arena_free;
    arena->allocator.allocator_data = arena;
    arena->cursor = initial;
    arena->remaining = initial_bytes;
    arena->chunks = NULL;
}

void swiftetcd_unpack_arena_destroy(SwiftEtcdUnpackArena *arena) {
    void *block = arena->chunks;
    while (block != NULL) {
        void *next = *(void **)block;
        free(block);
        live_blocks_on_this_thread -= 1;
        block = next;
    }
    arena->chunks = NULL;
    arena->remaining = 0;
}

// Static thread-local storage: no malloc, nothing to free when a thread ends.
static _Thread_local _Alignas(16) unsigned char scratch[SWIFTETCD_SCRATCH_BYTES];
static _Thread_local int scratch_taken;

void *swiftetcd_scratch_take(void) {
    if (scratch_taken) return NULL;
    scratch_taken = 1;
    return scratch;
}

void swiftetcd_scratch_give(void *buffer) {
    if (buffer == scratch) scratch_taken = 0;
}
