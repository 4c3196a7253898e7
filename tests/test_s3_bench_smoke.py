"""The S3 ELB benchmark still runs (tiny sizes): every stage measured, every line delivered, memory
reported for both object sizes. No timing is asserted."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_s3_elb_benchmark_runs(tmp_path):
    out = tmp_path / "s3-elb.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "actions"), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "tests.bench.s3_elb", "--lines", "500", "--big-mb", "2",
                           "--out", str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["alb_gzip"]["lines"] == 500 and result["alb_gzip"]["lines_per_s"] > 0
    assert set(result["cpu_us_per_line"]) == {"read_inflate", "parse_encode", "send"}
    assert set(result["general_path_us_per_line"]) == {"parse", "encode"}
    assert all(isinstance(value, (int, float)) for value in result["cpu_us_per_line"].values())
    small, big = result["memory"]["1MB"], result["memory"]["2MB"]
    assert 0 < small["lines"] < big["lines"] and small["peak_rss_mb"] > 0 and big["peak_rss_mb"] > 0
