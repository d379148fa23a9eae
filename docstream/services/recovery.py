"""The account-recovery services as one ``Services`` field: password reset links, personal API
tokens, and the extensions their routes tell what happened (the audit log listens there)."""

from __future__ import annotations

from dataclasses import dataclass

from docstream.collab.extensions import Extensions
from docstream.services.api_tokens import ApiTokens
from docstream.services.resets import PasswordResets


@dataclass(frozen=True, slots=True)
class Recovery:
    resets: PasswordResets
    tokens: ApiTokens
    extensions: Extensions
