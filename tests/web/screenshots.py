"""Screenshots of the product for the docs, taken by the day-in-the-life browser test.

The test always takes them; where they go depends on FD_SCREENSHOTS: unset, into
var/test-artifacts/web/ (ignored by git, so a test run never dirties the tree); set to a
folder, there. Running this file refreshes the pictures in docs/screenshots/:

    PYTHONPATH=$PWD/src python tests/web/screenshots.py

which runs the browser tests that take pictures (day in the life, desktop, wallboard, admin)
with FD_SCREENSHOTS=docs/screenshots. The
viewport is 1280x800 and the shots are not full-page, so each picture stays small.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "var" / "test-artifacts" / "web"
DOCS = ROOT / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}
ENV = "FD_SCREENSHOTS"


def folder() -> Path:
    """Where the shots go now (made on demand)."""
    chosen = os.environ.get(ENV)
    target = ARTIFACTS if not chosen else ROOT / chosen  # an absolute `chosen` stays itself
    target.mkdir(parents=True, exist_ok=True)
    return target


def save(page: Any, name: str) -> Path:
    """A PNG of what the viewport shows now, as `<folder>/<name>.png`."""
    path = folder() / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


def main() -> int:
    env = dict(os.environ, **{ENV: str(DOCS)})
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    tests = [
        str(ROOT / "tests" / "web" / name)
        for name in (
            "test_day_in_the_life.py",
            "test_desktop_browser.py",
            "test_wallboard_browser.py",
            "test_admin_browser.py",
        )
    ]
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests]
    done = subprocess.run(command, cwd=ROOT, env=env, check=False)
    if done.returncode == 0:
        print(f"screenshots in {DOCS}: {', '.join(sorted(p.name for p in DOCS.glob('*.png')))}")
    return done.returncode


if __name__ == "__main__":
    raise SystemExit(main())
