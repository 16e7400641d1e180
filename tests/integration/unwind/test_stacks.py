"""test_stacks.py - grouping by call stack at scale: 2048 distinct stacks
(tests/targets/many_stacks.c), each exact and each told apart from the
others, with no stack lost."""

from expected import MANY_STACKS, MANY_STACKS_DEPTH, MANY_STACKS_TOTALS
from harness import Session, describe_stacks, expect_totals, \
    function_names, trace


def path_of(names):
    """The tree path a many_stacks.c stack encodes: its go_right frames are
    the 1 bits, the innermost go_* frame being bit 0."""
    turns = [name for name in names if name in ("go_left", "go_right")]
    assert len(turns) == MANY_STACKS_DEPTH, f"{len(turns)} turns in {names}"
    return sum(1 << bit for bit, name in enumerate(turns)
               if name == "go_right")


def test_many_distinct_stacks():
    """Every one of the 2048 stacks is reported (--top 5000), holding its
    one block of 16 + path bytes under the frames that encode path; none
    falls into stack_errors."""
    with Session() as s:
        _, _, report = trace(s, "many_stacks", "--top", "5000")
        expect_totals(report, MANY_STACKS_TOTALS)
        assert len(report["stacks"]) == MANY_STACKS, \
            f"{len(report['stacks'])} stacks, expected {MANY_STACKS}"
        paths = set()
        for stack in report["stacks"]:
            names = function_names(stack)
            assert names[:2] == ["leaf_alloc", "descend"] and \
                "main" in names, f"unexpected frames {names}"
            path = path_of(names)
            assert (stack["allocs"], stack["bytes"]) == (1, 16 + path), \
                (f"path {path}: {stack['allocs']} allocs, {stack['bytes']}"
                 f" bytes, expected 1 alloc, {16 + path} bytes")
            paths.add(path)
        assert len(paths) == MANY_STACKS, \
            f"only {len(paths)} distinct paths:\n{describe_stacks(report)}"
