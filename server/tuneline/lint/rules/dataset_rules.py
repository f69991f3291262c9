"""Dataset-level rules: computed from the per-line cache by `tuneline.lint.dataset`."""

from tuneline.lint.findings import Severity
from tuneline.lint.rules import rule

MIXED_FORMAT = rule(
    "TL103", "mixed-format", Severity.ERROR,
    "A line is in another format than the rest of the file.",
    "Trainers read a file with one format; the odd line fails or trains on garbage.",
    "Convert the line to the file's format (a quick fix exists for ShareGPT/Alpaca → chat) "
    "or move it to its own file.",
    scope="dataset",
)
EXACT_DUPLICATE = rule(
    "TL501", "exact-duplicate", Severity.WARNING,
    "The example repeats an earlier one (after whitespace normalisation).",
    "Duplicates over-weight one example and leak between train and eval splits.",
    "Delete the later copy.",
    scope="dataset",
)
NEAR_DUPLICATE = rule(
    "TL502", "near-duplicate", Severity.INFO,
    "The example is nearly identical to an earlier one (MinHash estimate of the Jaccard "
    "similarity of 8-byte text shingles above near_duplicate_threshold; system prompts ignored).",
    "Near copies add little signal and inflate epochs on one behaviour.",
    "Vary the example or drop it.",
    scope="dataset",
)
CONTAMINATION = rule(
    "TL503", "eval-contamination", Severity.ERROR,
    "A training example's prompt (or the whole example) also appears in the paired eval file.",
    "Evaluation on seen examples overstates quality.",
    "Remove the example from training or from the eval file.",
    scope="dataset",
)
TOO_FEW = rule(
    "TL701", "too-few-examples", Severity.WARNING,
    "Fewer than 10 examples (an error for OpenAI targets, which reject such files).",
    "OpenAI requires at least 10 examples; any trainer learns little from so few.",
    "Add examples (50–100 is OpenAI's recommended minimum).",
    scope="dataset",
)
SMALL = rule(
    "TL702", "small-dataset", Severity.WARNING,
    "Fewer than 100 examples.",
    "Under 100 examples, few-shot prompting is usually cheaper and as good.",
    "Consider few-shot prompting instead, or collect/augment to 500–1000 examples.",
    scope="dataset",
)
UNDER_1000 = rule(
    "TL703", "under-1000-examples", Severity.INFO,
    "Fewer than 1000 examples.",
    "Strong fine-tuning wants 1000+ high-quality examples.",
    "Collect or augment more examples if results are weak.",
    scope="dataset",
)
SYSTEM_PROMPTS = rule(
    "TL704", "inconsistent-system-prompt", Severity.INFO,
    "Examples use different system prompts.",
    "The model learns behaviour tied to each prompt; use the same one you will deploy with.",
    "Make the system prompt identical across examples (or intend the variation).",
    scope="dataset",
)
LABEL_IMBALANCE = rule(
    "TL705", "label-imbalance", Severity.WARNING,
    "With label_field set: the most common label outnumbers the rarest by more than "
    "imbalance_ratio.",
    "The model learns to predict the majority class.",
    "Balance the classes (collect, augment or down-sample).",
    scope="dataset",
)
