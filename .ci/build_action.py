"""Build the deployable zips: the ``logfwd`` library (what a run imports: entries, sources, sinks,
codecs, checkpoint stores; not the command line in ``logfwd/cli`` nor the development tools in
``logfwd_dev``) and its runtime dependencies vendored next to it, and nothing else (no tests, caches,
scripts or package metadata beyond the dependencies' license texts).

    .venv/bin/python .ci/build_action.py --out build/logfwd-action.zip

writes three zips:
- ``build/logfwd-action.zip``, the OpenWhisk action, ``__main__.py`` at the root (wskdeploy's
  manifest.yaml deploys it; the web action of a log drain uses the same zip);
- ``build/serverless/logfwd-action.zip``, the same files with the entry stored at ``actions/__main__.py``:
  serverless-openwhisk looks the handler ``actions/__main__.main`` up at that path in the artifact
  and moves it to ``__main__.py`` at the root, which yields exactly the first zip;
- ``build/logfwd-lambda.zip``, the AWS Lambda function (handler ``logfwd.entries.aws_lambda.handler``,
  runtime python3.11): the same library and dependencies without the OpenWhisk entry. boto3, which
  the S3 source uses, is part of Lambda's Python runtime and is not shipped.

Dependencies are pinned to the versions installed in the running (tested) environment and fetched
as pure-Python wheels, except those in ``PLATFORM_WHEELS`` (orjson, isal), fetched as compiled wheels for the
action's platform, Linux x86_64 glibc CPython 3.11. pip is given that target, never the build machine's,
so the vendored files do not depend on which machine builds the zip, and the zip is for that platform
only. Modules are precompiled to ``unchecked-hash`` bytecode: a cold start then skips compiling (the
import is about twice as fast, measured on the artifact), and the runtime never rejects the bytecode
because the unzipped files carry other timestamps. Entries are sorted and dated 1980-01-01, so the same inputs
give the same bytes. Standard library only.

logfwd's own compiled module, the C fast path of the OpenWhisk line loop (``FAST_PATH``), is compiled
here from its source with fixed flags (``FAST_PATH_FLAGS``; never the working tree's module, nor this
Python's or the environment's flags), and shipped only when this machine is the action's platform and
the module needs nothing from glibc newer than manylinux2014's 2.17; else the zip leaves it out, saying
why, and the action runs the Python path, which writes the same bytes.
"""

import argparse
import compileall
import importlib.metadata
import os
import platform
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ACTIONS = ROOT / "actions"
ENTRY = "__main__.py"
SERVERLESS_ENTRY = "actions/__main__.py"
TARGET_PYTHON = (3, 11)  # the action kind is python:3.11
# Dependencies that ship compiled for the action's platform: glibc 2.17+ (manylinux2014) covers every
# Linux x86_64 image of the python:3.11 kind. Every other dependency stays pure Python.
PLATFORM_WHEELS = {"orjson", "isal"}
TARGET_PLATFORM = ["--platform", "manylinux2014_x86_64", "--implementation", "cp", "--abi", "cp311"]
PURE_PYTHON = ["--platform", "any", "--implementation", "py", "--abi", "none"]
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
FAST_PATH = ("logfwd/sources/openwhisk/_plainlines.c", "logfwd/sources/openwhisk/_plainlines")  # source, module
# Generic x86-64 code (never the build machine's own: -march=native would be SIGILL elsewhere), no
# debugging sections (they carry the build directory), no run path: the same inputs give the same bytes.
FAST_PATH_FLAGS = ["-shared", "-fPIC", "-O2", "-g0", "-fwrapv", "-DNDEBUG", "-march=x86-64", "-mtune=generic"]
GLIBC_MAX = (2, 17)
TERMINAL_ONLY = ("cli", "__main__.py")  # inside logfwd/: the command line, which no run imports
# Not needed to run the action: caches, stubs, tests, console scripts and install metadata.
DROPPED_DIRS = {"__pycache__", "tests", "test", "bin"}
DROPPED_SUFFIXES = {".pyc", ".pyo", ".pyi"}
# Unused parts of isal: its gzip file API and the docs of the ISA-L sources (their LICENSE stays).
DROPPED_FILES = {"isal/igzip.py", "isal/igzip_threaded.py", "isal/isa-l/CMakeLists.txt",
                 "isal/isa-l/MAINTAINERS.md", "isal/isa-l/README.md", "isal/isa-l/Release_notes.txt"}


