"""Third-party front-end files (htmx, Alpine.js, ECharts), installed from npm at install time.

They are never committed: `qike assets` runs `npm ci` on the pinned package-lock.json into the data
directory and copies the few files the console serves into QIKE_HOME/vendor.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ASSETS = Path(__file__).resolve().parent / "assets"
VENDOR_FILES = {
    "htmx.min.js": "htmx.org/dist/htmx.min.js",
    "alpine.min.js": "alpinejs/dist/cdn.min.js",
    "echarts.min.js": "echarts/dist/echarts.min.js",
}


class AssetsError(RuntimeError):
    pass


def vendor_dir(home: Path) -> Path:
    return home / "vendor"


def installed(home: Path) -> bool:
    return all((vendor_dir(home) / name).exists() for name in VENDOR_FILES)


def install(home: Path, *, force: bool = False) -> Path:
    """Install the console's front-end packages; a no-op when they are already there."""
    target = vendor_dir(home)
    if installed(home) and not force:
        return target
    npm = shutil.which("npm")
    if npm is None:
        raise AssetsError("npm is not installed: the console's front-end packages need Node.js/npm")
    work = home / "assets"
    work.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy2(ASSETS / name, work / name)
    result = subprocess.run(
        [npm, "ci", "--omit=dev", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise AssetsError(f"npm ci failed:\n{result.stderr.strip()}")
    target.mkdir(parents=True, exist_ok=True)
    for name, source in VENDOR_FILES.items():
        shutil.copy2(work / "node_modules" / source, target / name)
    return target
