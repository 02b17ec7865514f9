"""Make a tiny random-weight Llama as GGUF, for tests against real engines.

No weights can be downloaded here, so the end-to-end tests make their own
model: a byte-level BPE tokenizer trained (with `tokenizers`) on the Python
standard library's own source, and random weights, written with `gguf`.
Everything is seeded: the same arguments, Python and package versions give
the same bytes.

The weights are random, so the text is nonsense, but a real engine serves it
as it would any Llama. Two things make it useful as a fixture:
- the output rows of special tokens, of tokens that are not whole UTF-8 and
  of tokens holding control bytes are zero, and the other rows are scaled so
  logits spread widely: the model never picks those tokens (a zero logit loses
  to the largest of about a thousand wide random ones), so every request runs
  to `max_tokens` and every streamed piece is printable text;
- the HF tokenizer is saved beside it, so client tools that count tokens
  themselves (aiperf, guidellm) load it from a local path.

Run: python tests/e2e/tinyllama.py OUT_DIR [--hidden 512 --layers 8 --vocab 1024 --seed 0]
(needs numpy, tokenizers and gguf: the model-tools venv made by tests/e2e/prepare)
"""

from __future__ import annotations

import argparse
import json
import sysconfig
import time
from pathlib import Path

import gguf
import numpy as np
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

BOS, EOS = "<s>", "</s>"
SPECIAL_TOKENS = [BOS, EOS]
TRAINING_BYTES = 1_000_000
# Accepts both a string and OpenAI content parts ([{"type": "text", ...}]),
# which llama.cpp's server hands to the template as they came.
CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{{ message['role'] + ': ' }}"
    "{%- if message['content'] is string -%}{{ message['content'] }}"
    "{%- else -%}{%- for part in message['content'] -%}"
    "{%- if part['type'] == 'text' -%}{{ part['text'] }}{%- endif -%}"
    "{%- endfor -%}{%- endif -%}"
    "{{ '\\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ 'assistant: ' }}{%- endif -%}"
)


def training_text(limit: int = TRAINING_BYTES) -> list[str]:
    """The standard library's top-level modules, in name order, up to `limit` bytes."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    texts, total = [], 0
    for path in sorted(stdlib.glob("*.py")):
        text = path.read_text(encoding="utf-8", errors="replace")
        texts.append(text)
        total += len(text)
        if total >= limit:
            break
    return texts


def train_tokenizer(vocab_size: int) -> Tokenizer:
    tokenizer = Tokenizer(models.BPE())
    # GPT-2's pre-tokenizer regex, which llama.cpp applies for pre "gpt-2".
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tokenizer.train_from_iterator(training_text(), trainer=trainer)
    return tokenizer


def byte_decoder() -> dict[str, int]:
    """GPT-2's printable stand-in character for each byte, reversed."""
    printable = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
                 + list(range(ord("®"), ord("ÿ") + 1)))
    chars, extra = {}, 0
    for b in range(256):
        if b in printable:
            chars[chr(b)] = b
        else:
            chars[chr(256 + extra)] = b
            extra += 1
    return chars


def never_emitted(tokens: list[str]) -> np.ndarray:
    """True for tokens the model must never pick: special ones, and those whose
    bytes are not whole UTF-8 text or hold a control byte."""
    to_byte = byte_decoder()
    blocked = np.zeros(len(tokens), dtype=bool)
    for i, token in enumerate(tokens):
        if token in SPECIAL_TOKENS:
            blocked[i] = True
            continue
        raw = bytes(to_byte[c] for c in token)
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            blocked[i] = True
            continue
        blocked[i] = any(b < 0x20 or b == 0x7F for b in raw)
    return blocked


