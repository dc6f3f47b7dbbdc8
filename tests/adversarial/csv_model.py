"""A small, obviously-correct reference model of FlowEngine's record grammar
(core/csv/grammar.h) and of how a source classifies each record: accepted with its values,
or rejected with the line, error code and column the engine must report.

Only the RFC 4180 dialect (doubled quotes) and quote: none are modelled; the delimiter is a
parameter. Byte-at-a-time, no cleverness: the engine's SIMD scan must agree with it exactly.
"""

STRAY = "FE-INPUT-STRAY-QUOTE"
AFTER = "FE-INPUT-AFTER-QUOTE"
UNTERMINATED = "FE-INPUT-UNTERMINATED-QUOTE"
FIELD_COUNT = "FE-INPUT-FIELD-COUNT"
TYPE = "FE-SCHEMA-TYPE"
REQUIRED = "FE-SCHEMA-REQUIRED"


class Field:
    def __init__(self, start):
        self.start = start      # byte offset of the field's first byte
        self.value = bytearray()
        self.problem = None     # (code, offset) of the first grammar problem in the field


class Record:
    def __init__(self, begin, line):
        self.begin = begin
        self.line = line        # 1-based line where the record starts
        self.fields = []
        self.blank = False
        self.end = begin        # content end (line ending excluded)


def split_records(data, delimiter=b",", quote=b'"'):
    """The records of `data` (bytes, the whole input) as the grammar splits them."""
    d = delimiter[0]
    q = quote[0] if quote else None
    records = []
    i = 0
    line = 1
    n = len(data)
    while i < n:
        rec = Record(i, line)
        field = Field(i)
        state = "start"
        quote_at = None
        while True:
            if i >= n:  # end of input
                if state == "quoted" and field.problem is None:
                    field.problem = (UNTERMINATED, quote_at)
                rec.fields.append(field)
                rec.end = n
                break
            c = data[i]
            if state == "quoted":
                if c == q:
                    state = "seen"
                else:
                    if c == 10 or (c == 13 and not (i + 1 < n and data[i + 1] == 10)):
                        line += 1
                    field.value.append(c)
                i += 1
                continue
            if c in (10, 13):
                rec.blank = i == rec.begin
                rec.fields.append(field)
                rec.end = i
                i += 2 if (c == 13 and i + 1 < n and data[i + 1] == 10) else 1
                line += 1
                break
            if c == d:
                rec.fields.append(field)
                field = Field(i + 1)
                state = "start"
                i += 1
                continue
            is_quote = q is not None and c == q
            if state == "start":
                if is_quote:
                    state = "quoted"
                    quote_at = i
                else:
                    state = "unquoted"
                    field.value.append(c)
            elif state == "seen":
                if is_quote:
                    state = "quoted"
                    field.value.append(c)
                else:
                    if field.problem is None:
                        field.problem = (AFTER, i)
                    state = "unquoted"
                    field.value.append(c)
            else:  # unquoted
                if is_quote and field.problem is None:
                    field.problem = (STRAY, i)
                field.value.append(c)
            i += 1
        records.append(rec)
    return records


def column_of(data, offset):
    """1-based column of byte `offset`: bytes since the last line break before it."""
    start = max(data.rfind(b"\n", 0, offset), data.rfind(b"\r", 0, offset)) + 1
    return offset - start + 1


def is_int64(text):
    if not text:
        return False
    body = text[1:] if text[0] in "+-" else text
    if not body.isdigit() or not body.isascii():
        return False
    return -(2 ** 63) <= int(text) < 2 ** 63


def classify(data, columns, delimiter=b",", quote=b'"', header=True, skip_blank=True):
    """Returns (accepted, rejected): accepted rows as lists of str values, rejected records
    as (line, code, column). `columns`: list of (name, type, required) with type "string" or
    "int64". The first record is the header when `header`."""
    recs = split_records(data, delimiter, quote)
    if header:
        recs = recs[1:]
    accepted, rejected = [], []
    ncols = len(columns)
    for rec in recs:
        if rec.blank and skip_blank:
            continue
        error = None
        for k, f in enumerate(rec.fields):
            if f.problem is not None:
                error = (f.problem[0], column_of(data, f.problem[1]))
                break
            if k >= ncols:
                error = (FIELD_COUNT, 1)
                break
        if error is None and len(rec.fields) < ncols:
            error = (FIELD_COUNT, 1)
        if error is None:
            values = [bytes(f.value).decode("utf-8") for f in rec.fields]
            for (name, ctype, required), f, v in zip(columns, rec.fields, values):
                if v == "":
                    if required:
                        error = (REQUIRED, column_of(data, f.start))
                        break
                    continue
                if ctype == "int64" and not is_int64(v):
                    error = (TYPE, column_of(data, f.start))
                    break
        if error is None:
            accepted.append(values)
        else:
            rejected.append((rec.line, error[0], error[1]))
    return accepted, rejected
