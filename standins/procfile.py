"""Runs the Procfile's processes as a platform would (``release`` once, then ``web``), for the demo and tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

CHECKOUT = Path(__file__).resolve().parents[1]  # a platform runs the Procfile from the application's folder
DEFAULT_PROCFILE = CHECKOUT / "Procfile"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def procfile_command(name: str, procfile: Path = DEFAULT_PROCFILE) -> str:
    for line in procfile.read_text(encoding="utf-8").splitlines():
        if line.startswith(f"{name}:"):
            return line.split(":", 1)[1].strip()
    raise LookupError(f"no '{name}:' line in {procfile}")


def process_env(env: dict[str, str]) -> dict[str, str]:
    """This environment plus ``env``, with this interpreter's scripts (gunicorn, bridge) first on PATH."""
    scripts = str(Path(sys.executable).parent)
    return {**os.environ, **env, "PATH": f"{scripts}{os.pathsep}{os.environ.get('PATH', '')}"}


def run_bridge_command(env: dict[str, str], *args: str, stdin: str = "") -> str:
    """A ``bridge`` command against the same settings, as an operator types it; its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "bridge.cli", *args], input=stdin, env=process_env(env), capture_output=True,
        text=True, cwd=CHECKOUT,
    )  # fmt: skip
    if done.returncode:
        raise RuntimeError(f"bridge {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def run_release(env: dict[str, str], procfile: Path = DEFAULT_PROCFILE) -> None:
    """The ``release`` step: migrate the database."""
    command = procfile_command("release", procfile)
    subprocess.run(  # noqa: S602
        command, shell=True, env=process_env(env), cwd=procfile.parent, check=True, stdout=subprocess.DEVNULL
    )


class ProcfileProcess:
    """One Procfile process in its own process group, with its output in ``log_file``."""

    def __init__(self, name: str, env: dict[str, str], log_file: Path, procfile: Path = DEFAULT_PROCFILE) -> None:
        self.log_file = log_file
        with log_file.open("ab") as log:
            self._process = subprocess.Popen(  # noqa: S602 - a Procfile line is a shell command by definition
                "exec " + procfile_command(name, procfile),  # so the signal and exit code are the program's own
                shell=True,
                env=process_env(env),
                cwd=procfile.parent,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def running(self) -> bool:
        return self._process.poll() is None

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM to the whole process group, as a platform stops a dyno; return the exit code."""
        if self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGTERM)
        return self._process.wait(timeout=timeout)

    def kill(self) -> int:
        """SIGKILL: a crash, with no chance to clean up."""
        if self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGKILL)
        return self._process.wait(timeout=10)


class WebProcess(ProcfileProcess):
    """The ``web`` process (gunicorn) on a free loopback port, with its output in ``log_file``."""

    def __init__(self, env: dict[str, str], log_file: Path, procfile: Path = DEFAULT_PROCFILE) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        # gunicorn reads GUNICORN_CMD_ARGS after its config file: loopback only, never every interface.
        local = {"PORT": str(port), "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port}"}
        super().__init__("web", {**env, **local}, log_file, procfile)

    def wait_until_ready(self, limit: float = 30.0) -> WebProcess:
        """Poll /readyz until it answers 200: a start-up wait, like a platform's health check."""
        give_up = time.monotonic() + limit
        while time.monotonic() < give_up:
            if self._process.poll() is not None:
                raise RuntimeError(f"the web process exited with code {self._process.returncode}; see {self.log_file}")
            try:
                if requests.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return self
            except (requests.ConnectionError, requests.Timeout):
                pass  # not listening yet, or its workers are still importing the app
            time.sleep(0.1)
        raise TimeoutError(f"{self.url} was not ready within {limit:.0f}s; see {self.log_file}")
