#pragma once
#include <stddef.h>
#include <stdint.h>

/// CRC-32C (Castagnoli) of `n` bytes at `p`, continuing `crc` (0 to start;
/// the same convention as Go's crc32.Update). Uses the SSE4.2 `crc32`
/// instruction when the CPU has it (what Go's hash/crc32 does for etcd's
/// WAL). Call it only when `swift_etcd_crc32c_hardware()` says so; the
/// Swift side falls back to its table otherwise.
uint32_t swift_etcd_crc32c_hw(uint32_t crc, const void *p, size_t n);

/// Whether `swift_etcd_crc32c_hw` may be called on this CPU.
int swift_etcd_crc32c_hardware(void);
