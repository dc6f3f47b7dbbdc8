#!/usr/bin/env python3
"""Regenerates docs/errors.md from the error catalogue in core/error/error_codes.cc.
tests/core/error/error_codes_test.cc fails when the two disagree, so run this after adding
or changing a code:  tools/gen_error_docs.py"""
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
src = open(os.path.join(ROOT, "core/error/error_codes.cc")).read()
entries = re.findall(
    r'ErrorCodeInfo\{"(FE-[A-Z0-9-]+)", C::k(\w+), (true|false),\s*((?:"(?:[^"\\]|\\.)*"\s*)+),'
    r'\s*((?:"(?:[^"\\]|\\.)*"\s*)+)\}', src)


def text(literals):
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', literals)).replace('\\"', '"')


out = [
    "# Error codes", "",
    "Every error FlowEngine reports has a stable code, a class, a message (static text first,",
    "values last), a location (file, line, column, byte offset, field), the stage it happened in,",
    "and a hint. This page is generated from `core/error/error_codes.cc` by",
    "`tools/gen_error_docs.py`; a unit test fails when the two disagree.", "",
    "An error prints as:", "", "```",
    "/data/in.csv:3:3: error FE-SCHEMA-TYPE (schema, stage parse): Value is not a valid int32 "
    "in column 'age': 'thirty'",
    "  at: field 'age' byte offset 21",
    "  hint: Fix the value, or declare the column with a type that fits (e.g. string).", "```", "",
    "Exit codes: `0` success; `1` the run failed (input, schema, script, output, resource and",
    "internal errors); `2` invalid configuration or usage (every `config`-class code below, and",
    "`FE-SCRIPT-SYNTAX` / `FE-SCRIPT-NO-PROCESS`); `130`/`143` interrupted by SIGINT/SIGTERM.", "",
    "The \"How to fix\" below is each code's general advice, which an error carries unless it",
    "knows better: many errors (most `config` ones) give a hint for the situation instead — a",
    "\"did you mean\", the allowed values, the key to set.", ""]
current = None
for code, cls, retry, summary, hint in entries:
    if cls != current:
        current = cls
        out += [f"## Class `{cls.lower()}`", ""]
    out += [f"### {code}", "", text(summary), "",
            f"- Retryable: {'yes' if retry == 'true' else 'no'}",
            f"- How to fix: {text(hint)}", ""]
open(os.path.join(ROOT, "docs/errors.md"), "w").write("\n".join(out))
print(f"docs/errors.md: {len(entries)} codes")
