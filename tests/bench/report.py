"""Machine facts, the issue's targets checked against the figures, and aligned text tables."""

import os
import platform


def machine() -> dict:
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as file:
            model = next((line.split(":", 1)[1].strip() for line in file if line.startswith("model name")), model)
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "note": "the client, the receiver, the emulator and the forwarder run as separate processes "
                f"on {os.cpu_count()} cores; other work on the machine shows in the load average",
    }


def targets(result: dict) -> list[dict]:
    """Each target of the issues with the measured figure and whether it is met."""
    rows = []

    def add(name: str, target: str, measured: str, met: bool) -> None:
        rows.append({"name": name, "target": target, "measured": measured, "met": bool(met)})

    sink = result.get("sink")
    if sink:
        clients = sink["clients"]
        ours, theirs, ceiling = clients["logfwd"], clients["pylogbeat"], clients["receiver ceiling"]
        add("sink vs pylogbeat", ">= 3x pylogbeat's events/s", f"{sink['ratio_vs_pylogbeat']:.2f}x",
            sink["ratio_vs_pylogbeat"] >= 3)
        add("sink events/s", ">= 200,000 events/s", f"{ours['events_per_s']:,}", ours["events_per_s"] >= 200_000)
        # Where the receiver limits a client, that client's rate (and a ratio in its favour) is a lower bound.
        for name, client in (("pylogbeat", theirs), ("logfwd", ours)):
            add(f"receiver not the limit ({name})", f"no-op client rate > 1.5x {name}'s",
                f"{ceiling['events_per_s']:,} vs {client['events_per_s']:,}",
                ceiling["events_per_s"] > 1.5 * client["events_per_s"])
    sizes = result.get("end_to_end")
    if sizes:
        slowest = min(sizes, key=lambda s: s["lines_per_s"])
        add("end-to-end lines/s", ">= 50,000 lines/s at every size",
            f"{slowest['lines_per_s']:,} (N={slowest['activations']:,})", slowest["lines_per_s"] >= 50_000)
        over = [s for s in sizes if s["api_requests"] > s["api_requests_allowed"]]
        add("API requests", "<= 1 list per 200 activations + 1 per action per run",
            ", ".join(f"{s['api_requests']}/{s['api_requests_allowed']}" for s in sizes) + " (made/allowed)",
            not over)
        per_activation = sum(n for s in sizes for e, n in s["api_requests_by_endpoint"].items()
                             if e not in ("activations.list", "actions.list"))
        add("no per-activation requests", "0 when records carry their logs", str(per_activation), per_activation == 0)
        rss = [s["peak_rss_mb"] for s in sizes]
        add("peak memory", "<= 100 MB at every size", f"{max(rss):.0f} MB at most", max(rss) <= 100)
        add("memory flat in N", "peak RSS spread <= 20 MB over all sizes", f"{min(rss):.0f}..{max(rss):.0f} MB",
            max(rss) - min(rss) <= 20)
        emulator_limit = [s for s in sizes if s["emulator_serving_lines_per_s"] < 1.5 * s["lines_per_s"]]
        add("emulator not the limit", "serves > 1.5x the forwarder's lines/s",
            f"{min(s['emulator_serving_lines_per_s'] for s in sizes):,} lines/s", not emulator_limit)
        # Issue 15: CPU per line, cold (a new container's first pass, after its init, which OpenWhisk reports
        # apart) and warm (a reused container's); and the rate.
        for size, wanted in ((100_000, 4.0), (1_000, 10.0)):
            row = next((s for s in sizes if s["activations"] == size), None)
            for kind, key in (("cold (1st pass after init)", "forwarder_cold_cpu_us_per_line"),
                              ("warm", "forwarder_warm_cpu_us_per_line")):
                if row is not None and row.get(key) is not None:
                    add(f"CPU per line, N={size:,}, {kind}", f"<= {wanted:g} us", f"{row[key]} us", row[key] <= wanted)
        slowest = min(sizes, key=lambda s: s["lines_per_s"])
        add("end-to-end lines/s (issue 15)", ">= 150,000 lines/s at every size",
            f"{slowest['lines_per_s']:,} (N={slowest['activations']:,})", slowest["lines_per_s"] >= 150_000)
        delivered = all(s["all_passes_delivered"] for s in sizes)
        add("every line delivered once", "every visible produced _id at the receiver, no duplicate",
            "yes" if delivered else "NO", delivered)
    if result.get("busy"):
        from . import busy

        busy.targets(result["busy"], add)
    heroku = result.get("drain")
    if heroku:
        typical = next(r for r in heroku["parsing"] if r["mix"].startswith("typical"))
        add("drain parsing and counting", ">= 200,000 frames per CPU-second (typical mix)",
            f"{typical['frames_per_cpu_s']:,}", typical["frames_per_cpu_s"] >= 200_000)
        served = next(r for r in heroku["served"] if r["mix"].startswith("typical"))
        add("drain requests served", ">= 2,000 requests/s of 100 frames, one process",
            f"{served['requests_per_s']:,} ({served['requests_per_server_cpu_s']:,} per server CPU-second)",
            served["requests_per_s"] >= 2_000)
    cold = result.get("cold_start")
    if cold:
        add("cold start import", "<= 150 ms", f"{cold['import_ms']:.0f} ms", cold["import_ms"] <= 150)
    kinesis = result.get("kinesis_syslog")
    if kinesis:
        add("kinesis batch lines/s", ">= 100,000 lines/s, event to rsyslog's file over TLS",
            f"{kinesis['lines_per_s']:,} (best {kinesis['lines_per_s_best']:,})", kinesis["lines_per_s"] >= 100_000)
        per_10k = kinesis["client_cpu_s"] * 10_000 / kinesis["records"]
        add("kinesis batch client CPU", "< 0.5 s per 10,000-record batch", f"{per_10k:.3f} s", per_10k < 0.5)
    s3 = result.get("s3_elb")
    if s3:
        alb = s3["alb_gzip"]
        warm = f" (warm: {alb['warm_lines_per_s']:,})" if "warm_lines_per_s" in alb else ""
        add("S3 ELB lines/s", ">= 100,000 lines/s, gzip ALB object from S3 to the receiver",
            f"{alb['lines_per_s']:,}{warm}", alb["lines_per_s"] >= 100_000)
        peaks = [m["peak_rss_mb"] for m in s3["memory"].values()]
        add("S3 ELB memory flat", "peak RSS spread <= 20 MB from a 1 MB to the big object",
            " vs ".join(f"{size} {m['peak_rss_mb']:.0f} MB" for size, m in s3["memory"].items()),
            max(peaks) - min(peaks) <= 20)
    return rows


