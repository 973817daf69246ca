#!/usr/bin/env python3
"""Report of experiments/bf16_decision/run.sh (standard library only): float32 against bfloat16 recurrent state.

Reads every run folder under --runs (config.json: state_dtype and seed; meta_train.csv: meta_loss and
agents_mean_return per meta-iteration; metrics.csv: wall_time_s, seconds since training started) and the
time.log that run.sh's `timed` wrote (wall seconds and peak KB per run), and prints Markdown:

* every run: wall time, peak memory, median seconds per meta-iteration, final-20-iteration means;
* per dtype: the mean over seeds of the final-20-iteration means and their seed spread (SD over seeds), the
  difference bfloat16 − float32 against 2 standard errors of that difference (2·sqrt((sd_f² + sd_b²)/n)), and
  the per-seed paired differences (the same seed starts both dtypes from the same population and φ);
* the curves: per iteration, the mean over seeds of each dtype's 10-iteration moving average, the seed SD, the
  difference of the means, and how many iterations keep that difference inside the 2-SE band;
* the verdict of the rule "within seed noise": both metrics' final-20 differences inside their 2-SE bands and at
  least 90 % of the iterations' differences inside theirs.
"""
import argparse
import csv
import json
import math
import os
import re
import statistics

METRICS = [("meta_loss", "meta-loss"), ("agents_mean_return", "agents' mean return")]
FINAL = 20
SMOOTH = 10
INSIDE_FRACTION = 0.9


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def number(s):
    return float(s) if s not in (None, "") else math.nan


def nanmean(xs):
    xs = [x for x in xs if not math.isnan(x)]
    return sum(xs) / len(xs) if xs else math.nan


def sd(xs):
    xs = [x for x in xs if not math.isnan(x)]
    return statistics.stdev(xs) if len(xs) > 1 else math.nan


def moving_average(xs, w):
    out = []
    for i in range(len(xs)):
        out.append(nanmean(xs[max(0, i - w + 1): i + 1]))
    return out


def fmt(x, digits=4):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def load_runs(root):
    runs = []
    for k in sorted((d for d in os.listdir(root) if d.isdigit()), key=int):
        d = os.path.join(root, k)
        if not os.path.exists(os.path.join(d, "meta_train.csv")):
            continue
        with open(os.path.join(d, "config.json")) as f:
            cfg = json.load(f)
        rows = read_rows(os.path.join(d, "meta_train.csv"))
        series = {m: [number(r[m]) for r in rows] for m, _ in METRICS}
        wall = [number(r["wall_time_s"]) for r in read_rows(os.path.join(d, "metrics.csv"))]
        per_it = [b - a for a, b in zip([0.0] + wall[:-1], wall)]
        runs.append({
            "k": int(k),
            "dtype": cfg["provenance"]["numerics"]["state_dtype"],
            "seed": cfg["seed"],
            "iterations": len(rows),
            "series": series,
            "s_per_it": statistics.median(per_it[1:]) if len(per_it) > 1 else (per_it[0] if per_it else math.nan),
        })
    return runs


