"""Benchmark (article Q3): int8 dynamic quantisation of M and of the tagger on the CPU.

For each model, the float32 original and its ``torch.ao.quantization.quantize_dynamic`` copy
(:mod:`sclm.quantize`: every ``nn.Linear`` in int8) are timed on the same inputs in the same run,
and scored on the same test data:

- M (patch transformer, :func:`sclm.pipeline.train_forecaster` on the retail scenario):
  windows per second through :func:`sclm.training.predict` (batch 256), and relative MASE on
  the :func:`sclm.pipeline.backtest` origins (same trained weights, same windows).
- Tagger (MiniLM-L6 fine-tuned on generated supply-chain documents, as ``bench/tagger.py``
  does with a smaller budget): documents per second through ``Tagger.predict`` (batch 64), and
  entity micro F1 (seqeval) on documents of held-out templates and names.

Goals: int8 / float predictions per second >= 2 at <= 1 % relative accuracy loss (relMASE up
by at most 1 %, F1 down by at most 1 %).  Each row of speed is the fastest of ``--repeats``
calls (wall) and the median CPU time per call; on a shared machine the CPU-time ratio is the
steadier one.  ``share of time in Linear layers`` (float model, forward hooks) bounds the
speed-up: quantising the linear layers can at most give ``1 / (1 - share)``.

Prints the table and writes build/bench/quantize.json.  Run:
.venv/bin/python bench/quantize.py [--quick] [--threads 1] [--skip-tagger] [--skip-forecaster]
(about 100 CPU-seconds for each part; on a 2-core machine shared by ~20 processes each part took
7 min wall; ``--quick``: tiny budgets, the figures exercise the code).

Findings (2026-12-01, torch 2.13 CPU, x86 engine, 1 thread, machine under heavy load):

- M (``--skip-tagger --nodes 12 --epochs 4 --windows 512``): relMASE 0.5561 → 0.5566 (+0.07 %,
  within 1 %), but int8 is *slower*: 0.86x in CPU time (0.80x wall).  The goal of 2x is out of
  reach for M: only 33 % of its float time is in linear layers (Amdahl bound 1.5x even for free
  int8 layers), the rest is attention over N·C short patch sequences (softmax, layer norm, the
  batched score products), and with d_model = 64 the int8 GEMMs (K = 64) are no faster than
  MKL's fp32 ones once the activations are quantised per call; quantising the encoder layers
  also gives up torch's fused encoder fast path (profile: ``quantized::linear_dynamic`` plus its
  buffer fills cost more than the fp32 ``addmm``).
- Tagger (MiniLM-L6, 200 docs, 3 epochs, lr 5e-4; 96 held-out docs; two runs): per-tensor int8
  1.37-1.44x docs per CPU second (1.47-1.48x wall), entity F1 0.8114 → 0.7672 (−5.4 %);
  per-channel int8 (``per_channel=True``) 1.47x per CPU second at F1 0.8047 (−0.83 %, within
  1 %).  74 % of the float predict time is in linear layers (bound 3.9x), so the int8 kernels
  are only about 2x faster than fp32 on the linear part itself, and tokenising, attention
  softmax and the Python post-processing keep the whole below 2x.  The speed goal (2x) does
  not hold for either model; the accuracy goal holds for M and for the per-channel tagger.
"""

from __future__ import annotations

import argparse
import dataclasses
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pandas as pd
import torch

import sclm
from sclm.benchmarking import Bench
from sclm.pipeline import backtest, scenario_task, train_forecaster
from sclm.quantize import (
    linear_time_share,
    quantize_forecaster,
    quantize_tagger,
    quantized_linear_count,
    throughput,
)
from sclm.training import predict

SPEED_GOAL, LOSS_GOAL = ">= 2", "<= 1"


