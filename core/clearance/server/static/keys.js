// Keyboard shortcuts for the approver's loop. Loaded as a file (the CSP allows no inline script); every page
// works without it. A shortcut never decides anything: it moves focus or opens a page, and a decision still
// needs its button and the confirmation page. Shortcuts never fire while typing in a field, or with a
// modifier key held, so they cannot clash with text entry or the browser's own keys.
//
//   Queue:  j / k  next / previous request    o  open it    x  select it for a decision on several
//   Record: a  the approve form    d  the deny form    n  next waiting record (after a decision, or from the queue)
(function () {
  "use strict";

  function typing(target) {
    if (!target || !target.tagName) { return false; }
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  function requests() {
    return Array.prototype.slice.call(document.querySelectorAll("article.request"));
  }

  function current(cards) {
    var active = document.activeElement;
    for (var i = 0; i < cards.length; i++) {
      if (cards[i].contains(active)) { return i; }
    }
    return -1;
  }

  function focusCard(card) {
    var link = card.querySelector("a.open");
    if (link) { link.focus(); card.scrollIntoView({ block: "nearest" }); }
  }

  function focusField(id) {
    var field = document.getElementById(id);
    if (field) { field.focus(); field.scrollIntoView({ block: "center" }); return true; }
    return false;
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || event.isComposing) { return; }
    if (typing(event.target)) { return; }
    var key = event.key;
    var cards = requests();
    var at = current(cards);
    var handled = false;
    if (cards.length && (key === "j" || key === "k")) {
      var next = key === "j" ? Math.min(at + 1, cards.length - 1) : Math.max(at - 1, 0);
      focusCard(cards[next]);
      handled = true;
    } else if (cards.length && key === "o" && at >= 0) {
      var open = cards[at].querySelector("a.open");
      if (open) { window.location.href = open.getAttribute("href"); handled = true; }
    } else if (cards.length && key === "x" && at >= 0) {
      var box = cards[at].querySelector("input[name=pick]");
      if (box) { box.checked = !box.checked; handled = true; }
    } else if (key === "a") {
      handled = focusField("conditions");
    } else if (key === "d") {
      handled = focusField("reason");
    } else if (key === "n") {
      var link = document.getElementById("next-waiting");
      if (link) { window.location.href = link.getAttribute("href"); handled = true; }
      else if (cards.length) { window.location.href = cards[0].querySelector("a.open").getAttribute("href"); handled = true; }
    }
    if (handled) { event.preventDefault(); }
  });
}());
