"""A small reader for Go composite literals (the table-driven test cases of istio/istio), into
Python values: structs become dicts keyed by the Go field name, slices lists, maps dicts."""
import re

TOKEN = re.compile(r'''\s*(?:(//[^\n]*)|("(?:[^"\\]|\\.)*")|(`[^`]*`)|([A-Za-z_][A-Za-z0-9_.]*)|(-?\d+)|(.))''', re.S)


def tokenize(s):
    out = []
    pos = 0
    while pos < len(s):
        m = TOKEN.match(s, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
        com, dq, bq, ident, num, punct = m.groups()
        if com:
            continue
        if dq is not None:
            out.append(("str", bytes(dq[1:-1], "utf-8").decode("unicode_escape")))
        elif bq is not None:
            out.append(("str", bq[1:-1]))
        elif ident is not None:
            out.append(("id", ident))
        elif num is not None:
            out.append(("num", int(num)))
        elif punct and not punct.isspace():
            out.append(("p", punct))
    return out


class Parser:
    def __init__(self, toks):
        self.t = toks
        self.i = 0

    def peek(self, k=0):
        return self.t[self.i + k] if self.i + k < len(self.t) else (None, None)

    def take(self, want=None):
        tok = self.t[self.i]
        if want is not None and tok[1] != want:
            raise ValueError(f"expected {want} at {self.i}, got {tok} near {self.t[self.i-5:self.i+5]}")
        self.i += 1
        return tok

    def type_(self):
        """Skips a type expression; returns ('slice'|'map'|'struct', name)."""
        if self.peek()[1] == "&":
            self.take()
        if self.peek()[1] == "*":
            self.take()
        if self.peek()[1] == "[":
            self.take("[")
            self.take("]")
            if self.peek()[1] == "*":
                self.take()
            return ("slice", self.take()[1])
        if self.peek()[1] == "map":
            self.take()
            self.take("[")
            self.take()
            self.take("]")
            self.take()
            return ("map", None)
        return ("struct", self.take()[1])

    def value(self, elem=None):
        kind, v = self.peek()
        if kind == "str":
            self.take()
            # Go string concatenation: "a" + "b"
            while self.peek()[1] == "+":
                self.take()
                v += self.value()
            return v
        if kind == "num":
            self.take()
            return v
        if v == "{":
            return self.body(elem or ("struct", None))
        if v == "map" or v in ("&", "[", "*"):
            return self.body(self.type_())
        if kind == "id" and self.peek(1)[1] == "(":
            name = self.take()[1]
            self.take("(")
            args = []
            while self.peek()[1] != ")":
                args.append(self.value())
                if self.peek()[1] == ",":
                    self.take()
            self.take(")")
            return ("call", name, args)
        if kind == "id" and self.peek(1)[1] != "{" or (kind == "id" and v in ("true", "false", "nil")):
            self.take()
            return {"true": True, "false": False, "nil": None}.get(v, ("const", v))
        t = self.type_()
        return self.body(t)

    def body(self, t):
        self.take("{")
        if t[0] == "slice":
            out = []
            while self.peek()[1] != "}":
                out.append(self.value(("struct", t[1])))
                if self.peek()[1] == ",":
                    self.take()
            self.take("}")
            return out
        if t[0] == "map":
            out = {}
            while self.peek()[1] != "}":
                k = self.value()
                self.take(":")
                out[k] = self.value()
                if self.peek()[1] == ",":
                    self.take()
            self.take("}")
            return out
        out = {"__type__": t[1]}
        while self.peek()[1] != "}":
            k = self.take()[1]
            self.take(":")
            out[k] = self.value()
            if self.peek()[1] == ",":
                self.take()
        self.take("}")
        return out


def parse(text):
    return Parser(tokenize(text)).value()


def camel(name):
    return name[0].lower() + name[1:]


def to_istio_json(v):
    """A parsed security_beta.* literal as the AuthorizationPolicy JSON a user would write."""
    if isinstance(v, list):
        return [to_istio_json(x) for x in v]
    if isinstance(v, tuple) and v[0] == "const":
        name = v[1]
        if "AuthorizationPolicy_" in name:
            return name.rsplit("_", 1)[1]
        return name
    if isinstance(v, tuple):
        raise ValueError(f"cannot convert {v}")
    if isinstance(v, dict) and "__type__" in v:
        if v["__type__"] and v["__type__"].endswith("AuthorizationPolicy_Provider"):
            return to_istio_json(v["Provider"])
        out = {}
        for k, x in v.items():
            if k == "__type__":
                continue
            if k == "ActionDetail":
                out["provider"] = to_istio_json(x)
                continue
            out[camel(k)] = to_istio_json(x)
        return out
    if isinstance(v, dict):
        return {k: to_istio_json(x) for k, x in v.items()}
    return v
