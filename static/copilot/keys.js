/* Keyboard flow for the inbox and the ticket workspace (see the key hint on each page).
 * j / k next / previous ticket, Enter opens (inbox), a accept, e edit, r reject, / search,
 * Ctrl+Enter in the draft saves the edit, Esc leaves a field. Every key only clicks or
 * focuses a control that is on the page anyway, so the pages work the same without it. */
(function () {
  "use strict";

  var lastTicketId = null;

  function typing(el) {
    return !!el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }

  function first(selector) {
    return document.querySelector(selector);
  }

  function rowLinks() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-ticket-row] .ticket-link"));
  }

  function moveInInbox(delta) {
    var links = rowLinks();
    if (!links.length) return false;
    var index = links.indexOf(document.activeElement);
    index = index === -1 ? (delta > 0 ? 0 : links.length - 1) : Math.min(Math.max(index + delta, 0), links.length - 1);
    links[index].focus();
    lastTicketId = links[index].getAttribute("data-ticket-id");
    return true;
  }

  function follow(selector) {
    var link = first(selector);
    if (!link) return false;
    link.click();
    return true;
  }

  function press(selector) {
    var button = first(selector);
    if (!button || button.disabled) return false;
    button.click();
    return true;
  }

  function focusOn(selector) {
    var field = first(selector);
    if (!field) return false;
    field.focus();
    return true;
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && target.matches("[data-key-edit]")) {
      event.preventDefault();
      press("[data-key-save]");
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(target)) {
      if (event.key === "Escape") target.blur();
      return;
    }
    var handled = false;
    switch (event.key) {
      case "j":
        handled = moveInInbox(1) || follow("[data-key-next]");
        break;
      case "k":
        handled = moveInInbox(-1) || follow("[data-key-prev]");
        break;
      case "a":
        handled = press("[data-key-accept]");
        break;
      case "e":
        handled = focusOn("[data-key-edit]");
        break;
      case "r":
        handled = focusOn("[data-key-reject]");
        break;
      case "/":
        handled = focusOn("input[type=search]");
        break;
    }
    if (handled) event.preventDefault();
  });

  // The inbox rows are swapped by polling; keep the agent's place in the list.
  document.addEventListener("htmx:afterSettle", function () {
    if (lastTicketId === null || typing(document.activeElement)) return;
    var link = first('.ticket-link[data-ticket-id="' + lastTicketId + '"]');
    if (link && document.activeElement !== link) link.focus();
  });

  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches(".ticket-link")) {
      lastTicketId = event.target.getAttribute("data-ticket-id");
    }
  });
})();
