#!/usr/bin/env bash
# Raft core throughput: 3-node in-memory cluster (Tools/raft-bench), release build.
# Preloads a tiny malloc counter so the bench can report allocations per entry.
#   ENTRIES=N (default 1000000)  BATCH=B proposals per round (default 1024)  SIZE=bytes (128)
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product raft-bench 2>&1 | grep -E "error|Build" >&2 || true
counter_dir=$(mktemp -d)
trap 'rm -rf "$counter_dir"' EXIT
cat > "$counter_dir/mc.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>
static uint64_t count;
static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static int (*real_posix_memalign)(void **, size_t, size_t);
uint64_t malloc_count_get(void) { return __atomic_load_n(&count, __ATOMIC_RELAXED); }
void *malloc(size_t n) {
  if (!real_malloc) real_malloc = dlsym(RTLD_NEXT, "malloc");
  __atomic_add_fetch(&count, 1, __ATOMIC_RELAXED);
  return real_malloc(n);
}
void *calloc(size_t a, size_t b) {
  if (!real_calloc) {
    /* dlsym may calloc: serve that from a static buffer */
    static char buf[4096]; static size_t used;
    real_calloc = (void *)1;
    real_calloc = dlsym(RTLD_NEXT, "calloc");
    if (!real_calloc || real_calloc == (void *)1) { void *p = buf + used; used += (a * b + 15) & ~15; return p; }
  }
  if (real_calloc == (void *)1) { static char buf2[4096]; return buf2; }
  __atomic_add_fetch(&count, 1, __ATOMIC_RELAXED);
  return real_calloc(a, b);
}
void *realloc(void *p, size_t n) {
  if (!real_realloc) real_realloc = dlsym(RTLD_NEXT, "realloc");
  __atomic_add_fetch(&count, 1, __ATOMIC_RELAXED);
  return real_realloc(p, n);
}
int posix_memalign(void **p, size_t a, size_t n) {
  if (!real_posix_memalign) real_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
  __atomic_add_fetch(&count, 1, __ATOMIC_RELAXED);
  return real_posix_memalign(p, a, n);
}
C
preload=()
if cc -O2 -shared -fPIC -o "$counter_dir/libmc.so" "$counter_dir/mc.c" -ldl 2>/dev/null; then
  preload=(env LD_PRELOAD="$counter_dir/libmc.so")
fi
"${preload[@]}" ./.build/release/raft-bench --entries "${ENTRIES:-1000000}" --batch "${BATCH:-1024}" --size "${SIZE:-128}"
