"""``python -m tests.soak``: run the soak, print its table, write its JSON; exit 1 if anything was lost."""

import argparse
import sys
from pathlib import Path

from .config import SoakConfig
from .driver import run_soak
from .report import table, write_json


def main(argv: list[str] | None = None) -> int:
    defaults = SoakConfig()
    parser = argparse.ArgumentParser(prog="python -m tests.soak", description=__doc__)
    add = parser.add_argument
    add("--runs", type=int, default=defaults.runs, help="forwarder runs under faults (default %(default)s)")
    add("--seed", type=int, default=defaults.seed, help="seed of every random choice (default %(default)s)")
    add("--out", type=Path, default=Path("soak-result.json"), help="JSON result (default %(default)s)")
    add("--workdir", type=Path, help="a new or empty directory for the checkpoint, received events and run log "
        "(default: a temporary directory, removed if the soak passes)")
    add("--stores", default=",".join(defaults.stores),
        help="checkpoint stores, each with its share of the runs (default %(default)s)")
    add("--overlap", default=defaults.overlap, help="the forwarder's overlap, s, or auto (default %(default)s)")
    add("--kill-rate", type=float, default=defaults.kill_rate, help="share of runs SIGKILLed (default %(default)s)")
    add("--overlap-rate", type=float, default=defaults.overlap_rate,
        help="share of runs started before the previous one ended (default %(default)s)")
    add("--rate", type=float, default=defaults.rate, help="activations per second (default %(default)s)")
    add("--short", action="store_true", help="the quick preset used by make test")
    add("--quiet", action="store_true", help="no progress line")
    args = parser.parse_args(argv)

    preset = SoakConfig.short if args.short else SoakConfig
    stores = tuple(name.strip() for name in args.stores.split(",") if name.strip())
    options = dict(runs=args.runs, seed=args.seed, workdir=args.workdir, stores=stores,
                   kill_rate=args.kill_rate, overlap_rate=args.overlap_rate, quiet=args.quiet)
    if not args.short:
        options.update(overlap=args.overlap if args.overlap == "auto" else float(args.overlap), rate=args.rate)
    try:
        result = run_soak(preset(**options))
    except ValueError as exc:
        parser.error(str(exc))
    print(table(result))
    write_json(result, args.out)
    print(f"\nfigures written to {args.out}")
    if not result["passed"]:
        failed = [f"{name}: lost {r['lost']}, id conflicts {r['id_conflicts']}, unexpected {r['unexpected']}, "
                  f"hung runs {r['runs_hung']}, drained {r['drained']}"
                  for name, r in result["stores"].items() if not r["passed"]]
        print(f"SOAK FAILED: {'; '.join(failed)}; evidence kept in {result['workdir']}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
