"""Edge values for every scalar type: the integers where arithmetic breaks (0, ±1,
min, max, powers of two ± 1), enum numbers declared and not, and byte strings that
are empty, binary, invalid UTF-8 or larger than etcd's request limit.
"""
import functools

from schema import INT_TYPES

# etcd's default --max-request-bytes (1.5 MiB) and gRPC's receive limit above it (+512 KiB).
MAX_REQUEST_BYTES = 1536 * 1024
MAX_RECV_BYTES = MAX_REQUEST_BYTES + 512 * 1024


@functools.lru_cache(maxsize=None)
def int_edges(type_name):
    """Every interesting value of an integer type, sorted, each within the type's range."""
    lo, hi = INT_TYPES[type_name]
    values = {0, 1, -1, lo, lo + 1, hi, hi - 1, 2, 3, 7, 10, 100, 128, 255, 1000, 65535}
    for bits in (7, 8, 14, 15, 16, 21, 28, 31, 32, 35, 42, 49, 53, 56, 62, 63, 64):
        p = 1 << bits
        values |= {p - 1, p, p + 1, -p, -p + 1, -p - 1}
    return tuple(sorted(v for v in values if lo <= v <= hi))


# Varints a decoder must narrow: 64-bit patterns in a 32-bit field, 2^64-1 in a signed one.
OUT_OF_RANGE_VARINTS = [1 << 32, (1 << 32) + 1, (1 << 63), (1 << 64) - 1, (1 << 64) - 2]


@functools.lru_cache(maxsize=None)
def enum_numbers(enum):
    """Declared numbers plus unknown ones around them (proto3 enums are open)."""
    declared = [number for _, number in enum.values]
    top = max(declared)
    return tuple(sorted(set(declared) | {top + 1, top + 2, 100, -1, -2, (1 << 31) - 1, -(1 << 31)}))


def random_int(rng, type_name):
    """Mostly an edge value, sometimes any value of the type, rarely an out-of-range varint."""
    roll = rng.random()
    if roll < 0.75:
        return rng.choice(int_edges(type_name))
    if roll < 0.97:
        lo, hi = INT_TYPES[type_name]
        return rng.randint(lo, hi) if rng.random() < 0.5 else rng.randint(max(lo, -1000), min(hi, 1000))
    return rng.choice(OUT_OF_RANGE_VARINTS)


def random_bytes(rng, big=True):
    """Empty, single edge bytes, short binary, long runs, and (rarely) around the request limits."""
    roll = rng.random()
    if roll < 0.1:
        return b""
    if roll < 0.25:
        return bytes([rng.choice([0, 1, 0x7F, 0x80, 0xFF, 0x2F, 0x25, 0x0A])])
    if roll < 0.92:
        return rng.getrandbits(8 * 24).to_bytes(24, "little")[:rng.randint(1, 24)]
    if roll < 0.997 or not big:
        return bytes([rng.getrandbits(8)]) * rng.choice([255, 256, 4096, 65535, 65536, 100000])
    size = rng.choice([MAX_REQUEST_BYTES - 200, MAX_REQUEST_BYTES + 1, MAX_RECV_BYTES + 1])
    return bytes([rng.getrandbits(8)]) * size


def random_string(rng):
    """Printable, empty, unicode, invalid UTF-8 and control characters (proto3 strings should be UTF-8)."""
    roll = rng.random()
    if roll < 0.1:
        return b""
    if roll < 0.55:
        return "".join(rng.choice("abcxyz019_-./:@ ") for _ in range(rng.randint(1, 16))).encode()
    if roll < 0.7:
        return rng.choice(["é", "ключ", "\u0000", "\n", "\U0001F600", "%zz", "a" * 300]).encode()
    if roll < 0.85:
        return bytes([rng.choice([0x80, 0xC3, 0xFF, 0xED, 0xA0])]) + b"x"
    return random_bytes(rng, big=False)