def _or_dash(value) -> object:
    return "-" if value is None else value


def table(headers: list[str], rows: list[list], numbers_right: bool = True) -> str:
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]

    def line(values: list[str]) -> str:
        # Text left, numbers right.
        return "  ".join(v.rjust(w) if numbers_right and _numeric(v) else v.ljust(w)
                         for v, w in zip(values, widths)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, cells)])


def _cell(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)


def _numeric(text: str) -> bool:
    return bool(text) and text.removeprefix("-").replace(",", "").replace(".", "").replace("x", "").isdigit()


def kinesis_syslog_table(k: dict, load: list | None = None) -> str:
    """Issue 12's benchmark: one Kinesis batch over TLS to rsyslogd (see ``kinesis_syslog``)."""
    met = {True: "met", False: "NOT met"}
    rows = [["lines/s, event to rsyslog's file (median)", k["lines_per_s"], ">= 100,000",
             met[k["lines_per_s"] >= 100_000]],
            ["lines/s, best round", k["lines_per_s_best"], "", ""],
            ["client CPU for the batch (s)", f"{k['client_cpu_s']:.3f}", "< 0.5", met[k["client_cpu_s"] < 0.5]],
            ["client CPU per line (us, median / best)",
             f"{k['client_cpu_us_per_line']:.1f} / {k['client_cpu_us_per_line_best']:.1f}", "", ""],
            ["rsyslogd CPU for the batch (s)", f"{k['receiver_cpu_s']:.3f}", "", ""],
            ["rsyslogd CPU per line (us)", f"{k['receiver_cpu_us_per_line']:.1f}", "", ""],
            ["seconds until the client returned", f"{k['seconds_client']:.3f}", "", ""],
            ["seconds until the last line was in the file", f"{k['seconds_to_rsyslog_file']:.3f}", "", ""]]
    loaded = f" (load average before: {load})" if load else ""
    return (f"One Kinesis batch of {k['records']:,} records ({k['event_bytes']:,}-byte event) over TLS to rsyslogd, "
            f"{k['repeats']} round(s){loaded}:\n" + table(["figure", "measured", "target", ""], rows))


