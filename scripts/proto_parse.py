"""A parser for the proto3 subset etcd's API uses, for scripts/gen-swift.py.

Handles: syntax, package, import/option (skipped), messages with nested messages
and enums, scalar/enum/message fields, repeated, oneof, reserved (skipped), enums,
and services with streaming rpcs (option blocks skipped). Comments directly above
a declaration are kept as its documentation. Anything else is a SyntaxError.
"""
import os
import re

class Tok:
    def __init__(self, text, comments):
        self.text = text
        self.comments = comments


def tokenize(src):
    toks, comments, i, n = [], [], 0, len(src)
    while i < n:
        ch = src[i]
        if ch.isspace():
            i += 1
        elif src.startswith("//", i):
            end = src.find("\n", i)
            end = n if end < 0 else end
            comments.append(src[i + 2:end].strip())
            i = end
        elif src.startswith("/*", i):
            end = src.find("*/", i)
            i = n if end < 0 else end + 2
        elif ch == '"' or ch == "'":
            end = src.index(ch, i + 1)
            toks.append(Tok(src[i:end + 1], comments))
            comments, i = [], end + 1
        elif ch.isalnum() or ch in "_.-":
            m = re.match(r"[A-Za-z0-9_.\-+]+", src[i:])
            toks.append(Tok(m.group(0), comments))
            comments, i = [], i + len(m.group(0))
        else:
            toks.append(Tok(ch, comments))
            comments, i = [], i + 1
    return toks


class Parser:
    def __init__(self, toks):
        self.toks, self.i = toks, 0

    def peek(self):
        return self.toks[self.i].text if self.i < len(self.toks) else None

    def next(self):
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def expect(self, text):
        tok = self.next()
        if tok.text != text:
            raise SyntaxError(f"expected {text!r}, got {tok.text!r}")
        return tok

    def skip_statement(self):
        depth = 0
        while True:
            t = self.next().text
            if t == "{":
                depth += 1
            elif t == "}":
                depth -= 1
                if depth == 0:
                    return
            elif t == ";" and depth == 0:
                return


class Field:
    def __init__(self, name, number, type_name, repeated, oneof, comments):
        self.name, self.number, self.type_name = name, number, type_name
        self.repeated, self.oneof, self.comments = repeated, oneof, comments
        self.resolved = None  # Message, Enum or None for scalars


class Message:
    def __init__(self, name, full, package, comments, parent):
        self.name, self.full, self.package, self.comments = name, full, package, comments
        self.parent = parent
        self.fields, self.oneofs, self.messages, self.enums = [], [], [], []


class Enum:
    def __init__(self, name, full, package, comments, parent):
        self.name, self.full, self.package, self.comments = name, full, package, comments
        self.parent = parent
        self.values = []


class ProtoFile:
    def __init__(self, path):
        self.path, self.package = path, ""
        self.messages, self.enums, self.services = [], [], []


def parse_enum(p, scope, package, parent):
    comments = p.next().comments  # 'enum'
    name = p.next().text
    e = Enum(name, f"{scope}.{name}" if scope else name, package, comments, parent)
    p.expect("{")
    while p.peek() != "}":
        if p.peek() in ("option", "reserved"):
            p.skip_statement()
            continue
        vname = p.next().text
        p.expect("=")
        e.values.append((vname, int(p.next().text, 0)))
        if p.peek() == "[":
            while p.next().text != "]":
                pass
        p.expect(";")
    p.expect("}")
    return e


def parse_field(p, oneof):
    first = p.next()
    repeated = first.text == "repeated"
    type_name = p.next().text if repeated else first.text
    name = p.next().text
    p.expect("=")
    number = int(p.next().text, 0)
    if p.peek() == "[":
        while p.next().text != "]":
            pass
    p.expect(";")
    return Field(name, number, type_name, repeated, oneof, first.comments)


def parse_message(p, scope, package, parent):
    comments = p.next().comments  # 'message'
    name = p.next().text
    full = f"{scope}.{name}" if scope else name
    m = Message(name, full, package, comments, parent)
    p.expect("{")
    while p.peek() != "}":
        t = p.peek()
        if t == "message":
            m.messages.append(parse_message(p, full, package, m))
        elif t == "enum":
            m.enums.append(parse_enum(p, full, package, m))
        elif t == "oneof":
            p.next()
            oname = p.next().text
            m.oneofs.append(oname)
            p.expect("{")
            while p.peek() != "}":
                if p.peek() == "option":
                    p.skip_statement()
                else:
                    m.fields.append(parse_field(p, oname))
            p.expect("}")
        elif t in ("option", "reserved", "extensions"):
            p.skip_statement()
        elif t in ("map", "optional", "required", "group") or t.startswith("map<"):
            raise SyntaxError(f"{full}: '{t}' fields are not supported by gen-swift.py")
        elif t == ";":
            p.next()
        else:
            m.fields.append(parse_field(p, None))
    p.expect("}")
    return m


def parse_service(p):
    p.next()  # 'service'
    name = p.next().text
    methods = []
    p.expect("{")
    while p.peek() != "}":
        if p.peek() != "rpc":
            p.skip_statement()
            continue
        p.next()
        mname = p.next().text
        p.expect("(")
        in_stream = p.peek() == "stream"
        if in_stream:
            p.next()
        in_type = p.next().text
        p.expect(")")
        p.expect("returns")
        p.expect("(")
        out_stream = p.peek() == "stream"
        if out_stream:
            p.next()
        out_type = p.next().text
        p.expect(")")
        if p.peek() == "{":
            p.skip_statement()  # options block, e.g. HTTP annotations
        else:
            p.expect(";")
        methods.append((mname, in_type, in_stream, out_type, out_stream))
    p.expect("}")
    return name, methods


def parse_file(root, rel):
    with open(os.path.join(root, rel)) as f:
        p = Parser(tokenize(f.read()))
    pf = ProtoFile(rel)
    while p.peek() is not None:
        t = p.peek()
        if t == "syntax":
            p.next(); p.expect("="); syntax = p.next().text.strip("\"'"); p.expect(";")
            if syntax != "proto3":
                raise SyntaxError(f"{rel}: only proto3 is supported")
        elif t == "package":
            p.next(); pf.package = p.next().text; p.expect(";")
        elif t in ("import", "option"):
            p.skip_statement()
        elif t == "message":
            pf.messages.append(parse_message(p, pf.package, pf.package, None))
        elif t == "enum":
            pf.enums.append(parse_enum(p, pf.package, pf.package, None))
        elif t == "service":
            pf.services.append(parse_service(p))
        else:
            raise SyntaxError(f"{rel}: unexpected {t!r}")
    return pf


def resolve(defs, name, scope):
    if name.startswith("."):
        return defs[name[1:]]
    parts = scope.split(".") if scope else []
    while True:
        candidate = ".".join(parts + [name])
        if candidate in defs:
            return defs[candidate]
        if not parts:
            raise KeyError(f"unknown type {name} in {scope}")
        parts.pop()


def all_messages(pf_messages):
    for m in pf_messages:
        yield m
        yield from all_messages(m.messages)


def all_enums(pf):
    yield from pf.enums
    for m in all_messages(pf.messages):
        yield from m.enums
