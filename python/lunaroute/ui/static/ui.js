// LunaRoute UI: the pages work without this file; it only keeps search URLs short.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("filters");
  if (!form) {
    return;
  }
  // Empty fields would otherwise travel as "?since=&until=&model=…".
  form.addEventListener("submit", function () {
    Array.prototype.forEach.call(form.elements, function (field) {
      if (field.name && field.value === "") {
        field.disabled = true;
      }
    });
  });
});
