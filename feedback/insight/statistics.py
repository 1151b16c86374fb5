"""Score statistics: NPS, CSAT and CES with confidence intervals, period tests and KPI status.

Pure functions over score histograms ({score: count}); standard library only (math, statistics).
The published definitions are in docs/scores.md; keep the two in step.
"""

from __future__ import annotations

import enum
import functools
import math
from collections.abc import Mapping
from statistics import NormalDist

import msgspec

from surveys.kinds import SCALES, Scale, SurveyKind, scale_of

DEFAULT_MIN_N = 30
DEFAULT_CONFIDENCE = 0.95

_STANDARD_NORMAL = NormalDist()
# Past this many degrees of freedom Student's t differs from the normal by < 1e-6.
_T_AS_NORMAL_DF = 1e7
_BETA_EPS = 1e-15
_BETA_TINY = 1e-300
_BETA_MAX_ITER = 10_000
_QUANTILE_MAX_ITER = 200


class Interval(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A closed confidence interval [low, high]."""

    low: float
    high: float


class Score(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A kind's headline score over n answers; every number is withheld (None) below min_n."""

    metric: str
    n: int
    value: float | None
    ci_low: float | None
    ci_high: float | None
    insufficient: bool
    mean: float | None
    share_high: float | None
    share_low: float | None


class Comparison(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One period's score against another's, with a two-sided test of the change."""

    current: Score
    previous: Score
    delta: float | None
    significant: bool | None
    p_value: float | None


class TargetStatus(enum.StrEnum):
    """Where a score stands against its KPI target, judged by its interval, not its point value."""

    MET = "met"
    MISSED = "missed"
    UNDECIDED = "undecided"
    INSUFFICIENT = "insufficient"
    NO_TARGET = "no_target"


# --- distributions -------------------------------------------------------------------------


def normal_cdf(x: float) -> float:
    """Standard normal distribution function Φ(x)."""
    return _STANDARD_NORMAL.cdf(x)


def normal_quantile(p: float) -> float:
    """Standard normal quantile Φ⁻¹(p), for 0 < p < 1."""
    _check_open_unit(p, "p")
    return _STANDARD_NORMAL.inv_cdf(p)


def t_cdf(t: float, df: float) -> float:
    """Student's t distribution function P(T ≤ t); df > 0 and may be fractional."""
    if math.isnan(t):
        raise ValueError("t must be a number")
    tail = 0.5 * t_two_sided_p(t, df)
    return 1.0 - tail if t > 0 else tail


def t_two_sided_p(t: float, df: float) -> float:
    """Two-sided p-value P(|T| ≥ |t|) of Student's t with df degrees of freedom."""
    _check_df(df)
    if math.isnan(t):
        raise ValueError("t must be a number")
    if df > _T_AS_NORMAL_DF:
        return 2.0 * normal_cdf(-abs(t))
    t2 = t * t
    if math.isinf(t2):
        return 0.0
    # P(|T| ≥ t) = I_x(df/2, 1/2) with x = df / (df + t²); 1 − x is passed exactly.
    return _regularized_beta(df / 2.0, 0.5, df / (df + t2), t2 / (df + t2))


def t_quantile(p: float, df: float) -> float:
    """Student's t quantile: the t with P(T ≤ t) = p (0 < p < 1), to about 1e-10 relative."""
    _check_open_unit(p, "p")
    _check_df(df)
    if p == 0.5:
        return 0.0
    upper = _t_upper(min(p, 1.0 - p), float(df))
    return upper if p > 0.5 else -upper


@functools.lru_cache(maxsize=1024)
def _t_upper(alpha: float, df: float) -> float:
    """The t > 0 with P(T > t) = alpha < 1/2: Newton on the tail, kept inside a bracket."""
    if df > _T_AS_NORMAL_DF:
        return -_STANDARD_NORMAL.inv_cdf(alpha)
    # Start from the Cornish–Fisher expansion of t around the normal (A&S 26.7.5).
    z = -_STANDARD_NORMAL.inv_cdf(alpha)
    z2 = z * z
    g1 = z * (z2 + 1.0) / 4.0
    g2 = z * ((5.0 * z2 + 16.0) * z2 + 3.0) / 96.0
    g3 = z * (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) / 384.0
    t = z + g1 / df + g2 / df**2 + g3 / df**3
    low, high = 0.0, math.inf
    for _ in range(_QUANTILE_MAX_ITER):
        excess = 0.5 * t_two_sided_p(t, df) - alpha
        if excess == 0.0:
            return t
        if excess > 0.0:
            low = t
        else:
            high = t
        candidate = t + excess / _t_pdf(t, df)
        if not low < candidate < high:
            # Newton left the bracket: widen it (no upper end yet) or bisect.
            candidate = 2.0 * t if math.isinf(high) else 0.5 * (low + high)
        if abs(candidate - t) <= 1e-12 * abs(candidate) + 1e-15:
            return candidate
        t = candidate
    raise ArithmeticError(f"t quantile did not converge (alpha={alpha}, df={df})")


def _t_pdf(t: float, df: float) -> float:
    log_norm = math.lgamma((df + 1.0) / 2.0) - math.lgamma(df / 2.0) - 0.5 * math.log(df * math.pi)
    return math.exp(log_norm - (df + 1.0) / 2.0 * math.log1p(t * t / df))


def _regularized_beta(a: float, b: float, x: float, y: float) -> float:
    """I_x(a, b) for x + y = 1; y is passed separately so precision survives near x = 1."""
    if x <= 0.0:
        return 0.0
    if y <= 0.0:
        return 1.0
    log_x = math.log1p(-y) if x > 0.5 else math.log(x)
    log_y = math.log1p(-x) if y > 0.5 else math.log(y)
    front = math.exp(a * log_x + b * log_y - _log_beta(a, b))
    # The continued fraction converges fast only on this side; use the symmetry otherwise.
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_continued_fraction(a, b, x) / a
    return 1.0 - front * _beta_continued_fraction(b, a, y) / b


def _log_beta(a: float, b: float) -> float:
    """log B(a, b), exact to rounding even when one argument is huge (t with many df)."""
    small, large = min(a, b), max(a, b)
    if large < 20.0:
        return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    # lgamma(large) − lgamma(large + small) by Stirling, with the big terms cancelled by hand.
    gap = (
        -(large - 0.5) * math.log1p(small / large)
        - small * math.log(large + small)
        + small
        + _stirling_remainder(large)
        - _stirling_remainder(large + small)
    )
    return math.lgamma(small) + gap


def _stirling_remainder(x: float) -> float:
    """lgamma(x) − ((x − ½) log x − x + ½ log 2π), to rounding for x ≥ 20."""
    r = 1.0 / (x * x)
    return (1.0 / 12.0 - r * (1.0 / 360.0 - r * (1.0 / 1260.0 - r / 1680.0))) / x


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    """Continued fraction for I_x(a, b), modified Lentz (Numerical Recipes' betacf)."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = _nonzero(1.0 - qab * x / qap)
    d = 1.0 / d
    h = d
    for m in range(1, _BETA_MAX_ITER + 1):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 / _nonzero(1.0 + aa * d)
        c = _nonzero(1.0 + aa / c)
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 / _nonzero(1.0 + aa * d)
        c = _nonzero(1.0 + aa / c)
        step = d * c
        h *= step
        if abs(step - 1.0) < _BETA_EPS:
            return h
    raise ArithmeticError(f"incomplete beta did not converge (a={a}, b={b}, x={x})")


def _nonzero(value: float) -> float:
    return value if abs(value) >= _BETA_TINY else _BETA_TINY


# --- intervals -----------------------------------------------------------------------------


def proportion(
    k: int, n: int, *, confidence: float = DEFAULT_CONFIDENCE
) -> tuple[float, Interval | None]:
    """Share k/n (as a fraction) with its Wilson score interval; (0.0, None) when n == 0."""
    _check_count(k, "k")
    _check_count(n, "n")
    if k > n:
        raise ValueError(f"k ({k}) cannot exceed n ({n})")
    _check_open_unit(confidence, "confidence")
    if n == 0:
        return 0.0, None
    return _wilson(k, n, confidence)


def _wilson(k: int, n: int, confidence: float) -> tuple[float, Interval]:
    """proportion() for checked 0 <= k <= n, n > 0."""
    z = _z(confidence)
    p = k / n
    z2n = z * z / n
    centre = (p + z2n / 2.0) / (1.0 + z2n)
    half = z * math.sqrt(p * (1.0 - p) / n + z2n / (4.0 * n)) / (1.0 + z2n)
    # Mathematically the bounds are exactly 0 at k = 0 and 1 at k = n; floats may miss by 1e-17.
    low = 0.0 if k == 0 else max(0.0, min(p, centre - half))
    high = 1.0 if k == n else min(1.0, max(p, centre + half))
    return p, Interval(low=low, high=high)


def mean_interval(
    n: int, total: float, total_sq: float, *, confidence: float = DEFAULT_CONFIDENCE
) -> tuple[float | None, Interval | None]:
    """Mean from (n, Σx, Σx²) with its Student-t interval; no interval below n = 2."""
    _check_count(n, "n")
    _check_open_unit(confidence, "confidence")
    if not (math.isfinite(total) and math.isfinite(total_sq)) or total_sq < 0:
        raise ValueError("total must be finite and total_sq finite and non-negative")
    if n == 0:
        return None, None
    if n == 1:
        return total / n, None
    return _mean_t(n, total, total_sq, confidence)


def _mean_t(n: int, total: float, total_sq: float, confidence: float) -> tuple[float, Interval]:
    """mean_interval() for checked finite sums and n >= 2."""
    mean = total / n
    # With integer sums (score histograms) the numerator is exact.
    spread = n * total_sq - total * total
    if spread < -1e-9 * total * total:
        raise ValueError("inconsistent sums: total² exceeds n · total_sq")
    variance = max(0.0, spread / (n * (n - 1)))
    half = _t_upper(_tail(confidence), float(n - 1)) * math.sqrt(variance / n)
    return mean, Interval(low=mean - half, high=mean + half)


# --- scores --------------------------------------------------------------------------------


class _Summary(msgspec.Struct, frozen=True):
    """A histogram reduced to what every statistic here needs (a Struct: built per bucket)."""

    n: int
    high: int
    low: int
    total: int
    total_sq: int


def _summarise(scale: Scale, counts: Mapping[int, int]) -> _Summary:
    n = high = low = total = total_sq = 0
    for score, count in counts.items():
        if isinstance(score, bool) or not isinstance(score, int) or not scale.contains(score):
            raise ValueError(
                f"score {score!r} is outside the {scale.metric} scale {scale.low}–{scale.high}"
            )
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"count for score {score} must be a non-negative integer: {count!r}")
        n += count
        total += score * count
        total_sq += score * score * count
        if score >= scale.high_from:
            high += count
        elif score <= scale.low_to:
            low += count
    return _Summary(n=n, high=high, low=low, total=total, total_sq=total_sq)


def score_from_counts(
    kind: SurveyKind | str,
    counts: Mapping[int, int],
    *,
    min_n: int = DEFAULT_MIN_N,
    confidence: float = DEFAULT_CONFIDENCE,
) -> Score:
    """The kind's headline score, shares and interval from {score: count}; withheld below min_n."""
    kind = SurveyKind(kind)
    scale = scale_of(kind)
    _check_min_n(min_n)
    _check_open_unit(confidence, "confidence")
    return _score(kind, scale, _summarise(scale, counts), min_n, confidence)


Tally = tuple[int, int, int, int, int]
EMPTY_TALLY: Tally = (0, 0, 0, 0, 0)


def tally(kind: SurveyKind, counts: Mapping[int, int]) -> Tally:
    """(n, high-band n, low-band n, Σ score, Σ score²) of a histogram summed from rollup rows,
    which hold only scores of their kind's scale (not checked again). Tallies add up element
    by element to the tally of the histograms added up."""
    scale = SCALES[kind]
    n = high = low = total = total_sq = 0
    high_from, low_to = scale.high_from, scale.low_to
    for score, count in counts.items():
        n += count
        total += score * count
        total_sq += score * score * count
        if score >= high_from:
            high += count
        elif score <= low_to:
            low += count
    return n, high, low, total, total_sq


def tally_score(kind: SurveyKind, counts: Tally, min_n: int) -> Score:
    """score_from_counts at 95 % from a histogram's tally: reports score hundreds per page."""
    n, high, low, total, total_sq = counts
    summary = _Summary(n=n, high=high, low=low, total=total, total_sq=total_sq)
    return _score(kind, SCALES[kind], summary, min_n, DEFAULT_CONFIDENCE)


def histogram_score(kind: SurveyKind, counts: Mapping[int, int], min_n: int) -> Score:
    """score_from_counts at 95 % for a histogram summed from rollup rows (not checked again)."""
    return tally_score(kind, tally(kind, counts), min_n)


def _score(kind: SurveyKind, scale: Scale, s: _Summary, min_n: int, confidence: float) -> Score:
    # A mean's t interval needs two answers, whatever min_n says.
    if s.n < max(min_n, 2 if kind is SurveyKind.CES else 1):
        return Score(
            metric=scale.metric, n=s.n, value=None, ci_low=None, ci_high=None,
            insufficient=True, mean=None, share_high=None, share_low=None,
        )
    mean = s.total / s.n
    if kind is SurveyKind.NPS:
        value = 100.0 * (s.high - s.low) / s.n
        half = 100.0 * _z(confidence) * math.sqrt(_nps_variance(s))
        ci_low, ci_high = max(-100.0, value - half), min(100.0, value + half)
    elif kind is SurveyKind.CSAT:
        # The counts were checked (or trusted) already: n >= 1 here, n >= 2 for CES below.
        share, wilson = _wilson(s.high, s.n, confidence)
        value, ci_low, ci_high = 100.0 * share, 100.0 * wilson.low, 100.0 * wilson.high
    else:
        _, mean_ci = _mean_t(s.n, s.total, s.total_sq, confidence)
        value = mean
        # A t interval is symmetric and may poke past the scale's ends; the mean cannot.
        ci_low = max(scale.metric_low, mean_ci.low)
        ci_high = min(scale.metric_high, mean_ci.high)
    if ci_low == ci_high:
        ci_low, ci_high = _no_spread(value, scale, s.n, confidence)
    return Score(
        metric=scale.metric, n=s.n, value=value, ci_low=ci_low, ci_high=ci_high,
        insufficient=False, mean=mean,
        share_high=100.0 * s.high / s.n, share_low=100.0 * s.low / s.n,
    )


def _no_spread(value: float, scale: Scale, n: int, confidence: float) -> tuple[float, float]:
    """The interval when every answer fell in one band (NPS) or on one score (CES).

    The usual intervals have no width then, which would let 30 identical answers decide a
    target as if certain. Instead: up to q of everyone may answer otherwise, q being the exact
    (Clopper-Pearson) bound for a share never observed in n answers, and at worst they sit at
    the far end of the scale.
    """
    q = 1.0 - ((1.0 - confidence) / 2.0) ** (1.0 / n)
    return value - q * (value - scale.metric_low), value + q * (scale.metric_high - value)


def _nps_variance(s: _Summary) -> float:
    """Multinomial variance of NPS/100: (p_p + p_d − (p_p − p_d)²) / n."""
    promoters, detractors = s.high / s.n, s.low / s.n
    return max(0.0, promoters + detractors - (promoters - detractors) ** 2) / s.n


# --- comparisons and targets ---------------------------------------------------------------


def compare(
    kind: SurveyKind | str,
    current_counts: Mapping[int, int],
    previous_counts: Mapping[int, int],
    *,
    min_n: int = DEFAULT_MIN_N,
    confidence: float = DEFAULT_CONFIDENCE,
) -> Comparison:
    """Current against previous period: delta and a two-sided test; None when either is thin."""
    kind = SurveyKind(kind)
    scale = scale_of(kind)
    _check_min_n(min_n)
    _check_open_unit(confidence, "confidence")
    # Each histogram is checked and summarised once, for its score and for the test.
    a, b = _summarise(scale, current_counts), _summarise(scale, previous_counts)
    current = _score(kind, scale, a, min_n, confidence)
    previous = _score(kind, scale, b, min_n, confidence)
    if current.value is None or previous.value is None:
        return Comparison(
            current=current, previous=previous, delta=None, significant=None, p_value=None
        )
    if kind is SurveyKind.NPS:
        p_value = _nps_p_value(a, b)
    elif kind is SurveyKind.CSAT:
        p_value = _two_proportion_p_value(a.high, a.n, b.high, b.n)
    else:
        p_value = _welch_p_value(a, b)
    return Comparison(
        current=current,
        previous=previous,
        delta=current.value - previous.value,
        significant=p_value < 1.0 - confidence,
        p_value=p_value,
    )


def _z_test_p_value(difference: float, variance: float) -> float:
    # Zero variance means no spread in either period: any difference is certain.
    if variance <= 0.0:
        return 1.0 if difference == 0.0 else 0.0
    return 2.0 * normal_cdf(-abs(difference) / math.sqrt(variance))


def _nps_p_value(a: _Summary, b: _Summary) -> float:
    """z-test with each period's own multinomial variance (unpooled)."""
    difference = (a.high - a.low) / a.n - (b.high - b.low) / b.n
    return _z_test_p_value(difference, _nps_variance(a) + _nps_variance(b))


def _two_proportion_p_value(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-proportion z-test with the pooled proportion (the variance under 'no change')."""
    pooled = (k1 + k2) / (n1 + n2)
    return _z_test_p_value(k1 / n1 - k2 / n2, pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2))


def share_change_p_value(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided p-value of k1/n1 against k2/n2 (pooled two-proportion z-test)."""
    for value, name in ((k1, "k1"), (n1, "n1"), (k2, "k2"), (n2, "n2")):
        _check_count(value, name)
    if n1 == 0 or n2 == 0 or k1 > n1 or k2 > n2:
        raise ValueError("each count must be at most its positive total")
    return _two_proportion_p_value(k1, n1, k2, n2)


def _welch_p_value(a: _Summary, b: _Summary) -> float:
    """Welch's t-test with Welch–Satterthwaite degrees of freedom."""
    va = (a.n * a.total_sq - a.total * a.total) / (a.n * (a.n - 1)) / a.n
    vb = (b.n * b.total_sq - b.total * b.total) / (b.n * (b.n - 1)) / b.n
    difference = a.total / a.n - b.total / b.n
    if va + vb <= 0.0:
        return 1.0 if difference == 0.0 else 0.0
    df = (va + vb) ** 2 / (va**2 / (a.n - 1) + vb**2 / (b.n - 1))
    return t_two_sided_p(difference / math.sqrt(va + vb), df)


def target_status(score: Score, target: float | None) -> TargetStatus:
    """KPI status: met if the interval clears the target, missed if below it, else undecided."""
    if target is None:
        return TargetStatus.NO_TARGET
    if math.isnan(target):
        raise ValueError("target must be a number")
    if score.insufficient or score.ci_low is None or score.ci_high is None:
        return TargetStatus.INSUFFICIENT
    if score.ci_low >= target:
        return TargetStatus.MET
    if score.ci_high < target:
        return TargetStatus.MISSED
    return TargetStatus.UNDECIDED


# --- checks --------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _z(confidence: float) -> float:
    return -_STANDARD_NORMAL.inv_cdf(_tail(confidence))


def _tail(confidence: float) -> float:
    """Probability in each tail outside a two-sided interval."""
    return (1.0 - confidence) / 2.0


def _check_open_unit(value: float, name: str) -> None:
    if not 0.0 < value < 1.0:  # also rejects NaN
        raise ValueError(f"{name} must lie strictly between 0 and 1, got {value!r}")


def _check_df(df: float) -> None:
    if not df > 0.0:  # also rejects NaN
        raise ValueError(f"degrees of freedom must be positive, got {df!r}")


def _check_count(value: int, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")


def _check_min_n(min_n: int) -> None:
    if isinstance(min_n, bool) or not isinstance(min_n, int) or min_n < 1:
        raise ValueError(f"min_n must be a positive integer, got {min_n!r}")
