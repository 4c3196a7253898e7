"""``docs/parameters.md`` from the declarations of the core, every source and every sink.

``python -m logfwd_dev.paramdocs > docs/parameters.md`` (``make docs``); a test checks that the
committed page is what this prints, so the reference cannot drift from the code.
"""

from logfwd.plugs import all_plugs
from logfwd.settings import CORE, ENV_PREFIX

HEADER = """# Parameters

Generated from the declarations in the code by `make docs`; do not edit by hand.

Every parameter can be given as an action parameter (`wsk ... -p NAME VALUE`, `--param NAME=VALUE` on
the command line) or as an environment variable `LOGFWD_<NAME>` (upper case). Parameters win over
variables; on OpenWhisk the platform's `__OW_*` variables fill in the API host, key and namespace, and
on the command line `~/.wskprops` does. Values may be strings (wskdeploy makes every value one): they
are converted, and an empty string means "unset". Secrets are never printed.
"""


def _default(param) -> str:
    if param.required:
        return "required"
    if param.name == "checkpoint":
        return "`activation` on OpenWhisk, `file:state/checkpoint.json` elsewhere"
    if param.default is None:
        return "—"
    if isinstance(param.default, bool):
        return f"`{str(param.default).lower()}`"
    return f"`{param.default}`"


def _table(params) -> list[str]:
    rows = ["| parameter | default | variable | meaning |", "|---|---|---|---|"]
    for p in params:
        meaning = p.help + (" (secret: never shown)" if p.secret else "")
        rows.append(f"| `{p.name}` | {_default(p)} | `{ENV_PREFIX}{p.name.upper()}` | {meaning} |")
    return rows


def render() -> str:
    lines = [HEADER, "## Common to every pipeline", "", *_table(CORE), ""]
    for component in all_plugs():
        what = f"delivery: {component.guarantee}" if component.kind == "sink" else f"{component.mode} by the platform" \
            if component.mode == "pushed" else "pulled on a schedule, with a checkpoint"
        lines += [f"## {component.kind.capitalize()} `{component.name}`", "",
                  f"{component.summary[0].upper()}{component.summary[1:]} ({what}).", "", *_table(component.params), ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(), end="")
