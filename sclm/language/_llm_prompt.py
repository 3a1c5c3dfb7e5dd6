"""The prompt that asks a model for a Task, and the reading of its reply (private to :mod:`.llm`).

- :func:`build_messages`: system prompt with the Task JSON schema, a field guide with the allowed
  values, the network's names, and few-shot pairs whose answers are the offline parser's tasks.
- :func:`extract_json`: the JSON object in a reply (bare, fenced, or inside prose).
- :func:`ungrounded`: the numbers of a proposed task that the instruction does not give.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any


# -------------------------------------------------------------------------------------- the prompt
def instructions() -> Any:
    return importlib.import_module("sclm.language.instructions")


_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def detect_language(text: str) -> str:
    """``"zh"`` when ``text`` holds a Chinese character, else ``"en"`` (set in code, never by a model)."""
    return "zh" if _CJK.search(text or "") else "en"


def as_network(network: Any) -> Any:
    """``network`` as a :class:`sclm.decisions.Network` (a path, mapping or Network), or ``None``."""
    if network is None or hasattr(network, "nodes"):
        return network
    from sclm.decisions import load_network

    return load_network(network)


def network_names(network: Any) -> tuple[list[str], list[str]]:
    """What the prompt says about a network, and the names redaction must keep.

    Returns
    -------
    lines : list of str
        One line per role (``plant nodes: p1 (Bremen), p2 (Munich roastery, Munich)``) and one
        for the products.
    names : list of str
        Every node name, label, alias, city and country, and every product.
    """
    net = as_network(network)
    if net is None:
        return [], []
    by_role: dict[str, list[str]] = {}
    names: list[str] = []
    for name, node in net.nodes.items():
        info = getattr(node, "info", {}) or {}
        aliases = info.get("aliases") or []
        extra = [info.get("label"), *([aliases] if isinstance(aliases, str) else aliases), info.get("city")]
        extra += [info.get("country")]
        extra = [str(x) for x in extra if isinstance(x, str) and x.strip()]
        names += [str(name), *extra]
        by_role.setdefault(node.role, []).append(f"{name} ({', '.join(extra)})" if extra else str(name))
    lines = [f"{role} nodes: {', '.join(v)}" for role, v in by_role.items()]
    products = [str(p) for p in getattr(net, "products", ()) or ()]
    if products:
        lines.append(f"products: {', '.join(products)}")
    return lines, names + products


def _resolve(schema: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return schema.get("$defs", {}).get(ref.split("/")[-1], node)
    return node


def _allowed(schema: Mapping[str, Any], node: Mapping[str, Any]) -> list[Any]:
    """The enumerated values a schema node allows (through $ref, anyOf, arrays, const)."""
    node = _resolve(schema, node)
    if "enum" in node:
        return list(node["enum"])
    if "const" in node:
        return [node["const"]]
    out: list[Any] = []
    for sub in node.get("anyOf", []) + node.get("oneOf", []):
        out += [v for v in _allowed(schema, sub) if v not in out]
    if node.get("type") == "array" and isinstance(node.get("items"), Mapping):
        out += [v for v in _allowed(schema, node["items"]) if v not in out]
    if node.get("type") == "object" and isinstance(node.get("propertyNames"), Mapping):
        out += [v for v in _allowed(schema, node["propertyNames"]) if v not in out]
    return out


def _doc_attributes(doc: str | None) -> dict[str, str]:
    """``{name: description}`` from a numpydoc ``Attributes`` section (``a, b`` lines name both)."""
    out: dict[str, str] = {}
    lines = (doc or "").splitlines()
    try:
        start = next(i for i, ln in enumerate(lines) if ln.strip() == "Attributes") + 2
    except StopIteration:
        return out
    names: list[str] = []
    for ln in lines[start:]:
        if not ln.strip():
            continue
        indent = len(ln) - len(ln.lstrip())
        if indent <= 4 and not re.fullmatch(r"[A-Za-z_][\w, ]*", ln.strip()):
            break
        if indent <= 4:
            names = [n.strip() for n in ln.split(",")]
            continue
        for n in names:
            out[n] = f"{out.get(n, '')} {ln.strip()}".strip()
    return out


def _edit_kinds(schema: Mapping[str, Any]) -> list[str]:
    """``kind(field, optional?)`` for each edit the schema allows."""
    items = schema.get("properties", {}).get("edits", {}).get("items", {})
    refs = list((items.get("discriminator") or {}).get("mapping", {}).values())
    refs += [o["$ref"] for o in items.get("oneOf", []) + items.get("anyOf", []) if "$ref" in o]
    out = []
    for ref in dict.fromkeys(refs):
        d = _resolve(schema, {"$ref": ref})
        props, req = d.get("properties", {}), set(d.get("required", []))
        kind = (props.get("kind") or {}).get("const") or (_allowed(schema, props.get("kind", {})) or ["?"])[0]
        fields = [f if f in req else f"{f}?" for f in props if f != "kind"]
        out.append(f"{kind}({', '.join(fields)})")
    return out


def _field_guide(schema: Mapping[str, Any]) -> str:
    docs = _doc_attributes(instructions().Task.__doc__)
    lines = []
    for name, prop in schema.get("properties", {}).items():
        if name == "language":
            continue
        desc = docs.get(name) or str(prop.get("description", "")) or prop.get("title", name)
        desc = " ".join(re.sub(r":\w+:`~?\.?([^`]+)`", r"\1", desc).replace("``", "").split())
        allowed = [v for v in _allowed(schema, prop) if v is not None]
        shown = f" Allowed: {', '.join(map(str, allowed))}." if allowed and len(allowed) <= 40 else ""
        if name == "edits":
            shown = (
                " Kinds (field? = optional; an arc is [from, to]): " + "; ".join(_edit_kinds(schema)) + "."
            )
        lines.append(f"- {name}: {desc.rstrip('.')}.{shown}")
    return "\n".join(lines)


EXAMPLES: tuple[str, ...] = (
    "基于历史生产量、库存量、物流量，预测未来库存量",
    "Forecast demand for the next 14 days",
    "What if demand rises 20%? Plan the network and compare the cost",
    "Why does the forecast of inventory go up? Explain it",
)
"""Few-shot instructions; their answers are the offline parser's tasks (so they follow the schema)."""

