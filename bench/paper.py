#!/usr/bin/env python3
"""Tables and plots of bench/paper.sh: reads OUT/runs/*.json, writes OUT/paper.{json,csv,md} and OUT/plots/*.{svg,png}.

Measured rows come from real sessions (`fusion client --json`); the other ResNet rows from `fusion bench model` (one
inference, layer by layer: every layer whole where bench/paper.sh's time budget allowed it, else big layers on probes)
times the batch size, labelled "projected". The model estimate of a run is
compute + bytes / bandwidth + rounds * RTT, with compute the run's time without link emulation and bytes both ways
added (a conservative reading: the protocols mostly alternate directions)."""
import argparse
import csv
import json
import os
import re
import subprocess
import sys

RUNS = {  # name: (queries, Fusion on)
    "semi": (1, False),
    "fusion1": (1, True),
    "fusion16": (16, True),
    "fusion64": (64, True),
}
RUN_LABEL = {"semi": "semi-honest, 1 query", "fusion1": "Fusion, 1 query", "fusion16": "Fusion, 16 queries",
             "fusion64": "Fusion, 64 queries"}
NAMED_PROFILES = {"off": (0.0, 0.0), "none": (0.0, 0.0), "lan": (3e9, 0.3e-3), "wan": (400e6, 40e-3),
                  "wan-slow": (100e6, 80e-3)}
KAPPA = 40
GIB = 2.0 ** 30
MIB = 2.0 ** 20


def profile_of(spec):
    """(bandwidth bit/s, rtt s) of a profile name or 'bw=400mbit,rtt=40ms' (0 = not limited)."""
    if spec in NAMED_PROFILES:
        return NAMED_PROFILES[spec]
    bw = rtt = 0.0
    for part in spec.split(","):
        key, _, value = part.partition("=")
        m = re.fullmatch(r"([0-9.]+)\s*([a-z]*)(/s)?", value.strip().lower())
        if not m:
            raise SystemExit(f"paper.py: cannot read link profile '{spec}'")
        x, unit = float(m.group(1)), m.group(2)
        if key == "bw":
            bw = x * {"": 1, "bit": 1, "kbit": 1e3, "mbit": 1e6, "gbit": 1e9}[unit]
        elif key == "rtt":
            rtt = x * {"": 1, "s": 1, "ms": 1e-3, "us": 1e-6}[unit]
    return bw, rtt


def estimate(compute, nbytes, rounds, profile):
    bw, rtt = profile_of(profile)
    return compute + (nbytes * 8 / bw if bw else 0.0) + rounds * rtt


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def batch_size(fusion, n, kappa):
    """The batch N the client's parameter search picks (committed labels, as the shipped server's card has)."""
    if kappa is None:
        return n
    out = subprocess.run([fusion, "params", "--n", str(n), "--kappa", str(kappa), "--json"], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)["recommended"]["N"]


def measured_rows(runs_dir, network, profiles, run_names):
    rows = []
    for run in run_names:
        off = load(os.path.join(runs_dir, f"{network}-off-{run}.json"))
        for profile in ["off"] + profiles:
            c = load(os.path.join(runs_dir, f"{network}-{profile}-{run}.json"))
            if not c:
                continue
            cost, layers = c["cost"], c["layers"]
            in_layers = {k: sum(l[k] for l in layers) for k in ("seconds", "bytes_sent", "bytes_recv")}
            nbytes = cost["bytes_sent"] + cost["bytes_recv"]
            compute = off["cost"]["seconds"] if off else None
            rows.append({
                "network": network, "profile": profile, "run": run, "queries": RUNS[run][0],
                "batch": c["fusion"].get("N", RUNS[run][0]), "source": "measured",
                "seconds": cost["seconds"], "compute_seconds": compute,
                "estimate_seconds": estimate(compute, nbytes, cost["rounds"], profile) if off else None,
                "client_sent": cost["bytes_sent"], "client_recv": cost["bytes_recv"], "rounds": cost["rounds"],
                "offline_seconds": cost["seconds"] - in_layers["seconds"],
                "offline_bytes": nbytes - in_layers["bytes_sent"] - in_layers["bytes_recv"],
                "layers": [{"name": l["name"], "kind": l["kind"], "seconds": l["seconds"],
                            "bytes": l["bytes_sent"] + l["bytes_recv"], "rounds": l["rounds"]}
                           for l in layers if l["bytes_sent"] + l["bytes_recv"] or l["seconds"] > 1e-3],
            })
    return rows


