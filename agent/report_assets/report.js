// screenloop report.html: keyboard navigation between steps (inlined into every report).
(function () {
  "use strict";
  var steps = Array.prototype.slice.call(document.querySelectorAll("section.step"));
  var links = Array.prototype.slice.call(document.querySelectorAll("nav.toc a"));
  var toc = document.querySelector("nav.toc");
  var current = -1;
  // Keep the current entry visible inside the sticky list without scrolling the page.
  function reveal(link) {
    if (!toc) return;
    var top = link.offsetTop;
    var bottom = top + link.offsetHeight;
    if (top < toc.scrollTop) toc.scrollTop = top;
    else if (bottom > toc.scrollTop + toc.clientHeight) toc.scrollTop = bottom - toc.clientHeight;
  }
  function select(index, scroll) {
    if (!steps.length) return;
    index = Math.max(0, Math.min(steps.length - 1, index));
    if (current >= 0) {
      steps[current].classList.remove("current");
      if (links[current]) links[current].classList.remove("current");
    }
    current = index;
    steps[index].classList.add("current");
    if (links[index]) {
      links[index].classList.add("current");
      reveal(links[index]);
    }
    if (scroll) steps[index].scrollIntoView({ block: "start" });
    // Only after a user's move: a fragment set while loading makes Chromium scroll to it.
    if (scroll && history.replaceState) history.replaceState(null, "", "#" + steps[index].id);
  }
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    var key = event.key;
    if (key === "j" || key === "ArrowRight" || key === "n") select(current + 1, true);
    else if (key === "k" || key === "ArrowLeft" || key === "p") select(Math.max(current - 1, 0), true);
    else if (key === "Home" || key === "g") select(0, true);
    else if (key === "End" || key === "G") select(steps.length - 1, true);
    else return;
    event.preventDefault();
  });
  links.forEach(function (link, index) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      select(index, true);
    });
  });
  steps.forEach(function (step, index) {
    var shot = step.querySelector(".shot");
    if (shot) shot.addEventListener("click", function () {
      step.classList.toggle("zoomed");
      select(index, false);
    });
  });
  var start = steps.findIndex(function (s) { return "#" + s.id === location.hash; });
  if (start >= 0) select(start, true);
  else if (steps.length) select(0, false);
  document.documentElement.dataset.ready = "1";
})();