NETWORK_EXAMPLES: tuple[str, ...] = (
    "What if the capacity of {plant} drops 10%?",
    "关闭{warehouse}",
    "Why is {supplier} in the plan?",
)
"""Few-shot instructions shown with a network, its first plant/warehouse/supplier filled in."""


def _pair(mod: Any, text: str, network: Any = None) -> tuple[str, str] | None:
    try:
        task = mod.parse_instruction(text, network)
    except (mod.InstructionError, ValueError, KeyError):
        return None
    return text, json.dumps(task_json(task), ensure_ascii=False, separators=(",", ":"))


@lru_cache(maxsize=1)
def _examples() -> tuple[tuple[str, str], ...]:
    mod = instructions()
    return tuple(p for p in (_pair(mod, t) for t in EXAMPLES) if p is not None)


def _network_examples(network: Any) -> list[tuple[str, str]]:
    if network is None:
        return []
    first = {}
    for name, node in network.nodes.items():
        first.setdefault(node.role, name)
    mod = instructions()
    out = []
    for t in NETWORK_EXAMPLES:
        try:
            text = t.format(**first)
        except KeyError:  # the network lacks that role
            continue
        pair = _pair(mod, text, network)
        if pair is not None:
            out.append(pair)
    return out


def task_json(task: Any) -> dict[str, Any]:
    """The task as the model should write it: no ``language``, no empty top-level fields."""
    data = task.model_dump(mode="json", exclude_none=True)
    data.pop("language", None)
    return {k: v for k, v in data.items() if v not in ([], {})}


