// Wire-type check after protobuf-c's unpack (hand-written, not generated).
//
// protobuf-c accepts a known bool field sent with any wire type (it reads the
// bytes as a boolean); etcd's decoder rejects a known field whose wire type does
// not match its declaration ("proto: wrong wireType"). Running this on the bytes
// protobuf-c accepted makes both refuse the same inputs. Unknown fields are
// skipped as the protobuf spec says. Recursion follows sub-messages only, whose
// depth the caller's nesting check has already bounded.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

/// True when every known field in `data` uses a wire type its declaration allows
/// (repeated numeric fields: packed or not), recursively through sub-messages.
bool swiftetcd_wire_types_valid(const ProtobufCMessageDescriptor *descriptor, const uint8_t *data, size_t len);
