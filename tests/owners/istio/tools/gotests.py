"""Reads the table of a Go table-driven test."""
import golit


def table(src, func, var="cases"):
    start = src.index(f"func {func}(")
    i = src.index(f"{var} := []struct", start)
    # the struct type's closing brace, then the table's opening brace
    depth = 0
    j = src.index("{", i)
    while True:
        c = src[j]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                break
        j += 1
    p = golit.Parser(golit.tokenize(src[j + 1:]))
    return p.body(("slice", None))
