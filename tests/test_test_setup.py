"""The test setup on a fresh machine: it waits for apt's lock, and installs npm tools exactly as locked."""

import fcntl
import json
import re
import threading

import pytest

import npmtools
import servers


def test_apt_get_waits_for_the_package_lock_instead_of_failing():
    # apt and dpkg take POSIX record locks; while this process holds the frontend lock, any apt-get
    # child either waits (as the test setup must) or fails with "Could not get lock".
    with open("/var/lib/dpkg/lock-frontend", "a") as lock:
        fcntl.lockf(lock, fcntl.LOCK_EX)
        release = threading.Timer(2.0, fcntl.lockf, (lock, fcntl.LOCK_UN))
        release.start()
        try:
            # redis-server is installed by then (ensure_redis_server): this only needs the lock.
            servers.ensure_redis_server()
            servers._run([*servers.APT_GET, "install", "-y", "--no-install-recommends", "redis-server"],
                         "installing redis", 120)
        finally:
            release.join()


@pytest.mark.parametrize("tool", sorted(p.name for p in npmtools.LOCKED.iterdir() if p.is_dir()))
def test_every_npm_tool_is_locked_to_exact_versions(tool):
    folder = npmtools.LOCKED / tool
    wanted = json.loads((folder / "package.json").read_text())["dependencies"]
    lock = json.loads((folder / "package-lock.json").read_text())
    assert lock["lockfileVersion"] >= 2
    for package, version in wanted.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{tool}: {package} {version!r} is a range, not a version"
        assert lock["packages"][""]["dependencies"][package] == version
        assert lock["packages"][f"node_modules/{package}"]["version"] == version
    for path, entry in lock["packages"].items():
        if path:  # every package of the tree comes with its integrity hash
            assert entry.get("integrity", "").startswith("sha512-") or entry.get("link"), path


def test_pouchdb_server_comes_from_the_lock_file(couchdb_server):
    folder = npmtools.TOOLS / "pouchdb"
    assert (folder / "node_modules" / ".installed-lock.json").read_bytes() == \
        (npmtools.LOCKED / "pouchdb" / "package-lock.json").read_bytes()
    installed = json.loads((folder / "node_modules" / "pouchdb-server" / "package.json").read_text())["version"]
    assert installed == "4.2.0"
