"""The knowledge base loads, and a bad file is refused with its file, line, entry and reason."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from fbss.errors import KnowledgeError
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.evidence import Evidence
from fbss.knowledge.loader import DATA_DIR, load_knowledge

REQUIRED_CAUSES = {
    "wrong_diagnosis_or_level",
    "inadequate_decompression",
    "recurrent_disc_herniation",
    "epidural_fibrosis",
    "arachnoiditis",
    "neuropathic_root_pain",
    "pseudarthrosis",
    "implant_failure",
    "cage_migration_or_subsidence",
    "adjacent_segment_disease",
    "instability",
    "sagittal_imbalance",
    "spinal_stenosis",
    "painful_disc",
    "facet_joint_pain",
    "sacroiliac_joint_pain",
    "myofascial_pain",
    "spinal_infection",
    "epidural_haematoma",
    "csf_leak",
    "fracture",
    "donor_site_pain",
    "lumbar_plexus_injury",
    "paraspinal_muscle_wasting",
    "hip_pathology",
    "nerve_entrapment",
    "vascular_claudication",
    "visceral_referred_pain",
    "peripheral_neuropathy",
    "tumour",
    "psychosocial_contributors",
}


def test_packaged_knowledge_base_is_complete(kb: KnowledgeBase) -> None:
    assert {c.id for c in kb.causes} >= REQUIRED_CAUSES
    urgencies = {f.id: f.urgency.value for f in kb.red_flags}
    assert urgencies["cauda_equina"] == "emergency"
    assert urgencies["epidural_haematoma"] == "emergency"
    assert urgencies["suicidal_thoughts"] == "same_day"
    assert urgencies["possible_malignancy"] == "within_days"
    assert kb.version and len(kb.fingerprint) == 16


def test_every_number_is_cited_or_marked_expert_estimate(kb: KnowledgeBase) -> None:
    for cause in kb.causes:
        for cited in [cause.category_basis, *cause.priors.values(), *cause.links]:
            assert cited.evidence is Evidence.expert_estimate or cited.sources, cause.id
            assert all(s in kb.sources for s in cited.sources)
    for finding in kb.findings.values():
        if finding.threshold is not None:
            assert finding.threshold.evidence is Evidence.expert_estimate or finding.threshold.sources, finding.id


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    target = tmp_path / "kb"
    shutil.copytree(DATA_DIR, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def test_copy_loads_with_same_fingerprint(kb_dir: Path, kb: KnowledgeBase) -> None:
    assert load_knowledge(kb_dir).fingerprint == kb.fingerprint


def test_editing_a_number_changes_the_fingerprint(kb_dir: Path, kb: KnowledgeBase) -> None:
    edit(kb_dir / "causes.yaml", "lr_present: 15.0", "lr_present: 14.0")
    assert load_knowledge(kb_dir).fingerprint != kb.fingerprint


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        (
            "causes.yaml",
            "finding: pain_free_interval_6m, lr_present: 3.0",
            "finding: no_such_finding, lr_present: 3.0",
            r"causes\.yaml line \d+, entry 'recurrent_disc_herniation': link to unknown finding 'no_such_finding'",
        ),
        (
            "causes.yaml",
            'sources: [hueftle_1988], note: "contrast MRI',
            'sources: [nobody_2020], note: "contrast MRI',
            r"entry 'recurrent_disc_herniation'.*unknown source id\(s\) \['nobody_2020'\]",
        ),
        (
            "causes.yaml",
            "lr_present: 15.0, lr_absent: 0.06",
            "lr_present: 500, lr_absent: 0.06",
            r"causes\.yaml line \d+, entry 'recurrent_disc_herniation'.*less than or equal to 100",
        ),
        (
            "causes.yaml",
            "default: {probability: 0.0239,",
            "default: {probability: 1.5,",
            r"entry 'wrong_diagnosis_or_level'.*probability: Input should be less than 1",
        ),
        (
            "causes.yaml",
            "lr_absent: 0.33, evidence: published_figure, sources: [dn4_consecutive_population]",
            "lr_absent: 0.33, evidence: published_figure, sources: []",
            r"needs at least one source id",
        ),
        (
            "causes.yaml",
            "  unexplained:\n    probability: 0.05",
            "  unexplained:\n    probability: 0.4",
            r"priors for '\w+' add up to 1\.\d+ with the unexplained share",
        ),
        (
            "causes.yaml",
            "findings: [leg_dominant, back_dominant]",
            "findings: [leg_dominant, back_dominant, dermatomal, burning]",
            r"finding 'burning' is in evidence groups",
        ),
        (
            "study_sensitivity.yaml",
            "{finding: dx_sacral_fracture, modality: ct, sensitivity: 0.88",
            "{finding: dx_sacral_fracture, modality: cat_scan, sensitivity: 0.88",
            r"study_sensitivity\.yaml.*unknown modality 'cat_scan'",
        ),
        (
            "causes.yaml",
            "category: complication\n    category_basis: {evidence: guideline, sources: [van_de_minkelis_2024]}",
            "category: complications\n    category_basis: {evidence: guideline, sources: [van_de_minkelis_2024]}",
            r"entry 'arachnoiditis'.*category: Input should be",
        ),
        (
            "causes.yaml",
            "  - id: arachnoiditis",
            "  - id: epidural_fibrosis",
            r"id 'epidural_fibrosis' is already used at causes\.yaml line \d+",
        ),
        (
            "findings.yaml",
            "field: red_flags.fever\n",
            "field: red_flags.feverish\n",
            r"findings\.yaml line \d+, entry 'fever_reported': field 'red_flags\.feverish': 'feverish' is not a field",
        ),
        (
            "findings.yaml",
            "field: pain.back_share_percent\n    threshold: {below: 50",
            "field: pain.back_share_percent\n    threshold_x: {below: 50",
            r"entry 'leg_dominant'.*threshold_x: is not a known field",
        ),
        (
            "findings.yaml",
            "one_of: [draining, dehiscence]",
            "one_of: [draining, oozing]",
            r"entry 'wound_draining': \['oozing'\] not allowed",
        ),
        (
            "findings.yaml",
            "diagnostic: pseudarthrosis\n",
            "diagnostic: nonunion\n",
            r"unknown diagnostic finding code 'nonunion'",
        ),
        (
            "findings.yaml",
            "expression: {any_of: [fever_reported, temperature_38]}",
            "expression: {any_of: [fever_reported, fever]}",
            r"refer to each other in a circle",
        ),
        (
            "red_flags.yaml",
            "when: sepsis_signs",
            "when: sepsis_sign",
            r"entry 'sepsis': 'when' names unknown finding",
        ),
        (
            "red_flags.yaml",
            "urgency: within_days",
            "urgency: next_week",
            r"line \d+, entry '\w+': urgency: Input should be",
        ),
        (
            "sources.yaml",
            "  - id: hueftle_1988",
            "  - id: Hueftle 1988",
            r"sources\.yaml.*String should match pattern",
        ),
        (
            "sources.yaml",
            '    venue: "Radiology"\n    year: 1988\n',
            '    venue: "Radiology"\n',
            r"sources\.yaml line \d+, entry 'hueftle_1988': a source needs authors, year and venue; missing year",
        ),
        (
            "sources.yaml",
            '  - id: hueftle_1988\n    authors: "Hueftle MG, Modic MT, Ross JS, et al."\n',
            "  - id: hueftle_1988\n",
            r"entry 'hueftle_1988': a source needs authors, year and venue; missing authors",
        ),
        (
            "care_sources.yaml",
            "  - id: farrar_2001\n",
            '  - id: farrar_blog\n    citation: "A pain blog about the NRS"\n    url: https://example.blogspot.com/nrs\n'
            "  - id: farrar_2001\n",
            r"entry 'farrar_blog': a source needs authors, year and venue; missing authors, year, venue "
            r"\(a free-text 'citation' is not enough\)",
        ),
        ("causes.yaml", "causes:\n", "causes:\n  - [not, a, mapping]\n", r"every entry must be a mapping"),
        ("red_flags.yaml", "red_flags:\n", "red_flags: :\n", r"red_flags\.yaml: not valid YAML"),
    ],
)
def test_bad_file_is_refused_precisely(kb_dir: Path, file: str, old: str, new: str, message: str) -> None:
    edit(kb_dir / file, old, new)
    with pytest.raises(KnowledgeError, match=message):
        load_knowledge(kb_dir)


def test_missing_file_and_missing_directory(kb_dir: Path, tmp_path: Path) -> None:
    (kb_dir / "red_flags.yaml").unlink()
    with pytest.raises(KnowledgeError, match=r"missing required file red_flags\.yaml"):
        load_knowledge(kb_dir)
    with pytest.raises(KnowledgeError, match="knowledge directory not found"):
        load_knowledge(tmp_path / "nowhere")


def test_a_reviewer_can_change_a_likelihood_ratio_and_see_the_effect(kb_dir: Path) -> None:
    from fbss.case.parse import read_case
    from fbss.reasoning.assess import assess

    case = read_case(Path(__file__).resolve().parents[2] / "examples/cases/recurrent_herniation_after_discectomy.json")
    before = next(c for c in assess(case, load_knowledge()).differential.causes if c.cause == "spinal_stenosis")
    edit(
        kb_dir / "causes.yaml",
        "{finding: neurogenic_claudication, lr_present: 3.0, lr_absent: 0.5",
        "{finding: neurogenic_claudication, lr_present: 3.0, lr_absent: 0.1",
    )
    edit(
        kb_dir / "causes.yaml",
        "{finding: dermatomal, lr_present: 1.5, lr_absent: 0.7, evidence: expert_estimate}\n"
        "      - {finding: worse_extension",
        "{finding: dermatomal, lr_present: 4.0, lr_absent: 0.7, "
        "evidence: expert_estimate}\n      - {finding: worse_extension",
    )
    after = next(c for c in assess(case, load_knowledge(kb_dir)).differential.causes if c.cause == "spinal_stenosis")
    assert after.probability > before.probability


# Hosts that are not primary sources: blogs, vendor and patient pages, wikis, document aggregators, mirrors.
NOT_PRIMARY = (
    "blogspot.",
    "spineuniverse.",
    "si-bone.",
    "scribd.",
    "ichgcp.",
    "coek.info",
    "metajournal.",
    "physio-pedia.",
    "wikimsk.",
    "sprypt.",
    "blueprint.ai",
    "healthassure.",
    "idcafe.",
    "painresearchers.",
    "springermedicine.",
    "acnpsearch.",
    "researcher.life",
    "qxmd.",
    "laspineinstitute.",
    "wheelessonline.",
    "spinwarp.",
    "neurorad.org",
    "mrcpsych.",
    "osteopathy.org.au",
    "boneandjointburden.",
    "informahealthcare.",
)


def test_every_source_is_a_primary_publication_with_author_year_and_venue(kb: KnowledgeBase) -> None:
    for source in kb.sources.values():
        assert source.authors and source.venue and 1900 <= source.year <= 2100, source.id
        link = source.url or ""
        assert not re.match(r"https?://\d+\.\d+\.\d+\.\d+", link), f"{source.id}: a bare IP address"
        assert not any(host in link for host in NOT_PRIMARY), f"{source.id}: {link} is not a primary source"
        assert source.citation.startswith(source.authors.rstrip(".")) and str(source.year) in source.citation


def test_a_code_list_is_never_the_evidence_for_a_clinical_rule(kb: KnowledgeBase) -> None:
    """LOINC entries name codes; a cut-off or rule must rest on the instrument's paper or a guideline."""
    code_lists = {s for s in kb.sources if s.startswith("loinc_")}
    for option in kb.care.treatments:
        cited = [option.rating.requires] if option.rating.requires else []
        for item in [*cited, *option.rating.rules, *option.evidence]:
            assert not set(item.sources) & code_lists, f"{option.id}: {item.sources}"
    for finding in kb.findings.values():
        if finding.threshold is not None:
            assert not set(finding.threshold.sources) & code_lists, finding.id