SYSTEM_PROMPT = """You turn a supply-chain analytics instruction (Chinese or English) into one JSON object \
for the sclm toolkit. Reply with the JSON object only: no prose, no code fence. It must validate \
against this JSON schema:
{schema}

Fields:
{fields}

Rules: use only the allowed values; leave out fields the instruction does not set (defaults apply); \
take every number (horizon in days, at most {max_horizon}; what-if factors such as 1.2 for +20%, edit values) from the \
instruction, never invent one; names of nodes and products must be written as the network writes \
them; do not set "language" (it is set by the program). Placeholders such as [PER], [EMAIL], [PHONE] \
stand for removed personal data: ignore them. If the request is not supported, reply \
{{"error": "<why>"}}.{names}"""


def build_messages(text: str, network: Any = None) -> list[dict[str, str]]:
    """The chat messages that ask a model for the Task of ``text`` (already redacted).

    Parameters
    ----------
    text
        The instruction, as it may leave the machine.
    network
        Optional network (``nodes`` with roles, ``products``): its names are listed in the prompt.

    Returns
    -------
    list of dict
        ``[{"role": "system" | "user" | "assistant", "content": str}, ...]``: the system prompt
        (schema, field guide, network names), few-shot pairs, then ``text``.
    """
    schema = instructions().Task.model_json_schema()
    lines, _ = network_names(network)
    shown = "".join(f"\n{line}" for line in lines)
    system = SYSTEM_PROMPT.format(
        schema=json.dumps(schema, ensure_ascii=False, separators=(",", ":")),
        fields=_field_guide(schema),
        max_horizon=getattr(instructions(), "DEFAULT_MAX_HORIZON", 365),
        names=f"\n\nThe network (node name, then its label, aliases, city, country):{shown}" if shown else "",
    )
    msgs = [{"role": "system", "content": system}]
    for q, a in [*_examples(), *_network_examples(as_network(network))]:
        msgs += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
    msgs.append({"role": "user", "content": text})
    return msgs


