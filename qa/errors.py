"""The errors a user can cause; each says what went wrong and how to fix it."""


class QAError(Exception):
    """A problem the user can fix; shown as one line, never as a traceback."""


class BadQuestion(QAError):
    pass


class BadDocument(QAError):
    pass


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