def load_times(path):
    times = {}
    if not path or not os.path.exists(path):
        return times
    with open(path) as f:
        for line in f:
            m = re.match(r"\s*([\d.]+) s wall, (\d+) KB peak: .*--config-idx (\d+)", line)
            if m:
                times[int(m.group(3))] = (float(m.group(1)), int(m.group(2)))
    return times


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", required=True, help="logs/<config name>: the run folders 1 … n")
    ap.add_argument("--time-log", help="run.sh's time.log")
    ap.add_argument("--config", help="the sweep file (named in the report)")
    ap.add_argument("--curves-csv", help="also write the per-iteration means, SDs and differences (raw and smoothed) here")
    a = ap.parse_args()

    runs = load_runs(a.runs)
    times = load_times(a.time_log)
    dtypes = [d for d in ("float32", "bfloat16") if any(r["dtype"] == d for r in runs)]
    by = {d: sorted((r for r in runs if r["dtype"] == d), key=lambda r: r["seed"]) for d in dtypes}
    n_it = min((r["iterations"] for r in runs), default=0)
    final = min(FINAL, n_it)

    p = print
    p("# bfloat16 against float32 recurrent state: meta-training curves")
    p()
    p(f"Written by `experiments/bf16_decision/report.py` from `{a.runs}`" + (f" (`{a.config}`)" if a.config else "") + ". "
      f"{len(runs)} runs, {n_it} meta-iterations each; final = mean of the last {final} iterations; "
      f"curves: {SMOOTH}-iteration moving averages; SD = standard deviation over seeds; "
      f"2 SE = 2·sqrt((SD_float32² + SD_bfloat16²)/n), n seeds per dtype.")
    p()
    p("## Runs")
    p()
    p("| k | state | seed | iterations | wall time (whole run) | peak memory | median s / meta-iteration | final meta-loss | final return |")
    p("|---|---|---|---|---|---|---|---|---|")
    for r in sorted(runs, key=lambda r: r["k"]):
        w, kb = times.get(r["k"], (math.nan, 0))
        fm = {m: nanmean(r["series"][m][n_it - final:n_it]) for m, _ in METRICS}
        p(f"| {r['k']} | {r['dtype']} | {r['seed']} | {r['iterations']} | {fmt(w / 60, 3)} min | "
          f"{kb / 1024 / 1024:.2f} GiB | {fmt(r['s_per_it'], 3)} | {fmt(fm['meta_loss'])} | {fmt(fm['agents_mean_return'])} |")
    p()
    if len(dtypes) < 2:
        p("Only one state type was run; nothing to compare.")
        return

    n = min(len(by[d]) for d in dtypes)
    p(f"## Final-{final}-iteration means")
    p()
    p("| metric | float32 mean (SD) | bfloat16 mean (SD) | bfloat16 − float32 | 2 SE | inside? | paired differences by seed |")
    p("|---|---|---|---|---|---|---|")
    verdict = True
    finals = {}
    for m, label in METRICS:
        vals = {d: [nanmean(r["series"][m][n_it - final:n_it]) for r in by[d][:n]] for d in dtypes}
        mean = {d: nanmean(vals[d]) for d in dtypes}
        spread = {d: sd(vals[d]) for d in dtypes}
        diff = mean["bfloat16"] - mean["float32"]
        band = 2 * math.sqrt((spread["float32"] ** 2 + spread["bfloat16"] ** 2) / n) if n > 1 else math.nan
        inside = abs(diff) <= band if not math.isnan(band) else False
        verdict &= inside
        finals[m] = (diff, band)
        pairs = ", ".join(f"seed {by['float32'][i]['seed']}: {fmt(vals['bfloat16'][i] - vals['float32'][i], 3)}" for i in range(n))
        p(f"| {label} | {fmt(mean['float32'])} ({fmt(spread['float32'], 2)}) | {fmt(mean['bfloat16'])} ({fmt(spread['bfloat16'], 2)}) | "
          f"{fmt(diff, 3)} | {fmt(band, 3)} | {'yes' if inside else 'no'} | {pairs} |")
    p()

    p("## Curves")
    p()
    summary = []
    curves = {}
    csv_rows = []
    for m, label in METRICS:
        for smooth in (1, SMOOTH):
            sm = {d: [moving_average(r["series"][m][:n_it], smooth) for r in by[d][:n]] for d in dtypes}
            rows = []
            inside = 0
            counted = 0
            for i in range(n_it):
                mean = {d: nanmean([s[i] for s in sm[d]]) for d in dtypes}
                spread = {d: sd([s[i] for s in sm[d]]) for d in dtypes}
                diff = mean["bfloat16"] - mean["float32"]
                band = 2 * math.sqrt((spread["float32"] ** 2 + spread["bfloat16"] ** 2) / n) if n > 1 else math.nan
                if not math.isnan(diff) and not math.isnan(band):
                    counted += 1
                    inside += abs(diff) <= band
                rows.append((i + 1, mean["float32"], spread["float32"], mean["bfloat16"], spread["bfloat16"], diff, band))
                csv_rows.append((m, smooth) + rows[-1])
            frac = inside / counted if counted else math.nan
            if smooth == SMOOTH:
                verdict &= counted > 0 and frac >= INSIDE_FRACTION
                curves[m] = rows
            summary.append((label, "per iteration" if smooth == 1 else f"{smooth}-iteration moving average", inside, counted, frac))
    p("| metric | curve | iterations with abs. difference ≤ 2 SE | share |")
    p("|---|---|---|---|")
    for label, kind, inside, counted, frac in summary:
        p(f"| {label} | {kind} | {inside} of {counted} | {fmt(100 * frac, 3)} % |")
    p()
    if a.curves_csv:
        with open(a.curves_csv, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["metric", "smoothing", "iteration", "float32_mean", "float32_sd", "bfloat16_mean", "bfloat16_sd", "difference", "two_se"])
            w.writerows(csv_rows)
    for m, label in METRICS:
        p(f"### {label} ({SMOOTH}-iteration moving average), every {max(1, n_it // 20)} iterations and the last")
        p()
        p("| iteration | float32 mean | float32 SD | bfloat16 mean | bfloat16 SD | bfloat16 − float32 | 2 SE |")
        p("|---|---|---|---|---|---|---|")
        step = max(1, n_it // 20)
        for row in curves[m]:
            if row[0] % step == 0 or row[0] == n_it:
                p("| " + " | ".join([str(row[0])] + [fmt(x, 3) for x in row[1:]]) + " |")
        p()

    p("## Verdict")
    p()
    rule = (f"within seed noise = both metrics' final-{final} differences inside their 2-SE bands and at least "
            f"{INSIDE_FRACTION:.0%} of the iterations' smoothed differences inside theirs")
    p(f"Rule: {rule}. **{'Within seed noise' if verdict else 'Not within seed noise'}** "
      f"({n} seeds per state type, {n_it} meta-iterations).")
    if n_it < 100:
        p()
        p(f"(Only {n_it} meta-iterations: a check of the script, not the decision, which needs 100.)")


if __name__ == "__main__":
    main()
