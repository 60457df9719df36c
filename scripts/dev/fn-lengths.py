#!/usr/bin/env python3
"""Function lengths in the workspace's non-test Rust code.

    scripts/dev/fn-lengths.py [ROOT] [--top N] [--json]

Counts, per crate, the lines of every `fn` body outside tests (`tests/`, `benches/`, `fuzz/`,
`#[cfg(test)]` modules and `tests.rs` files are skipped): from the line with `fn` to the line
that closes its body, blank and comment lines included, as a reader sees them. Prints the
longest functions and the median length per crate. A small brace-matching scanner, not a
parser: string and char literals and comments are skipped so braces in them do not count.
"""
import json
import os
import re
import statistics
import sys

SKIP_DIRS = {"target", "tests", "benches", "fuzz", ".git", "vectors", "examples"}
FN = re.compile(r"^\s*(pub(\([^)]*\))?\s+)?(const\s+)?(async\s+)?(unsafe\s+)?(extern\s+\"[^\"]*\"\s+)?fn\s+(\w+)")


def strip(line, state):
    """The line without comments and literals; `state` carries block comments across lines."""
    out, i = [], 0
    while i < len(line):
        if state["block"]:
            end = line.find("*/", i)
            if end < 0:
                return "".join(out)
            state["block"] = False
            i = end + 2
            continue
        c = line[i]
        if line.startswith("//", i):
            break
        if line.startswith("/*", i):
            state["block"] = True
            i += 2
            continue
        if c == '"':
            j = i + 1
            while j < len(line) and line[j] != '"':
                j += 2 if line[j] == "\\" else 1
            i = j + 1
            continue
        if c == "'" and re.match(r"'(\\.|[^'\\])'", line[i:]):
            i += len(re.match(r"'(\\.|[^'\\])'", line[i:]).group(0))
            continue
        out.append(c)
        i += 1
    return "".join(out)


def functions(path):
    """(name, first line, length) of each function body in `path`, tests excluded."""
    lines = open(path, encoding="utf-8", errors="replace").read().split("\n")
    state = {"block": False}
    found, stack, depth, test_depth = [], [], 0, None
    pending_test = False
    for n, raw in enumerate(lines, 1):
        code = strip(raw, state)
        if "#[cfg(test)]" in code:
            pending_test = True
        m = FN.match(code)
        if m and test_depth is None and "{" in code[m.end():] + "".join(lines[n:n + 8]):
            stack.append((m.group(7), n, depth))
        for ch in code:
            if ch == "{":
                if pending_test and test_depth is None:
                    test_depth = depth
                    pending_test = False
                depth += 1
            elif ch == "}":
                depth -= 1
                if test_depth is not None and depth == test_depth:
                    test_depth = None
                if stack and depth == stack[-1][2]:
                    name, start, _ = stack.pop()
                    found.append((name, start, n - start + 1))
            elif ch == ";" and stack and depth == stack[-1][2]:
                stack.pop()  # a declaration without a body (trait item)
        if pending_test and code.strip() and not code.strip().startswith("#") and "{" not in code:
            if code.rstrip().endswith(";"):
                pending_test = False
    return found


def crates(root):
    for entry in sorted(os.listdir(root)):
        if os.path.isfile(os.path.join(root, entry, "Cargo.toml")) and entry not in SKIP_DIRS:
            yield entry


def scan(root):
    result = {}
    for crate in crates(root):
        fns = []
        for d, dirs, files in os.walk(os.path.join(root, crate)):
            dirs[:] = [x for x in dirs if x not in SKIP_DIRS]
            for f in files:
                if f.endswith(".rs") and f != "tests.rs":
                    p = os.path.join(d, f)
                    fns += [(os.path.relpath(p, root), name, line, length)
                            for name, line, length in functions(p)]
        if fns:
            result[crate] = fns
    return result


def main():
    args = sys.argv[1:]
    top = int(args[args.index("--top") + 1]) if "--top" in args else 15
    root = next((a for a in args if not a.startswith("--") and not a.isdigit()), ".")
    result = scan(root)
    every = sorted((f for fns in result.values() for f in fns), key=lambda f: -f[3])
    medians = {c: statistics.median(f[3] for f in fns) for c, fns in result.items()}
    if "--json" in args:
        json.dump({"longest": every[:top], "median": medians,
                   "count": {c: len(f) for c, f in result.items()}}, sys.stdout, indent=1)
        return
    print(f"{top} longest functions outside tests:")
    for path, name, line, length in every[:top]:
        print(f"  {length:4} lines  {name}  ({path}:{line})")
    print("median function length per crate (functions):")
    for c, m in medians.items():
        print(f"  {c:14} {m:5.1f}  ({len(result[c])})")


if __name__ == "__main__":
    main()
