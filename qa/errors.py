"""The errors a user can cause; each says what went wrong and how to fix it."""


class QAError(Exception):
    """A problem the user can fix; shown as one line, never as a traceback."""


class BadQuestion(QAError):
    pass


class BadDocument(QAError):
    pass


class DocumentTooLarge(BadDocument):
    """A document past one of the reading limits (`qa.ingest.limits`); `limit` names its setting."""

    def __init__(self, message: str, limit: str):
        super().__init__(message)
        self.limit = limit


class IndexMissing(QAError):
    pass


class IndexCorrupt(QAError):
    pass


class IndexStale(QAError):
    pass


class ModelError(QAError):
    pass


class StoreUnavailable(QAError):
    pass
