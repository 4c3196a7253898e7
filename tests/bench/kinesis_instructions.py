"""Instructions a record of the Kinesis -> syslog pipeline without I/O, which the machine's load does not
move: ``python -m tests.bench.kinesis_instructions`` (needs valgrind; about a minute).

A child under valgrind's callgrind decodes ``kinesis_syslog``'s batch of 2,000 one-line records and
encodes them as RFC 5424 through ``pipeline.forward`` (the real source, encoder and batcher; a sink
whose send only joins the bytes, ``stagecpu.JoiningSink``), once and then three times; the
difference of the two counts over 4,000 records leaves out the interpreter's start, the imports and
the making of the event.
"""

import subprocess
import sys
from pathlib import Path

from tests.bench.callgrind import instructions

RECORDS = 2000
ROOT = Path(__file__).resolve().parents[2]
_CHILD = """
import sys
sys.path.insert(0, "tests")
from tests.bench.kinesis_stages import WINDOW
from tests.bench.stagecpu import JoiningSink
from tests.bench.kinesis_syslog import event
from logfwd.pipeline import forward
from logfwd.sinks.syslog.encode import SyslogEncoder
from logfwd.sources.kinesis.source import KinesisSource
batch, encoder = event(int(sys.argv[1])), SyslogEncoder()
for _ in range(int(sys.argv[2])):
    forward(KinesisSource(batch, now_ms=lambda: 0), JoiningSink(encoder), max_events=WINDOW)
"""


def instructions_per_record() -> int:
    counts = {}
    env = {"PYTHONPATH": f"{ROOT}:{ROOT / 'actions'}", "PYTHONHASHSEED": "0"}
    # Once outside valgrind first: a module compiled in one run and read as bytecode in the other
    # would count in the difference.
    subprocess.run([sys.executable, "-c", _CHILD, "10", "1"], cwd=ROOT, env=env, check=True, capture_output=True)
    for passes in (1, 3):
        counts[passes] = instructions([sys.executable, "-c", _CHILD, str(RECORDS), str(passes)], cwd=ROOT, env=env)
    return (counts[3] - counts[1]) // (2 * RECORDS)


if __name__ == "__main__":
    print(f"{instructions_per_record():,} instructions a record (pipeline without I/O, "
          f"{RECORDS:,} one-line records, 3 passes minus 1)")