def runtime_requirements() -> list[str]:
    """The project's runtime dependencies, pinned to the versions the tests ran with."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pinned = []
    for requirement in project["dependencies"]:
        name = requirement.split(";")[0].split("[")[0]
        for sep in "<>=!~ ":
            name = name.split(sep)[0]
        pinned.append(f"{name}=={importlib.metadata.version(name)}")
    return pinned


def environment_constraints() -> str:
    """``name==version`` for every installed distribution, so transitive dependencies match too."""
    lines = {f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions()
             if d.metadata["Name"] and d.metadata["Name"].lower() != "logfwd"}
    return "\n".join(sorted(lines)) + "\n"


def distribution_name(requirement: str) -> str:
    """PEP 503 normalized name of a pinned requirement: ``Foo_Bar==1.0`` -> ``foo-bar``."""
    return re.sub(r"[-_.]+", "-", requirement.split("==")[0]).lower()


def vendor(into: Path, work: Path) -> None:
    constraints = work / "constraints.txt"
    constraints.write_text(environment_constraints())
    requirements = runtime_requirements()
    compiled = [r for r in requirements if distribution_name(r) in PLATFORM_WHEELS]
    pure = [r for r in requirements if r not in compiled]
    # Tags name the target, never the build machine. One pip run per set of tags: the platform's tags
    # alone would also pick the compiled wheels other dependencies offer (charset-normalizer has some).
    for wheels, tags in ((pure, PURE_PYTHON), (compiled, TARGET_PLATFORM)):
        if not wheels:
            continue
        command = [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--target", str(into), "--no-compile", "--constraint", str(constraints),
            "--only-binary=:all:", *tags, "--python-version", ".".join(map(str, TARGET_PYTHON)),
            *wheels,
        ]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit(f"build_action: pip could not vendor {', '.join(wheels)} for {' '.join(tags)}:\n"
                     f"{result.stderr.strip()}\n"
                     "Check that PyPI is reachable (or pip's cache holds the wheels) and retry.")


def runs_the_target() -> bool:
    """Whether this machine can load the artifact's compiled modules (and so measure them)."""
    return (sys.implementation.name == "cpython" and sys.version_info[:2] == TARGET_PYTHON
            and platform.system() == "Linux" and platform.machine() == "x86_64"
            and platform.libc_ver()[0] == "glibc")


def copy_sources(into: Path) -> None:
    entry = ACTIONS / ENTRY
    if not entry.is_file():
        sys.exit(f"build_action: {entry} is missing: the action needs its entry point.")
    shutil.copy2(entry, into / ENTRY)
    # No C source, and no module compiled in the working tree (compile_fast_path builds its own).
    shutil.copytree(ACTIONS / "logfwd", into / "logfwd",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "*.c", "*.so"))
    # The command line is for terminals, not for a run: ``logfwd`` there is installed with pip.
    shutil.rmtree(into / "logfwd" / TERMINAL_ONLY[0])
    (into / "logfwd" / TERMINAL_ONLY[1]).unlink()


def glibc_needed(module: Path) -> tuple[int, int]:
    """The newest glibc version ``module`` asks for: the version names are strings of its dynamic section."""
    found = re.findall(rb"GLIBC_([0-9]+)\.([0-9]+)", module.read_bytes())
    return max(((int(a), int(b)) for a, b in found), default=(0, 0))


