"""Go RE2 regular expressions, which the AWS provider uses for `name_regex`, read in Python.

RE2 lacks look-around, back-references, atomic groups, possessive quantifiers, conditionals and
`\\Z`; it has inline flags anywhere (`(?i)` in a group), `\\z`, `\\Q…\\E` and `(?<name>…)`, which
Python spells differently. `python_equivalent` refuses what RE2 would refuse and rewrites the
rest, so a pattern is checked before `pulumi up` and matched offline as the provider matches it.
(Go's regexp/syntax documentation: https://pkg.go.dev/regexp/syntax.)
"""

from __future__ import annotations

import re

_POSIX_CLASSES = {
    "alpha": "a-zA-Z",
    "digit": "0-9",
    "alnum": "a-zA-Z0-9",
    "upper": "A-Z",
    "lower": "a-z",
    "space": r"\s",
    "word": r"\w",
    "xdigit": "0-9A-Fa-f",
}
_UNSUPPORTED_GROUPS = (
    ("(?=", "look-ahead"),
    ("(?!", "look-ahead"),
    ("(?<=", "look-behind"),
    ("(?<!", "look-behind"),
    ("(?>", "atomic groups"),
    ("(?#", "comments"),
    ("(?P=", "back-references"),
    ("(?(", "conditionals"),
)
_FLAGS = re.compile(r"\(\?([imsU]*(?:-[imsU]+)?)([:)])")


class NotRe2Error(ValueError):
    """A pattern RE2 refuses; the message says which construct."""


def python_equivalent(pattern: str) -> str:
    """The Python pattern that matches what `pattern` matches under RE2, or NotRe2Error."""
    out: list[str] = []
    # One entry per open group: how many `(?flags:` wrappers must close with it.
    groups: list[int] = [0]
    i = 0
    at_group_start = True
    while i < len(pattern):
        char = pattern[i]
        starts_group = False
        if char == "\\":
            text, i = _escape(pattern, i)
        elif char == "[":
            text, i = _char_class(pattern, i)
        elif char == "(":
            text, i, inline = _group(pattern, i)
            if inline and not at_group_start:
                # Go applies it to the rest of the group, alternatives included: only at the
                # group's start does a scoped Python group mean the same.
                raise NotRe2Error("put inline flags such as (?i) at the start of their group")
            if inline:
                groups[-1] += 1
            else:
                groups.append(0)
            starts_group = True
        elif char == ")":
            if len(groups) == 1:
                raise NotRe2Error("an unopened ')'")
            text, i = ")" * (1 + groups.pop()), i + 1
        else:
            text, i = char, i + 1
            if char in "*+?}" and pattern[i : i + 1] == "+":
                raise NotRe2Error("possessive quantifiers (such as *+) are not RE2")
        out.append(text)
        at_group_start = starts_group
    if len(groups) > 1:
        raise NotRe2Error("a '(' that is never closed")
    return "".join(out) + ")" * groups[0]


def _escape(pattern: str, i: int) -> tuple[str, int]:
    nxt = pattern[i + 1 : i + 2]
    if not nxt:
        raise NotRe2Error("a trailing backslash")
    if nxt in "123456789":
        raise NotRe2Error("back-references (\\1) are not RE2")
    if nxt == "Z":
        raise NotRe2Error("\\Z is not RE2 (use \\z or $)")
    if nxt in "pP":
        raise NotRe2Error("Unicode classes (\\p) cannot be checked here; name the characters")
    if nxt == "z":
        return r"\Z", i + 2
    if nxt == "Q":
        end = pattern.find("\\E", i + 2)
        literal = pattern[i + 2 :] if end < 0 else pattern[i + 2 : end]
        return re.escape(literal), len(pattern) if end < 0 else end + 2
    return pattern[i : i + 2], i + 2


def _char_class(pattern: str, i: int) -> tuple[str, int]:
    """`[…]` copied through, POSIX classes (`[:alpha:]`) spelled out."""
    j = i + 1
    if pattern[j : j + 1] == "^":
        j += 1
    if pattern[j : j + 1] == "]":
        j += 1
    body: list[str] = [pattern[i:j]]
    while j < len(pattern) and pattern[j] != "]":
        if pattern[j] == "\\":
            body.append(pattern[j : j + 2])
            j += 2
            continue
        posix = re.match(r"\[:(\^?)(\w+):\]", pattern[j:])
        if posix:
            if posix.group(2) not in _POSIX_CLASSES or posix.group(1):
                raise NotRe2Error(f"the class [:{posix.group(2)}:] cannot be checked here")
            body.append(_POSIX_CLASSES[posix.group(2)])
            j += posix.end()
            continue
        body.append(pattern[j])
        j += 1
    if j >= len(pattern):
        raise NotRe2Error("a '[' that is never closed")
    return "".join(body) + "]", j + 1


def _group(pattern: str, i: int) -> tuple[str, int, bool]:
    """An opening group: (its Python text, the next index, whether it only sets flags)."""
    for prefix, what in _UNSUPPORTED_GROUPS:
        if pattern.startswith(prefix, i):
            raise NotRe2Error(f"{what} ({prefix}…) are not RE2")
    named = re.match(r"\(\?P?<(\w+)>", pattern[i:])
    if named:
        return f"(?P<{named.group(1)}>", i + named.end(), False
    flags = _FLAGS.match(pattern, i)
    if flags and flags.group(1):
        if "U" in flags.group(1):
            raise NotRe2Error("the U (ungreedy) flag has no Python equivalent to check it with")
        # RE2 applies (?i) to the rest of the enclosing group; Python only at the very start,
        # so it becomes a scoped group that closes with the enclosing one.
        return f"(?{flags.group(1)}:", flags.end(), flags.group(2) == ")"
    if pattern.startswith("(?:", i):
        return "(?:", i + 3, False
    if pattern.startswith("(?", i):
        raise NotRe2Error(f"the group {pattern[i : i + 4]}… is not RE2")
    return "(", i + 1, False
