"""Score statistics against hand-worked examples, textbook tables and properties."""

from __future__ import annotations

import math
from collections.abc import Mapping

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedback.insight.statistics import (
    Comparison,
    Score,
    TargetStatus,
    compare,
    mean_interval,
    normal_cdf,
    normal_quantile,
    proportion,
    score_from_counts,
    share_change_p_value,
    t_cdf,
    t_quantile,
    t_two_sided_p,
    target_status,
)
from surveys.kinds import SurveyKind, metric_value, scale_of

Z95 = 1.959963984540054
# Student's t at 0.975 to ten digits (same as any statistics package).
T975 = {
    1: 12.70620474,
    2: 4.302652730,
    5: 2.570581836,
    10: 2.228138852,
    29: 2.045229642,
    30: 2.042272456,
    100: 1.983971519,
}
# The same, as printed in the usual four-decimal tables.
T975_TABLE = {1: 12.7062, 2: 4.3027, 5: 2.5706, 10: 2.2281, 30: 2.0423, 100: 1.9840}

no_db = settings(database=None, deadline=None)


def reference_two_sided_p(t: float, df: int) -> float:
    """P(|T| ≥ |t|) for integer df in closed form (Abramowitz & Stegun 26.7.3–26.7.4)."""
    theta = math.atan(abs(t) / math.sqrt(df))
    c2 = math.cos(theta) ** 2
    term = total = 1.0
    if df % 2 == 0:
        for k in range(1, df // 2):
            term *= (2 * k - 1) / (2 * k) * c2
            total += term
        inside = math.sin(theta) * total
    elif df == 1:
        inside = 2.0 * theta / math.pi
    else:
        for k in range(1, (df - 1) // 2):
            term *= (2 * k) / (2 * k + 1) * c2
            total += term
        inside = 2.0 / math.pi * (theta + math.sin(theta) * math.cos(theta) * total)
    return 1.0 - inside


def nps_counts(promoters: int, passives: int, detractors: int) -> dict[int, int]:
    return {10: promoters, 8: passives, 3: detractors}


def csat_counts(satisfied: int, n: int) -> dict[int, int]:
    # Satisfied split over 4 and 5, the rest neutral, so only the 4–5 share matters.
    return {5: satisfied // 2, 4: satisfied - satisfied // 2, 3: n - satisfied}


# --- distributions -------------------------------------------------------------------------


@pytest.mark.parametrize(("df", "expected"), sorted(T975_TABLE.items()))
def test_t_quantile_matches_printed_table(df: int, expected: float) -> None:
    assert t_quantile(0.975, df) == pytest.approx(expected, abs=5e-5)


@pytest.mark.parametrize(("df", "expected"), sorted(T975.items()))
def test_t_quantile_to_ten_digits(df: int, expected: float) -> None:
    assert t_quantile(0.975, df) == pytest.approx(expected, abs=1e-8)
    assert t_quantile(0.025, df) == pytest.approx(-expected, abs=1e-8)


@pytest.mark.parametrize(
    ("p", "df", "expected"),
    [(0.95, 5, 2.0150), (0.995, 10, 3.1693), (0.99, 20, 2.5280), (0.9, 1, 3.0777), (0.5, 7, 0.0)],
)
def test_t_quantile_other_table_entries(p: float, df: int, expected: float) -> None:
    assert t_quantile(p, df) == pytest.approx(expected, abs=5e-5)


@no_db
@given(st.floats(min_value=1e-9, max_value=1 - 1e-9))
def test_t_quantile_closed_forms_for_one_and_two_df(p: float) -> None:
    # tan(π(p − ½)) written as a cotangent of the smaller tail, which floats keep exact.
    cauchy = -1 / math.tan(math.pi * p) if p < 0.5 else 1 / math.tan(math.pi * (1 - p))
    assert t_quantile(p, 1) == pytest.approx(cauchy, rel=1e-9, abs=1e-9)
    closed = (2 * p - 1) / math.sqrt(2 * p * (1 - p))
    assert t_quantile(p, 2) == pytest.approx(closed, rel=1e-9, abs=1e-9)


@no_db
@given(st.integers(min_value=1, max_value=80), st.floats(min_value=-40, max_value=40))
def test_t_p_value_matches_closed_form(df: int, t: float) -> None:
    assert t_two_sided_p(t, df) == pytest.approx(reference_two_sided_p(t, df), abs=1e-11)


@no_db
@given(
    st.floats(min_value=1e-8, max_value=1 - 1e-8),
    st.floats(min_value=0.3, max_value=5e6),
)
def test_t_quantile_inverts_cdf(p: float, df: float) -> None:
    q = t_quantile(p, df)
    assert t_cdf(q, df) == pytest.approx(p, rel=1e-9, abs=1e-12)


def test_known_t_p_values() -> None:
    assert t_two_sided_p(2.0, 10) == pytest.approx(0.073388, abs=1e-6)
    assert t_two_sided_p(-2.0, 10) == t_two_sided_p(2.0, 10)
    assert t_two_sided_p(T975[10], 10) == pytest.approx(0.05, abs=1e-9)
    assert t_two_sided_p(T975[1], 1) == pytest.approx(0.05, abs=1e-9)
    assert t_two_sided_p(0.0, 3) == 1.0
    assert t_two_sided_p(math.inf, 3) == 0.0
    assert t_cdf(1.0, 1) == pytest.approx(0.75)
    assert t_cdf(-1.0, 1) == pytest.approx(0.25)


def test_t_tends_to_normal() -> None:
    assert t_quantile(0.975, 1e9) == pytest.approx(Z95, abs=1e-9)
    assert t_quantile(0.975, 1e6) == pytest.approx(Z95, abs=1e-5)
    assert t_two_sided_p(Z95, 1e9) == pytest.approx(0.05, abs=1e-12)
    assert normal_quantile(0.975) == pytest.approx(Z95, abs=1e-12)
    assert normal_cdf(Z95) == pytest.approx(0.975, abs=1e-12)


@pytest.mark.parametrize(("p", "df"), [(0.0, 5), (1.0, 5), (math.nan, 5), (0.5, 0), (0.5, -1)])
def test_t_quantile_rejects_bad_arguments(p: float, df: float) -> None:
    with pytest.raises(ValueError, match="must"):
        t_quantile(p, df)


# --- Wilson and t intervals ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    # Newcombe (1998), Statistics in Medicine 17:857, table I, method 3 (Wilson).
    [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_matches_newcombe(k: int, n: int, low: float, high: float) -> None:
    share, interval = proportion(k, n)
    assert share == k / n
    assert interval is not None
    assert interval.low == pytest.approx(low, abs=5e-5)
    assert interval.high == pytest.approx(high, abs=5e-5)


@pytest.mark.parametrize("n", [1, 10, 100, 10_000])
def test_wilson_none_and_all(n: int) -> None:
    # Closed forms: 0/n → [0, z²/(n + z²)], n/n → [n/(n + z²), 1].
    none, none_interval = proportion(0, n)
    every, every_interval = proportion(n, n)
    assert (none, every) == (0.0, 1.0)
    assert none_interval is not None
    assert every_interval is not None
    assert none_interval.low == 0.0
    assert none_interval.high == pytest.approx(Z95**2 / (n + Z95**2))
    assert every_interval.low == pytest.approx(n / (n + Z95**2))
    assert every_interval.high == 1.0


def test_proportion_without_denominator_and_bad_input() -> None:
    assert proportion(0, 0) == (0.0, None)
    with pytest.raises(ValueError, match="exceed"):
        proportion(3, 2)
    with pytest.raises(ValueError, match="non-negative"):
        proportion(-1, 2)
    with pytest.raises(ValueError, match="confidence"):
        proportion(1, 2, confidence=1.0)


def test_mean_interval_from_sums() -> None:
    # Values 2, 4, 4, 4, 5, 5, 7, 9: mean 5, sample variance 32/7.
    values = [2, 4, 4, 4, 5, 5, 7, 9]
    mean, interval = mean_interval(len(values), sum(values), sum(v * v for v in values))
    half = 2.364624252 * math.sqrt(32 / 7 / 8)  # t_{0.975, 7}
    assert mean == 5.0
    assert interval is not None
    assert interval.low == pytest.approx(5 - half)
    assert interval.high == pytest.approx(5 + half)


def test_mean_interval_small_and_flat_samples() -> None:
    assert mean_interval(0, 0.0, 0.0) == (None, None)
    assert mean_interval(1, 0.4, 0.16) == (0.4, None)
    mean, interval = mean_interval(3, 0.3, 0.03)  # 0.1 three times, with float sums
    assert mean == pytest.approx(0.1)
    assert interval is not None
    assert interval.high - interval.low == pytest.approx(0.0, abs=1e-7)
    with pytest.raises(ValueError, match="inconsistent"):
        mean_interval(2, 10.0, 1.0)


# --- scores --------------------------------------------------------------------------------


def test_nps_worked_example() -> None:
    score = score_from_counts("nps", nps_counts(50, 30, 20))
    half = Z95 * math.sqrt((0.5 + 0.2 - 0.3**2) / 100) * 100
    assert half == pytest.approx(15.31, abs=0.005)
    assert (score.metric, score.n, score.value, score.insufficient) == ("nps", 100, 30.0, False)
    assert score.ci_low == pytest.approx(30 - half)
    assert score.ci_high == pytest.approx(30 + half)
    assert score.mean == pytest.approx((500 + 240 + 60) / 100)
    assert (score.share_high, score.share_low) == (50.0, 20.0)


def test_nps_interval_clipped_and_collapsed() -> None:
    # 29 promoters and 1 passive: 96.7 ± 6.4 would pass 100.
    near_top = score_from_counts(SurveyKind.NPS, {10: 29, 7: 1})
    assert near_top.ci_high == 100.0
    promoters = 29 / 30
    half = 100 * Z95 * math.sqrt((promoters - promoters**2) / 30)
    assert near_top.ci_low == pytest.approx(100 * promoters - half)
    # Everyone a promoter: no spread was observed, so the interval says how far the score could
    # fall if up to q of everyone (the exact bound for a share never seen in 40) were detractors.
    everyone = score_from_counts(SurveyKind.NPS, {9: 40})
    q = 1 - 0.025 ** (1 / 40)
    assert q == pytest.approx(0.0881, abs=1e-4)
    assert everyone.value == 100.0 and everyone.ci_high == 100.0
    assert everyone.ci_low == pytest.approx(100 - 200 * q)
    passives = score_from_counts(SurveyKind.NPS, {7: 40})
    assert passives.ci_low == pytest.approx(-100 * q) and passives.ci_high == pytest.approx(100 * q)


def test_csat_worked_example() -> None:
    # 34 of 40 satisfied: 85 %, Wilson by hand.
    score = score_from_counts("csat", {5: 20, 4: 14, 3: 4, 2: 1, 1: 1})
    p, n, z2 = 0.85, 40, Z95**2
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    assert score.value == 85.0
    assert score.ci_low == pytest.approx(100 * (centre - half))
    assert score.ci_high == pytest.approx(100 * (centre + half))
    assert score.mean == pytest.approx((100 + 56 + 12 + 2 + 1) / 40)
    assert (score.share_high, score.share_low) == (85.0, 5.0)


def test_ces_worked_example() -> None:
    # 10 each of 5, 6, 7: mean 6, sample variance 20/29, t with 29 df.
    score = score_from_counts("ces", {5: 10, 6: 10, 7: 10})
    half = T975[29] * math.sqrt(20 / 29 / 30)
    assert half == pytest.approx(0.3101, abs=5e-5)
    assert score.value == score.mean == 6.0
    assert score.ci_low == pytest.approx(6 - half)
    assert score.ci_high == pytest.approx(6 + half)
    assert (score.share_high, score.share_low) == (100.0, 0.0)


def test_ces_flat_and_clipped() -> None:
    flat = score_from_counts("ces", {4: 30})  # no spread: widened toward both ends
    q = 1 - 0.025 ** (1 / 30)
    assert flat.value == 4.0
    assert flat.ci_low == pytest.approx(4 - 3 * q) and flat.ci_high == pytest.approx(4 + 3 * q)
    assert (flat.share_high, flat.share_low) == (0.0, 0.0)
    # 29 sevens and a one: 6.8 ± 0.41 would pass 7.
    top = score_from_counts("ces", {7: 29, 1: 1})
    assert top.value == pytest.approx(6.8)
    assert top.ci_high == 7.0
    assert top.share_low == pytest.approx(100 / 30)


@pytest.mark.parametrize("kind", list(SurveyKind))
def test_insufficient_withholds_every_number(kind: SurveyKind) -> None:
    high = scale_of(kind).high
    withheld = Score(
        metric=kind.value, n=29, value=None, ci_low=None, ci_high=None,
        insufficient=True, mean=None, share_high=None, share_low=None,
    )
    assert score_from_counts(kind, {high: 29}) == withheld
    assert score_from_counts(kind, {high: 30}).value is not None
    assert score_from_counts(kind, {high: 29}, min_n=10).value is not None
    empty = score_from_counts(kind, {})
    assert (empty.n, empty.value, empty.insufficient) == (0, None, True)
    assert score_from_counts(kind, {high: 0}).n == 0


def test_single_answer_is_insufficient_for_ces_even_with_min_n_one() -> None:
    assert score_from_counts("ces", {6: 1}, min_n=1).insufficient
    assert score_from_counts("ces", {6: 2}, min_n=1).value == 6.0
    one = score_from_counts("csat", {5: 1}, min_n=1)
    assert (one.value, one.ci_high) == (100.0, 100.0)
    assert one.ci_low == pytest.approx(100 / (1 + Z95**2))


@pytest.mark.parametrize(
    ("kind", "counts"),
    [
        ("nps", {11: 1}),
        ("nps", {-1: 1}),
        ("csat", {0: 3}),
        ("csat", {6: 0}),
        ("ces", {8: 1}),
        ("ces", {True: 1}),
        ("ces", {4: -1}),
    ],
)
def test_bad_histograms_raise(kind: str, counts: Mapping[int, int]) -> None:
    with pytest.raises(ValueError, match=r"scale|non-negative"):
        score_from_counts(kind, counts)


def test_bad_settings_raise() -> None:
    with pytest.raises(ValueError, match="nope"):
        score_from_counts("nope", {})
    with pytest.raises(ValueError, match="min_n"):
        score_from_counts("nps", {}, min_n=0)
    with pytest.raises(ValueError, match="confidence"):
        score_from_counts("nps", {}, confidence=95)


def test_score_travels_as_json() -> None:
    score = score_from_counts("csat", {5: 30, 1: 10})
    assert msgspec.json.decode(msgspec.json.encode(score), type=Score) == score


# --- comparisons ---------------------------------------------------------------------------


def test_nps_change_significant() -> None:
    # 30 vs −10: z = 0.4 / sqrt(0.61/100 + 0.69/100) = 3.508.
    result = compare("nps", nps_counts(50, 30, 20), nps_counts(30, 30, 40))
    z = 0.4 / math.sqrt(0.0061 + 0.0069)
    assert result.delta == pytest.approx(40.0)
    assert result.p_value == pytest.approx(math.erfc(z / math.sqrt(2)))
    assert result.p_value == pytest.approx(0.00045, abs=1e-5)
    assert result.significant is True


def test_nps_change_not_significant() -> None:
    # 30 vs 20: z = 0.1 / sqrt(0.0061 + 0.0066) = 0.887, p = 0.375.
    result = compare("nps", nps_counts(50, 30, 20), nps_counts(45, 30, 25))
    assert result.delta == pytest.approx(10.0)
    assert result.p_value == pytest.approx(0.375, abs=5e-4)
    assert result.significant is False


def test_csat_pooled_two_proportion_test() -> None:
    # 90 % vs 80 % of 100: pooled 0.85, z = 0.1 / sqrt(0.85·0.15·0.02) = 1.980, p = 0.0477.
    significant = compare("csat", csat_counts(90, 100), csat_counts(80, 100))
    assert significant.delta == pytest.approx(10.0)
    assert significant.p_value == pytest.approx(0.0477, abs=5e-5)
    assert significant.significant is True
    # 85 % vs 80 %: z = 0.930, p = 0.352.
    not_significant = compare("csat", csat_counts(85, 100), csat_counts(80, 100))
    assert not_significant.p_value == pytest.approx(0.352, abs=5e-4)
    assert not_significant.significant is False


def test_share_change_p_value_is_the_pooled_two_proportion_test() -> None:
    # The same test as CSAT's (90 of 100 against 80 of 100: p = 0.0477), for theme shares.
    assert share_change_p_value(90, 100, 80, 100) == pytest.approx(0.0477, abs=5e-5)
    for bad in ((1, 0, 1, 10), (11, 10, 1, 10), (-1, 10, 1, 10)):
        with pytest.raises(ValueError, match="must be"):
            share_change_p_value(*bad)


def test_ces_welch_equal_variances() -> None:
    # Mirror images share a variance, so Welch's df is exactly 2n − 2 = 58.
    result = compare("ces", {5: 9, 6: 10, 7: 11}, {5: 11, 6: 10, 7: 9})
    # Mean 182/30: deviations −(1 + 2/30), −2/30 and 1 − 2/30.
    variance = (9 * (1 + 2 / 30) ** 2 + 10 * (2 / 30) ** 2 + 11 * (1 - 2 / 30) ** 2) / 29
    t = (4 / 30) / math.sqrt(2 * variance / 30)
    assert result.delta == pytest.approx(4 / 30)
    assert result.p_value == pytest.approx(reference_two_sided_p(t, 58), abs=1e-12)
    assert result.p_value == pytest.approx(0.535, abs=1e-3)
    assert result.significant is False


def test_ces_welch_unequal_variances() -> None:
    # 6.333 (s² = 200/870, n 30) vs 5.5 (s² = 4400/1560, n 40).
    result = compare("ces", {6: 20, 7: 10}, {3: 10, 5: 10, 7: 20})
    v1, v2 = 200 / 870 / 30, 4400 / 1560 / 40
    df = (v1 + v2) ** 2 / (v1**2 / 29 + v2**2 / 39)
    t = (19 / 3 - 5.5) / math.sqrt(v1 + v2)
    assert df == pytest.approx(47.19, abs=0.01)
    assert t == pytest.approx(2.9805, abs=1e-4)
    # Bracketed by integer df 47 and 48 from the closed form.
    assert result.p_value is not None
    assert reference_two_sided_p(t, 48) < result.p_value < reference_two_sided_p(t, 47)
    assert result.p_value == pytest.approx(t_two_sided_p(t, df), rel=1e-9)
    assert result.significant is True


def test_compare_without_spread() -> None:
    assert compare("ces", {7: 30}, {7: 40}).p_value == 1.0
    different = compare("ces", {7: 30}, {6: 40})
    assert (different.p_value, different.significant) == (0.0, True)
    assert compare("csat", {5: 30}, {4: 30}).p_value == 1.0


def test_compare_withholds_when_thin() -> None:
    # 30 (n 100) against 25 (n 20).
    result = compare("nps", nps_counts(50, 30, 20), nps_counts(10, 5, 5))
    assert result == Comparison(
        current=score_from_counts("nps", nps_counts(50, 30, 20)),
        previous=score_from_counts("nps", nps_counts(10, 5, 5)),
        delta=None, significant=None, p_value=None,
    )
    assert compare("nps", nps_counts(50, 30, 20), nps_counts(10, 5, 5), min_n=20).delta == 5.0


# --- KPI status ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("satisfied", "n", "status"),
    [
        (190, 200, TargetStatus.MET),  # 95 %, interval 91.0–97.3
        (140, 200, TargetStatus.MISSED),  # 70 %, interval 63.3–75.9
        (34, 40, TargetStatus.UNDECIDED),  # 85 %, interval 70.9–92.9
        (88, 100, TargetStatus.UNDECIDED),  # above target but not clear of it
        (10, 12, TargetStatus.INSUFFICIENT),
    ],
)
def test_csat_target_of_85(satisfied: int, n: int, status: TargetStatus) -> None:
    assert target_status(score_from_counts("csat", csat_counts(satisfied, n)), 85.0) is status


def test_target_edges() -> None:
    score = score_from_counts("nps", {10: 40})  # interval [82.4, 100]
    assert target_status(score, None) is TargetStatus.NO_TARGET
    assert target_status(score, 80.0) is TargetStatus.MET
    # 40 promoters do not prove an NPS of 95: the next answers may differ.
    assert target_status(score, 95.0) is TargetStatus.UNDECIDED
    assert target_status(score_from_counts("nps", {}), None) is TargetStatus.NO_TARGET
    assert target_status(score_from_counts("nps", {}), 10.0) is TargetStatus.INSUFFICIENT
    flat = score_from_counts("ces", {5: 30})  # no spread: 5 − q · 4 to 5 + q · 2
    q = 1 - 0.025 ** (1 / 30)
    assert flat.ci_low == pytest.approx(5 - 4 * q) and flat.ci_high == pytest.approx(5 + 2 * q)
    assert target_status(flat, 5.0) is TargetStatus.UNDECIDED
    assert target_status(flat, 5.01) is TargetStatus.UNDECIDED
    assert target_status(flat, 4.5) is TargetStatus.MET
    assert target_status(score_from_counts("ces", {7: 30}), 5.5) is TargetStatus.MET
    with pytest.raises(ValueError, match="target"):
        target_status(flat, math.nan)


# --- properties ----------------------------------------------------------------------------


@st.composite
def histograms(draw: st.DrawFn) -> tuple[SurveyKind, dict[int, int]]:
    kind = draw(st.sampled_from(list(SurveyKind)))
    scores = st.sampled_from(list(scale_of(kind).values))
    counts = draw(st.dictionaries(scores, st.integers(0, 400)))
    return kind, counts


@no_db
@given(histograms(), st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_interval_holds_value_inside_metric_range(
    case: tuple[SurveyKind, dict[int, int]], confidence: float
) -> None:
    kind, counts = case
    scale = scale_of(kind)
    score = score_from_counts(kind, counts, min_n=2, confidence=confidence)
    if score.insufficient:
        assert score.value is score.ci_low is score.ci_high is score.mean is None
        return
    assert score.value is not None
    assert score.ci_low is not None
    assert score.ci_high is not None
    assert scale.metric_low <= score.ci_low <= score.value <= score.ci_high <= scale.metric_high
    assert score.value == pytest.approx(metric_value(kind, counts))
    assert score.share_high is not None
    assert score.share_low is not None
    assert 0.0 <= score.share_low + score.share_high <= 100.0 + 1e-9
    assert target_status(score, score.ci_low) is TargetStatus.MET


@no_db
@given(histograms(), st.integers(0, 400))
def test_compare_is_symmetric(case: tuple[SurveyKind, dict[int, int]], extra: int) -> None:
    kind, counts = case
    other = {**counts, scale_of(kind).high: extra}
    forward, backward = compare(kind, counts, other, min_n=2), compare(kind, other, counts, min_n=2)
    if forward.p_value is None:
        assert backward.p_value is None
        return
    assert backward.p_value == pytest.approx(forward.p_value, rel=1e-9, abs=1e-12)
    assert 0.0 <= forward.p_value <= 1.0
    assert forward.delta is not None
    assert backward.delta is not None
    assert forward.delta == pytest.approx(-backward.delta, abs=1e-9)


@no_db
@given(st.integers(0, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_holds_share(case: tuple[int, int]) -> None:
    k, n = case
    share, interval = proportion(k, n)
    if n == 0:
        assert interval is None
        return
    assert interval is not None
    assert 0.0 <= interval.low <= share <= interval.high <= 1.0
