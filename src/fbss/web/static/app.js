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
    if (box) { box.hidden = !urgent; }
  }
  document.addEventListener("change", function (event) {
    if (event.target && event.target.matches && event.target.matches("input[data-alert-from]")) { checkAlerts(); }
  });
  document.addEventListener("DOMContentLoaded", function () {
    checkAlerts();
    // Put the keyboard on the first error summary, so a screen reader announces it.
    var summary = document.querySelector(".error-summary");
    if (summary) { summary.focus(); }
  });
})();
