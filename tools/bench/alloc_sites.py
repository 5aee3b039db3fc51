"""Symbolizes the allocation backtraces of `sam2r bench --trace-allocs` (stderr) into one summary per allocation:
size and the first sam2r frames (addr2line + swift-demangle).

  sam2r bench --model M --config C --runs 1 --trace-allocs 2> trace.txt
  python3 tools/bench/alloc_sites.py trace.txt path/to/sam2r [--frames 4]
"""

import argparse
import re
import shutil
import subprocess


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("trace")
    ap.add_argument("binary")
    ap.add_argument("--frames", type=int, default=4)
    a = ap.parse_args()
    blocks = open(a.trace).read().split("sam2r-alloccount: ")[1:]
    demangle = shutil.which("swift-demangle")
    for blk in blocks:
        lines = blk.splitlines()
        addrs = []
        for line in lines[1:]:
            m = re.search(r"\(\+(0x[0-9a-f]+)\)", line)
            if m and "libswiftCore" not in line and "libc.so" not in line:
                addrs.append(hex(int(m.group(1), 16) - 1))
        addrs = addrs[: a.frames + 2]
        out = subprocess.run(["addr2line", "-f", "-e", a.binary] + addrs, capture_output=True, text=True).stdout.splitlines()
        fns, locs = out[0::2], out[1::2]
        if demangle:
            fns = subprocess.run([demangle, "--simplified", "--compact"], input="\n".join(fns), capture_output=True,
                                 text=True).stdout.splitlines()
        # skip the standard library's array growth frames
        frames = [(f, l) for f, l in zip(fns, locs) if not f.startswith("specialized _") and "Array._" not in f]
        print(lines[0])
        for f, loc in frames[: a.frames]:
            print("    %s  @ %s" % (f[:120], loc.rsplit("/", 1)[-1]))


if __name__ == "__main__":
    main()
