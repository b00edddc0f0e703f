"""evalkit's built-in simulated model (`--model simulated`): no server, no weights, known truth.

It answers every request in-process with a response written by evalkit, not by a language model.
Each problem has a known accuracy (`problem_accuracy`), and each sample draws, from its own seed
(derived from run seed, task, sample id and sample index), one response kind: correct, correct in an
equivalent form, wrong (two distinct wrong answers, so majority votes are contested), no answer,
truncated at the token limit, or thinking that never closes; for code tasks a program that passes or
one that fails. Because the distribution of kinds is known, so is the true value of every metric
(`evalkit.simulated.truth`), which is what `evalkit selfcheck` compares the measured CIs against.

Numbers from this model measure the harness on this machine, never a model: every console line,
report and manifest of such a run says "simulated".
"""

from evalkit.simulated.responses import (
    SIMULATED_MODEL,
    Kind,
    Simulated,
    problem_accuracy,
    simulate,
)

__all__ = ["SIMULATED_MODEL", "Kind", "Simulated", "problem_accuracy", "simulate"]
