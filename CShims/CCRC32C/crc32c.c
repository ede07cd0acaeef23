// CRC-32C with the CPU's instruction; Support.CRC32C falls back to its table
// when cc_crc32c_hardware() is 0.
#include "CCRC32C.h"
#include <string.h>

#if defined(__x86_64__)
int cc_crc32c_hardware(void) { return __builtin_cpu_supports("sse4.2"); }

__attribute__((target("sse4.2")))
uint32_t cc_crc32c_update(uint32_t crc, const void *data, size_t n) {
    const unsigned char *p = data;
    uint64_t c = ~crc;
    for (; n >= 8; p += 8, n -= 8) { uint64_t v; memcpy(&v, p, 8); c = __builtin_ia32_crc32di(c, v); }
    uint32_t c32 = (uint32_t)c;
    for (; n > 0; p++, n--) c32 = __builtin_ia32_crc32qi(c32, *p);
    return ~c32;
}
#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#include <asm/hwcap.h>
int cc_crc32c_hardware(void) { return (getauxval(AT_HWCAP) & HWCAP_CRC32) != 0; }

__attribute__((target("crc")))
uint32_t cc_crc32c_update(uint32_t crc, const void *data, size_t n) {
    const unsigned char *p = data;
    uint32_t c = ~crc;
    for (; n >= 8; p += 8, n -= 8) { uint64_t v; memcpy(&v, p, 8); c = __builtin_arm_crc32cd(c, v); }
    for (; n > 0; p++, n--) c = __builtin_arm_crc32cb(c, *p);
    return ~c;
}
#else
int cc_crc32c_hardware(void) { return 0; }
uint32_t cc_crc32c_update(uint32_t crc, const void *data, size_t n) { (void)data; (void)n; return crc; }
#endif