def _speed_rows(bench: Bench, prefix: str, unit: str, fp, q8) -> None:
    bench.add(f"{prefix} float {unit}/s (wall, best)", round(fp.per_s, 1))
    bench.add(f"{prefix} int8 {unit}/s (wall, best)", round(q8.per_s, 1))
    bench.add(f"{prefix} float {unit}/CPU-s", round(fp.per_cpu_s, 1))
    bench.add(f"{prefix} int8 {unit}/CPU-s", round(q8.per_cpu_s, 1))
    bench.add(f"{prefix} int8 / float speed (wall)", round(q8.per_s / fp.per_s, 2), SPEED_GOAL)
    bench.add(f"{prefix} int8 / float speed (CPU time)", round(q8.per_cpu_s / fp.per_cpu_s, 2), SPEED_GOAL)


def forecaster(bench: Bench, args: argparse.Namespace) -> None:
    n_nodes, epochs = (8, 2) if args.quick else (args.nodes, args.epochs)
    sc = sclm.make_scenario("retail", seed=args.seed, n_nodes=n_nodes)
    task = scenario_task(sc)
    n_origins = 2 if args.quick else args.origins
    first = task.last_day - pd.Timedelta(days=task.horizon * n_origins)
    trained = train_forecaster(
        task, train_end=first, epochs=epochs, patience=5, seed=args.seed, device="cpu", window_stride=1
    )
    print(
        f"M trained: {trained.fit_result.epochs_run} epochs, {trained.fit_result.seconds:.0f} s", flush=True
    )
    qm = quantize_forecaster(trained.model)
    n_q, n_f = quantized_linear_count(qm)
    bench.add("M parameters", sum(p.numel() for p in trained.model.parameters()))
    bench.add("M linear layers int8 / float", f"{n_q} / {n_f}", note="float: attention projections")
    kw = dict(
        n_origins=n_origins, truth=sc.truth, baselines=("seasonal_naive",), seed=args.seed, device="cpu"
    )
    table_fp, _ = backtest(task, trained=trained, **kw)
    table_q8, _ = backtest(task, trained=dataclasses.replace(trained, model=qm), **kw)
    r_fp, r_q8 = float(table_fp.loc["M", "relMASE"]), float(table_q8.loc["M", "relMASE"])
    bench.add(
        "M float relMASE",
        round(r_fp, 4),
        note=f"{n_origins} origins x {int(table_fp.loc['M', 'series'])} series",
    )
    bench.add("M int8 relMASE", round(r_q8, 4))
    bench.add("M relMASE change (%)", round(100 * (r_q8 - r_fp) / r_fp, 3), LOSS_GOAL)

    print("M backtests done; timing", flush=True)
    w = trained.windows()
    n = min(args.windows, len(w.X))
    X, Xf = w.X[-n:], w.X_future[-n:]
    fp = throughput(
        lambda: predict(trained.model, X, Xf, device="cpu", batch_size=256), n, repeats=args.repeats
    )
    q8 = throughput(lambda: predict(qm, X, Xf, device="cpu", batch_size=256), n, repeats=args.repeats)
    _speed_rows(bench, "M", "windows", fp, q8)
    share = linear_time_share(
        trained.model, lambda: predict(trained.model, X, Xf, device="cpu", batch_size=256)
    )
    bench.add(
        "M share of time in Linear layers (float)",
        round(share, 3),
        note=f"Amdahl bound on the int8 speed-up: {1 / (1 - share):.2f}x",
    )


