"""``make manifest SHARDS=N``: manifest.yaml with N forwarder shards, for ``wskdeploy -m manifest-shards.yaml``.

wskdeploy's manifest cannot loop, so this renders the committed manifest's forwarder, trigger and rule
once per shard: shard 1 keeps their names (growing from one forwarder continues its checkpoint),
shard i > 1 is ``forward-i`` with trigger ``logfwd-alarm-i`` and rule ``logfwd-alarm-forward-i``, each
action with the input ``shard: i/N`` (see docs/scaling.md). The package inputs are unchanged. The
output sits next to manifest.yaml, so the action's ``function`` path stays right; SHARDS=1 renders the
committed manifest unchanged (comments aside).
"""

import argparse
import copy
import sys
from pathlib import Path

import yaml

FORWARDER = "forward"


def shard_manifest(manifest: dict, count: int) -> dict:
    """The manifest with ``count`` forwarder shards (``count`` 1: the manifest as it is)."""
    if not 1 <= count <= 100:
        raise ValueError(f"SHARDS must be a whole number of forwarders from 1 to 100, not {count}")
    rendered = copy.deepcopy(manifest)
    if count == 1:
        return rendered
    for package in rendered["packages"].values():
        if FORWARDER not in package.get("actions", {}):
            continue  # another pipeline (e.g. the Heroku drain's web action): deployed once, as it is
        forwarder = package["actions"].pop(FORWARDER)
        (trigger_name, trigger), = [(name, t) for name, t in package["triggers"].items()]
        (rule_name, rule), = [(name, r) for name, r in package["rules"].items() if r["action"] == FORWARDER]
        package["triggers"], package["rules"] = {}, {}
        for i in range(1, count + 1):
            suffix = "" if i == 1 else f"-{i}"
            action = copy.deepcopy(forwarder)
            action["inputs"] = {"shard": {"type": "string", "description": "this forwarder's shard of the "
                                          "monitored actions (i/N)", "value": f"{i}/{count}"}}
            package["actions"][FORWARDER + suffix] = action
            package["triggers"][trigger_name + suffix] = copy.deepcopy(trigger)
            package["rules"][rule_name + suffix] = {**rule, "trigger": trigger_name + suffix,
                                                    "action": FORWARDER + suffix}
    return rendered


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shards", type=int, required=True)
    parser.add_argument("manifest", type=Path, help="the committed manifest.yaml")
    parser.add_argument("--out", type=Path, help="where to write (default: manifest-shards.yaml beside it)")
    args = parser.parse_args(argv)
    try:
        rendered = shard_manifest(yaml.safe_load(args.manifest.read_text()), args.shards)
    except ValueError as exc:
        print(f"make manifest: {exc}", file=sys.stderr)
        return 2
    out = args.out or args.manifest.with_name("manifest-shards.yaml")
    header = (f"# Rendered by `make manifest SHARDS={args.shards}` from {args.manifest.name}: do not edit, render again.\n"
              f"# Deploy: make build && wskdeploy -m {out.name}   (remove: wskdeploy undeploy -m {out.name})\n")
    out.write_text(header + yaml.safe_dump(rendered, sort_keys=False, allow_unicode=True, width=120))
    print(f"wrote {out} with {args.shards} forwarder(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
