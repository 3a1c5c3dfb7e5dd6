"""Token attributions of a document tagger (BERT token classification).

A *tagger* is any object with ``.model`` (a Hugging Face ``*ForTokenClassification``),
``.tokenizer`` (a fast tokenizer) and ``.labels`` (the BIO label strings, index = class id).
Optionally, ``.token_type_ids(words) -> list[int]`` gives one token type per piece of
``tokenizer(words, is_split_into_words=True)`` (e.g. casing classes fed through BERT's
token-type embedding); they are passed to the model — unchanged in the LIG reference and the
SHAP masks — so the explained logits are the tagger's own.
The explained scalar is the logit of one label at one token: ``target=(word_index, label)``
picks the first sub-word token of word ``word_index`` of ``text.split()`` (the token that
carries a word's tag), or with ``position="token"`` a token index directly (0 = ``[CLS]``).

The methods are adapters of :mod:`sclm.explain._registry`:

* ``layer_integrated_gradients`` — Captum LayerIntegratedGradients on the model's embedding
  layer (word + position + token-type embeddings, as in Captum's BERT tutorial); the reference
  input keeps ``[CLS]`` and ``[SEP]`` and puts ``[PAD]`` everywhere else, so positions and
  segment embeddings cancel and only the words are attributed.  Attributions are summed over
  the hidden dimension → one value per token; delta = the completeness gap.
* ``shap_partition`` — SHAP's Partition explainer with ``shap.maskers.Text`` in token-id mode:
  masked tokens become ``[MASK]`` (positions do not move, ``[CLS]``/``[SEP]`` are kept), and
  the hierarchical clustering of the Text masker groups neighbouring tokens.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch

from sclm.explain._registry import REGISTRY, TEXT_OPTIONS, _TextJob
from sclm.explain.attribution import Attribution

__all__ = ["explain_text", "token_index"]


def _label_id(tagger: Any, label: Any) -> int:
    labels = list(tagger.labels)
    if isinstance(label, str):
        if label not in labels:
            raise ValueError(f"unknown label {label!r}; the tagger's labels are {labels}")
        return labels.index(label)
    if isinstance(label, int | np.integer) and not isinstance(label, bool) and 0 <= int(label) < len(labels):
        return int(label)
    raise ValueError(f"label must be one of {labels} or an index 0..{len(labels) - 1}, got {label!r}")


def _encode(tokenizer: Any, text: str) -> tuple[list[int], list[int | None]]:
    words = text.split()
    if not words:
        raise ValueError("cannot explain an empty text")
    enc = tokenizer(words, is_split_into_words=True, truncation=True)
    return list(enc["input_ids"]), list(enc.word_ids())


def token_index(tagger: Any, text: str, position: int, unit: str = "word") -> int:
    """Token index of word ``position`` (its first sub-word) or the token index itself.

    Raises
    ------
    ValueError
        The position is outside the text.
    """
    ids, word_ids = _encode(tagger.tokenizer, text)
    if unit == "token":
        if not 0 <= position < len(ids):
            raise ValueError(f"token position {position} out of range: the text has {len(ids)} tokens")
        return int(position)
    if unit != "word":
        raise ValueError(f"position must be 'word' or 'token', got {unit!r}")
    for j, w in enumerate(word_ids):
        if w == position:
            return j
    n_words = max((w for w in word_ids if w is not None), default=-1) + 1
    raise ValueError(
        f"word position {position} out of range: the text has {n_words} words (after truncation)"
    )


def _token_types(tagger: Any, text: str, n: int, dev: torch.device) -> torch.Tensor | None:
    """Optional per-piece token types from ``tagger.token_type_ids(words)`` (e.g. casing classes)."""
    fn = getattr(tagger, "token_type_ids", None)
    if not callable(fn):
        return None
    types = list(fn(text.split()))
    if len(types) != n:
        raise ValueError(f"tagger.token_type_ids gave {len(types)} values for {n} tokens")
    return torch.tensor([types], device=dev)


def explain_text(
    tagger: Any, texts: Any, method: str, target: Any, *, dev: torch.device, seed: int, opts: dict[str, Any]
) -> Attribution:
    """Backend of :func:`sclm.explain.explain` for taggers (see the module docstring).

    ``method`` is a text method of the registry (:mod:`sclm.explain._registry`); its adapter
    attributes one text at a time.
    """
    ad = REGISTRY[method]
    if ad.kind != "text":  # pragma: no cover - guarded by explain()
        raise ValueError(f"method {method!r} does not explain texts")
    run = ad.run
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, list | tuple) or not texts or not all(isinstance(t, str) for t in texts):
        raise ValueError("X must be a non-empty list of texts for a document tagger")
    if not (isinstance(target, tuple) and len(target) == 2):
        raise ValueError(f"a tagger target must be (word_index, label), got {target!r}")
    position, label = target
    unit = opts.pop("position", "word")
    lab = _label_id(tagger, label)
    tok = tagger.tokenizer
    hf = tagger.model
    was, cur = hf.training, next(hf.parameters()).device
    model = hf if cur == dev else copy.deepcopy(hf).to(dev)
    model.eval()
    rows, toks, deltas, outs, bases = [], [], [], [], []
    ids_all = []
    meta: dict[str, Any] = {"label": tagger.labels[lab], "unit": unit}
    try:
        for text in texts:
            ids, _ = _encode(tok, text)
            j = token_index(tagger, text, int(position), unit)
            ids_t = torch.tensor([ids], device=dev)
            att_mask = torch.ones_like(ids_t)
            types = _token_types(tagger, text, len(ids), dev)

            def logit(
                input_ids: torch.Tensor, attention_mask: torch.Tensor, j=j, types=types
            ) -> torch.Tensor:
                tt = None if types is None else types.expand(input_ids.shape[0], -1)
                out = model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=tt)
                return out.logits[:, j, lab]

            job = _TextJob(
                model=model,
                tokenizer=tok,
                text=text,
                ids=ids,
                ids_t=ids_t,
                att_mask=att_mask,
                logit=logit,
                dev=dev,
                opts=opts,
                meta=meta,
            )
            vals, delta, base = run(job)
            if delta is not None:
                deltas.append(delta)
            bases.append(base)
            with torch.no_grad():
                outs.append(float(logit(ids_t, att_mask)[0]))
            rows.append(np.asarray(vals, np.float64))
            toks.append(tok.convert_ids_to_tokens(ids))
            ids_all.append(ids)
    finally:
        hf.train(was)
    for k in TEXT_OPTIONS:
        opts.pop(k, None)
    width = max(len(r) for r in rows)
    values = np.zeros((len(rows), width))
    mask = np.zeros((len(rows), width), dtype=bool)
    inputs = np.zeros((len(rows), width), dtype=np.int64)
    for i, r in enumerate(rows):
        values[i, : len(r)] = r
        mask[i, : len(r)] = True
        inputs[i, : len(r)] = ids_all[i]
    return Attribution(
        values=values,
        feature_names=(),
        method=method,
        target={"position": int(position), "unit": unit, "label": tagger.labels[lab]},
        kind="text",
        delta=np.asarray(deltas) if deltas else None,
        inputs=inputs,
        outputs=np.asarray(outs),
        base_values=np.asarray(bases),
        tokens=toks,
        mask=mask,
        meta={**meta, "seed": seed, "device": str(dev)},
    )
