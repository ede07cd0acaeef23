// See include/wire_check.h.
#include "wire_check.h"

static bool read_varint(const uint8_t *data, size_t len, size_t *offset, uint64_t *value) {
    uint64_t result = 0;
    for (unsigned shift = 0; shift < 70 && *offset < len; shift += 7) {
        uint8_t byte = data[(*offset)++];
        result |= (uint64_t)(byte & 0x7f) << shift;
        if ((byte & 0x80) == 0) {
            *value = result;
            return true;
        }
    }
    return false;
}

/// The wire type a field of `type` is written with when not packed.
static int natural_wire_type(ProtobufCType type) {
    switch (type) {
    case PROTOBUF_C_TYPE_FIXED32: case PROTOBUF_C_TYPE_SFIXED32: case PROTOBUF_C_TYPE_FLOAT:
        return PROTOBUF_C_WIRE_TYPE_32BIT;
    case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_SFIXED64: case PROTOBUF_C_TYPE_DOUBLE:
        return PROTOBUF_C_WIRE_TYPE_64BIT;
    case PROTOBUF_C_TYPE_STRING: case PROTOBUF_C_TYPE_BYTES: case PROTOBUF_C_TYPE_MESSAGE:
        return PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED;
    default:
        return PROTOBUF_C_WIRE_TYPE_VARINT;
    }
}

bool swiftetcd_wire_types_valid(const ProtobufCMessageDescriptor *descriptor, const uint8_t *data, size_t len) {
    size_t offset = 0;
    while (offset < len) {
        uint64_t key, length = 0;
        if (!read_varint(data, len, &offset, &key)) return false;
        int wire_type = (int)(key & 7);
        switch (wire_type) {
        case PROTOBUF_C_WIRE_TYPE_VARINT: { uint64_t ignored; if (!read_varint(data, len, &offset, &ignored)) return false; break; }
        case PROTOBUF_C_WIRE_TYPE_64BIT: if (len - offset < 8) return false; offset += 8; break;
        case PROTOBUF_C_WIRE_TYPE_32BIT: if (len - offset < 4) return false; offset += 4; break;
        case PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED:
            if (!read_varint(data, len, &offset, &length) || length > len - offset) return false;
            offset += (size_t)length;
            break;
        default:
            return false;
        }
        if ((key >> 3) > UINT32_MAX) return false;
        const ProtobufCFieldDescriptor *field =
            protobuf_c_message_descriptor_get_field(descriptor, (unsigned)(key >> 3));
        if (field == NULL) continue;
        int natural = natural_wire_type(field->type);
        bool packed = field->label == PROTOBUF_C_LABEL_REPEATED && natural != PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED
            && wire_type == PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED;
        if (wire_type != natural && !packed) return false;
        if (field->type == PROTOBUF_C_TYPE_MESSAGE
            && !swiftetcd_wire_types_valid(field->descriptor, data + offset - length, (size_t)length)) {
            return false;
        }
    }
    return true;
}
