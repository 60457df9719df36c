#!/usr/bin/env python3
"""Turns the raw measurements of scripts/bench-datapath.sh into the Markdown tables of RESULTS.md.

Usage: report.py TCP.tsv UDP.tsv

TCP.tsv lines: round, name, Gbit/s, tunnel CPU seconds, bytes. UDP.tsv lines: name, payload,
received packets/s, loss %. Ratios are taken within each round (side by side), then the median
over rounds is shown, so that the noise of a shared machine cancels out as far as it can.
"""
import statistics
import sys
from collections import defaultdict

MSS = 1368  # inner TCP payload per packet with a 1420-byte tunnel MTU and timestamps


def main():
    tcp = defaultdict(dict)
    cpu = defaultdict(list)
    for line in open(sys.argv[1]):
        rnd, name, gbps, cpu_s, nbytes = line.rstrip("\n").split("\t")
        tcp[name][int(rnd)] = float(gbps)
        if float(cpu_s) > 0 and int(nbytes) > 0:
            cpu[name].append(float(cpu_s) / (int(nbytes) / MSS) * 1e6)
    names = list(tcp)
    rounds = sorted({r for v in tcp.values() for r in v})

    def ratio(name, base):
        rs = [tcp[name][r] / tcp[base][r] for r in rounds
              if r in tcp[name] and tcp[base].get(r, 0) > 0]
        return f"{statistics.median(rs):.2f}x" if rs else "n/a"

    print("| path | Gbit/s (median) | per round | vs boringtun | vs veth, offloads off "
          "| tunnel CPU per packet |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name in names:
        vals = [tcp[name][r] for r in rounds if r in tcp[name]]
        per_pkt = f"{statistics.median(cpu[name]):.2f} µs" if cpu[name] else "-"
        print(f"| {name} | **{statistics.median(vals):.2f}** | "
              f"{' / '.join(f'{v:.2f}' for v in vals)} | {ratio(name, 'boringtun --threads 1')} | "
              f"{ratio(name, 'veth, offloads off')} | {per_pkt} |")
    print()
    print("| path | UDP payload | received packets/s | loss |")
    print("| --- | --- | --- | --- |")
    for line in open(sys.argv[2]):
        name, payload, pps, loss = line.rstrip("\n").split("\t")
        print(f"| {name} | {payload} B | {int(float(pps)):,} | {loss} % |")


if __name__ == "__main__":
    main()
