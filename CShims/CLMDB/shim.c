#define _GNU_SOURCE
#include "CLMDB.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

int64_t clmdb_file_size(const char *path) {
#ifdef STATX_SIZE
    struct statx sx;
    if (statx(AT_FDCWD, path, 0, STATX_SIZE, &sx) == 0 && (sx.stx_mask & STATX_SIZE)) return (int64_t)sx.stx_size;
    if (errno != ENOSYS && errno != EINVAL) return -1;
#endif
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}
