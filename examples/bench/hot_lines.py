#!/usr/bin/env python3
"""The code of the layer that one call runs, in cache lines.

On a busy server every 64-byte line of code a call runs is fetched again on the next call
(the server's code per call is several times the instruction cache), so a call costs about
one fetch per line it touches. This prints, per function whose name matches PATTERN (default:
the layer's crate), the instructions run per call, the lines they sit in (*hot*: run by at
least half of the calls), and the lines they would take packed together. The difference is
code that calls skip lying between code they run.

Needs a callgrind file counted per instruction and the binary it ran:

    DUMP_INSTR=1 KEEP=/tmp/k CONCURRENCY=64 CONNECTIONS=4 RATE=0 TRANSPORTS=plaintext \\
        examples/bench/instructions.sh
    python3 examples/bench/hot_lines.py /tmp/k/callgrind.plaintext.identity.layer \\
        "$(cat /tmp/k/calls.plaintext.identity.layer)" target/release/frontend

Usage: hot_lines.py CALLGRIND_FILE CALLS BINARY [PATTERN]
"""
import collections
import re
import subprocess
import sys


def hits_per_instruction(path, pattern):
    """Instructions run, per address, in the functions matching `pattern`."""
    names, hits = {}, collections.defaultdict(collections.Counter)
    function, last, after_call = "", 0, False
    for line in open(path):
        named = re.match(r"(c?fn)=\((\d+)\)(?: (.*))?", line)
        if named:
            kind, number, name = named.groups()
            if name:
                names[number] = name.strip()
            if kind == "fn":
                function = names.get(number, "")
            continue
        if line.startswith("calls="):
            after_call = True  # the next line is the call's cost, not the caller's own
            continue
        if not line or line[0] not in "0123456789+-*":
            continue
        parts = line.split()
        address = parts[0]
        if address.startswith("0x"):
            last = int(address, 16)
        elif address[0] in "+-":
            last += int(address)
        elif address != "*":
            continue
        if after_call:
            after_call = False
            continue
        if pattern.search(function) and len(parts) > 2:
            hits[function][last] += int(parts[2])
    return hits


def instruction_sizes(binary, start, stop):
    """The size of each instruction from `start` to `stop`, from the disassembly."""
    text = subprocess.run(
        ["objdump", "-d", "--no-show-raw-insn", f"--start-address={start}",
         f"--stop-address={stop}", binary],
        capture_output=True, text=True, check=True).stdout
    addresses = [int(m.group(1), 16) for m in re.finditer(r"^\s+([0-9a-f]+):", text, re.M)]
    return {a: b - a for a, b in zip(addresses, addresses[1:])}


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    path, calls, binary = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    pattern = re.compile(sys.argv[4] if len(sys.argv) > 4 else r"^<?tonic_authz::")
    rows = []
    for function, counts in hits_per_instruction(path, pattern).items():
        hot = sorted(a for a, n in counts.items() if n >= calls / 2)
        if not hot:
            continue
        sizes = instruction_sizes(binary, hot[0], hot[-1] + 16)
        hot_bytes = sum(sizes.get(a, 4) for a in hot)
        rows.append((sum(counts.values()) / calls, len({a // 64 for a in hot}),
                     -(-hot_bytes // 64), function))
    rows.sort(key=lambda r: -r[1])
    print(f"{'run/call':>9} {'lines':>6} {'packed':>7}  function")
    for run, lines, packed, function in rows:
        print(f"{run:9.1f} {lines:6d} {packed:7d}  {function[:110]}")
    print(f"{sum(r[0] for r in rows):9.1f} {sum(r[1] for r in rows):6d} "
          f"{sum(r[2] for r in rows):7d}  total")


if __name__ == "__main__":
    main()
