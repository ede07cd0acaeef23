#pragma once
#include <lmdb.h>
#include <stdint.h>

/// The size in bytes of the file at `path`, or -1 (errno set) if it
/// cannot be read. Asks statx for the size only: a stat that returns the
/// timestamps marks them as seen, and with multigrain timestamps (Linux
/// 6.13+) the file's next write then takes a fine-grained time, which
/// advances the kernel's timestamp floor for every file: the WAL segment's
/// next write gets a new mtime and its fdatasync writes the inode too.
int64_t clmdb_file_size(const char *path);