def compile_fast_path(tree: Path) -> Path | None:
    """Compiles the C fast path into ``tree``; None (with a note saying why) where it cannot ship."""
    source, module = FAST_PATH
    if not runs_the_target():
        return _left_out("this machine is not the action's platform (CPython 3.11, Linux x86_64, glibc)")
    compiler = shutil.which((sysconfig.get_config_var("CC") or "cc").split()[0]) or shutil.which("cc")
    headers = Path(sysconfig.get_paths()["include"])
    if compiler is None:
        return _left_out("no C compiler here")
    if not (headers / "Python.h").exists():
        return _left_out(f"no Python headers here ({headers})")
    out = tree / (module + sysconfig.get_config_var("EXT_SUFFIX"))
    # Only these flags, whatever this Python was built with or the environment sets (CFLAGS, LDFLAGS...).
    clean = {"PATH": os.environ.get("PATH", ""), "LC_ALL": "C"}
    result = subprocess.run([compiler, *FAST_PATH_FLAGS, f"-I{headers}", str(ACTIONS / source), "-o", str(out)],
                            env=clean, capture_output=True, text=True)
    if result.returncode != 0:
        return _left_out(f"it did not compile:\n{result.stderr.strip()}")
    needed = glibc_needed(out)
    if needed > GLIBC_MAX:
        out.unlink()
        return _left_out(f"compiled here it needs glibc {'.'.join(map(str, needed))}, newer than 2.17")
    return out


def _left_out(why: str) -> None:
    print(f"build_action: the zip leaves out the C fast path ({why}); the action runs the Python path, to the "
          "same bytes", file=sys.stderr)
    return None


def prune(tree: Path) -> None:
    for path in sorted(tree.rglob("*"), reverse=True):
        if not path.exists():
            continue
        relative = path.relative_to(tree)
        if path.is_dir() and path.name in DROPPED_DIRS:
            shutil.rmtree(path)
        elif path.is_file() and (path.suffix in DROPPED_SUFFIXES or relative.as_posix() in DROPPED_FILES):
            path.unlink()
        elif path.is_file() and relative.parts[0].endswith(".dist-info") and "licenses" not in relative.parts \
                and not path.name.upper().startswith(("LICENSE", "COPYING", "NOTICE")):
            path.unlink()  # keep only the license texts the dependencies ask to redistribute
    for path in sorted(tree.rglob("*"), reverse=True):
        if path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def compile_tree(tree: Path) -> bool:
    """Precompile when this interpreter matches the action kind; other bytecode would be ignored."""
    if sys.version_info[:2] != TARGET_PYTHON:
        print(f"build_action: Python {sys.version_info[0]}.{sys.version_info[1]} is not the action's "
              f"{TARGET_PYTHON[0]}.{TARGET_PYTHON[1]}: shipping sources without bytecode", file=sys.stderr)
        return False
    # Relative source paths in the bytecode keep the build directory out of it (reproducible bytes).
    ok = compileall.compile_dir(str(tree), quiet=1, workers=1, stripdir=str(tree), prependdir="",
                                invalidation_mode=compileall.py_compile.PycInvalidationMode.UNCHECKED_HASH)
    if not ok:
        sys.exit("build_action: a module does not compile; fix it before building.")
    # The runtime runs the entry under another name, so its own bytecode would never be used.
    shutil.rmtree(tree / "__pycache__", ignore_errors=True)
    return True


def write_zip(tree: Path, out: Path, entry_name: str | None = ENTRY) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".part")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        files = {path.relative_to(tree).as_posix(): path for path in tree.rglob("*") if path.is_file()}
        for name, path in sorted(files.items()):
            if name == ENTRY:
                if entry_name is None:
                    continue
                name = entry_name
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    partial.replace(out)


