"""What compiling the de-identification rules buys (issue 12): pure Python, mypyc, Cython.

The scrubber's floor is per-word Python in the rule modules (``activities/deid/``)
and libphonenumber's per-candidate judgement. This bench measures what compiling
the rule modules, unchanged, gives on the whole pseudonymize run with notes:

1. Copies the checked-in tree (``git ls-files``, this checkout's files) into a
   temporary directory per compiler and compiles ``activities/deid/*.py`` there,
   in place, so the copy imports the extensions instead of the sources:
   **mypyc** (``mypycify``, shipped with mypy; one group per module, since one
   group for all makes mypy order the rule modules' import cycle differently and
   fail with "Cannot determine type"; ``phone_match.py`` left out, mypyc cannot
   compile a subclass of libphonenumber's Python class) and **Cython** 3 in
   pure-Python mode (every module; not a dependency: ``pip install cython``). A
   compiler that is missing or fails is reported and left out.
2. Runs ``bench.deid.pseudonymize`` (first pass, scrubber, Parquet out) on the same
   corpus in a child process per trial, alternating pure / compiled, and keeps the
   best of ``--trials`` by the child's CPU seconds (the machine may be shared).
3. Checks that every variant's scrubbed notes column hashes the same (SHA-256).

Starts only its children: the compile steps and the trials, each killed past its
deadline and on SIGTERM/SIGINT (``_procs``); the temporary trees are removed.
``.venv/bin/python bench/deid_native.py [--rows 60000] [--trials 3]
[--compilers mypyc,cython]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import _procs  # noqa: E402

DEID = "medpipe/activities/deid"
#: What each compiler builds: (modules left out, the build script's body). The
#: script runs in the copy's root with ``paths``, the modules to compile.
BUILDS = {
    "mypyc": (("phone_match.py",),
              "from mypyc.build import mypycify\n"
              "ext = mypycify(paths, separate=True)\n"),
    "cython": ((),
               "from Cython.Build import cythonize\n"
               "from setuptools import Extension\n"
               "ext = cythonize([Extension(p[:-3].replace('/', '.'), [p]) for p in paths],\n"
               "                compiler_directives={'language_level': 3}, quiet=True)\n"),
}
_SETUP = ("import glob\nfrom setuptools import setup\n"
          "paths = sorted(p for p in glob.glob({deid!r} + '/*.py')\n"
          "               if not p.endswith(('__init__.py',) + {skip!r}))\n"
          "{body}"
          "setup(name='deid-native', ext_modules=ext, packages=[],\n"
          "      script_args=['build_ext', '--inplace'])\n")


def copy_tree(dest: Path) -> None:
    """This checkout's tracked files (symlinks kept: ``medpipe/activities`` is one)."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True,
                           capture_output=True).stdout.decode().split("\0")
    for name in filter(None, files):
        src, dst = ROOT / name, dest / name
        if not src.exists() and not src.is_symlink():
            continue  # deleted in the work tree
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst, follow_symlinks=False)


def run_child(argv: list[str], cwd: Path, seconds: float, log: Path) -> str | None:
    """Run a child in its own session to the end or its deadline; its stdout, or None."""
    with open(log, "w") as err:
        proc = _procs.spawn(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=err, text=True)
        ended = _procs.finish(proc, seconds)
        if ended is None:
            print(f"  {' '.join(argv[1:4])}: no result within {seconds:.0f} s (killed)")
            return None
        out = ended[0]
        _procs.kill(proc)  # its group, should it have left anything behind
    if proc.returncode != 0:
        print(f"  {' '.join(argv[1:4])}: exit {proc.returncode}; last lines of {log.name}:\n    "
              + "\n    ".join(log.read_text().splitlines()[-5:]))
        return None
    return out


