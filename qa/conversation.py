"""A conversation: earlier turns, and follow-up questions rewritten to stand alone."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Turn:
    question: str
    rewritten: str
    answer: str | None


@dataclass
class Conversation:
    """The state of one session; a plain value that can be saved (`to_dict`) and restored (`from_dict`)."""

    turns: list[Turn] = field(default_factory=list)

    def rewrite(self, question: str) -> str:
        """The question made to stand alone in the light of the earlier turns."""
        return question

    def remember(self, question: str, rewritten: str, answer: str | None) -> None:
        self.turns.append(Turn(question, rewritten, answer))

    def to_dict(self) -> dict:
        return {"turns": [t.__dict__ for t in self.turns]}

    @classmethod
    def from_dict(cls, d: dict) -> "Conversation":
        return cls([Turn(**t) for t in d.get("turns", [])])
