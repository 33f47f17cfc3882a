// Small enhancements only: every task works without this file.
(function () {
  "use strict";
  // Move focus to the error summary so screen-reader and keyboard users land on it first.
  var summary = document.querySelector("[data-module='error-summary']");
  if (summary) { summary.focus(); }
})();
