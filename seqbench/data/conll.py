"""CoNLL-2003 files: reading the column format, IOB1 -> IOB2, writing predictions for conlleval.

The raw format is one token per line, `token POS chunk NER`, a blank line after each sentence,
and `-DOCSTART-` lines between documents:

    -DOCSTART- -X- O O

    EU NNP I-NP I-ORG
    rejects VBZ I-VP O
"""
from __future__ import annotations

from pathlib import Path


def read_conll(path: str | Path) -> dict[str, list[list[str]]]:
    """{'tokens': [[...], ...], 'ner_tags': [[...], ...]} with the tags as written (IOB1)."""
    sentences, tags = [], []
    words, labels = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if not parts or parts[0] == "-DOCSTART-":
                if words:
                    sentences.append(words)
                    tags.append(labels)
                words, labels = [], []
                continue
            words.append(parts[0])
            labels.append(parts[-1])
    if words:
        sentences.append(words)
        tags.append(labels)
    return {"tokens": sentences, "ner_tags": tags}


SHAPE_UNKS = ("[UNK_NUM]", "[UNK_UPPER]", "[UNK_CAP]", "[UNK_LOWER]")  # [UNK] refined by word shape


def word_shape(word: str) -> str:
    """The unknown-word token for `word`: '1996' -> [UNK_NUM], 'NATO' -> [UNK_UPPER],
    'Blackburn' -> [UNK_CAP], 'lamb' -> [UNK_LOWER], anything else -> [UNK]."""
    if any(c.isdigit() for c in word):
        return "[UNK_NUM]"
    if word.isupper():
        return "[UNK_UPPER]"
    if word[:1].isupper():
        return "[UNK_CAP]"
    if word.islower():
        return "[UNK_LOWER]"
    return "[UNK]"


CASES = ("special", "lower", "initcap", "allcaps", "mixed", "numeric", "other")  # word-case classes
_SHAPE_CASE = {"[UNK_NUM]": "numeric", "[UNK_UPPER]": "allcaps", "[UNK_CAP]": "initcap", "[UNK_LOWER]": "lower"}


def case_class(token: str) -> int:
    """The index in CASES of a vocabulary token's case (Collobert et al. 2011's caps feature, refined):
    'the' -> lower, 'Blackburn' -> initcap, 'NATO' -> allcaps, 'McDonald' -> mixed, '0000' -> numeric,
    ',' -> other; a shape-unknown token ('[UNK_CAP]') has its shape's case, other special tokens 'special'."""
    if token in _SHAPE_CASE:
        return CASES.index(_SHAPE_CASE[token])
    if token.startswith("[") and token.endswith("]") and token[1:-1].replace("_", "").isupper():
        return CASES.index("special")
    if any(c.isdigit() for c in token):
        return CASES.index("numeric")
    letters = [c for c in token if c.isalpha()]
    if not letters:
        return CASES.index("other")
    if all(c.islower() for c in letters):
        return CASES.index("lower")
    if all(c.isupper() for c in letters):
        return CASES.index("allcaps") if len(letters) > 1 else CASES.index("initcap")
    if letters[0].isupper() and all(c.islower() for c in letters[1:]):
        return CASES.index("initcap")
    return CASES.index("mixed")


def iob1_to_iob2(tags: list[str]) -> list[str]:
    """IOB1 (an entity starts with I- unless it follows one of the same type) -> IOB2 (always B-).

    ['I-PER', 'I-PER', 'O', 'I-LOC', 'B-LOC'] -> ['B-PER', 'I-PER', 'O', 'B-LOC', 'B-LOC']
    IOB2 input comes back unchanged.
    """
    out = []
    previous = "O"
    for tag in tags:
        if tag.startswith("I-"):
            kind = tag[2:]
            if previous == "O" or previous[2:] != kind:
                tag = "B-" + kind
        out.append(tag)
        previous = tag
    return out


def write_predictions(path: str | Path, sentences: list[list[str]], gold: list[list[str]],
                      pred: list[list[str]]) -> None:
    """`word gold predicted` per line, a blank line after each sentence: conlleval's input."""
    with open(path, "w", encoding="utf-8") as f:
        for words, g, p in zip(sentences, gold, pred):
            for word, gt, pt in zip(words, g, p):
                f.write(f"{word} {gt} {pt}\n")
            f.write("\n")


def read_predictions(path: str | Path) -> tuple[list[list[str]], list[list[str]]]:
    """(gold, predicted) tag sequences from a predictions file."""
    gold, pred, g, p = [], [], [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if not parts:
                if g:
                    gold.append(g)
                    pred.append(p)
                g, p = [], []
                continue
            g.append(parts[-2])
            p.append(parts[-1])
    if g:
        gold.append(g)
        pred.append(p)
    return gold, pred
