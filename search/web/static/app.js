// Small enhancements on top of htmx. Without this file (or without JavaScript) the page
// still works: the form is a plain GET and every link is a real page.
(function () {
  "use strict";

  function results() { return document.getElementById("results"); }

  // Blank filters would otherwise clutter every shared URL as source=&since=&until=.
  document.addEventListener("htmx:configRequest", function (event) {
    var params = event.detail.parameters;
    ["source", "since", "until", "k"].forEach(function (name) {
      if (params[name] === "") { delete params[name]; }
    });
    if (params.sort === "relevance") { delete params.sort; }  // the default
    var trigger = event.detail.triggeringEvent;
    latestIsTyping = Boolean(trigger && trigger.type === "input");
    if (latestIsTyping && typingEntry) { event.detail.headers["X-Typing"] = "1"; }
    // A search still being typed skips the count of every match (facets, timeline).
    if (latestIsTyping) { event.detail.headers["X-Typed"] = "1"; }
  });

  // While someone types, the first search adds a history entry and later ones replace it,
  // so Back goes to the previous search rather than through every half-typed word.
  var typingEntry = false;  // the current history entry was added by typing
  var latestIsTyping = false;
  document.addEventListener("htmx:pushedIntoHistory", function () { typingEntry = latestIsTyping; });
  window.addEventListener("popstate", function () { typingEntry = false; });
  document.addEventListener("focusout", function (event) {
    if (event.target && event.target.id === "q") { typingEntry = false; }
  });

  document.addEventListener("htmx:beforeRequest", function () {
    var region = results();
    if (region) { region.setAttribute("aria-busy", "true"); }
  });

  document.addEventListener("htmx:afterRequest", function () {
    var region = results();
    if (region) { region.removeAttribute("aria-busy"); }
  });

  // The results region is replaced wholesale, so a screen reader hears a one-line summary
  // from a separate live region instead of every result.
  document.addEventListener("htmx:afterSwap", function (event) {
    var region = results();
    var announce = document.getElementById("announce");
    if (!region || !announce || event.detail.target !== region) { return; }
    var summary = region.querySelector(".summary, .error h2, .start h2");
    if (!summary) { announce.textContent = ""; return; }
    var copy = summary.cloneNode(true);
    copy.querySelectorAll("[data-no-announce]").forEach(function (el) { el.remove(); });
    announce.textContent = copy.textContent.replace(/\s+/g, " ").trim();
  });

  function showFailure(message) {
    var region = results();
    if (!region) { return; }
    region.removeAttribute("aria-busy");
    var box = document.createElement("div");
    box.className = "error";
    box.setAttribute("role", "alert");
    var title = document.createElement("h2");
    title.textContent = "Could not search";
    var text = document.createElement("p");
    text.textContent = message;
    box.appendChild(title);
    box.appendChild(text);
    region.replaceChildren(box);
  }

  document.addEventListener("htmx:sendError", function () {
    showFailure("The PressLens server did not answer. Check that `presslens serve` is still running, then search again.");
  });
  document.addEventListener("htmx:timeout", function () {
    showFailure("The server took too long to answer. Search again in a moment.");
  });

  // The filters button (on a phone) says how many filters are set, as they change.
  document.addEventListener("change", function (event) {
    var form = document.getElementById("search-form");
    var toggle = form && form.querySelector(".filters-toggle");
    if (!toggle || !event.target.classList || !event.target.classList.contains("filter")) { return; }
    // The order of the results is not a filter.
    var set = Array.prototype.filter.call(form.querySelectorAll(".filter"), function (el) {
      return el.name !== "sort" && el.value.trim() !== "";
    }).length;
    var count = toggle.querySelector(".filters-set");
    if (count) { count.textContent = set ? "· " + set + " set" : ""; }
  });

  // "/" jumps to the search box, as on many search sites, unless the person is typing.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) { return; }
    var active = document.activeElement;
    var typing = active && (active.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName));
    var box = document.getElementById("q");
    if (typing) { return; }
    event.preventDefault();
    if (box) { box.focus(); box.select(); } else { window.location.href = "/"; }
  });
})();
