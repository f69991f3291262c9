"""`tuneline demo-model DIR`: a small Llama model and tokenizer built here, with no download.

The tokenizer is a byte-level BPE trained on generated customer-support chats; the model is
sized from `len(tokenizer)` and pre-trained for a few hundred steps on the same kind of text,
so it answers with short readable sentences. Everything is seeded: the same call builds the
same model.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tuneline.train.demo_corpus import SYSTEM, support_conversations

PAD, BOS, END = "<|pad|>", "<|bos|>", "<|end|>"
ROLE_TOKENS = ("<|system|>", "<|user|>", "<|assistant|>", "<|tool|>")

# Assistant turns sit inside {% generation %} so `return_assistant_tokens_mask` marks them,
# the end marker included (the model must learn to stop). `{{ '\n' }}` survives trim_blocks.
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{% if message['role'] == 'assistant' %}"
    "{{ '<|assistant|>\n' }}{% generation %}{{ message['content'] or '' }}{{ eos_token }}"
    "{% endgeneration %}{{ '\n' }}"
    "{% else %}"
    "{{ '<|' + message['role'] + '|>\n' }}{{ message['content'] or '' }}{{ eos_token }}{{ '\n' }}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)


@dataclass(frozen=True)
class DemoSpec:
    """The demo model's shape and pre-training budget."""

    hidden_size: int = 128
    num_layers: int = 3
    num_heads: int = 4
    num_kv_heads: int = 2
    vocab_size: int = 1536  # BPE target; the model is sized from the real len(tokenizer)
    max_positions: int = 1024
    pretrain_steps: int = 250
    batch_size: int = 8
    seq_length: int = 128
    learning_rate: float = 3e-3
    seed: int = 0


def build_tokenizer(texts: list[str], vocab_size: int) -> Any:
    """A byte-level BPE `PreTrainedTokenizerFast` with chat special tokens and template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=[PAD, BOS, END, *ROLE_TOKENS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=BOS, eos_token=END, pad_token=PAD,
        additional_special_tokens=list(ROLE_TOKENS), model_max_length=1024)
    fast.chat_template = CHAT_TEMPLATE
    return fast


def _token_stream(tokenizer: Any, chats: list[list[dict[str, str]]]) -> list[int]:
    ids: list[int] = []
    for msgs in chats:
        ids.extend(tokenizer.apply_chat_template(msgs, tokenize=True, return_dict=True)["input_ids"])
    return ids


def build_demo_model(folder: str | Path, spec: DemoSpec | None = None,
                     log: Callable[[str], None] | None = None) -> Path:
    """Build, pre-train and save the demo model + tokenizer into `folder`; returns its path."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    spec = spec or DemoSpec()
    log = log or (lambda _msg: None)
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    torch.manual_seed(spec.seed)

    chats = support_conversations(3000, seed=spec.seed)
    texts = [" ".join(m["content"] for m in msgs) for msgs in chats]
    tokenizer = build_tokenizer(texts, spec.vocab_size)
    log(f"tokenizer: {len(tokenizer)} tokens")

    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=spec.hidden_size,
        intermediate_size=spec.hidden_size * 2 + spec.hidden_size // 2,
        num_hidden_layers=spec.num_layers, num_attention_heads=spec.num_heads,
        num_key_value_heads=spec.num_kv_heads, max_position_embeddings=spec.max_positions,
        tie_word_embeddings=True, bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
        use_cache=True)
    model = LlamaForCausalLM(config)
    n_params = sum(p.numel() for p in model.parameters())
    log(f"model: {n_params:,} parameters")

    _pretrain(model, _token_stream(tokenizer, chats), spec, log)

    model.eval()
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    (folder / "tuneline-demo.json").write_text(json.dumps(
        {"spec": asdict(spec), "parameters": n_params, "vocab": len(tokenizer),
         "seconds": round(time.monotonic() - started, 1)}, indent=2) + "\n", "utf-8")
    return folder


def _pretrain(model: Any, stream: list[int], spec: DemoSpec, log: Callable[[str], None]) -> None:
    """Plain next-token training on fixed-length windows of the token stream."""
    import torch
    import torch.nn.functional as F

    data = torch.tensor(stream, dtype=torch.long)
    windows = (len(data) - 1) // spec.seq_length
    gen = torch.Generator().manual_seed(spec.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=spec.learning_rate, weight_decay=0.0)
    warmup = max(1, spec.pretrain_steps // 20)

    def lr_at(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, spec.pretrain_steps - warmup)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    model.train()
    for step in range(spec.pretrain_steps):
        starts = torch.randint(0, windows, (spec.batch_size,), generator=gen) * spec.seq_length
        batch = torch.stack([data[s:s + spec.seq_length + 1] for s in starts.tolist()])
        logits = model(input_ids=batch[:, :-1], use_cache=False).logits
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), batch[:, 1:].reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        if step % 50 == 0 or step == spec.pretrain_steps - 1:
            log(f"pre-train step {step + 1}/{spec.pretrain_steps} loss {loss.item():.3f}")


def sample_reply(folder: str | Path, question: str, max_new_tokens: int = 40) -> str:
    """Greedy answer of the model in `folder` to one user question (a smoke check)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(Path(folder).resolve()))
    model = AutoModelForCausalLM.from_pretrained(str(Path(folder).resolve()))
    msgs = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}]
    enc = tok.apply_chat_template(msgs, add_generation_prompt=True, return_tensors="pt",
                                  return_dict=True)
    with torch.no_grad():
        out = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False)
    return tok.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=True).strip()
