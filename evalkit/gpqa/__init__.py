"""GPQA's data: the gated Hub dataset, or the authors' password-protected zip read in memory (`data`).

The task itself (prompt, seeded choice shuffles) is `tasks/gpqa_diamond.py`; its grader is the generic
multiple-choice grader, which reads the shuffle through the contract in `evalkit.choices`.
"""
