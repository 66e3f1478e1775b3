"""The shapes of requests and responses, as the OpenAPI document states them."""
from __future__ import annotations

from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, StrictInt


class AskRequest(BaseModel):
    question: str = Field(..., description="The question, in plain words.", examples=["When does mass production start?"])
    session: Optional[str] = Field(None, max_length=200, description="A conversation id; follow-ups are read in its light.")
    k: Optional[StrictInt] = Field(None, ge=1, le=50, description="How many sources to return at most.")
    doc: Optional[str] = Field(None, max_length=500, description='Only documents whose path, name or title match this glob, e.g. "*.pdf".')
    since: Optional[str] = Field(None, max_length=10, description="Only documents dated on or after (2023, 2023-03 or 2023-03-14).")
    until: Optional[str] = Field(None, max_length=10, description="Only documents dated on or before (2023, 2023-03 or 2023-03-14).")
    collection: Optional[str] = Field(None, max_length=63, description="The collection asked (default: the server's own).")


class MessageRequest(BaseModel):
    question: str = Field(..., description="The next question of the conversation.", examples=["And the net profit?"])
    k: Optional[StrictInt] = Field(None, ge=1, le=50)


class Source(BaseModel):
    doc: str
    start: int
    end: int
    link: Optional[str] = Field(None, description="A page showing this sentence in its document (opens without a key).")
    text: str
    score: float
    title: Optional[str] = None
    section: Optional[str] = None
    page: Optional[int] = Field(None, description="1-based page, for paged formats such as PDF.")


class Evidence(BaseModel):
    doc: str
    start: int
    end: int


class AnswerOut(BaseModel):
    """The answer object of CONTRACT.md."""

    question: str
    answer: Optional[str]
    abstained: bool
    confidence: float
    sources: list[Source]
    facts: list[dict[str, Any]]
    question_type: Optional[str] = None
    evidence: Optional[Evidence] = None
    rewritten: Optional[str] = None
    others: Optional[list[dict[str, Any]]] = Field(None, description="What other documents answer, older ones after the newer.")
    abstained_because: Optional[str] = Field(None, description="Why the bot abstained (the check that failed, or the confidence).")
    passed_over: Optional[str] = Field(None, description="Why the reader's first choice was not the answer.")
    session: Optional[str] = None
    answer_id: Optional[str] = Field(None, description="For POST /v1/answers/{answer_id}/feedback.")


class FeedbackIn(BaseModel):
    rating: Literal["up", "down"] = Field(..., description="Was the answer right (up) or wrong (down)?")
    comment: Optional[str] = Field(None, max_length=2000, description="What was wrong, in the user's words.")
    correction: Optional[str] = Field(None, max_length=1000, description="The right answer, in the customer's or a reviewer's words.")
    answerable: Optional[bool] = Field(None, description="false: no page answers this question (a reviewer's finding).")


class Gap(BaseModel):
    """One question the documents do not answer well, asked one or more ways (GET /v1/unanswered)."""

    count: int = Field(..., description="How many times it was asked.")
    questions: list[str] = Field(..., description="Its phrasings, the commonest first.")
    first_asked: str
    last_asked: str
    abstained: int = Field(..., description="How many times the bot abstained on it.")
    marked_wrong: int = Field(..., description="How many of its answers users marked wrong.")
    corrections: Optional[list[str]] = Field(None, description="The right answers reviewers gave.")
    nearest: list[dict[str, Any]] = Field(..., description="The passages that come nearest to answering it.")


class FeedbackSaved(BaseModel):
    answer_id: str
    rating: str


class SessionCreated(BaseModel):
    id: str


class Turn(BaseModel):
    question: str
    rewritten: str
    answer: Optional[str]


class SessionOut(BaseModel):
    id: str
    turns: list[Turn]


class DocumentOut(BaseModel):
    id: str = Field(..., description="The document's id, for DELETE /v1/documents/{id}.")
    doc: str = Field(..., description="The document's file name.")
    title: Optional[str]
    date: Optional[str]
    format: str = "text"
    sha256: str
    chars: int
    sentences: int
    facts: int = 0
    indexed: Optional[str] = Field(None, description="When the document was indexed (ISO 8601, UTC).")


class DocumentChange(BaseModel):
    id: str
    doc: str
    added: int
    updated: int
    removed: int
    unchanged: int


class ErrorDetail(BaseModel):
    message: str
    type: str
    code: int


class ErrorBody(BaseModel):
    error: ErrorDetail


class Health(BaseModel):
    status: str
    collection: Optional[str] = None
    index: Optional[str] = None
    documents: Optional[int] = None
    sentences: Optional[int] = None
    facts: Optional[int] = None


# -- OpenAI-compatible ------------------------------------------------------------------------------
class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: Optional[str] = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "user", "assistant", "developer", "tool"]
    content: Union[str, list[ContentPart], None] = None


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: Optional[str] = None
    messages: list[ChatMessage] = Field(..., min_length=1)
    stream: bool = False
    collection: Optional[str] = Field(None, max_length=63, description="The collection asked (default: the server's own).")


class ChatChoiceMessage(BaseModel):
    role: Literal["assistant"]
    content: str


class ChatChoice(BaseModel):
    index: int
    message: ChatChoiceMessage
    finish_reason: str


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[ChatChoice]
    usage: Usage
    sources: list[Source] = Field(description="The cited sentences, best first (an extension of OpenAI's format).")
    qa: AnswerOut = Field(description="The whole answer object (an extension of OpenAI's format).")


class ModelCard(BaseModel):
    id: str
    object: Literal["model"]
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"]
    data: list[ModelCard]
