"""The embedded default for the CLI: one JSON file, replaced atomically."""

import json
import os
import tempfile
import time
from pathlib import Path

from ..errors import CheckpointError, ConflictError
from .base import NoLease

STALE_AFTER = 3600.0  # seconds: longer than any run may take


class FileStore(NoLease):
    """A JSON file written to a temporary file, fsynced, then renamed over the old one.

    A crash mid-write leaves the previous checkpoint intact. The compare-and-swap compares the file's
    content with what ``load`` read; it protects against a second local run, not against two hosts.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._loaded: bytes | None = None

    def load(self) -> dict | None:
        self._check_writable()  # before anything is sent: a run that cannot save would re-send it all next time
        raw = self._read()
        self._loaded = raw
        if raw is None:
            return None
        try:
            document = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CheckpointError(f"checkpoint file {self.path} is not valid JSON ({exc}); "
                                  "move it away to start from the initial lookback") from None
        if not isinstance(document, dict):
            raise CheckpointError(f"checkpoint file {self.path} does not hold a JSON object; "
                                  "move it away to start from the initial lookback")
        return document

    def save(self, document: dict) -> None:
        if self._read() != self._loaded:
            raise ConflictError(f"checkpoint file {self.path} changed since this run read it "
                                "(another run?); not overwriting it")
        data = json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        except OSError as exc:
            raise self._unwritable(exc) from None
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException as exc:
            Path(tmp).unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise self._unwritable(exc) from None
            raise
        self._fsync_dir()
        self._loaded = data
        self._remove_stale_temporaries()

    def _remove_stale_temporaries(self) -> None:
        """A run killed inside ``save`` leaves its temporary file behind; clear those that are old
        enough that no live run can still be writing them."""
        cutoff = time.time() - STALE_AFTER
        for leftover in self.path.parent.glob(f".{self.path.name}.*"):
            try:
                if leftover.stat().st_mtime < cutoff:
                    leftover.unlink()
            except OSError:
                pass  # another run removed it first, or it is not ours to remove

    def _check_writable(self) -> None:
        """The nearest existing folder on the way to the file must be a folder this process may write."""
        folder = self.path.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if self.path.is_dir():
            problem = f"{self.path} is a folder"
        elif not folder.is_dir():
            problem = f"{folder} is not a folder"
        elif not os.access(folder, os.W_OK | os.X_OK):
            problem = f"the folder {folder} is not writable"
        else:
            return
        raise CheckpointError(f"cannot keep the checkpoint in {self.path}: {problem}. Nothing was forwarded. "
                              "Choose a writable place with checkpoint=file:PATH (or fix the folder's permissions)")

    def _unwritable(self, exc: OSError) -> CheckpointError:
        return CheckpointError(f"cannot write the checkpoint file {self.path}: {exc.strerror or exc}. "
                               "Choose a writable place with checkpoint=file:PATH (or fix the folder's "
                               "permissions); until then every run re-sends what it forwarded (same ids)")

    def describe(self) -> str:
        return f"file:{self.path}"

    def _read(self) -> bytes | None:
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise CheckpointError(f"cannot read checkpoint file {self.path}: {exc.strerror}") from None

    def _fsync_dir(self) -> None:
        # Makes the rename itself durable on POSIX file systems.
        try:
            fd = os.open(self.path.parent, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
