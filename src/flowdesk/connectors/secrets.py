"""`{{secrets.NAME}}` placeholders (the Zeebe connectors' syntax) in connector inputs.

The model and the process variables keep the placeholder; the value is put in only when the
request is built, just before it is sent, so it never reaches the instance state, the event log
or an incident message (every value used is remembered and masked in error texts). Values come
from FLOWDESK_SECRETS (a JSON object) and FLOWDESK_SECRET_<NAME> environment variables, the
latter winning, so a deployment can keep each secret in its own variable.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from flowdesk.core.errors import ConfigurationError

PLACEHOLDER = re.compile(r"\{\{\s*secrets\.([A-Za-z0-9_\-]+)\s*\}\}")
ENV_PREFIX = "FLOWDESK_SECRET_"


class MissingSecret(ConfigurationError):
    """A placeholder names a secret that is not configured."""


class Secrets:
    def __init__(
        self, values: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None
    ) -> None:
        self._values = dict(values or {})
        env = os.environ if environ is None else environ
        for key, value in env.items():
            if key.startswith(ENV_PREFIX) and len(key) > len(ENV_PREFIX):
                self._values[key[len(ENV_PREFIX) :]] = value

    def lookup(self, name: str) -> str:
        for candidate in (name, name.upper()):
            if candidate in self._values:
                return self._values[candidate]
        raise MissingSecret(
            f"secret '{name}' is not configured",
            hint=f"set {ENV_PREFIX}{name.upper()} or add it to FLOWDESK_SECRETS",
        )

    def resolve(self, value: Any, used: set[str]) -> Any:
        """`value` with every placeholder in its strings replaced (nested lists and dicts
        too); the secret values put in are added to `used` for masking."""
        if isinstance(value, str):

            def put(match: re.Match[str]) -> str:
                secret = self.lookup(match.group(1))
                used.add(secret)
                return secret

            return PLACEHOLDER.sub(put, value)
        if isinstance(value, Mapping):
            return {k: self.resolve(v, used) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.resolve(v, used) for v in value]
        return value


def mask(text: str, used: set[str]) -> str:
    """`text` with every secret value in `used` replaced by ***."""
    for secret in sorted(used, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "***")
    return text
