"""Case-study sections on text: the scenario's documents, the tagger that reads them, Ask sclm.

Part of :mod:`sclm.case_study` (imported from there); see its docstring.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sclm._case_study_show import _md, _show

if TYPE_CHECKING:
    from sclm.reporting import Report
    from sclm.scenarios import Scenario

__all__ = ["ask", "documents", "documents_in_fusion", "read_documents"]


def documents(report: Report, sc: Scenario) -> pd.DataFrame:
    """One document of each kind with its entity tags (``n_documents``, ``documents_by_kind``)."""
    from sclm import plots

    docs = sc.documents
    report.metric("n_documents", len(docs))
    report.metric("documents_by_kind", docs.groupby("kind").size().to_dict())
    for _, doc in docs.sort_values(["kind", "doc_id"]).groupby("kind", sort=True).head(1).iterrows():
        tagged = plots.tagged_markdown(doc["tokens"], doc["tags"])
        _md(f"- *{doc['kind']}* ({doc['node']}, {doc['ts'].date()}): {tagged}")
    return docs


def read_documents(
    report: Report,
    sc: Scenario,
    *,
    backbone: str,
    n_docs: int,
    epochs: int,
    lr: float,
    seed: int = 0,
    device: str = "auto",
) -> tuple[Any, Any]:
    """Train the BIO tagger on a generated corpus and read the scenario's documents from raw text.

    Returns ``(tagger, extraction)``.  Metrics ``documents_f1_heldout``,
    ``documents_f1_scenario``, ``documents_read_exactly``.
    """
    import warnings

    from sclm.documents import extract
    from sclm.scenarios import documents as docgen

    warnings.filterwarnings("ignore", module="transformers")
    docs = sc.documents
    heldout = docgen.make_corpus(200, seed=seed + 1, split="heldout")
    tagger = _trained_tagger(backbone=backbone, n_docs=n_docs, epochs=epochs, lr=lr, seed=seed, device=device)
    ner = {
        "held-out templates and names": tagger.evaluate(heldout["tokens"].tolist(), heldout["tags"].tolist()),
        "scenario documents": tagger.evaluate(docs["tokens"].tolist(), docs["tags"].tolist()),
    }
    ner_f1 = pd.concat({k: v["f1"] for k, v in ner.items()}, axis=1)
    _show(ner_f1.round(3))
    extraction = extract(docs["text"].tolist(), tagger, nodes=sc.nodes, spec=sc.meta["documents"])
    rec = extraction.records
    read = (rec["node"] == docs["node"]) & (rec["ts"] == docs["ts"]) & (rec["quantity"] == docs["quantity"])
    f1_heldout = float(ner_f1.loc["micro avg", "held-out templates and names"])
    f1_scenario = float(ner_f1.loc["micro avg", "scenario documents"])
    report.metric(
        "documents_f1_heldout", round(f1_heldout, 4), "entity micro F1, held-out templates and names"
    )
    report.metric("documents_f1_scenario", round(f1_scenario, 4), "entity micro F1, the scenario's documents")
    report.metric(
        "documents_read_exactly", round(float(read.mean()), 4), "node, day and quantity equal the truth"
    )
    _md(
        f"Entity F1 **{f1_heldout:.3f}** on held-out templates and names, **{f1_scenario:.3f}** on the "
        f"scenario's documents; **{read.mean():.0%}** of the {len(docs)} documents give the true node, day "
        f"and quantity, {len(extraction.readings)} readings in all."
    )
    return tagger, extraction


def _trained_tagger(*, backbone: str, n_docs: int, epochs: int, lr: float, seed: int, device: str) -> Any:
    """The tagger trained on the generated corpus: trained once, shared by every report.

    The corpus (``make_corpus(n_docs, seed=seed, split="train")``) and the training settings do
    not depend on the case, so the three case studies would train the same tagger three times.
    It is kept in :func:`sclm.reporting.shared_cache` (``build/cache/tagger/<key>``), keyed by the
    settings, the device, torch's thread count, the package versions and the sha256 of the
    package sources; kernels running at once wait for the first to train it.  The random
    states after training are stored with the weights and restored on a hit, so a report
    that loads the tagger continues exactly as one that trained it (same bytes).
    """
    import random

    import numpy as np
    import torch

    from sclm import repro
    from sclm.models.backbones import _quiet_transformers
    from sclm.models.tagger import Tagger
    from sclm.reporting import shared_cache
    from sclm.scenarios import documents as docgen
    from sclm.training import resolve_device

    fields = {
        "backbone": backbone,
        "n_docs": n_docs,
        "epochs": epochs,
        "lr": lr,
        "seed": seed,
        "device": str(resolve_device(device)),
        "torch_threads": torch.get_num_threads(),
        "packages": repro._package_versions(("torch", "transformers", "tokenizers", "numpy")),
        "sources_sha256": repro.combined_digest(repro.sources_digest()),
    }
    with shared_cache("tagger", fields) as (folder, hit):
        rng_file = folder / "rng_state.pt"
        if hit:
            tagger = Tagger.from_pretrained(folder, device=device)
            state = torch.load(rng_file, weights_only=False)
            random.setstate(state["random"])
            np.random.set_state(state["numpy"])  # noqa: NPY002 - the global RNG the training left
            torch.set_rng_state(state["torch"])
            return tagger
        corpus = docgen.make_corpus(n_docs, seed=seed, split="train")
        if backbone == "minilm":
            tagger = Tagger.from_lm(docgen.LABELS, seed=seed, device=device)
        else:
            tagger = Tagger.from_scratch(
                docgen.LABELS,
                hidden_size=64,
                num_hidden_layers=2,
                num_attention_heads=2,
                intermediate_size=128,
                seed=seed,
                device=device,
            )
        tagger.fit(
            corpus["tokens"].tolist(),
            corpus["tags"].tolist(),
            epochs=epochs,
            learning_rate=lr,
            batch_size=16,
            seed=seed,
            progress=False,
        )
        with _quiet_transformers():  # no progress bar: a widget would put a random id on the page
            tagger.save_pretrained(folder)
        state = {"random": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}  # noqa: NPY002
        torch.save(state, rng_file)
    return tagger


def documents_in_fusion(
    report: Report,
    sc: Scenario,
    cleaned: pd.DataFrame,
    imputed: pd.DataFrame,
    panel: pd.DataFrame,
    extraction: Any,
    tagger: Any,
    backbone: str,
) -> pd.DataFrame:
    """The documents' readings as one more fusion source, scored on their cells; a redaction example.

    Metric ``documents_fusion_rmse``; returns its table.
    """
    from sclm.documents import redact
    from sclm.fusion import fuse

    docs = sc.documents
    with_docs = fuse(
        pd.concat([cleaned, extraction.readings[list(cleaned.columns)]], ignore_index=True),
        "inverse_variance",
        imputed=imputed,
    )
    cells = extraction.readings[["node", "ts", "variable"]].drop_duplicates()
    rows = {}
    for var, cell in cells.groupby("variable", sort=True):
        idx = pd.MultiIndex.from_frame(cell[["node", "ts"]])
        truth_v = sc.truth.loc[idx, var].to_numpy()
        rows[var] = {
            "cells": len(cell),
            "RMSE without documents": float(
                np.sqrt(np.mean((panel.loc[idx, var].to_numpy() - truth_v) ** 2))
            ),
            "RMSE with documents": float(
                np.sqrt(np.mean((with_docs.loc[idx, var].to_numpy() - truth_v) ** 2))
            ),
        }
    doc_fusion = pd.DataFrame.from_dict(
        rows, orient="index", columns=["cells", "RMSE without documents", "RMSE with documents"]
    ).astype({"cells": int})
    _md("Fused values against the truth on the (node, day, variable) cells the documents speak of:")
    _show(doc_fusion.round(3))
    worse = doc_fusion.index[doc_fusion["RMSE with documents"] > doc_fusion["RMSE without documents"]]
    _md(
        f"With a `{backbone}` tagger the document readings make the fused "
        + (
            f"**{', '.join(worse)}** worse on those cells: its misread quantities cost more than the documents "
            "add, so a tagger this weak should not feed fusion."
            if len(worse)
            else "values closer to the truth on every variable they speak of."
        )
    )
    report.metric("documents_fusion_rmse", doc_fusion.round(4).to_dict(orient="index"))
    # the sample shows all three kinds where a document has them: a person, and an e-mail or a phone number
    contact = docs["text"].str.contains("@") | docs["text"].str.contains(r"\+\d", regex=True)
    person = docs["tags"].map(lambda tags: "B-PER" in tags)
    pick = docs[contact & person] if (contact & person).any() else docs[contact] if contact.any() else docs
    sample = pick["text"].iloc[0]
    _md(
        "Redacted before any text leaves the machine (names found by the tagger, e-mail addresses, phone numbers):"
    )
    _md(f"- before: {sample}\n- after: {redact(sample, tagger)}")
    return doc_fusion


def _task_fields(task: Any) -> pd.DataFrame:
    """The non-empty fields of a Task, in words."""
    out = {}
    for key, value in task.model_dump(mode="json").items():
        if value in (None, "", [], {}):
            continue
        if key == "edits":
            value = "; ".join(e.describe() for e in task.edits)
        elif isinstance(value, list):
            value = ", ".join(map(str, value))
        elif isinstance(value, dict):
            value = ", ".join(f"{k} x {v:g}" for k, v in value.items())
        out[key] = str(value)
    return pd.Series(out, name="Task understood").to_frame()


def _key_numbers(answer: Any) -> pd.DataFrame:
    """The scalar numbers of an answer's result (and of its change against the baseline)."""
    rows = {}

    def walk(prefix: str, d: Mapping) -> None:
        for key, value in d.items():
            if key in ("model", "period", "what_if", "interval"):
                continue
            if isinstance(value, dict):
                walk(f"{prefix}{key}.", value)
            elif isinstance(value, int | float) and not isinstance(value, bool):
                rows[f"{prefix}{key}"] = value

    walk("", answer.result)
    walk("change.", answer.delta or {})
    return pd.Series({k: _number_text(v) for k, v in rows.items()}, name="value", dtype=object).to_frame()


