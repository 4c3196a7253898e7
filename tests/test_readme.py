"""The front door and the reference tell the truth: the parameter reference is what the declarations
say, and the README starts with the two commands."""

from pathlib import Path

from logfwd_dev.paramdocs import render

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text()


def test_parameter_reference_is_generated_from_the_declarations():
    committed = (ROOT / "docs" / "parameters.md").read_text()
    assert committed == render(), "docs/parameters.md is stale: run make docs"


def test_every_declared_parameter_is_in_the_reference():
    from logfwd.plugs import all_plugs
    from logfwd.settings import CORE

    committed = (ROOT / "docs" / "parameters.md").read_text()
    for param in [*CORE, *(p for c in all_plugs() for p in c.params)]:
        assert f"| `{param.name}` |" in committed, param.name


def test_quick_start_is_the_two_commands():
    quick = README.split("## Quick start", 1)[1].split("```")[1]
    assert [line.split("#")[0].strip() for line in quick.strip("sh\n").splitlines()] == ["make run", "make test"]
