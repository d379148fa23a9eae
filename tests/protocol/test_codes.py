"""The one error table: every error code has an HTTP status, a REST code and a close code."""

from __future__ import annotations

import contextlib
import importlib
import pkgutil

import pytest

import docstream
from docstream import errors
from docstream.errors import DocStreamError
from docstream.protocol import codes
from docstream.protocol.codes import ERRORS, ErrorOutcome, close_code, outcome_of
from docstream.protocol.session import PERMANENT_ERRORS


def every_error_class() -> list[type[DocStreamError]]:
    """DocStreamError and every subclass of it anywhere in the package."""
    for module in pkgutil.walk_packages(docstream.__path__, "docstream."):
        if module.name.endswith("__main__"):
            continue  # running it is the command line
        with contextlib.suppress(ImportError):  # optional extras (the desktop toolkit)
            importlib.import_module(module.name)
    found: list[type[DocStreamError]] = []
    pending: list[type[DocStreamError]] = [DocStreamError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


@pytest.mark.parametrize("cls", every_error_class(), ids=lambda cls: cls.__name__)
def test_every_error_class_has_its_code_in_the_table(cls: type[DocStreamError]) -> None:
    assert cls.code in ERRORS, f"{cls.__name__}.code {cls.code!r} is missing from the table"


def test_every_code_in_the_table_belongs_to_an_error_class() -> None:
    assert set(ERRORS) == {cls.code for cls in every_error_class()}


#: What each error class means on the wire (docs/protocol.md §5, §4 and docs/protocol.md).
EXPECTED = {
    errors.DocStreamError: (500, "INTERNAL_ERROR", 1011),
    errors.InvalidInputError: (400, "VALIDATION_ERROR", 1011),
    errors.ProtocolError: (400, "VALIDATION_ERROR", 1011),
    errors.CrdtError: (400, "VALIDATION_ERROR", 1011),
    errors.UnknownIdError: (400, "VALIDATION_ERROR", 1011),
    errors.DuplicateIdError: (400, "VALIDATION_ERROR", 1011),
    errors.StateFormatError: (500, "INTERNAL_ERROR", 1011),
    errors.TooLargeError: (413, "PAYLOAD_TOO_LARGE", 1009),
    errors.HostNotAllowedError: (400, "VALIDATION_ERROR", 1011),
    errors.UnauthorizedError: (401, "UNAUTHORIZED", 4401),
    errors.ForbiddenError: (403, "FORBIDDEN", 4403),
    errors.QuotaExceededError: (403, "QUOTA_EXCEEDED", 4403),
    errors.ReadOnlyError: (403, "FORBIDDEN", 4403),
    errors.ForbiddenReplicaError: (403, "FORBIDDEN", 4403),
    errors.NotFoundError: (404, "NOT_FOUND", 4404),
    errors.ConflictError: (409, "CONFLICT", 1011),
    errors.RateLimitedError: (429, "RATE_LIMIT_EXCEEDED", 4429),
    errors.StorageError: (503, "SERVICE_UNAVAILABLE", 1011),
    errors.BrokerError: (503, "SERVICE_UNAVAILABLE", 1011),
    errors.ConfigurationError: (500, "INTERNAL_ERROR", 1011),
    errors.PersistenceError: (500, "INTERNAL_ERROR", 1011),
    errors.UnsupportedFormatError: (500, "INTERNAL_ERROR", 1011),
    errors.DesktopError: (500, "INTERNAL_ERROR", 1011),
}


@pytest.mark.parametrize("cls", list(EXPECTED), ids=lambda cls: cls.__name__)
def test_each_error_becomes_its_status_rest_code_and_close_code(cls: type[DocStreamError]) -> None:
    exc = cls("detail")
    assert outcome_of(exc) == ErrorOutcome(*EXPECTED[cls])
    assert close_code(exc) == EXPECTED[cls][2]


def test_the_expectations_cover_every_error_class() -> None:
    assert set(EXPECTED) >= set(every_error_class())


def test_an_error_relaying_another_code_is_answered_by_that_code() -> None:
    relayed = DocStreamError("the restore was not saved", code="storage_unavailable")
    assert outcome_of(relayed) == ErrorOutcome(503, "SERVICE_UNAVAILABLE", 1011)


def test_an_unknown_code_is_an_internal_error() -> None:
    assert outcome_of(DocStreamError("?", code="no_such_code")) == ERRORS["internal"]


def test_every_error_code_of_the_socket_is_in_the_table() -> None:
    sent_in_error_frames = {
        "bad_message",
        "read_only",
        "unknown_id",
        "duplicate_id_conflict",
        "forbidden_replica",
        "too_large",
        "rate_limited",
        "internal",
        "storage_unavailable",
    }
    assert sent_in_error_frames <= set(ERRORS)
    assert set(PERMANENT_ERRORS) <= sent_in_error_frames


def test_close_codes_are_distinct_and_the_documented_ones() -> None:
    close_codes = {
        name: value
        for name, value in vars(codes).items()
        if name.startswith("CLOSE_") and isinstance(value, int)
    }
    assert len(set(close_codes.values())) == len(close_codes)
    assert set(close_codes.values()) == {
        1000, 1001, 1009, 1011, 1013, 4000, 4400, 4401, 4403, 4404, 4408, 4429
    }  # fmt: skip
    assert {outcome.close_code for outcome in ERRORS.values()} <= set(close_codes.values())
    assert {4400, 4403, 4404} == codes.FINAL_CLOSE_CODES
