// Gatehouse portal: filter the account list as you type and copy blocks
// of text. Everything works without it: search is a GET form and every
// block is selectable text.
"use strict";
(function () {
  var input = document.querySelector("input[data-filter=accounts]");
  var list = document.getElementById("accounts");
  var count = document.getElementById("account-count");
  if (input && list) {
    var items = Array.prototype.slice.call(list.querySelectorAll("li.account"));
    input.addEventListener("input", function () {
      var q = input.value.trim().toLowerCase();
      var shown = 0;
      items.forEach(function (li) {
        var hit = q === "" || ["data-name", "data-id", "data-email"].some(function (a) {
          return (li.getAttribute(a) || "").toLowerCase().indexOf(q) >= 0;
        });
        li.hidden = !hit;
        if (hit) { shown++; }
      });
      if (count) {
        count.textContent = q === "" || shown === items.length ? items.length + (items.length === 1 ? " account" : " accounts")
          : shown === 0 ? "No account matches" : shown + " of " + items.length + " accounts match";
      }
    });
  }
  if (navigator.clipboard) {
    document.querySelectorAll("button[data-copy]").forEach(function (b) {
      var block = document.getElementById(b.getAttribute("data-copy"));
      if (!block) { return; }
      b.hidden = false;
      b.addEventListener("click", function () {
        navigator.clipboard.writeText(block.textContent).then(function () {
          b.textContent = "Copied";
          setTimeout(function () { b.textContent = "Copy"; }, 2000);
        });
      });
    });
  }
})();