def _recommendation(text: str) -> None:
    """A recommendation as a quoted block of wrapped paragraphs (one per line of ``text``), else printed.

    The text is HTML-escaped, never read as Markdown: ``store_02`` or ``+19.4 %`` stay as written.
    """
    import html
    import sys

    ipd = sys.modules.get("IPython.display")
    if ipd is None:
        print(text)
        return
    paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in text.splitlines() if line.strip())
    ipd.display(ipd.HTML(f'<blockquote class="sclm-recommendation">{paragraphs}</blockquote>'))


def _number_text(value: float) -> str:
    """A number as the reader expects it: counts without decimals, shares with four, the rest with two."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.4f}" if abs(value) < 1 else f"{value:,.2f}"


def ask(
    report: Report,
    case: str,
    questions: Sequence[str],
    *,
    seed: int,
    n_days: int,
    p: float,
    scenario_options: Mapping | None = None,
    horizon: int,
    input_size: int,
    epochs: int,
) -> list[Any]:
    """Answer ``questions`` with :func:`sclm.ask` on a model sized from the report's parameters.

    The assistant's model is cached in a temporary folder under ``build/ask-reports`` that is
    removed afterwards.  Metrics ``ask_ungrounded_numbers``, ``ask_tasks``, ``ask_actions``;
    returns the answers.
    """
    import shutil
    import tempfile

    import sclm
    from sclm import config
    from sclm.language import check_numbers
    from sclm.language.narrative import extract_numbers

    setup = {  # size and training budget of the assistant's model, from this report's parameters
        "scenario_options": {"n_days": n_days, "p": p, **dict(scenario_options or {}), "n_documents": 0},
        "future_days": 3 * horizon,
        "input_size": input_size,
        "epochs": min(epochs, 8),
    }
    (config.BUILD_DIR / "ask-reports").mkdir(parents=True, exist_ok=True)
    cache = tempfile.mkdtemp(prefix=f"{case}-", dir=config.BUILD_DIR / "ask-reports")
    try:
        answers = [
            sclm.ask(
                q, scenario=case, seed=seed, horizon=horizon, setup=setup, cache_dir=cache, figures=False
            )
            for q in questions
        ]
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    for i, (q, a) in enumerate(zip(questions, answers, strict=True), start=1):
        _md(f"### {i}. {q}\n\nAction **{a.action}** on the **{a.scenario}** scenario.")
        _show(_task_fields(a.task))
        _show(_key_numbers(a))
        _recommendation(a.text)
    ungrounded = sum(len(check_numbers(a.text, a.values)) for a in answers)
    checked = sum(sum(t.kind == "number" for t in extract_numbers(a.text)) for a in answers)
    report.metric(
        "ask_ungrounded_numbers", ungrounded, "numbers in the Ask sclm texts not found in the results"
    )
    report.metric(
        "ask_tasks", [a.task.model_dump(mode="json") for a in answers], "Tasks understood, in order"
    )
    report.metric("ask_actions", [a.action for a in answers])
    _md(
        f"`check_numbers(answer.text, answer.values)` found **{ungrounded}** ungrounded number(s) among the "
        f"{checked} numbers of the {len(answers)} recommendations"
        + (": every number quoted is a value of its answer." if ungrounded == 0 else ".")
    )
    return answers
