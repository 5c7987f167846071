import io

from qike.sync.progress import BarProgress


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_in_a_log_each_stage_is_one_summary_line():
    out = io.StringIO()
    bar = BarProgress(stream=out)
    bar.stage("staff")
    bar.advance(40)
    bar.stage("customers", total=4)
    bar.advance(2, customers=100)
    bar.advance(2, customers=50)
    bar.finish()
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("staff        40")
    assert "[" + "#" * 30 + "] 4/4" in lines[1]
    assert "customers=150" in lines[1]


def test_on_a_terminal_the_bar_redraws_in_place():
    out = FakeTerminal()
    bar = BarProgress(stream=out)
    bar.stage("customers", total=10)
    bar.advance(5)
    bar.finish()
    text = out.getvalue()
    assert text.count("\n") == 1
    assert "\r" in text
    assert "10" in text
