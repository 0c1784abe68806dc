"""The HTML report's template: values are escaped, figures read as people write them."""

from __future__ import annotations

import copy
import dataclasses

import pytest

from planner.outputs.report.html import quantity, render_html
from tests.test_report import report_dir


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (2.0, "strings", "2 strings"),
        (15_100_000.0, "IOPS", "15,100,000 IOPS"),
        (1.25, "ms", "1.2 ms"),
        (525.305352, "TiB", "525.3 TiB"),
        (0.0123, "", "0.0123"),
        (0.0, "%", "0 %"),
    ],
)
def test_quantity(value: float, unit: str, text: str) -> None:
    assert quantity(value, unit) == text


def test_text_from_the_plan_is_escaped() -> None:
    _, data = report_dir()
    plan = copy.deepcopy(data.plan)
    plan["assumptions"]["name"] = '<script>alert("x")</script> & co'
    html = render_html(dataclasses.replace(data, plan=plan), {"costs": b"png"})
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; co" in html
