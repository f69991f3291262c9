"""Shared fixtures: a tiny Llama + BPE tokenizer built once per session (no download)."""

from __future__ import annotations

import os

# One thread: on a busy 2-core machine OpenMP spinning makes two threads several times slower.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """hidden 64, 2 layers, briefly pre-trained: a real Llama checkpoint folder."""
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    from tuneline.train.demo_model import DemoSpec, build_demo_model
    from tuneline.train.local import quiet_libraries

    quiet_libraries()
    spec = DemoSpec(hidden_size=64, num_layers=2, num_heads=4, num_kv_heads=2, vocab_size=512,
                    max_positions=512, pretrain_steps=150, batch_size=8, seq_length=64)
    return build_demo_model(tmp_path_factory.mktemp("tiny") / "model", spec)


@pytest.fixture(scope="session")
def tokenizer(tiny_model: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_model))
