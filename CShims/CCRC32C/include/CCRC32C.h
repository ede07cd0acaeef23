#ifndef CCRC32C_H
#define CCRC32C_H
#include <stddef.h>
#include <stdint.h>

/// 1 when this CPU has a CRC-32C instruction (x86-64 SSE4.2, arm64 CRC).
int cc_crc32c_hardware(void);

/// Continues `crc` (0 to start; Go's crc32.Update convention) over `n` bytes
/// with the CPU instruction. Call only when cc_crc32c_hardware() is 1.
uint32_t cc_crc32c_update(uint32_t crc, const void *data, size_t n);

#endif
