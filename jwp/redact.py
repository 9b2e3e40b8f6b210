"""Keep secrets out of logs and messages: tokens, API keys and passwords in URLs.

`redact_url` masks the password of one URL (`redis://:pw@host` becomes
`redis://:***@host`), `redact_text` does so for every URL inside a text, and
`settings_summary` renders settings with secret fields masked. `jwp serve`
installs `SecretFilter` on its log handlers, so a secret value that reaches
a log record anyway (in an exception message, say) is masked there too.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, SecretStr

MASK = "***"

# scheme://user:password@ — the password is the part between the first ':'
# after '//' and the last '@' before the host.
_URL_CREDENTIALS = re.compile(
    r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*:)(?P<password>[^@\s/]+)@"
)

# Setting names whose values are secrets even when they are plain strings.
_SECRET_NAME_WORDS = ("token", "password", "secret", "api_key", "apikey", "credential")

# Query parameters that carry secrets in URLs.
_SECRET_QUERY = re.compile(
    r"(?i)(?P<key>(?:password|passwd|pwd|token|api_key|apikey|secret)=)[^&\s]+"
)

# Values shorter than this are not masked by value, because masking a
# two-letter "secret" everywhere would garble unrelated log text.
MIN_SECRET_LENGTH = 4


def redact_url(url: str) -> str:
    """Return `url` with the password of its user info and secret query values masked.

    Text that does not parse as a URL is passed to `redact_text`.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_text(url)
    netloc = parts.netloc
    if parts.password is not None:
        user_info, _, host = netloc.rpartition("@")
        user = user_info.split(":", 1)[0]
        netloc = f"{user}:{MASK}@{host}"
    query = _SECRET_QUERY.sub(lambda match: match.group("key") + MASK, parts.query)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_text(text: str) -> str:
    """Mask URL passwords and secret query values anywhere in `text`."""
    masked = _URL_CREDENTIALS.sub(lambda match: match.group("head") + MASK + "@", text)
    return _SECRET_QUERY.sub(lambda match: match.group("key") + MASK, masked)


def is_secret_name(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_NAME_WORDS)


def settings_summary(settings: BaseModel) -> str:
    """Render every setting as `NAME=value`, with secrets masked and URL passwords hidden."""
    rendered = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if value is None:
            text = ""
        elif isinstance(value, SecretStr) or is_secret_name(name):
            text = MASK
        else:
            text = redact_text(str(value))
        rendered.append(f"{name.upper()}={text}")
    return ", ".join(rendered)


def secret_values(settings: BaseModel) -> list[str]:
    """Return the secrets in `settings`: SecretStr and secret-named fields, URL passwords."""
    values: list[str] = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            values.append(value.get_secret_value())
        elif isinstance(value, str) and is_secret_name(name):
            values.append(value)
        elif isinstance(value, str):
            values.extend(match.group("password") for match in _URL_CREDENTIALS.finditer(value))
    return [value for value in values if len(value) >= MIN_SECRET_LENGTH]


class SecretFilter(logging.Filter):
    """Mask known secret values and URL passwords in every record a handler emits."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # Longest first, so a secret that contains another is masked whole.
        self._secrets = sorted(
            {secret for secret in secrets if len(secret) >= MIN_SECRET_LENGTH},
            key=len,
            reverse=True,
        )

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return redact_text(text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
        return True


def install_log_redaction(secrets: Iterable[str]) -> None:
    """Add a SecretFilter for `secrets` to every handler of the root logger."""
    secret_filter = SecretFilter(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(secret_filter)
