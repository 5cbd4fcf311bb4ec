"""Figures of the differential on cases with a known answer: ranks, calibration, emergencies, work-up (pure)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

# A deciding test is matched by itself or by a catalogue test that contains it: MRI with and without gadolinium
# includes the plain sequences; the two CT protocols of the operated segments are one CT scan; an answer that names
# only the modality ("mri", "ct") is matched by that modality's spine protocols; a head CT or MRI by the head imaging;
# a contrast CT of the neck by CT angiography of the operated region; an AP pelvis by the hip radiograph.
SPINE_MRI = frozenset({"mri_plain", "mri_gadolinium"})
SPINE_CT = frozenset({"ct_fusion", "ct_implant"})
COVERED_BY: dict[str, frozenset[str]] = {
    "mri_plain": SPINE_MRI,
    "mri": SPINE_MRI,
    "ct_fusion": SPINE_CT,
    "ct_implant": SPINE_CT,
    "ct": SPINE_CT,
    "ct_head": frozenset({"brain_imaging"}),
    "mri_brain": frozenset({"brain_imaging"}),
    "ct_neck_contrast": frozenset({"ct_angiography"}),
    "ct_angiography": frozenset({"ct_angiography", "angiography"}),
    "xray_pelvis": frozenset({"hip_xray"}),
    "ssep_mep": frozenset({"evoked_potentials"}),
}
# answers whose deciding "test" the source does not name, or that was the course of the illness rather than a test
UNSTATED_TESTS = ("not_stated", "unknown", "clinical_course")
TOP_INVESTIGATIONS = 3
RELIABILITY_BINS = 10


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the engine said about one case with a known answer."""

    case_id: str
    split: str
    cause: str  # the true main cause
    emergency: bool
    deciding_test: str
    ranked: tuple[tuple[str, float], ...]  # (cause, probability), most probable first
    urgent_flags: tuple[str, ...]  # fired red flags of urgency emergency or same day
    investigations: tuple[str, ...]  # suggested tests that are not questions, in the order shown
    questions: tuple[str, ...] = ()  # history, examination and questionnaire items, in the order shown
    region: str = "lumbar"  # the operated region: cervical, thoracic or lumbar

    @property
    def rank(self) -> int | None:
        for position, (cause, _) in enumerate(self.ranked, start=1):
            if cause == self.cause:
                return position
        return None

    @property
    def workup_decidable(self) -> bool:
        return not self.deciding_test.startswith(UNSTATED_TESTS)

    @property
    def workup_hit(self) -> bool:
        """The deciding test among the first three investigations (or, when it was itself a question, the first
        three questions)."""
        wanted = COVERED_BY.get(self.deciding_test, frozenset({self.deciding_test}))
        shown = (*self.investigations[:TOP_INVESTIGATIONS], *self.questions[:TOP_INVESTIGATIONS])
        return any(test in wanted for test in shown)


@dataclass(frozen=True, slots=True)
class CauseRow:
    cause: str
    n: int
    top1: int
    top3: int
    predicted_first: int  # cases of any cause where this cause was ranked first


@dataclass(frozen=True, slots=True)
class RegionRow:
    """The cases of one operated region: the causes describe lumbar surgery, so the others are reported apart."""

    region: str
    n: int
    top1: int
    top3: int
    ranked: int  # cases where the differential ranked any cause
    emergencies: int
    emergencies_caught: int


@dataclass(frozen=True, slots=True)
class ReliabilityBin:
    low: float
    high: float
    n: int
    mean_predicted: float
    observed: float


@dataclass(frozen=True, slots=True)
class Figures:
    n: int
    top1: int
    top3: int
    emergencies: int
    emergencies_caught: int
    non_emergencies: int
    false_alarms: int
    workup_n: int
    workup_hits: int
    brier: float  # mean over cases of the sum over causes of (p - truth)^2; 0 is perfect, 2 the worst
    leader_confidence: float  # mean probability given to the first-ranked cause
    calibration_error: float  # expected calibration error over the reliability bins
    causes: tuple[CauseRow, ...]
    confusion: dict[str, dict[str, int]]  # true cause -> cause ranked first -> cases
    reliability: tuple[ReliabilityBin, ...]
    missed_emergencies: tuple[str, ...] = field(default=())
    regions: tuple[RegionRow, ...] = field(default=())

    def share(self, hits: int, n: int) -> float:
        return hits / n if n else 0.0

    def as_json(self) -> dict[str, object]:
        return {
            "n": self.n,
            "top1": self.top1,
            "top3": self.top3,
            "top1_share": round(self.share(self.top1, self.n), 4),
            "top3_share": round(self.share(self.top3, self.n), 4),
            "emergencies": self.emergencies,
            "emergencies_caught": self.emergencies_caught,
            "emergency_recall": round(self.share(self.emergencies_caught, self.emergencies), 4),
            "non_emergencies": self.non_emergencies,
            "false_alarms": self.false_alarms,
            "workup_n": self.workup_n,
            "workup_hits": self.workup_hits,
            "workup_hit_share": round(self.share(self.workup_hits, self.workup_n), 4),
            "brier": round(self.brier, 4),
            "leader_confidence": round(self.leader_confidence, 4),
            "calibration_error": round(self.calibration_error, 4),
            "causes": [
                {"cause": r.cause, "n": r.n, "top1": r.top1, "top3": r.top3, "predicted_first": r.predicted_first}
                for r in self.causes
            ],
            "confusion": self.confusion,
            "regions": [
                {
                    "region": r.region,
                    "n": r.n,
                    "top1": r.top1,
                    "top3": r.top3,
                    "ranked": r.ranked,
                    "emergencies": r.emergencies,
                    "emergencies_caught": r.emergencies_caught,
                }
                for r in self.regions
            ],
            "reliability": [
                {
                    "low": b.low,
                    "high": b.high,
                    "n": b.n,
                    "mean_predicted": round(b.mean_predicted, 4),
                    "observed": round(b.observed, 4),
                }
                for b in self.reliability
            ],
        }


