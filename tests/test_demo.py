"""``logfwd demo`` (what ``make run`` runs): two real passes, everything once, nothing twice."""

import json
import re
import shlex
import subprocess
import sys


def test_demo_forwards_everything_once_and_nothing_on_the_second_run(tmp_path):
    done = subprocess.run([sys.executable, "-m", "logfwd", "demo", "--activations", "120", "--state", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    forwarded = [int(n) for n in re.findall(r"^forwarded (\d+) events", done.stdout, flags=re.M)]
    assert len(forwarded) == 2 and forwarded[0] > 0 and forwarded[1] == 0, done.stdout
    lines = (tmp_path / "demo-received.jsonl").read_text().splitlines()
    ids = [json.loads(line)["@metadata"]["_id"] for line in lines]
    assert len(ids) == len(set(ids)) == forwarded[0]


def test_demo_prints_the_whole_command_lines_it_runs(tmp_path):
    done = subprocess.run([sys.executable, "-m", "logfwd", "demo", "--activations", "10", "--state", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    shown = [line[2:] for line in done.stdout.splitlines() if line.startswith("$ logfwd ")]
    assert [line.split()[1] for line in shown] == ["emulate", "receive", "run", "run"]
    assert "..." not in done.stdout
    run = shlex.split(shown[2])
    for name in ("apihost", "api_key", "actions", "logstash_hosts", "logstash_tls", "checkpoint"):
        assert any(arg.startswith(f"--param={name}=") for arg in run), run
