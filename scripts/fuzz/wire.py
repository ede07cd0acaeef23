"""Protocol buffer wire format: the encoder the fuzzer builds requests with and a
schema-driven decoder for the responses it reads back (IDs, revisions, keys).

The encoder deliberately accepts values a well-behaved encoder would refuse
(out-of-range varints, wrong wire types, truncated fields) because that is what
the fuzzer sends; the decoder is strict and raises WireError.
"""

VARINT, FIXED64, LEN, FIXED32 = 0, 1, 2, 5
MASK64 = (1 << 64) - 1


class WireError(ValueError):
    pass


def varint(value):
    """Encodes an integer as a varint; negative values as 10-byte two's complement (int32/int64 rule)."""
    value &= MASK64
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def zigzag(value, bits=64):
    return ((value << 1) ^ (value >> (bits - 1))) & ((1 << bits) - 1)


def tag(number, wire_type):
    return varint((number << 3) | wire_type)


def length_delimited(number, payload):
    return tag(number, LEN) + varint(len(payload)) + payload


def read_varint(data, pos):
    result, shift = 0, 0
    while True:
        if pos >= len(data):
            raise WireError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result & MASK64, pos
        shift += 7
        if shift >= 70:
            raise WireError("varint too long")


def fields(data):
    """Yields (number, wire_type, value) of a message: ints for varint/fixed, bytes for LEN."""
    pos = 0
    while pos < len(data):
        key, pos = read_varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if wire_type == VARINT:
            value, pos = read_varint(data, pos)
        elif wire_type == FIXED64:
            if pos + 8 > len(data):
                raise WireError("truncated fixed64")
            value, pos = int.from_bytes(data[pos:pos + 8], "little"), pos + 8
        elif wire_type == FIXED32:
            if pos + 4 > len(data):
                raise WireError("truncated fixed32")
            value, pos = int.from_bytes(data[pos:pos + 4], "little"), pos + 4
        elif wire_type == LEN:
            size, pos = read_varint(data, pos)
            if pos + size > len(data):
                raise WireError("truncated length-delimited field")
            value, pos = bytes(data[pos:pos + size]), pos + size
        else:
            raise WireError(f"wire type {wire_type}")
        yield number, wire_type, value


def signed64(value):
    return value - (1 << 64) if value >= 1 << 63 else value