def build(compiler: str, tree: Path, seconds: float) -> bool:
    """Compile the rule modules of ``tree`` in place; whether it worked (printed)."""
    skip, body = BUILDS[compiler]
    script = tree / f"build_{compiler}.py"
    script.write_text(_SETUP.format(deid=DEID, skip=skip, body=body))
    t0 = time.monotonic()
    ok = run_child([sys.executable, script.name], tree, seconds, tree / "build.log") is not None
    built = len(list((tree / DEID).glob("*.so")))
    print(f"{compiler}: {'built' if ok else 'failed'} in {time.monotonic() - t0:.0f} s wall "
          f"({built} extension files; left out: {', '.join(skip) or 'none'})")
    return ok and built > 0


def child(tree: Path, rows: int, seed: int) -> None:
    """One trial, in this process, on ``tree``'s modules: the pseudonymize run; prints a JSON
    line."""
    import hashlib
    import random

    sys.path.insert(0, str(tree))  # its medpipe (compiled or not); the corpus is the same
    from bench._deid_corpus import SETS, make_identities, make_note
    from bench.deid import pseudonymize, table

    rng = random.Random(seed)
    people = make_identities(max(100, 4000 // 8), seed)
    sets = list(SETS)
    big = table([make_note(rng, people, sets[i % len(sets)], i) for i in range(rows)])
    with tempfile.TemporaryDirectory() as d:
        out, seconds = pseudonymize(big, Path(d) / "native.parquet")
    compiled = sum(1 for name, m in list(sys.modules.items())
                   if name.startswith("medpipe.activities.deid.") and not name.endswith("__mypyc")
                   and not str(getattr(m, "__file__", "")).endswith(".py"))
    digest = hashlib.sha256()
    for note in out.column("notes").to_pylist():
        digest.update((note or "").encode() + b"\0")
    print(json.dumps({"seconds": seconds, "sha256": digest.hexdigest(), "compiled": compiled}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=60_000)
    ap.add_argument("--trials", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--compilers", default=",".join(BUILDS))
    ap.add_argument("--build-seconds", type=float, default=1800.0)
    ap.add_argument("--trial-seconds", type=float, default=900.0)
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)  # a trial on this tree
    args = ap.parse_args()
    if args.child:
        child(args.child, args.rows, args.seed)
        return
    _procs.install()
    unknown = set(args.compilers.split(",")) - set(BUILDS)
    if unknown:
        ap.error(f"unknown compilers: {', '.join(sorted(unknown))} (known: {', '.join(BUILDS)})")
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="medpipe-native-") as d:
        trees = {"pure": ROOT}
        for compiler in filter(None, args.compilers.split(",")):
            tree = Path(d) / compiler
            copy_tree(tree)
            if build(compiler, tree, args.build_seconds):
                trees[compiler] = tree
        best: dict[str, float] = dict.fromkeys(trees, float("inf"))
        hashes: dict[str, set[str]] = {name: set() for name in trees}
        for trial in range(args.trials):
            for name, tree in trees.items():
                out = run_child([sys.executable, __file__, "--child", str(tree), "--rows",
                                 str(args.rows), "--seed", str(args.seed)], tree,
                                args.trial_seconds, Path(d) / f"{name}-{trial}.log")
                if out is None:
                    continue
                got = json.loads(out.strip().splitlines()[-1])
                best[name] = min(best[name], got["seconds"])
                hashes[name].add(got["sha256"])
                print(f"  trial {trial + 1} {name:<6} {args.rows / got['seconds']:>7,.0f} "
                      f"rows/CPU-s ({got['compiled']} rule modules compiled)")
        pure = best["pure"]
        print(f"pseudonymize with notes, {args.rows:,} rows, best of {args.trials} "
              f"(CPU s of the child; load now {os.getloadavg()[0]:.2f}):")
        for name in trees:
            if not hashes[name]:
                print(f"  {name:<6} no trial ended")
                continue
            same = "same output" if hashes[name] == hashes["pure"] and len(hashes[name]) == 1 \
                else "OUTPUT DIFFERS"
            digests = "/".join(h[:12] for h in sorted(hashes[name]))
            print(f"  {name:<6} {args.rows / best[name]:>7,.0f} rows/CPU-s   "
                  f"x{pure / best[name]:.2f}   sha256 {digests} ({same})")


if __name__ == "__main__":
    main()
