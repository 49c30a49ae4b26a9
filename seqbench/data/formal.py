"""Formal-language tasks for length generalisation (Delétang et al. 2023, "Neural Networks and the
Chomsky Hierarchy"; definitions from google-deepmind/neural_networks_chomsky_hierarchy).

Every task reads a string of `n` input symbols, then `answer_len(n)` blanks, and writes its answer
over the blanks (as the reference appends an empty output tape to the input): one symbol for the
regular tasks, a string for the others. Only the answer positions are scored (IGNORE elsewhere),
per output token. Example (reverse string, n = 3; blank = 2, `_` is IGNORE):

    inputs : 1 1 0 2 2 2
    targets: _ _ _ 0 1 1

The length protocol (train short, test long): for these sources a run's `length` is the training
*maximum* N. Each training batch draws its own string length uniformly from 1..N (every sequence in
the batch has that length, so no padding); the validation set holds every length 1..N in equal
shares, padded, each example tagged `slice_length` (its string length) so accuracy per training
length is a groupby; a test set (`eval_set("test", L, ...)`) holds strings of exactly length L,
which the task draws at each of its `test_lengths`, all longer than N.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import torch

from .batch import IGNORE, Batch
from .source import SampledSource
from .synthetic import GENERATORS

SLICE = "slice_length"  # the per-example slice key: the length of the input string


def _randint(high: int, shape: tuple, generator: torch.Generator, device, low: int = 0) -> torch.Tensor:
    return torch.randint(low, high, shape, generator=generator, device=device)


class FormalSource(SampledSource):
    """A string task: `sample` makes one length; the streams follow the length protocol above.

    A subclass defines `n_inputs` (input symbols 0..n_inputs-1; the blank is n_inputs),
    `n_classes`, `answer_len(n)`, `draw(b, n, generator, device) -> strings (b, n)` and
    `answer(strings) -> (b, answer_len(n))`, where an answer of IGNORE is not scored.
    """

    output = "tag"
    n_inputs: int = 2
    language_class: str = ""  # regular | context-free | context-sensitive (Delétang et al.'s grouping)

    @property
    def vocab_size(self) -> int:
        return self.n_inputs + 1  # the input symbols and the blank

    @property
    def blank(self) -> int:
        return self.n_inputs

    def answer_len(self, n: int) -> int:  # pragma: no cover
        raise NotImplementedError

    def draw(self, b: int, n: int, generator: torch.Generator, device) -> torch.Tensor:
        """(b, n) strings of input symbols, uniform unless a task says otherwise."""
        return _randint(self.n_inputs, (b, n), generator, device)

    def answer(self, strings: torch.Tensor) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError

    def seq_len(self, length: int) -> int:
        return length + self.answer_len(length)

    def baseline(self, length: int) -> dict[str, float]:
        return {"accuracy": 1 / self.n_classes}  # a uniform guess at every scored symbol

    def describe(self, length: int) -> dict:
        """The run file's task block names the task's class, so the report groups by it."""
        return {"language_class": self.language_class}

    def sample(self, n: int, length: int, generator: torch.Generator, device) -> Batch:
        """`n` strings of exactly `length` symbols: (n, seq_len(length)), no padding."""
        strings = self.draw(n, length, generator, device)
        answers = self.answer(strings)
        blanks = torch.full((n, self.answer_len(length)), self.blank, dtype=torch.long, device=device)
        inputs = torch.cat([strings, blanks], dim=1)
        targets = torch.cat([torch.full_like(strings, IGNORE), answers], dim=1)
        T = inputs.shape[1]
        return Batch(inputs, targets, torch.full((n,), T, dtype=torch.long, device=device),
                     {SLICE: torch.full((n,), length, dtype=torch.long, device=device)})

    def sample_mixed(self, string_lengths: list[int], generator: torch.Generator, device) -> Batch:
        """One example per entry of `string_lengths`, in that order, padded (with blanks) to the longest."""
        T = max(self.seq_len(n) for n in string_lengths)
        lengths = torch.tensor(string_lengths, dtype=torch.long, device=device)
        inputs = torch.full((len(string_lengths), T), self.blank, dtype=torch.long, device=device)
        targets = torch.full_like(inputs, IGNORE)
        valid = torch.zeros(len(string_lengths), dtype=torch.long, device=device)
        for n in sorted(set(string_lengths)):
            rows = (lengths == n).nonzero().squeeze(1)
            part = self.sample(len(rows), n, generator, device)
            width = part.inputs.shape[1]
            inputs[rows, :width], targets[rows, :width], valid[rows] = part.inputs, part.targets, width
        return Batch(inputs, targets, valid, {SLICE: lengths})

    def train_batches(self, length: int, seed: int, batch_size: int, device) -> Iterator[Batch]:
        """Each batch at one string length drawn uniformly from 1..length (the training maximum)."""
        gen = torch.Generator(device=device).manual_seed(seed)
        while True:
            n = int(_randint(length + 1, (1,), gen, device, low=1))
            yield self.sample(batch_size, n, gen, device)

    def eval_set(self, split: str, length: int, seed: int, n: int, device) -> Batch:
        """'val': `n` examples over lengths 1..length in equal shares (sorted, so evaluation batches
        are nearly unpadded); 'test': `n` examples of exactly `length`."""
        gen = torch.Generator(device=device).manual_seed(seed)
        if split != "val":
            return self.sample(n, length, gen, device)
        return self.sample_mixed([1 + i * length // n for i in range(n)], gen, device)


# ---------------------------------------------------------------------------- regular

@GENERATORS.register("parity_check")
@dataclass(frozen=True)
class ParityCheck(FormalSource):
    """Parity check (regular): is the number of 1s odd? Bits 0/1, one answer slot (blank = 2).

        inputs : 1 0 1 1 2
        targets: _ _ _ _ 1      (three 1s: odd)
    """

    language_class = "regular"
    n_inputs = 2
    n_classes = 2

    def answer_len(self, n: int) -> int:
        return 1

    def answer(self, strings):
        return strings.sum(1, keepdim=True) % 2


@GENERATORS.register("cycle_navigation")
@dataclass(frozen=True)
class CycleNavigation(FormalSource):
    """Cycle navigation (regular): the final position on a cycle of `cycle` states, from 0. Actions
    0, 1, 2 move by -1, 0, +1 (the reference's encoding); one answer slot (blank = 3).

        inputs : 2 0 1 0 0 3     (+1 -1 0 -1 -1 = -2)
        targets: _ _ _ _ _ 3     (-2 mod 5)
    """

    language_class = "regular"
    cycle: int = 5
    n_inputs = 3

    @property
    def n_classes(self) -> int:
        return self.cycle

    def answer_len(self, n: int) -> int:
        return 1

    def answer(self, strings):
        return (strings - 1).sum(1, keepdim=True) % self.cycle


@GENERATORS.register("modular_arithmetic")
@dataclass(frozen=True)
class ModularArithmetic(FormalSource):
    """Modular arithmetic without brackets (regular): the value mod `modulus` of an expression
    `x0 op x1 op ... xk`, numbers 0..modulus-1 and operators + - * (tokens modulus, modulus+1,
    modulus+2), with * binding tighter. Strings have odd length; an even `n` gives n - 1 symbols
    (as the reference does). One answer slot (blank = modulus + 3). Example (modulus 5):

        inputs : 1 5 2 7 3 8     (1 + 2 * 3 = 7)
        targets: _ _ _ _ _ 2     (7 mod 5)
    """

    language_class = "regular"
    modulus: int = 5

    @property
    def n_inputs(self) -> int:
        return self.modulus + 3

    @property
    def n_classes(self) -> int:
        return self.modulus

    def answer_len(self, n: int) -> int:
        return 1

    def seq_len(self, length: int) -> int:
        return self.odd(length) + 1

    @staticmethod
    def odd(n: int) -> int:
        return n if n % 2 else n - 1

    def draw(self, b, n, generator, device):
        m, k = self.modulus, self.odd(n) // 2  # k operators between k + 1 numbers
        expr = torch.empty((b, 2 * k + 1), dtype=torch.long, device=device)
        expr[:, 0::2] = _randint(m, (b, k + 1), generator, device)
        expr[:, 1::2] = _randint(3, (b, k), generator, device) + m  # +, -, *
        return expr

    def answer(self, strings):
        """Left to right, vectorised over the batch: `total` holds the closed terms, `term` the open
        product (signed); + and - close it, * extends it."""
        m = self.modulus
        numbers, ops = strings[:, 0::2], strings[:, 1::2] - m  # ops 0: +, 1: -, 2: *
        total, term = torch.zeros_like(numbers[:, 0]), numbers[:, 0]
        for i in range(ops.shape[1]):
            op, x = ops[:, i], numbers[:, i + 1]
            closes = op != 2
            total = torch.where(closes, (total + term) % m, total)
            term = torch.where(op == 0, x, torch.where(op == 1, (-x) % m, (term * x) % m))
        return ((total + term) % m).unsqueeze(1)


# ---------------------------------------------------------------------------- context-free

@GENERATORS.register("reverse_string")
@dataclass(frozen=True)
class ReverseString(FormalSource):
    """Reverse string (deterministic context-free): write the bits in reverse order over n blanks
    (blank = 2).

        inputs : 1 1 0 2 2 2
        targets: _ _ _ 0 1 1
    """

    language_class = "context-free"
    n_inputs = 2
    n_classes = 2

    def answer_len(self, n: int) -> int:
        return n

    def answer(self, strings):
        return strings.flip(1)


@GENERATORS.register("stack_manipulation")
@dataclass(frozen=True)
class StackManipulation(FormalSource):
    """Stack manipulation (deterministic context-free): a stack of bits given bottom to top (s of
    the n symbols, s uniform in 1..n-1), then n - s actions: 2 POP (ignored on an empty stack),
    3 PUSH 0, 4 PUSH 1. The answer, over n + 1 blanks (blank = 5): the final stack top to bottom,
    then the end mark 2; the padding after the mark is not scored (the reference's accuracy mask;
    there its loss also asks for zeros there). n = 1: a one-bit stack and no actions.

        inputs : 0 1 1 0 4 2 2 5 5 5 5 5 5 5 5    (0 1 1 0, PUSH 1, POP, POP -> 0 1 1)
        targets: _ _ _ _ _ _ _ 1 1 0 2 _ _ _ _
    """

    language_class = "context-free"
    n_inputs = 5
    n_classes = 3

    def answer_len(self, n: int) -> int:
        return n + 1

    def draw(self, b, n, generator, device):
        s = _randint(n, (b,), generator, device, low=1) if n > 1 else torch.ones(b, dtype=torch.long, device=device)
        in_stack = torch.arange(n, device=device) < s.unsqueeze(1)  # (b, n)
        return torch.where(in_stack, _randint(2, (b, n), generator, device), _randint(5, (b, n), generator, device, low=2))

    def answer(self, strings):
        """The stack is the leading run of bits (an action follows it, or the string ends)."""
        (b, n), device = strings.shape, strings.device
        in_stack = (strings < 2).long().cumprod(1).bool()  # (b, n)
        # Run the actions: a stack of up to 2n - 1 bits per row, `top` items deep.
        stack = torch.zeros((b, 2 * n), dtype=torch.long, device=device)
        stack[:, :n] = torch.where(in_stack, strings, 0)
        top, rows = in_stack.sum(1), torch.arange(b, device=device)
        for i in range(n):
            act, acting = strings[:, i], ~in_stack[:, i]
            push = acting & (act >= 3)
            stack[rows[push], top[push]] = act[push] - 3
            top = top + push.long() - (acting & (act == 2) & (top > 0)).long()
        # Read it top to bottom: answer[j] = stack[top - 1 - j] for j < top, then the mark 2.
        j = torch.arange(n + 1, device=device)
        depth = (top.unsqueeze(1) - 1 - j).clamp(min=0)  # (b, n + 1)
        answer = torch.where(j < top.unsqueeze(1), stack.gather(1, depth), IGNORE)
        return torch.where(j == top.unsqueeze(1), 2, answer)


# ---------------------------------------------------------------------------- context-sensitive

@GENERATORS.register("duplicate_string")
@dataclass(frozen=True)
class DuplicateString(FormalSource):
    """Duplicate string (context-sensitive): write the bits twice over 2n blanks (blank = 2).

        inputs : 1 0 1 2 2 2 2 2 2
        targets: _ _ _ 1 0 1 1 0 1
    """

    language_class = "context-sensitive"
    n_inputs = 2
    n_classes = 2

    def answer_len(self, n: int) -> int:
        return 2 * n

    def answer(self, strings):
        return strings.repeat(1, 2)


@GENERATORS.register("bucket_sort")
@dataclass(frozen=True)
class BucketSort(FormalSource):
    """Bucket sort (context-sensitive): write the `symbols`-ary string sorted ascending over n
    blanks (blank = symbols).

        inputs : 1 0 2 0 4 1 1 2 5 5 5 5 5 5 5 5
        targets: _ _ _ _ _ _ _ _ 0 0 1 1 1 2 2 4
    """

    language_class = "context-sensitive"
    symbols: int = 5

    @property
    def n_inputs(self) -> int:
        return self.symbols

    @property
    def n_classes(self) -> int:
        return self.symbols

    def answer_len(self, n: int) -> int:
        return n

    def answer(self, strings):
        return strings.sort(1).values
