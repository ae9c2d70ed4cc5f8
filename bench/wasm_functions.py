#!/usr/bin/env python3
"""Lists the functions of the main WASM module (the one every first visit downloads) by size, with their
Rust names, to find what made it grow. Reads the module as wasm-split left it, before wasm-bindgen and
wasm-opt strip the names: target/front/wasm32-unknown-unknown/wasm-release/authkit_split.wasm (made by
scripts/build-site.sh). Sizes are of the unoptimised bodies, so compare two builds, not with the download.

usage: wasm_functions.py [MODULE] [--top N] [--grep TEXT…]
       wasm_functions.py --diff OLD NEW [--top N]   (what NEW has that OLD has not, by demangled-ish name)
"""
import collections, re, sys

DEFAULT = "target/front/wasm32-unknown-unknown/wasm-release/authkit_split.wasm"


def leb(b, i):
    result = shift = 0
    while True:
        x = b[i]
        i += 1
        result |= (x & 0x7F) << shift
        shift += 7
        if x < 0x80:
            return result, i


def functions(path):
    """(body size, name) of every function defined in the module."""
    b = open(path, "rb").read()
    i, imported, bodies, names = 8, 0, [], {}
    while i < len(b):
        section = b[i]
        size, i = leb(b, i + 1)
        end = i + size
        if section == 2:  # imports: functions among them shift the indices of defined ones
            count, j = leb(b, i)
            for _ in range(count):
                for _ in range(2):
                    n, j = leb(b, j)
                    j += n
                kind = b[j]
                j += 1
                if kind == 0:
                    _, j = leb(b, j)
                    imported += 1
                elif kind == 1:
                    flags = b[j + 1]
                    _, j = leb(b, j + 2)
                    if flags & 1:
                        _, j = leb(b, j)
                elif kind == 2:
                    flags = b[j]
                    _, j = leb(b, j + 1)
                    if flags & 1:
                        _, j = leb(b, j)
                elif kind == 3:
                    j += 2
        elif section == 10:
            count, j = leb(b, i)
            for _ in range(count):
                n, j = leb(b, j)
                bodies.append(n)
                j += n
        elif section == 0:
            n, j = leb(b, i)
            if b[j : j + n] == b"name":
                j += n
                while j < end:
                    sub = b[j]
                    n, j = leb(b, j + 1)
                    if sub == 1:
                        count, k = leb(b, j)
                        for _ in range(count):
                            index, k = leb(b, k)
                            n2, k = leb(b, k)
                            names[index] = b[k : k + n2].decode("utf8", "replace")
                            k += n2
                    j += n
        i = end
    return [(size, names.get(imported + k, f"#{k}")) for k, size in enumerate(bodies)]


def plain(name):
    """A mangled name without its hash, so the same function matches across builds."""
    return re.sub(r"17h[0-9a-f]{16}E$", "", name)


def main():
    args = sys.argv[1:]
    top = 40
    if "--top" in args:
        top = int(args[args.index("--top") + 1])
        del args[args.index("--top") : args.index("--top") + 2]
    if args and args[0] == "--diff":
        old = collections.Counter()
        for size, name in functions(args[1]):
            old[plain(name)] += size
        new = collections.Counter()
        for size, name in functions(args[2]):
            new[plain(name)] += size
        grown = sorted(((new[n] - old.get(n, 0), n) for n in new if new[n] > old.get(n, 0)), reverse=True)
        print(f"total {sum(old.values()):,} -> {sum(new.values()):,} bytes")
        for size, name in grown[:top]:
            print(f"{size:8,}  {name[:160]}")
        return
    grep = []
    if "--grep" in args:
        grep = args[args.index("--grep") + 1 :]
        args = args[: args.index("--grep")]
    listed = functions(args[0] if args else DEFAULT)
    print(f"{len(listed):,} functions, {sum(s for s, _ in listed):,} bytes")
    for size, name in sorted(listed, reverse=True):
        if not grep or any(g in name for g in grep):
            print(f"{size:8,}  {name[:160]}")
            top -= 1
            if top == 0:
                break


main()