def model_totals(m):
    """Per-inference cost from a `fusion bench model` JSON, without the setup (base OTs)."""
    t = {"seconds": 0.0, "c2s": 0.0, "s2c": 0.0, "rounds": 0.0}
    for l in m["layers"]:
        c = l["cost"]
        t["seconds"] += c["seconds"]
        t["c2s"] += c["bytes_client_to_server"]
        t["s2c"] += c["bytes_server_to_client"]
        t["rounds"] += c["rounds"]
    return t


def inference_model(runs_dir, network):
    """One inference layer by layer: every layer whole if bench/paper.sh ran it within the budget, else probed."""
    return load(os.path.join(runs_dir, f"{network}-model-whole.json")) or load(
        os.path.join(runs_dir, f"{network}-model.json"))


def projected_rows(runs_dir, network, profiles, run_names, batches, measured=()):
    m = inference_model(runs_dir, network)
    if not m:
        return []
    per, setup = model_totals(m), m["setup"]
    rows = []
    for run in run_names:
        N = batches[run]
        source = "projected" if m["projected"] else (
            "measured layer by layer" if N == 1 else "projected (N x one inference measured layer by layer)")
        compute = setup["seconds"] + N * per["seconds"]
        c2s = setup["bytes_client_to_server"] + N * per["c2s"]
        s2c = setup["bytes_server_to_client"] + N * per["s2c"]
        rounds = setup["rounds"] + N * per["rounds"]
        for profile in ["off"] + profiles:
            if (profile, run) in measured:
                continue
            rows.append({
                "network": network, "profile": profile, "run": run, "queries": RUNS[run][0], "batch": N,
                "source": source,
                "seconds": None, "compute_seconds": compute,
                "estimate_seconds": estimate(compute, c2s + s2c, rounds, profile),
                "client_sent": c2s, "client_recv": s2c, "rounds": rounds,
                "offline_seconds": setup["seconds"],
                "offline_bytes": setup["bytes_client_to_server"] + setup["bytes_server_to_client"],
                "layers": [{"name": l["name"], "kind": "conv+relu" if l["fused_relu"] else l["kind"],
                            "seconds": N * l["cost"]["seconds"],
                            "bytes": N * (l["cost"]["bytes_client_to_server"] + l["cost"]["bytes_server_to_client"]),
                            "rounds": N * l["cost"]["rounds"], "projected": l["projected"]} for l in m["layers"]],
            })
    return rows


def validation(runs_dir):
    """The projection method against measurements of the same layers, where both exist."""
    checks = []
    for what, full, probed in (("4layer, every layer", "4layer-model.json", "4layer-model-probed.json"),
                               ("resnet18 conv16 (1x1, 64->128, stride 2, 56x56)", "resnet18-check-full.json",
                                "resnet18-check-probe.json")):
        a, b = load(os.path.join(runs_dir, full)), load(os.path.join(runs_dir, probed))
        if not a or not b:
            continue
        ta, tb = model_totals(a), model_totals(b)
        checks.append({"what": what, "measured": ta, "projected": tb,
                       "ratio": {k: (tb[k] / ta[k] if ta[k] else None) for k in ta}})
    return checks


def overhead(fusion):
    """Inputs per query (N / n) that Fusion's parameter search picks, for a few n and kappa."""
    out = []
    for kappa in (20, 40, 60):
        for n in (1, 2, 4, 8, 16, 32, 64, 128, 256):
            out.append({"kappa": kappa, "n": n, "N": batch_size(fusion, n, kappa)})
    return out


