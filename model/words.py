#!/usr/bin/env python3
"""The prompt's words → the generator's condition: vocabulary builder and encoder.

The vocabulary is built once from the emoji dataset's own text (emoji-datasource's `name`,
`short_names` and `subcategory` of every emoji): for each word, how many emoji of each
category use it, scaled to integers that sum to about 127. It is written into the ONNX
model's `section9.prompt` metadata, so the model file carries its own text encoder.

The encoder (`condition`) is the integer function `crate/src/prompt.rs` implements — the
deployed one; this copy only encodes the training set's names and checks the test vectors:

1. tokens are the maximal runs of ASCII letters and digits, lower-cased (every other
   character separates words, so "piñata" is "pi" + "ata" on both sides);
2. a token is looked up as is, then without a final "s", then without a final "es"
   ("cats" → "cat", "foxes" → "fox"); a token not found is ignored;
3. with n tokens found, condition[c] = round_half_up(Σ vector[c] / n) — the mean of their
   vectors; no token found (an empty prompt, only unknown words) gives all zeros, which the
   generator was trained on as "no condition".
"""
import json
import re

FORMAT = "section9-words-v1"
META_KEY = "section9.prompt"

# Words that say nothing (and single characters, which are left out too) about what the picture shows; left out of the vocabulary.
STOPWORDS = frozenset(
    "a an and are as at be by for from has have in into is it its of off on or our out over the their "
    "this to under up with without my your his her".split()
)
# The one emoji category that is not a picture of something (skin-tone swatches, hair parts).
SKIPPED_CATEGORY = "Component"

_TOKEN = re.compile(r"[a-z0-9]+")


def tokens(text):
    return _TOKEN.findall("".join(ch.lower() if ch.isascii() else " " for ch in text))


def emoji_words(entry):
    """The set of vocabulary words one emoji contributes."""
    text = " ".join([entry.get("name") or "", " ".join(entry.get("short_names") or []), entry.get("subcategory") or ""])
    return {t for t in tokens(text) if len(t) > 1 and t not in STOPWORDS}


def classes_of(emoji):
    """Categories in dataset order (emoji-datasource's sort_order), without the skipped one."""
    order = []
    for e in sorted(emoji, key=lambda e: e["sort_order"]):
        if e["category"] != SKIPPED_CATEGORY and e["category"] not in order:
            order.append(e["category"])
    return order


def build(emoji, offset):
    """The vocabulary of `emoji` (emoji-datasource's emoji.json) as the metadata object."""
    classes = classes_of(emoji)
    counts = {}
    for e in emoji:
        if e["category"] == SKIPPED_CATEGORY:
            continue
        c = classes.index(e["category"])
        for w in emoji_words(e):
            counts.setdefault(w, [0] * len(classes))[c] += 1
    words = {}
    for w in sorted(counts):
        total = sum(counts[w])
        words[w] = [(254 * n + total) // (2 * total) for n in counts[w]]
    return {"format": FORMAT, "offset": offset, "classes": classes, "words": words}


def lookup(vocab, token):
    words = vocab["words"]
    for cand in (token, token[:-1] if token.endswith("s") else None, token[:-2] if token.endswith("es") else None):
        if cand and cand in words:
            return words[cand]
    return None


def condition(vocab, prompt):
    """The condition vector (len(classes) ints in [0, 127]) of a prompt."""
    found = [v for v in (lookup(vocab, t) for t in tokens(prompt)) if v is not None]
    n = len(found)
    if n == 0:
        return [0] * len(vocab["classes"])
    return [(2 * sum(v[c] for v in found) + n) // (2 * n) for c in range(len(vocab["classes"]))]


def to_json(vocab):
    return json.dumps(vocab, separators=(",", ":"), sort_keys=False)
