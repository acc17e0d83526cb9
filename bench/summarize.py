#!/usr/bin/env python3
"""Turns the JSON of bench/run.sh into the table BENCHMARKS.md shows: each
target's median, its limit and their ratio (<= 1 means met), taking every
ratio from one run, since absolute times on a shared machine drift between
runs. Usage: summarize.py build-bench/bench.json"""
import json
import sys


def main(path):
    with open(path) as f:
        data = json.load(f)
    med = {}
    for b in data["benchmarks"]:
        if b.get("aggregate_name") == "median":
            med[b["run_name"]] = b

    # CPU time, not wall time: on this shared 2-core machine other people's
    # builds take whole time slices, which wall time would charge to us.
    def time_ns(name, key="cpu_time"):
        b = med[name]
        scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[b["time_unit"]]
        return b[key] * scale

    def counter(name, key):
        return med[name][key]

    rows = [
        ("1-frame pair (ns)", time_ns("BM_SingleFramePair"), 20),
        ("2 MiB pair (ns)", time_ns("BM_HugePair"), 33),
        ("random mix, per op (ns)", counter("BM_RandomMix/iterations:1", "ns_per_op"), 60),
        ("random mix, last 10% / first 10%",
         counter("BM_RandomMix/iterations:1", "last_over_first"), 1.0),
        ("allocate-at 1 frame pair (ns)", time_ns("BM_AllocateAtPair/1"), 45),
        ("allocate-at 512 frames pair (ns)", time_ns("BM_AllocateAtPair/512"), 45),
        ("fragmented / clean, 2..64 frames",
         time_ns("BM_Fragmented/100000") / time_ns("BM_Fragmented/0"), 2.0),
        ("2 threads / 1 thread, per op",
         counter("BM_Churn/real_time/threads:2", "ns_per_op")
         / counter("BM_Churn/real_time/threads:1", "ns_per_op"), 1.1),
        ("init 12 TiB, 70 regions (us)", time_ns("BM_Init/map_12TiB_70_regions") / 1e3, 1000),
        ("init 4 GiB (us)", time_ns("BM_Init/map_4GiB_3_regions") / 1e3, 300),
    ]
    print("medians of CPU time (wall time of the same runs in BENCHMARKS.md)")
    print(f"{'target':40} {'median':>10} {'limit':>8} {'ratio':>7}  met")
    for name, value, limit in rows:
        ratio = value / limit
        print(f"{name:40} {value:10.4f} {limit:8g} {ratio:7.4f}  {'yes' if ratio <= 1 else 'NO'}")
    print()
    print(f"{'case':40} {'cpu ns':>10} {'wall ns':>10}")
    for name in med:
        print(f"{name:40} {time_ns(name):10.1f} {time_ns(name, 'real_time'):10.1f}")
    print()
    print(f"{'case':40} {'heap calls':>10} {'node bits/frame':>16} {'in use':>8}")
    for name, b in med.items():
        if "meta_bits_per_frame" in b:
            used = b.get("used_bits_per_frame", float("nan"))
            print(f"{name:40} {b.get('heap_calls', 0):10g} "
                  f"{b['meta_bits_per_frame']:16.4f} {used:8.4f}")


if __name__ == "__main__":
    main(sys.argv[1])
