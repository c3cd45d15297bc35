#!/usr/bin/env python3
"""Prints the criterion results of this crate's benches as ratios against their baselines.

Reads target/criterion/**/new/benchmark.json and estimates.json (medians) after
`cargo bench --bench authorizer --bench jwt --bench namespace --bench layer`.
Usage: python3 benches/report.py [target/criterion]
"""
import json
import pathlib
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")
medians = {}
for bench in root.glob("**/new/benchmark.json"):
    meta = json.loads(bench.read_text())
    est = json.loads((bench.parent / "estimates.json").read_text())
    medians[(meta["group_id"], meta["function_id"])] = est["median"]["point_estimate"]


def ns(v):
    return f"{v / 1000:8.2f} µs" if v >= 1000 else f"{v:8.1f} ns"


def get(group, fid):
    return medians.get((group, fid))


def pair(title, group, base_id, other_id, base_name, other_name):
    b, o = get(group, base_id), get(group, other_id)
    if b is None or o is None:
        return
    print(f"  {title:32} {base_name} {ns(b)}  {other_name} {ns(o)}  "
          f"ratio {o / b:6.2f}x  added {ns(o - b)}")


groups = sorted({g for g, _ in medians})
if "authorizer" in groups:
    print("authorizer (DefaultAuthorizer::decide vs a trivial decision)")
    for (g, f) in sorted(medians):
        if g == "authorizer" and f != "baseline_trivial":
            pair(f, g, "baseline_trivial", f, "baseline", "decide")
if "jwt" in groups:
    print("jwt (JwtClaimMapper: cached hit vs uncached verification)")
    for alg in ("RS256", "ES256"):
        pair(alg, "jwt", f"{alg}_cached", f"{alg}_uncached", "cached", "uncached")
if "namespace" in groups:
    print("namespace (zero-copy scan vs full prost decode)")
    pair("plain", "namespace", "plain_scan", "plain_prost_decode", "scan", "prost")
    pair("gzip", "namespace", "gzip_gunzip_scan", "gzip_gunzip_prost_decode", "scan", "prost")
if "layer" in groups:
    print("layer (whole layer over pass-through vs pass-through alone)")
    cases = sorted({f.split("/")[0] for g, f in medians if g == "layer"})
    for case in cases:
        pair(case, "layer", f"{case}/passthrough", f"{case}/layer", "alone", "layer")
if "layer_two_threads" in groups:
    print("layer_two_threads (two threads calling at once, per call per thread)")
    cases = sorted({f.split("/")[0] for g, f in medians if g == "layer_two_threads"})
    for case in cases:
        pair(case, "layer_two_threads", f"{case}/passthrough", f"{case}/layer", "alone", "layer")
if "layer_uncached" in groups:
    print("layer_uncached (layer with an uncached token vs one signature verification)")
    for alg in ("ES256", "RS256"):
        pair(alg, "layer_uncached", f"{alg}/verify_only", f"{alg}/layer", "verify", "layer")
