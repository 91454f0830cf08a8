"""Regenerate src/travelgate/_pb from proto/ (the only producer of generated code).

Usage: python scripts/genproto.py [--check]

--check regenerates into a temporary folder and exits 1 when the result differs from
the committed tree, so CI notices hand edits and stale output.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
PACKAGE = Path("travelgate") / "_pb"
HEADER = '"""Generated protobuf code. Do not edit: run `make proto`."""\n'


def _protos() -> list[str]:
    return sorted(str(p.relative_to(PROTO_ROOT)) for p in (PROTO_ROOT / PACKAGE).rglob("*.proto"))


def generate(out_root: Path) -> None:
    """Compile every proto under proto/travelgate/_pb into out_root/travelgate/_pb."""
    import grpc_tools

    include = Path(grpc_tools.__file__).parent / "_proto"
    target = out_root / PACKAGE
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    cmd = [
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{include}",
        f"--python_out={out_root}",
        f"--grpc_python_out={out_root}",
        f"--mypy_out={out_root}",
        f"--mypy_grpc_out=only_async:{out_root}",
        *_protos(),
    ]
    # protoc finds the mypy plugins on PATH: they live beside this interpreter.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(cmd, cwd=PROTO_ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"protoc failed:\n{done.stderr}")
    for folder in [target, *(p for p in target.rglob("*") if p.is_dir())]:
        (folder / "__init__.py").write_text(HEADER)
    (target / "py.typed").write_text("")


def _differences(a: Path, b: Path) -> list[str]:
    cmp = filecmp.dircmp(a, b, ignore=["__pycache__"])
    found = [f"only in {cmp.left}: {n}" for n in cmp.left_only]
    found += [f"only in {cmp.right}: {n}" for n in cmp.right_only]
    found += [f"differs: {a / n}" for n in cmp.diff_files]
    for sub in cmp.common_dirs:
        found += _differences(a / sub, b / sub)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="fail when the committed code is stale"
    )
    args = parser.parse_args()
    if not args.check:
        generate(ROOT / "src")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp))
        diffs = _differences(ROOT / "src" / PACKAGE, Path(tmp) / PACKAGE)
    if diffs:
        print("generated code is stale; run `make proto` and commit:", *diffs, sep="\n  ")
        return 1
    print("generated code is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