def import_seconds(artifact: Path, runs: int = 3) -> tuple[float, float]:
    """Seconds to load the entry, and the entry plus every module a run loads (``logfwd.runner``),
    in fresh interpreters that see no site-packages and write no bytecode, as on a cold start.
    The best of ``runs``: the other runs measure the machine's load, not the artifact.
    Compiled modules count only where they load, on the target platform."""
    modules = "logfwd.runner, requests, dateutil.parser, tenacity"
    modules += ", orjson, isal.isal_zlib" if runs_the_target() else ""
    probe = (
        "import importlib.util, sys, time\n"
        "start = time.perf_counter()\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "spec = importlib.util.spec_from_file_location('main__', sys.argv[1] + '/__main__.py')\n"
        "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "entry = time.perf_counter() - start\n"
        f"import {modules}\n"
        "print(entry, time.perf_counter() - start)\n"
    )
    timings = []
    with tempfile.TemporaryDirectory() as unpacked:
        with zipfile.ZipFile(artifact) as archive:
            archive.extractall(unpacked)
        for _ in range(runs):
            result = subprocess.run([sys.executable, "-I", "-S", "-B", "-c", probe, unpacked],
                                    capture_output=True, text=True, timeout=120)
            if result.returncode != 0:
                sys.exit(f"build_action: the built action does not import:\n{result.stderr.strip()}")
            timings.append(tuple(float(x) for x in result.stdout.split()))
    return min(t[0] for t in timings), min(t[1] for t in timings)


def build(out: Path, serverless_out: Path, lambda_out: Path, precompile: bool = True) -> None:
    with tempfile.TemporaryDirectory(prefix="logfwd-build-") as work:
        tree = Path(work) / "action"
        tree.mkdir()
        vendor(tree, Path(work))
        copy_sources(tree)
        compile_fast_path(tree)
        prune(tree)
        if precompile:
            compile_tree(tree)
        write_zip(tree, out)
        write_zip(tree, serverless_out, SERVERLESS_ENTRY)
        write_zip(tree, lambda_out, None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="the zip to write")
    parser.add_argument("--serverless-out", type=Path,
                        help="where to write the serverless-openwhisk variant (entry at actions/__main__.py); "
                             "default: serverless/<name> next to --out")
    parser.add_argument("--no-compile", dest="precompile", action="store_false",
                        help="ship sources only (slower cold start, smaller zip)")
    parser.add_argument("--no-measure", dest="measure", action="store_false",
                        help="skip the import-time measurement")
    parser.add_argument("--lambda-out", type=Path,
                        help="where to write the AWS Lambda zip; default: logfwd-lambda.zip next to --out")
    args = parser.parse_args(argv)
    serverless_out = args.serverless_out or args.out.parent / "serverless" / args.out.name
    lambda_out = args.lambda_out or args.out.parent / "logfwd-lambda.zip"
    build(args.out, serverless_out, lambda_out, args.precompile)
    with zipfile.ZipFile(args.out) as archive:
        files = len(archive.infolist())
        unpacked = sum(i.file_size for i in archive.infolist())
    print(f"{args.out}: {args.out.stat().st_size / 1024:.0f} KiB, {files} files, "
          f"{unpacked / 1024:.0f} KiB unpacked")
    print(f"{serverless_out}: the same files, entry at {SERVERLESS_ENTRY} for serverless-openwhisk")
    print(f"{lambda_out}: the same files without the OpenWhisk entry, for AWS Lambda "
          "(handler logfwd.entries.aws_lambda.handler)")
    if args.measure:
        entry, run = import_seconds(args.out)
        print(f"import time of the action entry (fresh interpreter, unzipped, best of 3): {entry * 1000:.0f} ms, "
              f"with every module a run loads: {run * 1000:.0f} ms")
        if not runs_the_target():
            print("build_action: this machine is not Linux x86_64 glibc CPython 3.11: the compiled modules "
                  f"({', '.join(sorted(PLATFORM_WHEELS))}) were not loaded, so the times leave them out",
                  file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
