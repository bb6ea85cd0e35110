// Homeward's only script: drafts kept while a form is filled, the form's key for resends,
// a notice when offline, and showing the fields of the chosen decision. Every form works
// without it.
(function () {
  "use strict";
  var PREFIX = "homeward-draft:";
  // sessionStorage: a draft survives a reload or a dropped connection, not the closing of
  // the tab, and is never shared with another tab or left for the next user of the device.
  var store = window.sessionStorage;
  var SKIP = { csrf: true, password: true };

  function fields(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && !SKIP[el.name] && el.type !== "submit";
    });
  }

  function save(form) {
    var draft = {};
    fields(form).forEach(function (el) {
      if (el.type === "radio" || el.type === "checkbox") {
        if (el.checked) draft[el.name] = el.value;
      } else {
        draft[el.name] = el.value;
      }
    });
    store.setItem(PREFIX + form.dataset.draft, JSON.stringify(draft));
    showUnsent(form, true);
  }

  function restore(form) {
    var raw = store.getItem(PREFIX + form.dataset.draft);
    if (!raw) return false;
    var draft;
    try { draft = JSON.parse(raw); } catch (e) { return false; }
    fields(form).forEach(function (el) {
      if (!(el.name in draft)) {
        if (el.type === "radio" || el.type === "checkbox") el.checked = false;
        return;
      }
      if (el.type === "radio" || el.type === "checkbox") {
        el.checked = draft[el.name] === el.value;
      } else {
        el.value = draft[el.name];
      }
    });
    return true;
  }

  function showUnsent(form, shown) {
    var note = form.querySelector("[data-unsent]");
    if (note) note.hidden = !shown;
  }

  function newKey() {
    return window.crypto && window.crypto.randomUUID ? window.crypto.randomUUID() : null;
  }

  function showDecision(form) {
    var chosen = form.querySelector("input[name=decision]:checked");
    form.querySelectorAll("[data-when]").forEach(function (group) {
      group.hidden = !chosen || group.dataset.when !== chosen.value;
    });
  }

  function setUp(root) {
    root.querySelectorAll("[data-clears-draft]").forEach(function (el) {
      store.removeItem(PREFIX + el.dataset.clearsDraft);
    });
    if (root.querySelector("[data-signed-out]")) clearAll();
    root.querySelectorAll("form[data-draft]").forEach(function (form) {
      if (form.dataset.ready) return;
      form.dataset.ready = "1";
      // A page showing a refusal holds what was typed: it is the newest draft.
      var refused = form.querySelector(".problem");
      if (refused) {
        save(form);
      } else if (restore(form)) {
        showUnsent(form, true);
      } else {
        var key = form.querySelector("[data-idempotency-key]");
        var made = newKey();
        if (key && made) key.value = made;
      }
      form.addEventListener("input", function () { save(form); });
      form.addEventListener("change", function () { save(form); showDecision(form); });
      form.addEventListener("submit", function (event) {
        save(form);
        if (navigator.onLine === false) {
          event.preventDefault();
          offline(true);
        }
      });
      showDecision(form);
    });
    root.querySelectorAll("form[data-clears-drafts]").forEach(function (form) {
      if (form.dataset.ready) return;
      form.dataset.ready = "1";
      form.addEventListener("submit", clearAll);
    });
  }

  function clearAll() {
    Object.keys(store).forEach(function (k) {
      if (k.indexOf(PREFIX) === 0) store.removeItem(k);
    });
  }

  function offline(shown) {
    var note = document.getElementById("offline-notice");
    if (note) note.hidden = !shown;
  }

  window.addEventListener("offline", function () { offline(true); });
  window.addEventListener("online", function () { offline(false); });
  // A submission that never got an answer (the connection dropped): say so plainly.
  document.addEventListener("htmx:sendError", function () { offline(true); });
  document.addEventListener("DOMContentLoaded", function () {
    setUp(document);
    offline(navigator.onLine === false);
  });
  document.addEventListener("htmx:load", function (event) { setUp(event.detail.elt); });
})();
