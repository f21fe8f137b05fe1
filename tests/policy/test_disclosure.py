"""Small-count suppression for commissioner and inspector views."""

import pytest

from service.disclosure import SUPPRESSED, Suppressed, is_suppressed, suppress, suppress_ratio


@pytest.mark.parametrize(("count", "shown"), [(0, 0), (1, SUPPRESSED), (4, SUPPRESSED), (5, 5), (120, 120)])
def test_counts_from_one_to_four_are_suppressed(count: int, shown: object) -> None:
    assert suppress(count) == shown


def test_negative_counts_are_a_bug() -> None:
    with pytest.raises(ValueError):
        suppress(-1)


def test_suppressed_serialises_as_a_flag() -> None:
    assert Suppressed().model_dump() == {"suppressed": True}
    assert is_suppressed({"suppressed": True}) and is_suppressed(SUPPRESSED)
    assert not is_suppressed(3) and not is_suppressed({"suppressed": False})


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        (8, 10, (8, 10, 0.8)),
        (0, 10, (0, 10, 0.0)),
        (3, 10, (SUPPRESSED, SUPPRESSED, None)),  # 3 of 10: the 3 could point at someone
        (3, 4, (SUPPRESSED, SUPPRESSED, None)),
        (0, 0, (0, 0, 0.0)),
    ],
)
def test_ratios_withhold_both_counts_and_the_value_together(
    numerator: int, denominator: int, expected: tuple[object, object, object]
) -> None:
    value = numerator / denominator if denominator else 0.0
    assert suppress_ratio(numerator, denominator, value) == expected