def s3_elb_table(s3: dict) -> str:
    """Issue 13's benchmark (see ``s3_elb``): one gzip ALB object from moto's S3 to a json_lines receiver."""
    alb, cpu = s3["alb_gzip"], s3["cpu_us_per_line"]
    rows = [["lines/s, end to end (a new Lambda environment's first invocation)", alb["lines_per_s"], ">= 100,000"],
            ["forwarder CPU per line (us)", alb["cpu_us_per_line"], ""],
            *([["  its init before it (imports, boto3, the client): ms, CPU ms", f"{alb['init_ms']}, {alb['init_cpu_ms']}", ""],
               ["  the whole process's CPU per line, init included (us)", alb["process_cpu_us_per_line"], ""]]
              if "init_ms" in alb else []),
            *([["lines/s, warm (the same process again, as a warm Lambda)", alb["warm_lines_per_s"], ""],
               ["  its forwarder CPU per line (us)", alb["warm_cpu_us_per_line"], ""],
               ["receiver CPU per line (us)", alb["receiver_cpu_us_per_line"], ""],
               ["moto's S3 server CPU per line (us)", alb["moto_cpu_us_per_line"], ""]] if "warm_lines_per_s" in alb else []),
            *[[f"  {stage.replace('_', ' + ')} CPU per line (us)", f"{us:.2f}", ""] for stage, us in cpu.items()],
            *[[f"  (general path: {stage}, us)", f"{us:.2f}", ""]
              for stage, us in s3.get("general_path_us_per_line", {}).items()],
            ["forwarder peak RSS (MB)", alb["peak_rss_mb"], ""],
            *[[f"peak RSS, {size} plain classic object (MB)", m["peak_rss_mb"], "flat"]
              for size, m in s3["memory"].items()]]
    return (f"a {alb['lines']:,}-line gzip ALB object (load average {s3['load_average']} after)\n"
            + table(["figure", "measured", "target"], rows))