def permute_qk(weights: np.ndarray, n_head: int) -> np.ndarray:
    """From the HF layout (rotary halves) to llama.cpp's (interleaved pairs),
    as llama.cpp's converter does for Q and K."""
    rows = weights.shape[0]
    return (weights.reshape(n_head, 2, rows // n_head // 2, *weights.shape[1:])
            .swapaxes(1, 2).reshape(weights.shape))


def feed_forward_size(hidden: int) -> int:
    return -(-(8 * hidden // 3) // 32) * 32


def write_model(out: Path, hidden: int, layers: int, vocab_size: int, seed: int,
                logit_scale: float = 12.0) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = train_tokenizer(vocab_size)
    spec = json.loads(tokenizer.to_str())
    tokens = [t for t, _ in sorted(tokenizer.get_vocab().items(), key=lambda kv: kv[1])]
    merges = [m if isinstance(m, str) else " ".join(m) for m in spec["model"]["merges"]]
    n_vocab = len(tokens)
    n_head = max(1, hidden // 64)
    head_dim = hidden // n_head
    ff = feed_forward_size(hidden)
    rng = np.random.default_rng(seed)

    def linear(rows: int, cols: int) -> np.ndarray:
        return (rng.standard_normal((rows, cols)) / np.sqrt(cols)).astype(np.float32)

    writer = gguf.GGUFWriter(str(out / "tinyllama.gguf"), "llama")
    writer.add_name(f"tinyllama-h{hidden}-l{layers}-v{n_vocab}-s{seed}")
    writer.add_context_length(4096)
    writer.add_embedding_length(hidden)
    writer.add_block_count(layers)
    writer.add_feed_forward_length(ff)
    writer.add_head_count(n_head)
    writer.add_head_count_kv(n_head)
    writer.add_rope_dimension_count(head_dim)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("gpt-2")
    writer.add_token_list(tokens)
    writer.add_token_types([int(gguf.TokenType.CONTROL) if t in SPECIAL_TOKENS
                            else int(gguf.TokenType.NORMAL) for t in tokens])
    writer.add_token_merges(merges)
    writer.add_bos_token_id(tokens.index(BOS))
    writer.add_eos_token_id(tokens.index(EOS))
    writer.add_add_bos_token(False)
    writer.add_chat_template(CHAT_TEMPLATE)

    embeddings = (rng.standard_normal((n_vocab, hidden)) * 0.5).astype(np.float32)
    output = linear(n_vocab, hidden) * np.float32(logit_scale)
    output[never_emitted(tokens)] = 0.0
    writer.add_tensor("token_embd.weight", embeddings)
    writer.add_tensor("output_norm.weight", np.ones(hidden, dtype=np.float32))
    writer.add_tensor("output.weight", output)
    for i in range(layers):
        writer.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(hidden, dtype=np.float32))
        writer.add_tensor(f"blk.{i}.attn_q.weight", permute_qk(linear(hidden, hidden), n_head))
        writer.add_tensor(f"blk.{i}.attn_k.weight", permute_qk(linear(hidden, hidden), n_head))
        writer.add_tensor(f"blk.{i}.attn_v.weight", linear(hidden, hidden))
        writer.add_tensor(f"blk.{i}.attn_output.weight", linear(hidden, hidden))
        writer.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(hidden, dtype=np.float32))
        writer.add_tensor(f"blk.{i}.ffn_gate.weight", linear(ff, hidden))
        writer.add_tensor(f"blk.{i}.ffn_up.weight", linear(ff, hidden))
        writer.add_tensor(f"blk.{i}.ffn_down.weight", linear(hidden, ff))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    save_hf_tokenizer(out / "tokenizer", tokenizer, hidden, layers, n_head, ff, n_vocab)
    return out / "tinyllama.gguf"


def save_hf_tokenizer(directory: Path, tokenizer: Tokenizer, hidden: int, layers: int,
                      n_head: int, ff: int, n_vocab: int) -> None:
    """A directory `transformers.AutoTokenizer.from_pretrained` loads offline."""
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(directory / "tokenizer.json"))
    (directory / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "PreTrainedTokenizerFast", "bos_token": BOS, "eos_token": EOS,
        "add_bos_token": False, "model_max_length": 4096, "chat_template": CHAT_TEMPLATE,
    }, indent=1))
    (directory / "special_tokens_map.json").write_text(json.dumps({"bos_token": BOS, "eos_token": EOS}))
    (directory / "config.json").write_text(json.dumps({
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": hidden,
        "num_hidden_layers": layers, "num_attention_heads": n_head, "num_key_value_heads": n_head,
        "intermediate_size": ff, "vocab_size": n_vocab, "max_position_embeddings": 4096,
        "rms_norm_eps": 1e-5, "bos_token_id": 0, "eos_token_id": 1,
    }, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="directory for tinyllama.gguf and tokenizer/")
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument("--vocab", type=int, default=1024)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    t0 = time.perf_counter()
    path = write_model(args.out, args.hidden, args.layers, args.vocab, args.seed)
    print(f"{path} ({path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
