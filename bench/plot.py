#!/usr/bin/env python3
"""Charts of the Cohort vs Corosync comparison (`make bench-compare`), drawn with gnuplot.

  bench/plot.py [CSV...]
      One PNG next to each CSV, same name with .png; the paths are printed.
      Without arguments: the newest membership-*.csv and cpg-*.csv of
      bench/results/. A CSV is recognised by its header:
        membership  (written by `plot.py membership-csv`, see below): time from
                    each event to the new ring, Cohort and Corosync, medians with
                    min-max bars, log scale.
        cpg         (bench/cpg_bench.py --csv): delivered msgs/s by message size,
                    Cohort and Corosync, 1 and 3 senders, 3-node cluster (or the
                    largest cluster in the file), log scale.
  bench/plot.py membership-csv JSON CSV
      Turn the --json output of bench/membership.py into the membership CSV:
      system,event,n,median_ms,min_ms,max_ms,values_ms (values ';'-separated).

gnuplot missing: installed with apt-get (Debian's gnuplot-nox) when run as root;
otherwise the charts are skipped with a message. Exit status: 0 (also when the
charts are skipped), 1 when a chart could not be drawn, 2 usage."""
import csv
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
EVENTS = ["cold start", "kill -9", "restart merge", "partition heal", "graceful stop"]
MEMBERSHIP_HEADER = ["system", "event", "n", "median_ms", "min_ms", "max_ms", "values_ms"]
COLORS = {"Cohort": "#1f77b4", "Cohort light": "#9ecae1",
          "Corosync": "#e6550d", "Corosync light": "#fdae6b"}


def membership_csv(json_path, csv_path):
    with open(json_path) as f:
        data = json.load(f)
    rows = 0
    with open(csv_path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(MEMBERSHIP_HEADER)
        for system, events in data.get("results", {}).items():
            for e in EVENTS + [e for e in events if e not in EVENTS]:
                v = [x * 1000 for x in events.get(e) or []]
                if not v:
                    continue
                w.writerow([system, e, len(v), "%.3f" % statistics.median(v), "%.3f" % min(v),
                            "%.3f" % max(v), ";".join("%.3f" % x for x in v)])
                rows += 1
    print("membership CSV: %s (%d rows)" % (csv_path, rows))
    return 0


def gnuplot():
    """Path of gnuplot, installing gnuplot-nox as root; None (reason printed) if absent."""
    g = shutil.which("gnuplot")
    if g:
        return g
    if os.geteuid() != 0:
        print("plot: gnuplot is not installed and this is not root: no chart "
              "(as root: apt-get install gnuplot-nox)")
        return None
    print("plot: installing gnuplot-nox (apt-get)", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "gnuplot-nox"]
    if subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env)
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL)
    g = shutil.which("gnuplot")
    if not g:
        print("plot: gnuplot-nox could not be installed: no chart")
    return g


