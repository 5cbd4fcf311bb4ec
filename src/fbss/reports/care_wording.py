"""Shared wording for the care-planning sections: labels of ratings, advice and test kinds."""

from __future__ import annotations

from fbss.case.model import Presence
from fbss.knowledge.care_models import AdviceLevel
from fbss.reasoning.care_results import Basis, Label, Rating
from fbss.reports.wording import joined

LABEL_STYLE = {Label.appropriate: "green", Label.uncertain: "yellow", Label.inappropriate: "red"}

ADVICE_LABEL = {
    AdviceLevel.strongly_recommended: "strongly recommended",
    AdviceLevel.recommended: "recommended",
    AdviceLevel.rarely_recommended: "rarely recommended",
    AdviceLevel.not_recommended: "not recommended",
    AdviceLevel.provisional: "provisional — assess first",
}

STEP_KIND = {
    "red_flag": "red flag",
    "definitive": "definitive treatment",
    "done": "already done",
    "screen": "red-flag screen",
    "test": "test",
    "treatment": "treatment",
    "scs": "neuromodulation",
    "refer": "referral",
    "review": "review",
}

STATE_MARK = {Presence.present: "met", Presence.absent: "not met", Presence.unknown: "unknown"}


def rating_text(rating: Rating) -> str:
    """'appropriate 8/9 (expert estimate)': the score always with how it should be read."""
    return f"{rating.label.value} {rating.score}/9 ({rating.score_basis})"


def effect_parts(effect: str) -> tuple[str, str]:
    """A rule's effect code ('set 6', '+1', 'cap 3', 'caution') as (kind, value): ('set', '6'), ('adjust', '+1'),
    ('cap', '3'), ('caution', ''), so that a translated template can say it in words."""
    kind, _, value = effect.partition(" ")
    if kind in ("set", "cap"):
        return kind, value
    if kind == "caution":
        return kind, ""
    return "adjust", effect.replace("-", "−")


def effect_text(effect: str) -> str:
    """A rule's effect on the 1-9 score in words: 'set 6' -> 'score set to 6/9', '-2' -> 'score −2', 'cap 3' ->
    'score capped at 3/9', 'caution' -> ''. The code itself stays in machine-readable output only."""
    kind, value = effect_parts(effect)
    return {
        "set": f"score set to {value}/9",
        "cap": f"score capped at {value}/9",
        "adjust": f"score {value}",
        "caution": "",
    }[kind]


def because_text(because: Basis) -> str:
    """A rule that moved a rating, by its human name and its effect in words: 'A lesion without a motor deficit:
    conservative care comes first — score set to 6/9'."""
    effect = effect_text(because.effect)
    return f"{because.because} — {effect}" if effect else because.because


def reasons(rating: Rating, limit: int = 3) -> str:
    """The rules that moved a rating, most decisive first, with their effect."""
    parts = [because_text(b) for b in rating.because[:limit]]
    return "; ".join(parts) or "base score"


def lead_reasons(rating: Rating) -> str:
    """The most decisive rule, and every caution: what a definitive treatment is shown with."""
    rules = [b for b in rating.because if b.effect != "caution"][:1]
    cautions = [b for b in rating.because if b.effect == "caution"]
    parts = [because_text(b) for b in rules] + [b.because for b in cautions]
    return "; ".join(parts) or "base score"


def missing(rating: Rating, limit: int = 3) -> str:
    """What is missing to decide a rating."""
    names = [i.title for p in rating.pending for i in p.missing]
    unique = list(dict.fromkeys(names))
    more = f" (+{len(unique) - limit})" if len(unique) > limit else ""
    return joined(unique[:limit]) + more
