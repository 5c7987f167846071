"""The README's first command ends in `qike demo`: it must start, serve, and start again quickly."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import httpx
import pytest

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run_demo(home, port: int, sim_port: int) -> str:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "QIKE_SECRET_KEY", "QIKE_ENCRYPTION_KEY"}
    }
    env["QIKE_HOME"] = str(home)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "qike.cli",
            "demo",
            "--port",
            str(port),
            "--sim-port",
            str(sim_port),
            "--duration",
            "1",
            "--staff",
            "6",
            "--customers",
            "60",
            "--traffic",
            "0",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_demo_starts_serves_and_restarts_on_its_own_data(tmp_path):
    port, sim_port = _free_port(), _free_port()
    first = _run_demo(tmp_path, port, sim_port)
    assert f"Qike is running:        http://127.0.0.1:{port}/" in first
    assert "log in as:              admin / " in first
    assert '"customers": 60' in first  # the first run synced the seeded corp

    second = _run_demo(tmp_path, port, sim_port)
    assert "seeding" not in second and "synced:" not in second  # reused
    password = first.split("admin / ")[1].split()[0]
    assert f"admin / {password}" in second
    with pytest.raises(httpx.ConnectError):  # stopped cleanly: nothing left listening
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)


def test_the_demo_serves_the_console_with_its_front_end_files(tmp_path):
    """The console's htmx, Alpine.js and ECharts come from npm; gunicorn must serve them."""
    port, sim_port = _free_port(), _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "QIKE_SECRET_KEY", "QIKE_ENCRYPTION_KEY"}
    }
    env["QIKE_HOME"] = str(tmp_path)
    demo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "qike.cli",
            "demo",
            "--port",
            str(port),
            "--sim-port",
            str(sim_port),
            "--duration",
            "60",
            "--staff",
            "4",
            "--customers",
            "20",
            "--traffic",
            "0",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        for line in demo.stdout:
            if "Qike is running" in line:
                break
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/login/", timeout=10).status_code == 200
        for name in ("htmx.min.js", "alpine.min.js", "echarts.min.js"):
            answer = httpx.get(f"{base}/static/vendor/{name}", timeout=10)
            assert answer.status_code == 200, name
            assert len(answer.content) > 10_000, name
    finally:
        demo.terminate()
        demo.wait(timeout=30)
    # SIGTERM stops the demo's simulator, web server and worker too, not just the demo itself.
    for stopped in (port, sim_port):
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{stopped}/", timeout=2)
