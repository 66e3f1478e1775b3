"""Prometheus metrics of one server process: requests, latency, answers, abstentions, errors."""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    def __init__(self):
        self.registry = CollectorRegistry()
        self.requests = Counter("qa_http_requests", "HTTP requests answered", ["method", "route", "status"],
                                registry=self.registry)
        self.latency = Histogram("qa_http_request_duration_seconds", "Time to answer an HTTP request", ["route"],
                                 buckets=BUCKETS, registry=self.registry)
        self.errors = Counter("qa_http_errors", "Requests answered with an error status", ["route", "status"],
                              registry=self.registry)
        self.answers = Counter("qa_answers", "Questions answered (abstentions included)", registry=self.registry)
        self.abstentions = Counter("qa_abstentions", "Questions the documents do not answer", registry=self.registry)
        self.cache_hits = Counter("qa_answer_cache_hits", "Answers served from the cache", registry=self.registry)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(route).observe(seconds)
        if status >= 400:
            self.errors.labels(route, str(status)).inc()

    def answered(self, answer: dict) -> None:
        self.answers.inc()
        if answer.get("abstained"):
            self.abstentions.inc()

    def text(self) -> bytes:
        return generate_latest(self.registry)
