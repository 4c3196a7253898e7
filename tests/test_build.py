"""The action artifact that `make build` produces: layout, contents, isolation, reproducibility.

The zip is built for real (pip fetches the pinned dependency wheels, or takes them from its cache),
unzipped, and its entry imported by a fresh interpreter that sees no site-packages at all.
"""

import json
import platform
import re
import subprocess
import sys
import zipfile
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / ".ci" / "build_action.py"
# The runtime dependencies (pyproject) and theirs, as top-level import names.
VENDORED = ("requests", "urllib3", "idna", "charset_normalizer", "certifi", "dateutil", "tenacity", "orjson",
            "isal")
# The only compiled modules, built for the action's platform (python:3.11 on Linux x86_64, glibc).
COMPILED_MODULES = sorted(f"{name}.cpython-311-x86_64-linux-gnu.so" for name in
                          ("orjson/orjson", "isal/isal_zlib", "isal/igzip_lib", "isal/_isal"))
# logfwd's own compiled module, compiled by the build where it runs the action's platform.
FAST_PATH_MODULE = "logfwd/sources/openwhisk/_plainlines.cpython-311-x86_64-linux-gnu.so"
ELF_MAGIC = b"\x7fELF"
EM_X86_64 = 62
ON_TARGET = (sys.implementation.name == "cpython" and sys.version_info[:2] == (3, 11)
             and platform.system() == "Linux" and platform.machine() == "x86_64"
             and platform.libc_ver()[0] == "glibc")
JUNK_PARTS = {"tests", "test", "bin", ".pytest_cache"}
JUNK_SUFFIXES = (".pyi", ".pyo", ".egg-info", ".whl", ".orig", ".rej")
LICENSE_NAMES = ("LICENSE", "COPYING", "NOTICE", "AUTHORS")


def build(out: Path, *extra: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, str(BUILD), "--out", str(out), *extra], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"build failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("build") / "logfwd-action.zip"
    result = build(out)
    return out, result.stdout, result.stderr


@pytest.fixture(scope="module")
def names(built):
    with zipfile.ZipFile(built[0]) as archive:
        return [info.filename for info in archive.infolist()]


@pytest.fixture(scope="module")
def unpacked(built, tmp_path_factory):
    folder = tmp_path_factory.mktemp("unpacked")
    with zipfile.ZipFile(built[0]) as archive:
        archive.extractall(folder)
    return folder


def shipped_library() -> set[str]:
    """What a run imports: every module of logfwd but the command line."""
    return {p.relative_to(ROOT / "actions").as_posix()
            for p in (ROOT / "actions" / "logfwd").rglob("*.py")
            if "__pycache__" not in p.parts and p.relative_to(ROOT / "actions" / "logfwd").parts[0] not in
            ("cli", "__main__.py")}


def test_entry_at_the_root_and_the_library_inside_and_no_more(names):
    assert "__main__.py" in names
    library = shipped_library()
    assert library, "no library sources found"
    ours = {n for n in names if n.startswith("logfwd/") and n.endswith(".py")}
    assert ours == library, f"missing: {sorted(library - ours)}; not for a run: {sorted(ours - library)}"
    assert not any(n.startswith(("logfwd_dev/", "logfwd/cli/")) for n in names), "development tools shipped"


def test_the_lambda_zip_is_the_same_library_without_the_openwhisk_entry(built):
    with zipfile.ZipFile(built[0]) as action, zipfile.ZipFile(built[0].parent / "logfwd-lambda.zip") as function:
        assert set(function.namelist()) == set(action.namelist()) - {"__main__.py"}
        assert "logfwd/entries/aws_lambda.py" in function.namelist()
        assert not any(n.startswith(("boto3/", "botocore/")) for n in function.namelist())


def test_dependencies_are_vendored_next_to_the_entry(names):
    top_level = {PurePosixPath(name).parts[0] for name in names}
    for package in VENDORED:
        assert package in top_level, f"{package} is not vendored"
        assert f"{package}/__init__.py" in names


def test_nothing_else_no_tests_caches_scripts_or_metadata(names):
    for name in names:
        parts = PurePosixPath(name).parts
        assert not JUNK_PARTS.intersection(parts), f"{name} does not belong in the action"
        assert not name.endswith(JUNK_SUFFIXES) and not any(p.endswith(".egg-info") for p in parts), name
        if parts[0].endswith(".dist-info"):  # only the dependencies' license texts are kept
            assert PurePosixPath(name).name.upper().startswith(LICENSE_NAMES) or "licenses" in parts, name
    assert not any(name.startswith("actions/") for name in names), "the serverless layout leaked in"


