"""The layer contracts of pyproject.toml hold, and they catch an upward import (the contract can fail)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("config", "claims", "members", "providers", "analytics", "ops")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(tree / "pyproject.toml")],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _copy_tree(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copy(ROOT / "pyproject.toml", tree)
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tree / package, ignore=shutil.ignore_patterns("__pycache__", "static")
        )
    return tree


def test_the_layer_contracts_are_kept(tmp_path: Path) -> None:
    result = _lint(_copy_tree(tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_an_upward_import_breaks_the_layers(tmp_path: Path) -> None:
    tree = _copy_tree(tmp_path)
    selectors = tree / "members" / "selectors.py"
    selectors.write_text(selectors.read_text() + "\nfrom claims.models import Claim  # noqa: E402,F401\n")

    result = _lint(tree)

    assert result.returncode == 1
    assert "members.selectors -> claims.models" in result.stdout
    assert "Apps in layers" in result.stdout and "BROKEN" in result.stdout


def test_the_floor_importing_a_domain_app_breaks_its_contract(tmp_path: Path) -> None:
    tree = _copy_tree(tmp_path)
    locks = tree / "ops" / "platform" / "locks.py"
    locks.write_text(locks.read_text() + "\nimport members.models  # noqa: E402,F401\n")

    result = _lint(tree)

    assert result.returncode == 1
    assert "The shared floor (ops.platform) imports no domain app BROKEN" in result.stdout
