"""Accessibility checks run in the rendered page: labels, names, alternative text, headings, landmarks, ids;
and a keyboard walk that presses Tab until every control has had the focus."""

from __future__ import annotations

from typing import Any

# Each rule returns messages; any message is a critical violation (it stops someone from using the page).
AUDIT_JS = r"""
() => {
  const problems = [];
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length)
      && getComputedStyle(el).visibility !== "hidden";
  const describe = (el) => el.outerHTML.slice(0, 120);
  const text = (el) => (el.textContent || "").replace(/\s+/g, " ").trim();
  const named = (el) => {
    if ((el.getAttribute("aria-label") || "").trim()) return true;
    const by = el.getAttribute("aria-labelledby");
    if (by && by.split(/\s+/).every((id) => document.getElementById(id))) return true;
    if (el.labels && Array.from(el.labels).some((l) => text(l))) return true;
    return !!(el.getAttribute("title") || "").trim();
  };
  if (!document.documentElement.getAttribute("lang")) problems.push("html has no lang");
  if (!document.title.trim()) problems.push("page has no title");
  const controls = document.querySelectorAll("input, select, textarea");
  for (const el of controls) {
    const type = (el.getAttribute("type") || "").toLowerCase();
    if (["hidden", "submit", "button", "reset"].includes(type)) continue;
    if (!named(el)) problems.push("control without a label: " + describe(el));
    if (type === "radio" && !el.closest("fieldset")?.querySelector("legend")) {
      problems.push("radio button outside a fieldset with a legend: " + describe(el));
    }
  }
  for (const el of document.querySelectorAll("button, a[href]")) {
    if (!visible(el) && el.getAttribute("tabindex") === "-1") continue;
    if (!text(el) && !named(el)) problems.push("button or link without a name: " + describe(el));
  }
  for (const el of document.querySelectorAll("img")) {
    if (!el.hasAttribute("alt")) problems.push("image without alt: " + describe(el));
  }
  for (const el of document.querySelectorAll("svg")) {
    if (el.parentElement.closest("svg")) continue;
    const holder = el.closest("[role=img][aria-label], [aria-hidden=true]");
    if (!holder) problems.push("chart without a text alternative: " + describe(el));
  }
  const headings = Array.from(document.querySelectorAll("h1, h2, h3, h4, h5, h6"));
  const h1 = headings.filter((h) => h.tagName === "H1");
  if (h1.length !== 1) problems.push("expected one h1, found " + h1.length);
  let level = 0;
  for (const h of headings) {
    const next = Number(h.tagName[1]);
    if (level && next > level + 1) problems.push("heading level skipped before: " + describe(h));
    if (!text(h)) problems.push("empty heading");
    level = next;
  }
  if (document.querySelectorAll("main").length !== 1) problems.push("expected one main landmark");
  if (!document.querySelector("header")) problems.push("no banner landmark");
  const ids = {};
  for (const el of document.querySelectorAll("[id]")) {
    if (ids[el.id]) problems.push("duplicate id: " + el.id);
    ids[el.id] = true;
  }
  for (const el of document.querySelectorAll("[aria-describedby]")) {
    for (const id of el.getAttribute("aria-describedby").split(/\s+/)) {
      if (!document.getElementById(id)) problems.push("aria-describedby points nowhere: " + describe(el));
    }
  }
  return problems;
}
"""

# Tag every control a keyboard user must reach (a radio group counts once: Tab enters it, arrows move inside).
FOCUSABLE_JS = r"""
() => {
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length)
      && getComputedStyle(el).visibility !== "hidden";
  const keys = new Set();
  let n = 0;
  const all = document.querySelectorAll("a[href], button, input, select, textarea, summary, [tabindex]");
  for (const el of all) {
    if (el.disabled || el.getAttribute("tabindex") === "-1" || el.type === "hidden" || !visible(el)) continue;
    // inside a closed <details> (at any depth), only its own summary can take the focus (the rest opens with it)
    let folded = false;
    for (let d = el.closest("details"); d; d = d.parentElement ? d.parentElement.closest("details") : null) {
      if (!d.open && !(el.tagName === "SUMMARY" && el.parentElement === d)) { folded = true; break; }
    }
    if (folded) continue;
    const key = el.type === "radio" ? "radio:" + el.name : "el:" + (n++);
    el.setAttribute("data-kb", key);
    keys.add(key);
  }
  return Array.from(keys);
}
"""

ACTIVE_JS = "() => document.activeElement ? document.activeElement.getAttribute('data-kb') : null"


def audit(page: Any) -> list[str]:
    problems: list[str] = page.evaluate(AUDIT_JS)
    return problems


def unreachable_by_tab(page: Any, extra_presses: int = 10) -> list[str]:
    """Controls that pressing Tab from the top of the page never reaches."""
    wanted: list[str] = page.evaluate(FOCUSABLE_JS)
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")
    reached: set[str] = set()
    for _ in range(len(wanted) + extra_presses):
        page.keyboard.press("Tab")
        key = page.evaluate(ACTIVE_JS)
        if key:
            reached.add(key)
        if reached >= set(wanted):
            break
    return sorted(set(wanted) - reached)
