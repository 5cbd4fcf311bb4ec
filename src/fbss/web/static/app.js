// FBSS Navigator: small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  // Portal: an answer at or above an item's alert threshold shows the crisis message at once, before sending.
  function checkAlerts() {
    var urgent = false;
    document.querySelectorAll("input[data-alert-from]:checked").forEach(function (input) {
      if (Number(input.value) >= Number(input.getAttribute("data-alert-from"))) { urgent = true; }
    });
    var box = document.getElementById("crisis-now");
    if (!box) { return; }
    var appearing = urgent && box.hidden;
    box.hidden = !urgent;
    // it sits right under the question; make sure all of it is on the screen the moment it appears
    if (appearing && box.scrollIntoView) { box.scrollIntoView({ block: "nearest" }); }
  }
  document.addEventListener("change", function (event) {
    if (event.target && event.target.matches && event.target.matches("input[data-alert-from]")) { checkAlerts(); }
  });

  // Case form: a question that applies only to some answers (data-show-when) follows those answers at once.
  function valueOf(form, name) {
    var fields = form.querySelectorAll('[name="' + name + '"]');
    for (var i = 0; i < fields.length; i++) {
      var field = fields[i];
      if (field.type === "radio") { if (field.checked) { return field.value; } } else { return field.value.trim(); }
    }
    return "";
  }
  function applies(form, rules) {
    return rules.every(function (rule) {
      var given = valueOf(form, rule.field);
      if (rule["is"] && rule["is"].indexOf(given) < 0) { return false; }
      if (rule.is_not && rule.is_not.indexOf(given) >= 0) { return false; }
      if (rule.below !== undefined && given !== "" && !isNaN(Number(given)) && Number(given) >= rule.below) { return false; }
      return true;
    });
  }
  function checkRelevance(form) {
    form.querySelectorAll("[data-show-when]").forEach(function (holder) {
      holder.hidden = !applies(form, JSON.parse(holder.getAttribute("data-show-when")));
    });
  }
  // Case form: "Add a row" copies the blank row kept in a <template>, without a round trip to the server.
  var TEMPLATE_INDEX = "999";
  function addRow(button) {
    var kind = button.getAttribute("data-kind");
    var body = document.getElementById("rows-" + kind);
    var template = document.getElementById("row-template-" + kind);
    var count = document.getElementById("row-count-" + kind);
    if (!body || !template || !count) { return false; }
    var index = body.querySelectorAll(":scope > tr").length;
    if (index >= Number(button.getAttribute("data-max"))) { return false; }
    var row = template.content.firstElementChild.cloneNode(true);
    row.querySelectorAll("[name], [id], [for]").forEach(function (el) {
      ["name", "id", "for"].forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value) { el.setAttribute(attr, value.replace("-" + TEMPLATE_INDEX + "-", "-" + index + "-")); }
      });
    });
    body.appendChild(row);
    count.value = String(index + 1);
    var first = row.querySelector("input, select");
    if (first) { first.focus(); }
    return true;
  }
  document.addEventListener("click", function (event) {
    var button = event.target && event.target.closest ? event.target.closest("button.add-row") : null;
    if (button && addRow(button)) { event.preventDefault(); }
  });
  document.addEventListener("change", function (event) {
    var form = event.target && event.target.form;
    if (form && form.querySelector("[data-show-when]")) { checkRelevance(form); }
  });
  document.addEventListener("input", function (event) {
    var form = event.target && event.target.form;
    if (form && event.target.type === "number" && form.querySelector("[data-show-when]")) { checkRelevance(form); }
  });
  // Assessment page: on a phone the detail sections start folded under their headings (the summary is on top); a
  // link to a heading or into a folded section opens it.
  function openFor(hash) {
    var target = hash && hash.length > 1 ? document.getElementById(hash.slice(1)) : null;
    if (!target) { return; }
    var section = target.closest("section");
    var fold = target.closest("details.fold") || (section && section.querySelector("details.fold"));
    if (fold) { fold.open = true; }
  }
  window.addEventListener("hashchange", function () { openFor(window.location.hash); });
  document.addEventListener("DOMContentLoaded", function () {
    if (window.matchMedia && window.matchMedia("(max-width: 40rem)").matches) {
      document.querySelectorAll("details.fold").forEach(function (fold) { fold.open = false; });
    }
    openFor(window.location.hash);
    checkAlerts();
    document.querySelectorAll("form").forEach(function (form) {
      if (form.querySelector("[data-show-when]")) { checkRelevance(form); }
    });
    // Put the keyboard on the first error summary, so a screen reader announces it; else, after a step of the
    // case form, on the step's heading rather than the top of the page.
    var summary = document.querySelector(".error-summary");
    var heading = document.querySelector("[data-autofocus]");
    if (summary) { summary.focus(); } else if (heading) { heading.focus(); }
  });
})();