def render(result: dict) -> str:
    m = result["machine"]
    parts = [f"logfwd benchmark{' (quick)' if result['quick'] else ''}: {m['cores']} cores, {m['cpu_model']}, "
             f"Python {m['python']}, load average {m['load_average'][0]} at start, "
             f"{result['machine_after']['load_average'][0]} at the end",
             m["note"] + "."]
    built = result.get("events")
    if built:
        parts += ["", f"a. Events: {built['records']:,} emulator records, {built['lines']:,} lines, one core, "
                  f"best of {built['repeats']}",
                  table(["step", "us/line"], [[name, f"{us:.2f}"] for name, us in built["us_per_line"].items()])]
    squeeze = result.get("compression")
    if squeeze:
        parts += ["", f"b. Compression: {squeeze['events']:,} events of {squeeze['event_bytes_mean']:.0f} bytes in "
                  f"windows of {squeeze['window']}, one core, best of {squeeze['repeats']}; inflated by zlib; "
                  f"the default level 3 runs on {squeeze['default_level_engine']} here",
                  table(["engine", "level", "compress us/event", "wire B/event", "inflate us/event", "round trip"],
                        [[r["engine"], r["level"], f"{r['compress_us_per_event']:.2f}", r["wire_bytes_per_event"],
                          f"{r['inflate_us_per_event']:.2f}", r["round_trip"]] for r in squeeze["rows"]])]
    sink = result.get("sink")
    if sink:
        parts += ["", f"1. Sink throughput: {sink['events']:,} events of {sink['event_bytes_mean']:.0f} bytes "
                  f"(compact JSON), windows of {sink['window']}, median of {sink['rounds']} alternating round(s); "
                  f"receiver: {sink['receiver']}",
                  table(["client", "events/s", "MB/s", "client CPU %", "client CPU us/event", "receiver CPU %",
                         "all delivered"],
                        [[name, c["events_per_s"], c["mb_per_s"], c["client_cpu_pct"],
                          f"{c['client_cpu_us_per_event']:.2f}", c["receiver_cpu_pct"], c["all_delivered"]]
                         for name, c in sink["clients"].items()]),
                  f"logfwd / pylogbeat: {sink['ratio_vs_pylogbeat']:.2f}x (per round: "
                  f"{', '.join(f'{r:.2f}' for r in sink['ratios'])}); client CPU per event, pylogbeat / logfwd: "
                  f"{sink['cpu_ratio_vs_pylogbeat']:.2f}x; wire bytes per event at level 3: "
                  f"{sink['wire_bytes_per_event_level3']:.0f}"]
    sizes = result.get("end_to_end")
    if sizes:
        parts += ["", "2. End to end: logfwd emulate (N activations x 10 lines) -> the action (its entry's main, "
                  "in one process as in an OpenWhisk container) -> logfwd receive; lines/s over the forwarding pass, "
                  "the median of the passes; pending: seeded activations still running when it started; fwd CPU: the "
                  "forwarder's, of all its threads; init ms: the process's CPU until the action entry is imported "
                  "(interpreter, imports, what the entry prepares: OpenWhisk's /init, reported apart as initTime); "
                  "CPU us/line cold: the first pass after that init (a new container's first activations); warm: the "
                  "median of the later passes (a reused container's); cold extra ms: cold minus warm; with init: "
                  "the first pass and the init together, per line; API read, decode: the first stage alone, CPU per "
                  "line of a bare client reading and decoding the same pages; emulator lines/s: what the emulator "
                  "serves that client (its second read: records already encoded, as the passes find them)",
                  table(["activations", "lines", "passes", "runs", "pass s", "wall s", "lines/s", "API req",
                         "per 1k act", "allowed", "LJ B/line", "API B/line", "peak RSS MB", "fwd CPU s",
                         "init ms", "CPU us/line cold", "warm", "cold extra ms", "with init", "API read", "decode",
                         "emulator lines/s", "delivered", "pending"],
                        [[s["activations"], s["lines"], s["repeats"], s["runs"], f"{s['seconds']:.2f}",
                          f"{s['wall_seconds']:.2f}", s["lines_per_s"],
                          s["api_requests"], s["api_requests_per_1000"], s["api_requests_allowed"],
                          s["lumberjack_bytes_per_line"], s["api_bytes_per_line"], s["peak_rss_mb"],
                          f"{s['forwarder_cpu_seconds']:.2f}", s["forwarder_init_cpu_ms"], s["forwarder_cold_cpu_us_per_line"],
                          _or_dash(s.get("forwarder_warm_cpu_us_per_line")), _or_dash(s.get("forwarder_cold_extra_ms")),
                          s["forwarder_process_cpu_us_per_line"],
                          s.get("api_read_cpu_us_per_line", ""), s.get("api_decode_cpu_us_per_line", ""),
                          s["emulator_serving_lines_per_s"], s["all_passes_delivered"], s["not_yet_visible"]]
                         for s in sizes]),
                  "lines/s of every pass: " + "; ".join(
                      f"N={s['activations']:,}: {', '.join(f'{x:,}' for x in s['lines_per_s_each'])}" for s in sizes)]
    cold = result.get("cold_start")
    if cold:
        size = f"{cold['artifact_bytes'] / 1024:,.0f} KiB" if cold["artifact_bytes"] else "not built"
        parts += ["", f"3. Cold start: fresh interpreter, median of {cold['repeats']}; import: the action entry's, "
                  "what OpenWhisk does at the container's /init (CPU: with the interpreter's start); empty run: its "
                  "first activation, nothing to forward; process: the whole, wall",
                  table(["entry from", "artifact", "import ms", "CPU ms", "empty run ms", "CPU ms", "process ms",
                         "modules", "run ok"],
                        [[cold["source"], size, cold["import_ms"], _or_dash(cold.get("import_cpu_ms")),
                          cold["empty_run_ms"], _or_dash(cold.get("empty_run_cpu_ms")), cold["process_ms"],
                          cold["modules_loaded"], cold["empty_run_ok"]]])]
    kinesis = result.get("kinesis_syslog")
    if kinesis:
        parts += ["", "4. Kinesis -> syslog: " + kinesis_syslog_table(kinesis)]
    if result.get("busy"):
        from . import busy

        parts += busy.render(result["busy"], table)
    heroku = result.get("drain")
    if heroku:
        parts += ["", f"7. Heroku drain (requests of {heroku['frames_per_request']} frames) -> two statsd daemons",
                  table(["parsing and counting", "frames/s", "CPU us/frame", "frames per CPU-second"],
                        [[r["mix"], r["frames_per_s"], r["cpu_us_per_frame"], r["frames_per_cpu_s"]]
                         for r in heroku["parsing"]]),
                  table(["served by logfwd serve", "connections", "requests/s", "frames/s", "server CPU us/frame",
                         "requests per server CPU-second", "failed"],
                        [[r["mix"], r["clients"], r["requests_per_s"], r["frames_per_s"], r["server_cpu_us_per_frame"],
                          r["requests_per_server_cpu_s"], r["failed"]] for r in heroku["served"]]),
                  "Share of metric names that move to another collector when the cluster grows:",
                  table(["routing", "from", "to", "names", "clusters", "moved (mean)", "min", "max", "ideal"],
                        [[r["routing"], r["from"], r["to"], r["names"], r["clusters"],
                          *(f"{r[k] * 100:.1f} %" for k in ("moved_mean", "moved_min", "moved_max", "ideal_ring"))]
                         for r in heroku["routing"]])]
    s3 = result.get("s3_elb")
    if s3:
        parts += ["", "8. S3 ELB -> tcp json_lines: " + s3_elb_table(s3)]
    parts += ["", "Targets (issues 5, 12, 13, 14 and 15)",
              table(["target", "wanted", "measured", "met"],
                    [[t["name"], t["target"], t["measured"], t["met"]] for t in result["targets"]],
                    numbers_right=False)]
    return "\n".join(parts)
