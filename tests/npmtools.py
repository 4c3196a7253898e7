"""The npm tools the tests run, installed from committed lock files: a new release upstream cannot
change what a fresh clone gets.

Each tool has a folder ``tests/tools/NAME`` with ``package.json`` (exact versions),
``package-lock.json`` (the whole tree, with integrity hashes) and perhaps ``.npmrc`` (e.g.
``omit=optional``). ``install("NAME")`` copies both into
``.tools/NAME`` and runs ``npm ci`` there, once: again only when the committed lock file changes.
To add or update a tool: edit its package.json, run ``npm install --package-lock-only`` in its folder,
and commit both files.
"""

import fcntl
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCKED = Path(__file__).resolve().parent / "tools"
TOOLS = ROOT / ".tools"
FILES = ("package.json", "package-lock.json", ".npmrc")  # .npmrc: the tool's npm settings, if it has any


class ToolInstallError(Exception):
    """npm is missing, or ``npm ci`` failed; the message says what was run and what npm said."""


def install(name: str, timeout: float = 900) -> Path:
    """``.tools/NAME``, with ``node_modules`` exactly as the committed lock file says."""
    source, folder = LOCKED / name, TOOLS / name
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".install.lock", "w") as lock:  # two test runs must not both run npm here
        fcntl.flock(lock, fcntl.LOCK_EX)
        stamp = folder / "node_modules" / ".installed-lock.json"
        wanted = (source / "package-lock.json").read_bytes()
        if stamp.is_file() and stamp.read_bytes() == wanted:
            return folder
        npm = shutil.which("npm")
        if not npm:
            raise ToolInstallError(f"npm is not on the PATH: install Node.js 20 and npm to install {name} for the tests")
        for file in FILES:
            if (source / file).is_file():
                shutil.copyfile(source / file, folder / file)
        argv = [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", str(folder)]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ToolInstallError(f"installing {name}: {' '.join(argv)} failed: {exc}") from None
        if done.returncode != 0:
            raise ToolInstallError(f"installing {name}: {' '.join(argv)} exited with {done.returncode} "
                                   f"(is the npm registry reachable?):\n{(done.stdout + done.stderr)[-3000:]}")
        stamp.write_bytes(wanted)
    return folder