def fmt_s(x):
    if x is None:
        return "–"
    if x >= 3600:
        return f"{x / 3600:.2f} h"
    if x >= 120:
        return f"{x / 60:.1f} min"
    return f"{x:.2f} s"


def fmt_b(x):
    return f"{x / GIB:.2f} GiB" if x >= GIB else f"{x / MIB:.1f} MiB"


def both(r):
    """Bytes of a row, both ways."""
    return r["client_sent"] + r["client_recv"]


def find(rows, **kw):
    for r in rows:
        if all(r.get(k) == v for k, v in kw.items()):
            return r
    return None


def reference_section(rows, ref):
    lines = ["## Beside the paper and the reference systems", "",
             "| figure | theirs | ours | how ours was obtained |", "|---|---|---|---|"]
    paper = {(r["network"], r["system"]): r for r in ref["rows"]}
    r50 = find(rows, network="resnet50", profile="wan", run="fusion1")
    p = paper.get(("resnet50", "Fusion"))
    if r50 and p:
        lines.append(f"| ResNet-50, Fusion, 1 query, WAN | {fmt_s(p['seconds'])}, {fmt_b(p['bytes'])} (paper) | "
                     f"{fmt_s(r50['estimate_seconds'])}, {fmt_b(both(r50))} | "
                     f"{r50['source']}: batch {r50['batch']} × one inference, model estimate |")
    semi = find(rows, network="resnet50", profile="wan", run="semi")
    p = paper.get(("resnet50", "Fusion vs semi-honest CrypTFlow2"))
    if r50 and semi and p:
        lines.append(f"| ResNet-50, Fusion vs semi-honest, WAN | {p['time_ratio']}× faster, {p['bytes_ratio']}× less "
                     f"traffic (paper, vs CrypTFlow2) | Fusion costs {r50['estimate_seconds'] / semi['estimate_seconds']:.1f}× "
                     f"the time and {both(r50) / both(semi):.1f}× "
                     f"the traffic of our semi-honest run | the same base protocol with and without the checks |")
    for system in ("Cheetah, 2 threads (semi-honest, RLWE linear + silent OT)",
                   "CrypTFlow2 SCI_HE, 2 threads (semi-honest)"):
        a, ours = paper.get(("resnet50", system)), find(rows, network="resnet50", profile="off", run="semi")
        if a and ours:
            lines.append(f"| ResNet-50, semi-honest, loopback: {system} | {fmt_s(a['seconds'])}, {fmt_b(a['bytes'])} "
                         f"({a['what']}) | {fmt_s(ours['estimate_seconds'])}, "
                         f"{fmt_b(ours['client_sent'] if 'client sent' in a['what'] else both(ours))} | "
                         f"{ours['source']} |")
    f1 = find(rows, network="4layer", profile="off", run="fusion1")
    p = paper.get(("4layer", "Fusion vs a maliciously secure protocol"))
    spdz = paper.get(("4layer", "MP-SPDZ spdz2k (malicious, Z_2^64)"))
    if f1 and p and spdz:
        nb = both(f1)
        lines.append(f"| 4-layer, Fusion (1 query) vs malicious | {p['time_ratio']}× faster, {p['bytes_ratio']}× less "
                     f"traffic (paper) | {spdz['seconds'] / f1['seconds']:.1f}× faster, {spdz['bytes'] / nb:.1f}× less "
                     f"traffic than MP-SPDZ spdz2k here ({fmt_s(spdz['seconds'])}, {fmt_b(spdz['bytes'])}) | "
                     f"measured, loopback, batch {f1['batch']} |")
    s1 = find(rows, network="4layer", profile="off", run="semi")
    semi2k = paper.get(("4layer", "MP-SPDZ semi2k (semi-honest)"))
    if s1 and semi2k:
        nb = both(s1)
        lines.append(f"| 4-layer, semi-honest, loopback | MP-SPDZ semi2k {fmt_s(semi2k['seconds'])}, "
                     f"{fmt_b(semi2k['bytes'])} | {fmt_s(s1['seconds'])}, {fmt_b(nb)} | measured |")
    lines += ["",
              "What is comparable: byte counts are exact and independent of the machine; times depend on it. The "
              "paper ran on larger machines with more threads, and its base protocol uses HE-based linear layers; "
              "ours uses OT-based (vector-COT) linear layers, whose traffic grows with channels × weights, which is "
              "why ResNet traffic here is far above the paper's and why those rows are projections. The anchor rows "
              "were measured on a machine of our kind. Fusion's guarantee is the same at the same κ: the batch of a "
              "query is set by the escape bound, not by the base protocol.", ""]
    return lines


