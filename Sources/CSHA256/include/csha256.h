#ifndef CSHA256_H
#define CSHA256_H

#include <stddef.h>
#include <stdint.h>

/// Whether this processor has the SHA extensions (and the SSSE3 and SSE4.1 they are used with), so that
/// `csha256_compress_blocks` may be called. Asked once with CPUID; always 0 off x86-64.
int csha256_accelerated(void);

/// Runs the SHA-256 compression function (FIPS 180-4, 6.2.2) over `blocks` whole 64-byte blocks at `data`,
/// updating the eight state words a..h in `state`. Call only when `csha256_accelerated()` is 1.
void csha256_compress_blocks(uint32_t state[8], const uint8_t *data, size_t blocks);

#endif