def _brier(outcome: Outcome) -> float:
    predicted = dict(outcome.ranked)
    total = sum((p - (1.0 if cause == outcome.cause else 0.0)) ** 2 for cause, p in predicted.items())
    if outcome.cause not in predicted:
        total += 1.0
    return total


def _reliability(outcomes: list[Outcome]) -> tuple[tuple[ReliabilityBin, ...], float]:
    sums = [[0, 0.0, 0.0] for _ in range(RELIABILITY_BINS)]  # n, sum predicted, sum observed
    pairs = 0
    for outcome in outcomes:
        for cause, p in outcome.ranked:
            slot = sums[min(int(p * RELIABILITY_BINS), RELIABILITY_BINS - 1)]
            slot[0] += 1
            slot[1] += p
            slot[2] += 1.0 if cause == outcome.cause else 0.0
            pairs += 1
    bins = []
    error = 0.0
    for i, (n, predicted, observed) in enumerate(sums):
        if not n:
            continue
        mean_p, freq = predicted / n, observed / n
        bins.append(ReliabilityBin(i / RELIABILITY_BINS, (i + 1) / RELIABILITY_BINS, int(n), mean_p, freq))
        error += n / pairs * abs(mean_p - freq)
    return tuple(bins), error


def _regions(outcomes: list[Outcome]) -> tuple[RegionRow, ...]:
    rows = []
    for region in sorted({o.region for o in outcomes}, key=lambda r: (r != "lumbar", r)):
        cases = [o for o in outcomes if o.region == region]
        emergencies = [o for o in cases if o.emergency]
        rows.append(
            RegionRow(
                region,
                len(cases),
                sum(o.rank == 1 for o in cases),
                sum(o.rank is not None and o.rank <= 3 for o in cases),
                sum(bool(o.ranked) for o in cases),
                len(emergencies),
                sum(bool(o.urgent_flags) for o in emergencies),
            )
        )
    return tuple(rows)


def figures(outcomes: list[Outcome]) -> Figures:
    """Top-1/top-3 overall and per cause, confusion, calibration, emergency recall and work-up hit rate."""
    per_cause: dict[str, list[int]] = {}
    first: Counter[str] = Counter()
    confusion: dict[str, Counter[str]] = {}
    for outcome in outcomes:
        rank = outcome.rank
        row = per_cause.setdefault(outcome.cause, [0, 0, 0])
        row[0] += 1
        row[1] += rank == 1
        row[2] += rank is not None and rank <= 3
        leader = outcome.ranked[0][0] if outcome.ranked else "(none)"
        first[leader] += 1
        confusion.setdefault(outcome.cause, Counter())[leader] += 1
    emergencies = [o for o in outcomes if o.emergency]
    others = [o for o in outcomes if not o.emergency]
    decidable = [o for o in outcomes if o.workup_decidable]
    reliability, error = _reliability(outcomes)
    n = len(outcomes)
    return Figures(
        n=n,
        top1=sum(r[1] for r in per_cause.values()),
        top3=sum(r[2] for r in per_cause.values()),
        emergencies=len(emergencies),
        emergencies_caught=sum(bool(o.urgent_flags) for o in emergencies),
        non_emergencies=len(others),
        false_alarms=sum(bool(o.urgent_flags) for o in others),
        workup_n=len(decidable),
        workup_hits=sum(o.workup_hit for o in decidable),
        brier=sum(_brier(o) for o in outcomes) / n if n else 0.0,
        leader_confidence=sum(o.ranked[0][1] for o in outcomes if o.ranked) / n if n else 0.0,
        calibration_error=error,
        causes=tuple(
            CauseRow(cause, r[0], r[1], r[2], first[cause])
            for cause, r in sorted(per_cause.items(), key=lambda kv: (-kv[1][0], kv[0]))
        ),
        confusion={truth: dict(c.most_common()) for truth, c in sorted(confusion.items())},
        reliability=reliability,
        missed_emergencies=tuple(o.case_id for o in emergencies if not o.urgent_flags),
        regions=_regions(outcomes),
    )