def markdown(rows, checks, ov, ref, machine, args):
    lines = ["# Paper benchmark: LAN/WAN time and communication", ""]
    lines += ["```", machine.strip(), "```", ""]
    lines += ["Both parties run on this one machine and share its cores. *Time* is the measured session time with the "
              "link emulated in process (sender-side pacing, delivery after half the RTT); *model estimate* is compute "
              "+ bytes (both ways) / bandwidth + rounds × RTT, with compute the same run's time without emulation. "
              "*Projected* rows were not run whole: `fusion bench model` measured every layer of one inference (big "
              "layers on channel-cropped probes, scaled part by part, bytes exactly) and the row is the batch size "
              "times that; their time column is the model estimate. *Offline* is the base OTs (the protocol has no "
              "other input-independent phase: OT extension runs on the fly) plus the output reveal. *Per query* is the time "
              "(measured, else the model estimate) over the batch's queries. bench/paper.sh measures a ResNet run "
              "instead of projecting it when its projection fits the time budget (--budget).", ""]
    lines += ["| network | link | run | batch | time | model estimate | per query | client → server | server → client "
              "| rounds | offline | source |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        t = r["seconds"] if r["seconds"] is not None else r["estimate_seconds"]
        lines.append(f"| {r['network']} | {r['profile']} | {RUN_LABEL[r['run']]} | {r['batch']} | {fmt_s(r['seconds'])} "
                     f"| {fmt_s(r['estimate_seconds'])} | {fmt_s(t / r['queries'] if t is not None else None)} "
                     f"| {fmt_b(r['client_sent'])} | {fmt_b(r['client_recv'])} "
                     f"| {r['rounds']:.0f} | {fmt_s(r['offline_seconds'])} | {r['source']} |")
    lines.append("")
    lines += reference_section(rows, ref)
    if checks:
        lines += ["## The projection checked against measurements", "",
                  "| what | seconds (projected / measured) | client → server | server → client | rounds |",
                  "|---|---|---|---|---|"]
        for c in checks:
            r = c["ratio"]
            cell = lambda k: f"{r[k]:.3f}" if r[k] is not None else "–"
            lines.append(f"| {c['what']} | {cell('seconds')} | {cell('c2s')} | {cell('s2c')} | {cell('rounds')} |")
        lines += ["", "Bytes scale exactly up to the protocols' per-call rounding (OT batches padded to 128, packing to "
                  "bytes), which probes of one or a few channels multiply; seconds and rounds of such tiny probes also "
                  "carry per-call overheads (a round trip costs a scheduler wake-up on a loaded machine), so the "
                  "4-layer check, whose layers have 1 to 16 channels, is the pessimistic case. The ResNet probes "
                  "hold tens of thousands of values each.", ""]
    lines += ["## Fusion's batch per query", "",
              "Inputs the client sends per query (N / n) as the parameter search picks them (`fusion params`), with "
              "committed labels: the factor by which Fusion multiplies the cost of one inference.", "",
              "| n | " + " | ".join(f"κ = {k}" for k in (20, 40, 60)) + " |", "|---|---|---|---|"]
    for n in sorted({o["n"] for o in ov}):
        cells = [next(o for o in ov if o["n"] == n and o["kappa"] == k) for k in (20, 40, 60)]
        lines.append(f"| {n} | " + " | ".join(f"{c['N'] / n:.1f} (N = {c['N']})" for c in cells) + " |")
    lines.append("")
    for net in ("4layer", "resnet18", "resnet50"):
        r = find(rows, network=net, profile="off", run="semi")
        if not r:
            continue
        top = sorted(r["layers"], key=lambda l: -l["bytes"])[:10]
        lines += [f"## Per-layer cost: {net}, one inference ({r['source']})", "",
                  "| layer | kind | seconds | bytes both ways | rounds |", "|---|---|---|---|---|"]
        lines += [f"| {l['name']} | {l['kind']} | {l['seconds']:.3f} | {fmt_b(l['bytes'])} | {l['rounds']:.0f} |"
                  for l in top]
        total = sum(l["bytes"] for l in r["layers"])
        lines += ["", f"The {len(top)} costliest of {len(r['layers'])} layers by traffic; all layers: {fmt_b(total)}.", ""]
    lines += ["## Plots", "", "`plots/time.svg` (model estimate per network, run and link), `plots/bytes.svg` (traffic "
              "per network and run), `plots/overhead.svg` (Fusion's batch per query vs n and κ), "
              "`plots/layers-<network>.svg` (traffic per layer); PNG beside each.", ""]
    return "\n".join(lines)


def gnuplot(plots, name, script):
    """Run one gnuplot script twice, for SVG and PNG."""
    ok = True
    for term, ext in (("svg size 900,500 dynamic background rgb 'white'", "svg"), ("pngcairo size 900,500", "png")):
        full = f"set terminal {term}\nset output '{os.path.join(plots, name + '.' + ext)}'\n{script}"
        r = subprocess.run(["gnuplot"], input=full, text=True, capture_output=True)
        if r.returncode:
            print(f"paper.py: gnuplot {name}.{ext}: {r.stderr.strip()}", file=sys.stderr)
            ok = False
    return ok


def plots(out, rows, ov, profiles):
    d = os.path.join(out, "plots")
    os.makedirs(d, exist_ok=True)
    keys = []
    for r in rows:
        k = (r["network"], r["run"])
        if k not in keys:
            keys.append(k)
    cols = ["off"] + profiles
    with open(os.path.join(d, "runs.dat"), "w") as f:
        f.write("# label " + " ".join(cols) + " gib\n")
        for net, run in keys:
            cells = []
            for p in cols:
                r = find(rows, network=net, run=run, profile=p)
                cells.append(f"{r['estimate_seconds']:.6g}" if r and r["estimate_seconds"] else "NaN")
            r = find(rows, network=net, run=run, profile="off")
            gib = both(r) / GIB if r else float("nan")
            f.write(f"\"{net} {run}\" " + " ".join(cells) + f" {gib:.6g}\n")
    ok = True
    hist = "set style data histograms\nset style histogram cluster gap 1\nset style fill solid 0.8 border -1\n" \
           "set xtics rotate by -30\nset logscale y\nset grid ytics\nset key top left\n"
    ok &= gnuplot(d, "time", hist + "set ylabel 'seconds (model estimate; projected for ResNets)'\n"
                  "set title 'One run per network: semi-honest and Fusion (1, 16 or 64 queries)'\n"
                  f"plot '{d}/runs.dat' " + ", ''".join(f" using {i + 2}:xtic(1) title '{c}'"
                                                         for i, c in enumerate(cols)) + "\n")
    ok &= gnuplot(d, "bytes", hist + "set ylabel 'GiB, both ways'\nset title 'Traffic per run'\n"
                  f"plot '{d}/runs.dat' using {len(cols) + 2}:xtic(1) title 'both ways'\n")
    with open(os.path.join(d, "overhead.dat"), "w") as f:
        for kappa in (20, 40, 60):
            for o in ov:
                if o["kappa"] == kappa:
                    f.write(f"{o['n']} {o['N'] / o['n']:.6g}\n")
            f.write("\n\n")
    ok &= gnuplot(d, "overhead", "set logscale x 2\nset grid\nset xlabel 'queries n'\n"
                  "set ylabel 'inputs per query (N / n)'\nset title \"Fusion's batch per query (committed labels)\"\n"
                  f"plot for [i=0:2] '{d}/overhead.dat' index i using 1:2 with linespoints "
                  "title sprintf('kappa = %d', 20 * (i + 1))\n")
    for net in ("4layer", "resnet18", "resnet50"):
        r = find(rows, network=net, profile="off", run="semi")
        if not r:
            continue
        with open(os.path.join(d, f"layers-{net}.dat"), "w") as f:
            for l in r["layers"]:
                f.write(f"\"{l['name']}\" {l['bytes'] / MIB:.6g}\n")
        ok &= gnuplot(d, f"layers-{net}", "set style data histograms\nset style fill solid 0.8 border -1\n"
                      "set xtics rotate by -60 font ',7'\nset grid ytics\nset logscale y\n"
                      f"set ylabel 'MiB, both ways'\nset title '{net}: traffic per layer, one inference ({r['source']})'\n"
                      f"plot '{d}/layers-{net}.dat' using 2:xtic(1) notitle\n")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", required=True)
    ap.add_argument("--fusion", required=True)
    ap.add_argument("--net", default="lan,wan")
    ap.add_argument("--runs", default="semi fusion1 fusion16")
    ap.add_argument("--only", default="4layer,resnet18,resnet50")
    ap.add_argument("--resnet-runs", default="semi fusion1 fusion64")
    ap.add_argument("--estimate", nargs=3, metavar=("NETWORK", "RUN", "PROFILE"),
                    help="print the projected model estimate (seconds) of one run and exit (bench/paper.sh's budget)")
    a = ap.parse_args()
    runs_dir, profiles, run_names = os.path.join(a.out, "runs"), a.net.split(","), a.runs.split()
    resnet_runs = a.resnet_runs.split()
    batches = {run: batch_size(a.fusion, RUNS[run][0], KAPPA if RUNS[run][1] else None)
               for run in set(run_names + resnet_runs)}
    if a.estimate:
        net, run, profile = a.estimate
        row = find(projected_rows(runs_dir, net, [profile], [run], batches), profile=profile)
        if not row:
            raise SystemExit(f"paper.py: no inference model of {net} under {runs_dir}")
        print(f"{row['estimate_seconds']:.3f}")
        return
    rows = measured_rows(runs_dir, "4layer", profiles, run_names)
    for net in ("resnet18", "resnet50"):
        measured = measured_rows(runs_dir, net, profiles, resnet_runs)
        rows += measured + projected_rows(runs_dir, net, profiles, resnet_runs, batches,
                                          {(r["profile"], r["run"]) for r in measured})
    if not rows:
        raise SystemExit("paper.py: no results under " + runs_dir)
    checks, ov = validation(runs_dir), overhead(a.fusion)
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "paper", "reference.json")) as f:
        ref = json.load(f)
    try:
        machine = open(os.path.join(runs_dir, "machine.txt")).read()
    except OSError:
        machine = "(machine.txt missing)"
    with open(os.path.join(a.out, "paper.json"), "w") as f:
        json.dump({"machine": machine, "rows": rows, "validation": checks, "overhead": ov, "reference": ref}, f,
                  indent=1)
    fields = ["network", "profile", "run", "queries", "batch", "source", "seconds", "compute_seconds",
              "estimate_seconds", "client_sent", "client_recv", "rounds", "offline_seconds", "offline_bytes"]
    with open(os.path.join(a.out, "paper.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    with open(os.path.join(a.out, "paper.md"), "w") as f:
        f.write(markdown(rows, checks, ov, ref, machine, a))
    if not plots(a.out, rows, ov, profiles):
        raise SystemExit("paper.py: a plot failed")


if __name__ == "__main__":
    main()
