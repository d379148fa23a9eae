"""The open-file limit: ``docstream serve`` started with a low soft limit raises it to the hard
limit (its main process and its granian worker, which serves the sockets), says so in its log, and
never lowers a limit or fails to start because of it."""

from __future__ import annotations

import logging
import os
import resource
import sys
from pathlib import Path

import pytest

from docstream import fdlimit
from testkit.processes import run_server

LOW = 256


def _soft_limit(pid: int) -> int:
    """The soft "Max open files" of a running process, as the kernel reports it."""
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            return int(line.split()[3])
    raise AssertionError(f"no open-file limit in /proc/{pid}/limits")


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def _lower_soft_limit() -> None:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (LOW, hard))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/<pid>/limits")
def test_serve_raises_a_low_soft_limit_to_the_hard_limit() -> None:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    cap = fdlimit.MAX_NOFILE
    expected = cap if hard == resource.RLIM_INFINITY else min(hard, cap)
    if expected <= LOW:
        pytest.skip(f"the hard limit ({hard}) leaves nothing to raise")
    with run_server(preexec_fn=_lower_soft_limit) as server:
        workers = _children(server.pid)
        assert workers, "granian started no worker process"
        for pid in [server.pid, *workers]:
            assert _soft_limit(pid) == expected, f"pid {pid}: {Path(f'/proc/{pid}/limits')}"
        log = server.log()
        assert f"open-file limit raised from {LOW} to {expected}" in log, log


def test_a_soft_limit_already_high_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(resource, "getrlimit", lambda _: (resource.RLIM_INFINITY, 4096))
    monkeypatch.setattr(resource, "setrlimit", lambda _, limits: calls.append(limits))
    assert fdlimit.raise_nofile_limit() == resource.RLIM_INFINITY
    assert calls == []  # an unlimited soft limit is never lowered to the hard one


def test_an_unlimited_hard_limit_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(resource, "getrlimit", lambda _: (1024, resource.RLIM_INFINITY))
    monkeypatch.setattr(resource, "setrlimit", lambda _, limits: calls.append(limits))
    assert fdlimit.raise_nofile_limit() == fdlimit.MAX_NOFILE
    assert calls == [(fdlimit.MAX_NOFILE, resource.RLIM_INFINITY)]


def test_a_refusal_is_a_warning_not_a_failure(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(_: int, __: tuple[int, int]) -> None:
        raise ValueError("not allowed here")

    monkeypatch.setattr(resource, "getrlimit", lambda _: (1024, 65536))
    monkeypatch.setattr(resource, "setrlimit", refuse)
    with caplog.at_level(logging.WARNING, logger="docstream.limits"):
        assert fdlimit.raise_nofile_limit() == 1024
    assert "could not raise the open-file limit from 1024 to 65536" in caplog.text
