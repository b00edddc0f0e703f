"""The multiple-choice contract between a task that shuffles choices and the choice grader.

A task shows a question's choices under `LETTERS`, in an order of its own per sample, and stores that
order with the generation under `PERMUTATION_KEY` (via `Prompt.metadata`): `order[i]` is the original
index of the choice shown at `LETTERS[i]`, and original index 0 is the correct answer. The grader maps
the chosen letter back through it, so votes count choices, not letters.
"""

from __future__ import annotations

LETTERS = "ABCD"
PERMUTATION_KEY = "permutation"
