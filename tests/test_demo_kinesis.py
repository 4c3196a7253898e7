"""``logfwd demo kinesis``: Lambda events through ``logfwd invoke`` to the development syslog receiver
over TLS; every line arrives once, with its parts, and the bad record is reported by sequence number."""

import json
import re
import subprocess
import sys


def test_demo_kinesis_delivers_every_line_over_tls(tmp_path):
    done = subprocess.run([sys.executable, "-m", "logfwd", "demo", "kinesis", "--state", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert out.count("$ logfwd invoke --event ") == 2 and "--param syslog_ca=" in out  # TLS, verified
    assert re.findall(r"^forwarded (\d+) events from (\d+) records?", out, flags=re.M) == [("7", "5"), ("4", "1")]
    assert re.search(r"record 49590668435772834867384701968912358023909117360707174403 \(#3\): kinesis.data is not "
                     r"base64", out)
    assert '"batchItemFailures": []' in out  # everything delivered, the bad record too (raw, flagged)

    messages = [json.loads(line) for line in (tmp_path / "demo-syslog.jsonl").read_text().splitlines()]
    assert f"The receiver got {len(messages)} messages" in out and len(messages) == 11
    assert [(m["hostname"], m["app_name"], m["procid"]) for m in messages[:3]] == [
        ("shop", "web", "1d11a78279e0"), ("shop", "web", "1d11a78279e0"), ("shop", "worker", "5b3c0e1f9a22")]
    assert messages[3]["pri"] == "11" and messages[3]["msg"].startswith('{"level": "error"')  # user.err
    assert [m["msg"] for m in messages[4:7]] == ["via CloudWatch Logs", "this record is not base64!",
                                                 "a line without the Convox prefix"]
    assert 'bad_record="kinesis.data is not base64' in messages[5]["structured_data"]
    lambda_lines = messages[7:]
    assert {m["hostname"] for m in lambda_lines} == {"thumbnailer"}
    assert [m["msgid"] for m in lambda_lines] == ["START", "-", "END", "REPORT"]
    ids = [re.search(r' id="([^"]+)"', m["structured_data"])[1] for m in messages]
    assert len(set(ids)) == len(ids)