def q(s):
    """A gnuplot string literal."""
    return '"%s"' % str(s).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def num(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


def fmt_ms(v):
    if v is None:
        return "-"
    if v >= 1000:
        return "%.2f s" % (v / 1000)
    return "%.1f ms" % v if v < 10 else "%.0f ms" % v


def fmt_rate(v):
    if v is None:
        return "failed"
    if v >= 10000:
        return "%.0fk" % (v / 1000)
    if v >= 1000:
        return "%.1fk" % (v / 1000)
    return "%.0f" % v


def size_label(b):
    b = int(b)
    for unit, f in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if b >= f and b % f == 0:
            return "%d %s" % (b // f, unit)
    return "%d B" % b


def terminal(out):
    return "set terminal pngcairo size 1100,600 font 'sans,10'\nset output %s\n" % q(out)


def plot_membership(rows, csv_path, out):
    med = {(r["system"], r["event"]): r for r in rows}
    systems = [s for s in ("Cohort", "Corosync") if any(k[0] == s for k in med)]
    events = [e for e in EVENTS if any((s, e) in med for s in systems)]
    if not events:
        print("plot: %s: no Cohort or Corosync rows" % csv_path)
        return False
    reps = max(int(r["n"]) for r in rows)
    lines = []
    for e in events:
        cells, meds = [], []
        for s in systems:
            r = med.get((s, e))
            m = num(r["median_ms"]) if r else None
            meds.append(m)
            cells += ["%g" % m, "%g" % num(r["min_ms"]), "%g" % num(r["max_ms"])] if m else ["NaN"] * 3
            cells.append(q(fmt_ms(m)))
        tic = e
        if len(systems) == 2 and meds[0] and meds[1]:
            tic += "\n%.0fx faster" % (meds[1] / meds[0]) if meds[1] >= meds[0] else \
                "\n%.1fx slower" % (meds[0] / meds[1])
        lines.append(q(tic) + " " + " ".join(cells))
    top = 4 * max(num(r["max_ms"]) for r in rows if r["system"] in systems)
    n = len(systems)
    off = [(j + 0.5 + 1) / (n + 2) - 0.5 for j in range(n)]  # bar centres, histogram gap 2
    plots = []
    for j, s in enumerate(systems):
        c = 2 + 4 * j
        plots.append("$d using %d:%d:%d%s title %s lc rgb %s" % (
            c, c + 1, c + 2, ":xtic(1)" if j == 0 else "",
            q(s if s == "Cohort" else s + " 3.1.7"), q(COLORS[s])))
    for j, s in enumerate(systems):
        c = 2 + 4 * j
        plots.append("$d using ($0%+.4f):(column(%d)*1.25):%d with labels notitle font ',9'"
                     % (off[j], c + 2, c + 3))
    script = terminal(out) + """
$d << EOD
%s
EOD
set title %s
set datafile missing "NaN"
set style data histogram
set style histogram errorbars gap 2 lw 1
set style fill solid 0.9 border -1
set logscale y
set yrange [1:%g]
set format y "%%g"
set ylabel "time to the new ring, ms (log scale)"
set grid ytics mytics lc rgb "#dddddd"
set key top left horizontal samplen 2
set xtics scale 0
set bmargin 4
set bars 0.5
plot %s
""" % ("\n".join(lines),
       q("Membership, 3 nodes in network namespaces, encrypted, default timers: median of %d, bars min-max "
         "(lower is better)\n%s" % (reps, os.path.basename(csv_path))),
       top, ", \\\n     ".join(plots))
    return run_gnuplot(script, out)


def plot_cpg(rows, csv_path, out):
    nodes = sorted({int(r["nodes"]) for r in rows if r.get("nodes")})
    if not nodes:
        print("plot: %s: no rows" % csv_path)
        return False
    n_nodes = 3 if 3 in nodes else nodes[-1]
    rate = {}
    for r in rows:
        if int(r["nodes"]) == n_nodes:
            rate[(r["system"], int(r["size"]), int(r["senders"]))] = num(r["msgs_s"])
    sizes = sorted({k[1] for k in rate})
    series = [("Cohort", 1, "Cohort"), ("Corosync", 1, "Corosync"),
              ("Cohort", 3, "Cohort light"), ("Corosync", 3, "Corosync light")]
    series = [s for s in series if any((s[0], z, s[1]) in rate for z in sizes)]
    values = [v for v in rate.values() if v]
    if not values:
        print("plot: %s: no throughput figures for %d nodes" % (csv_path, n_nodes))
        return False
    floor = 10 ** int(__import__("math").floor(__import__("math").log10(min(values))))
    lines = []
    for z in sizes:
        tic = size_label(z)
        for k in (1, 3):
            a, b = rate.get(("Cohort", z, k)), rate.get(("Corosync", z, k))
            if a and b:
                tic += "\n%d sender%s: %.2fx" % (k, "" if k == 1 else "s", a / b)
        cells = []
        for system, k, _ in series:
            v = rate.get((system, z, k))
            cells += ["%g" % v if v else "NaN", q(fmt_rate(v)), "%g" % ((v or floor) * 1.12)]
        lines.append(q(tic) + " " + " ".join(cells))
    n = len(series)
    off = [(j + 0.5 + 1) / (n + 2) - 0.5 for j in range(n)]  # gap 2
    plots = []
    for j, (system, k, color) in enumerate(series):
        c = 2 + 3 * j
        plots.append("$d using %d%s title %s lc rgb %s" % (
            c, ":xtic(1)" if j == 0 else "",
            q("%s%s, %d sender%s" % (system, "" if system == "Cohort" else " 3.1.7", k, "" if k == 1 else "s")),
            q(COLORS[color])))
    for j in range(n):
        c = 2 + 3 * j
        plots.append("$d using ($0%+.4f):%d:%d with labels rotate by 90 left font ',8' notitle"
                     % (off[j], c + 2, c + 1))
    script = terminal(out) + """
$d << EOD
%s
EOD
set title %s
set datafile missing "NaN"
set style data histogram
set style histogram clustered gap 2
set style fill solid 0.9 border -1
set logscale y
set yrange [%g:%g]
set format y "%%g"
set ylabel "messages/s delivered per sender (log scale)"
set grid ytics mytics lc rgb "#dddddd"
set key top center horizontal samplen 2
set xtics scale 0
set bmargin 5
plot %s
""" % ("\n".join(lines), q(
        "CPG throughput by message size, %d-node cluster, AGREED, encrypted (higher is better); "
        "under each size: Cohort / Corosync msgs/s\n%s" % (n_nodes, os.path.basename(csv_path))),
        floor, 4 * max(values), ", \\\n     ".join(plots))
    return run_gnuplot(script, out)


def run_gnuplot(script, out):
    p = subprocess.run([GNUPLOT], input=script.encode(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0 or not os.path.exists(out):
        print("plot: gnuplot failed for %s:\n%s" % (out, p.stderr.decode(errors="replace")))
        return False
    print("chart: %s" % out)
    return True


def newest(pattern):
    files = sorted(glob.glob(os.path.join(RESULTS, pattern)), key=os.path.getmtime)
    return files[-1:] if files else []


def main(argv):
    global GNUPLOT
    if argv[:1] in (["-h"], ["--help"]):
        print(__doc__)
        return 0
    if argv[:1] == ["membership-csv"]:
        if len(argv) != 3:
            print(__doc__, file=sys.stderr)
            return 2
        return membership_csv(argv[1], argv[2])
    files = argv or newest("membership-*.csv") + newest("cpg-*.csv")
    if not files:
        print("plot: no CSV given and none in %s: no chart" % RESULTS)
        return 0
    GNUPLOT = gnuplot()
    if not GNUPLOT:
        return 0
    ok = True
    for path in files:
        try:
            with open(path, newline="") as f:
                rows = list(csv.DictReader(f))
                header = list(rows[0].keys()) if rows else []
        except OSError as e:
            print("plot: %s" % e)
            ok = False
            continue
        out = os.path.splitext(path)[0] + ".png"
        if header == MEMBERSHIP_HEADER:
            ok = plot_membership(rows, path, out) and ok
        elif "msgs_s" in header and "senders" in header:
            ok = plot_cpg(rows, path, out) and ok
        else:
            print("plot: %s: not a membership or cpg CSV (header %s)" % (path, ",".join(header) or "empty"))
            ok = False
    return 0 if ok else 1


GNUPLOT = None
if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