# ------------------------------------------------------------------------- reading the reply
FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_-]*)[ \t]*\n?(.*?)```", re.S)


def extract_json(reply: str) -> dict[str, Any]:
    """The JSON object in a model's reply: bare, in a fenced code block, or inside prose.

    Parameters
    ----------
    reply
        The model's text.

    Returns
    -------
    dict
        The first JSON object found (bare reply first, then fenced blocks, then the first ``{``
        that starts a valid object); ``{"task": {...}}`` is unwrapped.

    Raises
    ------
    ValueError
        No JSON object in the reply.
    """
    if not isinstance(reply, str):
        raise ValueError(f"the model's reply is not text: {type(reply).__name__}")
    candidates = [reply.strip()] + [m.group(2).strip() for m in FENCE.finditer(reply)]
    for c in candidates:
        try:
            obj = json.loads(c)
        except ValueError:
            continue
        if isinstance(obj, dict):
            return _unwrap(obj)
    dec = json.JSONDecoder()
    for m in re.finditer(r"\{", reply):
        try:
            obj, _ = dec.raw_decode(reply, m.start())
        except ValueError:
            continue
        if isinstance(obj, dict):
            return _unwrap(obj)
    raise ValueError(f"no JSON object in the model's reply: {reply[:200]!r}")


def _unwrap(obj: dict[str, Any]) -> dict[str, Any]:
    inner = obj.get("task")
    return inner if isinstance(inner, dict) and "action" not in obj else obj


_EN_NUMBERS = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen twenty".split()
    )
} | {
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "ninety": 90,
    "hundred": 100,
    "double": 2,
    "half": 0.5,
}
_ZH_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_ZH_NUMERAL = re.compile(r"[零〇一二两三四五六七八九十百]+")
_ZH_WORDS = {"翻倍": 2.0, "翻一番": 2.0, "减半": 0.5, "一半": 0.5, "双倍": 2.0}


def _zh_numeral(s: str) -> float | None:
    """一 … 九百九十九 (with 十 and 百), or a digit-by-digit numeral (二〇二四)."""
    if "十" not in s and "百" not in s:
        return float("".join(str(_ZH_DIGITS[c]) for c in s)) if all(c in _ZH_DIGITS for c in s) else None
    total, cur = 0, 0
    for c in s:
        if c in _ZH_DIGITS:
            cur = _ZH_DIGITS[c]
        elif c == "十":
            total += (cur or 1) * 10
            cur = 0
        elif c == "百":
            total += (cur or 1) * 100
            cur = 0
    return float(total + cur)


def _text_numbers(text: str) -> set[float]:
    """Numbers a task may take from ``text``: as written, percent as factor/share, weeks/months in days."""
    from sclm.language.narrative import extract_numbers

    base: set[float] = set()
    for tok in extract_numbers(text):
        if tok.date is None:
            base.add(abs(tok.value))
            if tok.percent:
                base.add(abs(tok.value) / 100.0)
    base |= {float(_ZH_WORDS[w]) for w in _ZH_WORDS if w in text}
    for m in _ZH_NUMERAL.finditer(text):
        v = _zh_numeral(m.group())
        if v is not None:
            base.add(v)
    if "百分之" in text:
        base |= {v / 100.0 for v in list(base)}
    for w in re.findall(r"[a-z]+", text.lower()):
        if w in _EN_NUMBERS:
            base.add(float(_EN_NUMBERS[w]))
    out = set(base)
    for v in base:
        out |= {v * 7, v * 14, v * 30, v * 90, v * 365, 1 + v / 100, 1 - v / 100, v / 100}
        if v < 1:  # a share: the factor of a rise or a fall by it
            out |= {1 + v, 1 - v}
    if re.search(r"\b(next|following|coming)\s+(week|month|year)\b|下周|下个?月|明年", text.lower()):
        out |= {7.0, 30.0, 365.0}
    return out | _parser_numbers(text)


_MULTIPLE_WORDS = {
    r"doubl|twice|翻倍|翻番|加倍": 2.0,
    r"tripl": 3.0,
    r"quadrupl": 4.0,
    r"halv|减半|砍半|对半": 0.5,
}


def _parser_numbers(text: str) -> set[float]:
    """What the offline parser's own readers find: horizons in days, shares, multiples, factors."""
    try:
        from sclm.language import _numbers as num
        from sclm.language.instructions import normalise
    except ImportError:  # the parser's readers moved: the readers above still apply
        return set()
    t = normalise(text)
    out = {float(h.days) for h in num.find_horizons(t) if h.days is not None and h.days > 0}
    for m in re.finditer(num.AMOUNT, t):
        got = num.amount_value(m)
        if got is None:
            continue
        kind, v = got
        out.add(abs(v))
        for direction in ("up", "down", "to"):
            for zh in (False, True):
                f = num.factor_from(direction, kind, abs(v), zh=zh)
                if f is not None and f >= 0:
                    out.add(f)
    for pat, v in _MULTIPLE_WORDS.items():
        if re.search(pat, t):
            out.add(v)
    return out


def _task_numbers(obj: Any, path: str = "") -> list[tuple[str, float]]:
    if isinstance(obj, bool) or obj is None:
        return []
    if isinstance(obj, int | float):
        return [(path, float(obj))]
    if isinstance(obj, Mapping):
        return [x for k, v in obj.items() for x in _task_numbers(v, f"{path}.{k}" if path else str(k))]
    if isinstance(obj, list | tuple):
        return [x for i, v in enumerate(obj) for x in _task_numbers(v, f"{path}.{i}")]
    return []


def ungrounded(task: Any, text: str, parser_task: Any) -> list[str]:
    """The task's numbers that neither the instruction, the parser's task nor a default gives."""
    Task = type(task)
    allowed = _text_numbers(text) | {0.0, 1.0}
    if parser_task is not None:
        allowed |= {v for _, v in _task_numbers(parser_task.model_dump(mode="json"))}
    for f in Task.model_fields.values():
        d = f.get_default(call_default_factory=True)
        allowed |= {v for _, v in _task_numbers(d.model_dump(mode="json") if hasattr(d, "model_dump") else d)}
    pool = sorted(allowed)
    return [
        f"{p}={v:g}"
        for p, v in _task_numbers(task.model_dump(mode="json", exclude={"language"}))
        if not any(abs(v - a) <= 1e-6 * max(1.0, abs(a)) for a in pool)
    ]
