"""The `last_word` grader: the answer is the last word of the answer region, compared case-blind."""

from __future__ import annotations

from evalkit import Answer, Generation, Grader, Sample, Score


class LastWordGrader(Grader):
    """Right when the answer's last word equals the target (case and a final full stop ignored).

    evalkit's Grader base does the opening every grader shares (a failed generation, the answer
    region, thinking that never closed): this grader only judges the answer text.
    """

    name = "last_word"
    version = "1"
    votes = True

    def __init__(self, case_sensitive: bool = False) -> None:
        self.case_sensitive = case_sensitive

    def _norm(self, word: str) -> str:
        word = word.rstrip(".")
        return word if self.case_sensitive else word.lower()

    def judge(self, sample: Sample, generation: Generation, answer: Answer) -> Score:
        """Score the last word of the answer region."""
        words = answer.text.split()
        if not words:
            return Score(0.0, "no_answer", explanation="no answer")
        answer = self._norm(words[-1])
        right = answer == self._norm(sample.target)
        return Score(float(right), "correct" if right else "wrong", extracted=answer, vote=answer)

    def same_class(self, sample: Sample, a: str, b: str) -> bool:
        """Votes are normalised words: equal words are one answer."""
        return a == b
