"""Sources of INLINE_WORKFLOW documents: a URL, a local file, or the job args.

`workflow_url` is fetched over http(s) with WORKFLOW_HTTP_TIMEOUT_SEC, or
read as a file path relative to the server's working directory (a
`file://` prefix is accepted). `workflow_data` is the YAML or JSON text
itself. Documents are parsed and validated in a worker thread.

NOTE: any client that may enqueue INLINE_WORKFLOW jobs can make the server
read its local files and fetch URLs, as in jobworkerp. Error messages
never quote the fetched text, but the server's own file system and
network are reachable through this runner.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import httpx

from jwp.errors import RetryableRunnerError, RunnerArgumentError

from .errors import WorkflowDefinitionError
from .model import Workflow, parse_workflow

logger = logging.getLogger(__name__)

MAX_DOCUMENT_BYTES = 8 * 1024 * 1024
"""Largest workflow document read from a URL or file."""


async def load_from_url(url: str, *, http_timeout_s: float) -> Workflow:
    """Fetch or read the document at `url` and parse it.

    Raises:
        RunnerArgumentError: The file does not exist, the URL responds with a
            client error, or the document is invalid.
        RetryableRunnerError: The URL cannot be reached or responds with a
            server error.
    """
    if url.startswith(("http://", "https://")):
        text = await _fetch(url, http_timeout_s)
    else:
        text = await asyncio.to_thread(_read_file, url)
    return await parse_in_thread(text, source=f"workflow {url}")


async def parse_in_thread(text: str, *, source: str) -> Workflow:
    """Parse and validate a document off the event loop; raise RunnerArgumentError if invalid."""
    try:
        return await asyncio.to_thread(parse_workflow, text, source=source)
    except WorkflowDefinitionError as error:
        raise RunnerArgumentError(str(error)) from None


async def _fetch(url: str, timeout_s: float) -> str:
    try:
        async with (
            httpx.AsyncClient(timeout=timeout_s, follow_redirects=True) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code >= 500:
                raise RetryableRunnerError(
                    f"fetching workflow {url} failed with HTTP {response.status_code}; "
                    "the server may recover, so the job can be retried"
                )
            if response.status_code != 200:
                raise RunnerArgumentError(
                    f"fetching workflow {url} failed with HTTP {response.status_code}; "
                    "check the workflow_url"
                )
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body.extend(chunk)
                if len(body) > MAX_DOCUMENT_BYTES:
                    raise RunnerArgumentError(
                        f"workflow {url} is larger than {MAX_DOCUMENT_BYTES} bytes"
                    )
    except httpx.TimeoutException:
        raise RetryableRunnerError(
            f"fetching workflow {url} timed out after {timeout_s:g} s (WORKFLOW_HTTP_TIMEOUT_SEC)"
        ) from None
    except httpx.HTTPError as error:
        raise RetryableRunnerError(f"fetching workflow {url} failed: {error}") from None
    return _decode(bytes(body), url)


def _read_file(location: str) -> str:
    path = Path(location.removeprefix("file://"))
    try:
        size = path.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            raise RunnerArgumentError(
                f"workflow file {location} is larger than {MAX_DOCUMENT_BYTES} bytes"
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise RunnerArgumentError(
            f"workflow file {location} not found (relative paths start at the server's "
            f"working directory, {Path.cwd()})"
        ) from None
    except IsADirectoryError:
        raise RunnerArgumentError(f"workflow file {location} is a directory") from None
    except OSError as error:
        raise RunnerArgumentError(
            f"workflow file {location} cannot be read: {error.strerror}"
        ) from None
    return _decode(data, location)


def _decode(data: bytes, location: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise RunnerArgumentError(f"workflow {location} is not UTF-8 text") from None
