"""docs/pipelines/s3-elb.md holds the field tables the parser really uses."""

from pathlib import Path

from logfwd_dev.elbdocs import BEGIN, END, render

PAGE = (Path(__file__).parents[1] / "docs" / "pipelines" / "s3-elb.md").read_text()


def test_field_tables_are_generated_from_the_parser():
    start, stop = PAGE.index(BEGIN), PAGE.index(END) + len(END)
    assert PAGE[start:stop] == render(), "the tables are stale: python -m logfwd_dev.elbdocs"


def test_every_current_alb_field_is_documented():
    for name in ("classification", "classification_reason", "conn_trace_id", "target:port_list"):
        assert f"| `{name}` |" in PAGE
