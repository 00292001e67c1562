// Pebble & Pine: reports what the visitor does to the server (POST /api/event)
// so tests can prove an agent's effects. Events are sent one after another
// (a promise chain) and numbered, so the server keeps the latest value.
(function () {
  "use strict";
  var seq = 0;
  var chain = Promise.resolve();
  var loadedAt = performance.timeOrigin;

  function report(kind, data) {
    seq += 1;
    var body = JSON.stringify(Object.assign({ kind: kind, seq: seq, page_load: loadedAt }, data));
    chain = chain.then(function () {
      return fetch("/api/event", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: body,
      })
        // Read the (empty) body: an unread response stays "in flight" for
        // whoever waits for the network to go quiet (Chromium never finishes it).
        .then(function (response) { return response.text(); })
        .catch(function () {});
    });
    return chain;
  }
  window.demoReport = report;

  var page = document.body.dataset.page;

  if (page === "products") {
    var filter = document.getElementById("filter");
    var cards = Array.prototype.slice.call(document.querySelectorAll(".card"));
    var count = document.getElementById("count");
    var empty = document.getElementById("empty");
    var apply = function () {
      var needle = filter.value.trim().toLowerCase();
      var shown = 0;
      cards.forEach(function (card) {
        var match = card.dataset.name.toLowerCase().indexOf(needle) !== -1;
        card.hidden = !match;
        if (match) shown += 1;
      });
      count.textContent = shown + (shown === 1 ? " product" : " products");
      empty.hidden = shown !== 0;
    };
    filter.addEventListener("input", function () {
      apply();
      report("filter", { value: filter.value });
    });
    cards.forEach(function (card) {
      card.addEventListener("dblclick", function () {
        report("open_product", { product: card.dataset.id }).then(function () {
          window.location.href = "/product/" + card.dataset.id;
        });
      });
    });
    var lastScroll = -1;
    window.addEventListener("scrollend", function () {
      var y = Math.round(window.scrollY);
      if (y !== lastScroll) {
        lastScroll = y;
        report("scroll", { y: y });
      }
    });
  }

  if (page === "product") {
    var range = document.getElementById("quantity");
    var value = document.getElementById("quantity-value");
    var total = document.getElementById("line-total");
    var cents = parseInt(document.querySelector(".price").dataset.cents, 10);
    range.addEventListener("input", function () {
      value.textContent = range.value;
      var sum = cents * parseInt(range.value, 10);
      total.textContent = "$" + (sum / 100).toFixed(2);
      report("quantity", { value: parseInt(range.value, 10) });
    });
  }

  if (page === "cart") {
    var checkout = document.getElementById("checkout");
    if (checkout) {
      checkout.addEventListener("mouseenter", function () {
        report("hover", { target: "checkout" });
      });
    }
  }
})();
