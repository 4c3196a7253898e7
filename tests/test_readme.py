"""The README's parameter table tells the truth: every parameter, its default, nothing else."""

import re
from pathlib import Path

from logfwd.settings import SPECS

README = (Path(__file__).parents[1] / "README.md").read_text()


def table_rows() -> dict[str, str]:
    section = README.split("\n## Parameters\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| ([^|]+) \|", section, flags=re.M)
    return {name: default.strip() for name, default in rows}


def shown(default) -> str:
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    return "—" if default is None else f"`{default}`"


def test_every_parameter_and_its_default_is_documented():
    rows = table_rows()
    assert set(rows) == set(SPECS)
    for name, spec in SPECS.items():
        if name == "checkpoint":
            assert rows[name].startswith("`activation` on OpenWhisk, `file:state/checkpoint.json`")
        elif spec.required:
            assert rows[name] == "required", name
        else:
            assert rows[name] == shown(spec.default), name


def test_quick_start_is_the_two_commands():
    quick = README.split("## Quick start", 1)[1].split("```")[1]
    assert [line.split("#")[0].strip() for line in quick.strip("sh\n").splitlines()] == ["make run", "make test"]
