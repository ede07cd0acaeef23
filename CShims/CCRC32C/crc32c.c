#include "CCRC32C.h"
#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>

__attribute__((target("sse4.2")))
uint32_t swift_etcd_crc32c_hw(uint32_t crc, const void *p, size_t n) {
    const unsigned char *b = p;
    uint64_t c = ~crc;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, b, 8);
        c = _mm_crc32_u64(c, w);
        b += 8;
        n -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (n > 0) {
        c32 = _mm_crc32_u8(c32, *b++);
        n--;
    }
    return ~c32;
}

int swift_etcd_crc32c_hardware(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2");
}

#else

uint32_t swift_etcd_crc32c_hw(uint32_t crc, const void *p, size_t n) {
    (void)p; (void)n;
    return crc;  /* never called: swift_etcd_crc32c_hardware() is 0 */
}

int swift_etcd_crc32c_hardware(void) { return 0; }

#endif
