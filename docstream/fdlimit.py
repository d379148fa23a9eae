"""Raise the open-file limit when a server starts.

Every client socket is a file descriptor, and so is every database file, log and listening
socket. Most systems start a process with a *soft* ``RLIMIT_NOFILE`` of 1,024 (the hard limit is
often far higher), which caps one server at about 1,000 connected clients: past it ``accept``
fails with ``EMFILE`` and new clients hang or are refused while the machine has memory and CPU to
spare. A process may raise its own soft limit up to its hard limit without any privilege, so
``docstream serve`` and ``docstream desktop`` do that once at start, before granian starts its
workers (they inherit it). Raising the hard limit itself is the operator's business (systemd's
``LimitNOFILE=``, Docker's ``--ulimit nofile=``, ``/etc/security/limits.conf``).

Nothing here may stop a server from starting: where the limit cannot be read or raised (Windows has
no ``resource`` module; a sandbox may refuse), it logs a warning and carries on with the limit it
has.
"""

from __future__ import annotations

import logging

log = logging.getLogger("docstream.limits")

#: The most we ask for even when the hard limit is higher (or unlimited): every descriptor costs
#: kernel memory only when open, but some libraries size tables by the limit (``select``-era code,
#: ``close_fds`` loops over every possible descriptor).
MAX_NOFILE = 1_048_576


def raise_nofile_limit(maximum: int = MAX_NOFILE) -> int | None:
    """Raise this process's soft ``RLIMIT_NOFILE`` to its hard limit (at most ``maximum``).

    Returns the soft limit in force afterwards, or None where the platform has no such limit.
    Logs the new limit at info level, and a warning (never an exception) if it cannot be raised.
    """
    try:
        import resource
    except ImportError:  # Windows: no RLIMIT_NOFILE; its handle limit is far above ours
        return None
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (OSError, ValueError) as exc:
        log.warning("could not read the open-file limit: %s", exc)
        return None
    target = maximum if hard == resource.RLIM_INFINITY else min(hard, maximum)
    if soft == resource.RLIM_INFINITY or soft >= target:  # never lowered
        log.info("open-file limit %s (hard limit %s)", _show(soft), _show(hard))
        return int(soft)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (OSError, ValueError) as exc:
        log.warning(
            "could not raise the open-file limit from %d to %d (%s): this process can hold about "
            "%d sockets",
            soft,
            target,
            exc,
            soft,
        )
        return int(soft)
    log.info("open-file limit raised from %d to %d (hard limit %s)", soft, target, _show(hard))
    return target


def _show(limit: int) -> str:
    import resource

    return "unlimited" if limit == resource.RLIM_INFINITY else str(limit)
