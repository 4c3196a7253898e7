"""``tests.bench.parts``: timed functions still return and yield what they did, and are counted."""

import sys
import types

from tests.bench.parts import Timer


def test_a_wrapped_function_or_generator_gives_the_same_and_is_counted(monkeypatch):
    module = types.ModuleType("parts_example")

    class Thing:
        def double(self, x):
            return 2 * module.square(x)

    def square(x):
        return x * x

    def upto(n):
        yield from range(n)

    module.Thing, module.square, module.upto = Thing, square, upto
    monkeypatch.setitem(sys.modules, "parts_example", module)
    timer = Timer()
    for target in ("parts_example:Thing.double", "parts_example:square", "parts_example:upto"):
        timer.wrap(target)
    assert [Thing().double(x) for x in range(4)] == [0, 2, 8, 18]
    assert list(module.upto(3)) == [0, 1, 2] and list(module.upto(0)) == []
    assert timer.calls == {"parts_example:Thing.double": 4, "parts_example:square": 4, "parts_example:upto": 2}
    assert set(timer.seconds) == set(timer.calls) and all(seconds >= 0 for seconds in timer.seconds.values())