def tagger(bench: Bench, args: argparse.Namespace) -> None:
    from sclm.models.tagger import Tagger
    from sclm.scenarios import documents as gen

    pools = gen.name_pools("auto", lang="en")
    n_train, n_test = (48, 24) if args.quick else (args.docs_train, args.docs_test)
    train = gen.make_corpus(n_train, seed=args.seed, split="train", pools=pools)
    test = gen.make_corpus(n_test, seed=args.seed + 1, split="heldout", pools=pools)
    if args.quick:
        tg = Tagger.from_scratch(gen.LABELS, hidden_size=64, num_hidden_layers=1, num_attention_heads=2,
                                 intermediate_size=128, seed=args.seed, device="cpu")  # fmt: skip
        epochs, lr = 3, 3e-3
    else:
        tg = Tagger.from_lm(gen.LABELS, seed=args.seed, device="cpu", casing=True)
        epochs, lr = args.docs_epochs, args.docs_lr
    rep = tg.fit(train["tokens"].tolist(), train["tags"].tolist(), epochs=epochs, learning_rate=lr,
                 batch_size=16, seed=args.seed, progress=False)  # fmt: skip
    print(f"tagger trained: {rep.seconds:.0f} s", flush=True)
    q = quantize_tagger(tg)
    tokens, tags = test["tokens"].tolist(), test["tags"].tolist()
    f_fp = float(tg.evaluate(tokens, tags).loc["micro avg", "f1"])
    f_q8 = float(q.evaluate(tokens, tags).loc["micro avg", "f1"])
    name = "MiniLM-L6" if not args.quick else "tiny BERT"
    note = f"{name}, {n_train} training docs, {epochs} epochs ({rep.seconds:.0f} s); {n_test} held-out docs"
    bench.add("tagger float entity F1", round(f_fp, 4), note=note)
    bench.add("tagger int8 entity F1", round(f_q8, 4))
    bench.add(
        "tagger F1 change (%)",
        round(100 * (f_fp - f_q8) / f_fp, 3) if f_fp > 0 else None,
        LOSS_GOAL,
        note="loss: float - int8",
    )
    same = sum(a == b for a, b in zip(tg.predict(tokens), q.predict(tokens), strict=True))
    bench.add("tagger documents with identical tags (%)", round(100 * same / len(tokens), 1))
    print("tagger scored; timing", flush=True)
    fp = throughput(lambda: tg.predict(tokens, batch_size=64), len(tokens), repeats=args.repeats)
    q8 = throughput(lambda: q.predict(tokens, batch_size=64), len(tokens), repeats=args.repeats)
    _speed_rows(bench, "tagger", "docs", fp, q8)
    qc = quantize_tagger(tg, per_channel=True)
    f_qc = float(qc.evaluate(tokens, tags).loc["micro avg", "f1"])
    bench.add("tagger int8 per-channel entity F1", round(f_qc, 4))
    bench.add(
        "tagger per-channel F1 change (%)",
        round(100 * (f_fp - f_qc) / f_fp, 3) if f_fp > 0 else None,
        LOSS_GOAL,
    )
    qct = throughput(lambda: qc.predict(tokens, batch_size=64), len(tokens), repeats=args.repeats)
    bench.add(
        "tagger int8 per-channel / float speed (CPU time)", round(qct.per_cpu_s / fp.per_cpu_s, 2), SPEED_GOAL
    )
    share = linear_time_share(tg.model, lambda: tg.predict(tokens, batch_size=64))
    bench.add(
        "tagger share of predict time in Linear layers (float)",
        round(share, 3),
        note=f"Amdahl bound on the int8 speed-up: {1 / (1 - share):.2f}x (the rest: tokenising, attention)",
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="tiny budgets (about a minute)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1 on a shared 2-core machine)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--nodes", type=int, default=20, help="retail scenario nodes for M")
    ap.add_argument("--epochs", type=int, default=10, help="M's training epochs (early stopping on)")
    ap.add_argument("--origins", type=int, default=4, help="backtest origins of H days")
    ap.add_argument("--windows", type=int, default=1024, help="windows per timed predict call")
    ap.add_argument("--docs-train", type=int, default=200)
    ap.add_argument("--docs-test", type=int, default=96)
    ap.add_argument("--docs-epochs", type=float, default=3)
    ap.add_argument("--docs-lr", type=float, default=5e-4)
    ap.add_argument("--skip-forecaster", action="store_true")
    ap.add_argument("--skip-tagger", action="store_true")
    ap.add_argument("--out-dir", default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    sclm.seed_everything(args.seed)
    bench = Bench("quantize", out_dir=args.out_dir)
    bench.add("torch threads", args.threads)
    bench.add("quantized engine", torch.backends.quantized.engine)
    if not args.skip_forecaster:
        forecaster(bench, args)
    if not args.skip_tagger:
        tagger(bench, args)
    bench.finish()


if __name__ == "__main__":
    main()