def test_bytecode_is_deliberate_and_never_stale(names, built):
    """Every .pyc is unchecked-hash bytecode of a module shipped beside it, for the action's Python."""
    pycs = [n for n in names if n.endswith(".pyc")]
    assert pycs, "no precompiled bytecode: the cold start would compile every module"
    with zipfile.ZipFile(built[0]) as archive:
        for name in pycs:
            path = PurePosixPath(name)
            assert path.parent.name == "__pycache__", name
            module = path.name.split(".")[0]
            assert path.name == f"{module}.cpython-311.pyc", name
            assert str(path.parent.parent / f"{module}.py").lstrip("./") in names, f"{name} has no source"
            header = archive.read(name)[:8]
            flags = int.from_bytes(header[4:8], "little")
            assert flags == 0b01, f"{name}: hash-based, unchecked bytecode expected (flags {flags})"


def test_sorted_entries_with_fixed_timestamps(built, names):
    assert names == sorted(names)
    with zipfile.ZipFile(built[0]) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_same_inputs_same_bytes(built, tmp_path):
    again = tmp_path / "again.zip"
    build(again, "--no-measure")
    if again.read_bytes() != built[0].read_bytes():
        with zipfile.ZipFile(built[0]) as first, zipfile.ZipFile(again) as second:
            differ = sorted(set(first.namelist()) ^ set(second.namelist())) or \
                [n for n in first.namelist() if first.read(n) != second.read(n)] or ["(zip metadata)"]
        pytest.fail(f"two builds of the same sources differ in: {differ[:10]}")


def test_serverless_variant_holds_the_same_files_with_the_entry_where_the_plugin_looks(built):
    out = built[0]
    variant = out.parent / "serverless" / out.name
    with zipfile.ZipFile(out) as main, zipfile.ZipFile(variant) as other:
        ours = {n: main.read(n) for n in main.namelist()}
        theirs = {n: other.read(n) for n in other.namelist()}
    # serverless-openwhisk moves the handler file actions/__main__.py to __main__.py.
    theirs["__main__.py"] = theirs.pop("actions/__main__.py")
    assert theirs == ours


def test_size_and_import_time_are_reported(built):
    stdout = built[1]
    assert "KiB" in stdout and str(built[0]) in stdout
    assert "import time of the action entry" in stdout, stdout


def test_runs_from_the_unzipped_folder_without_any_site_packages(unpacked):
    """OpenWhisk loads __main__.py from the unzipped action; nothing outside it may be needed."""
    probe = (
        "import importlib.util, json, sys\n"
        "folder = sys.argv[1]\n"
        "sys.path.insert(0, folder)\n"
        "spec = importlib.util.spec_from_file_location('main__', folder + '/__main__.py')\n"
        "entry = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(entry)\n"
        "import logfwd.runner, requests, dateutil.parser, tenacity, urllib3, certifi\n"
        "where = {m: sys.modules[m].__file__ for m in ('logfwd', 'requests', 'dateutil', 'tenacity',\n"
        "                                              'urllib3', 'certifi', 'idna', 'charset_normalizer')}\n"
        "print(json.dumps({'where': where, 'result': entry.main({})}))\n"
    )
    # -I: no user site, no PYTHON* variables; -S: no site-packages, so no venv either.
    result = subprocess.run([sys.executable, "-I", "-S", "-c", probe, str(unpacked)],
                            capture_output=True, text=True, timeout=120, env={})
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    for module, file in report["where"].items():
        assert Path(file).is_relative_to(unpacked), f"{module} came from {file}, not from the artifact"
    # Unconfigured, the action answers with a clear error naming what is missing.
    assert "apihost" in report["result"]["error"], report["result"]


@pytest.mark.parametrize("module", COMPILED_MODULES)
def test_orjson_and_isal_ship_compiled_for_linux_x86_64_cpython_311(built, names, module):
    assert module in names, f"no {module}: {[n for n in names if n.endswith('.so')]}"
    with zipfile.ZipFile(built[0]) as archive:
        header = archive.read(module)[:20]
    assert header[:4] == ELF_MAGIC, "not a Linux shared object"
    assert header[4] == 2 and header[5] == 1, "not a 64-bit little-endian ELF"
    assert int.from_bytes(header[18:20], "little") == EM_X86_64, "not built for x86_64"


def test_every_other_dependency_stays_pure_python(built, names):
    """Compiled code for any other platform (or for the build machine) would break some deploys."""
    with zipfile.ZipFile(built[0]) as archive:
        native = [n for n in names if n.endswith((".so", ".pyd", ".dylib", ".dll"))
                  or archive.read(n)[:4] == ELF_MAGIC]
    assert sorted(n for n in native if n != FAST_PATH_MODULE) == COMPILED_MODULES  # logfwd's own: below


