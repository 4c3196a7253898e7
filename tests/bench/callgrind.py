"""Instructions a command runs, counted by valgrind's callgrind (both threads): a measure that the
machine's load does not move. The benches take the difference of two sizes, which leaves out the
interpreter's start and the imports."""

import re
import subprocess
import tempfile


def instructions(argv: list[str], **run) -> int:
    """Instructions ``argv`` runs under callgrind; ``run`` goes to ``subprocess.run`` (env, cwd)."""
    with tempfile.TemporaryDirectory() as directory:
        done = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={directory}/out", *argv],
                              capture_output=True, text=True, **run)
    if done.returncode != 0:
        raise RuntimeError(f"the child failed: {done.stderr[-2000:]}")
    return sum(int(count) for count in re.findall(r"Collected : (\d+)", done.stderr))