def test_the_c_fast_path_ships_compiled_here_and_its_source_does_not(built, names, tmp_path):
    assert not [n for n in names if n.endswith((".c", ".h"))]
    if FAST_PATH_MODULE not in names:  # left out only for a reason the build names, and only that kind
        wanted = ("no C compiler here", "no Python headers here") if ON_TARGET else ("not the action's platform",)
        assert any(reason in built[2] for reason in wanted), built[2]
        return
    assert ON_TARGET, "compiled for the build machine, which is not the action's platform"
    build_action = _build_action()
    module = tmp_path / "module.so"
    with zipfile.ZipFile(built[0]) as archive:
        module.write_bytes(archive.read(FAST_PATH_MODULE))
    assert module.read_bytes()[:4] == ELF_MAGIC and int.from_bytes(module.read_bytes()[18:20], "little") == EM_X86_64
    # Like every compiled module of the zip (manylinux2014): no glibc newer than 2.17.
    assert build_action.glibc_needed(module) <= (2, 17)
    # Nothing of the build machine: no run path into its Python, and no library but the C library.
    dynamic = subprocess.run(["readelf", "-d", str(module)], capture_output=True, text=True, check=True).stdout
    assert "RPATH" not in dynamic and "RUNPATH" not in dynamic, dynamic
    assert re.findall(r"\(NEEDED\).*\[(.*)\]", dynamic) == ["libc.so.6"], dynamic


@pytest.mark.skipif(not ON_TARGET, reason="the artifact's compiled modules load only on Linux x86_64 glibc CPython 3.11")
def test_the_unzipped_artifact_writes_events_with_its_own_c_fast_path(unpacked, names, built):
    if FAST_PATH_MODULE not in names:
        pytest.skip(f"the build left the C fast path out, saying why: {built[2].strip()[-200:]}")
    probe = (
        "from logfwd.sources.openwhisk import events\n"
        "record = {'activationId': 'a1', 'namespace': 'guest', 'start': 1700000000000, 'annotations': [],\n"
        "          'logs': ['2023-11-14T22:13:20.178483919Z stdout: caf\\u00e9 \\\"q\\\" \\t',\n"
        "                   '2023-11-14T22:13:20.1784Z      stderr: trimmed', 'bare text']}\n"
        "fast = events.activation_events(record).heads\n"
        "module = sys.modules['logfwd.sources.openwhisk._plainlines'].__file__\n"
        "from logfwd.sources.openwhisk import plainlines\n"
        "events._plain_heads = plainlines.python_heads\n"
        "print(json.dumps({'module': module, 'same': fast == events.activation_events(record).heads}))\n"
    )
    report = _isolated(probe, unpacked)
    assert Path(report["module"]).is_relative_to(unpacked / "logfwd"), report["module"]
    assert report["same"]


@pytest.mark.skipif(not ON_TARGET, reason="the artifact's orjson loads only on Linux x86_64 glibc CPython 3.11")
def test_the_unzipped_artifact_imports_its_own_orjson_and_isal(unpacked):
    probe = (
        "import zlib\n"
        "import orjson\n"
        "from isal import isal_zlib\n"
        "from logfwd.codecs import deflate\n"
        "print(json.dumps({'file': orjson.__file__, 'dumped': orjson.dumps({'a': 1}).decode(),\n"
        "                  'isal': isal_zlib.__file__, 'engine': deflate.ENGINE,\n"
        "                  'inflated': zlib.decompress(deflate.compress(b'abc' * 99, 3)).decode()}))\n"
    )
    report = _isolated(probe, unpacked)
    assert Path(report["file"]).is_relative_to(unpacked / "orjson"), report["file"]
    assert report["dumped"] == '{"a":1}'
    assert Path(report["isal"]).is_relative_to(unpacked / "isal"), report["isal"]
    assert report["engine"] == "isal" and report["inflated"] == "abc" * 99


def _isolated(probe: str, unpacked: Path) -> dict:
    """What ``probe`` prints (JSON), run on the unzipped action by an interpreter with no user site, no
    PYTHON* variables and no site-packages: the venv's modules are out of its reach."""
    probe = "import json, sys\nsys.path.insert(0, sys.argv[1])\n" + probe
    result = subprocess.run([sys.executable, "-I", "-S", "-c", probe, str(unpacked)],
                            capture_output=True, text=True, timeout=60, env={})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _build_action():
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_action_under_test", BUILD)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not ON_TARGET, reason="the build compiles the C fast path only on the action's platform")
def test_a_module_needing_a_newer_glibc_or_no_compiler_is_left_out_saying_why(tmp_path, monkeypatch, capsys):
    build_action = _build_action()
    tree = tmp_path / "tree"
    (tree / "logfwd" / "sources" / "openwhisk").mkdir(parents=True)
    if build_action.compile_fast_path(tree) is None:
        pytest.skip(f"nothing here to compile it: {capsys.readouterr().err.strip()}")
    monkeypatch.setattr(build_action, "GLIBC_MAX", (2, 0))  # as if the platform's glibc were older than memcpy's
    assert build_action.compile_fast_path(tree) is None
    assert "needs glibc 2." in capsys.readouterr().err and not list(tree.rglob("*.so"))
    monkeypatch.setattr(build_action.shutil, "which", lambda name: None)
    assert build_action.compile_fast_path(tree) is None
    assert "no C compiler here" in capsys.readouterr().err and not list(tree.rglob("*.so"))
