// The timeline of every matching article, drawn with Chart.js (served by the app from
// npm, like htmx) from the figures in the canvas's data-timeline attribute. Without this
// file, Chart.js or JavaScript, the table below the canvas gives the same figures.
(function () {
  "use strict";

  // The page's own lean colours (style.css, each colour scheme's), so the chart and the
  // lean bars read alike: left, center and right their own, other labels (lean left, lean
  // right, ...) the bars' "other", unknown its grey. A second or later other label takes
  // one of OTHERS, so no two series of one chart share a colour.
  var OTHERS = ["#b5651d", "#7d5ba6", "#d4a017", "#6c8ebf", "#3a9d7a"];
  var OWN = { "left": "left", "center": "center", "right": "right", "lean unknown": "unknown" };

  function pageColour(name) {
    return getComputedStyle(document.documentElement).getPropertyValue("--lean-" + name).trim();
  }

  function colours(labels) {
    var others = 0;
    return labels.map(function (label) {
      if (OWN[label]) { return pageColour(OWN[label]); }
      others += 1;
      return others === 1 ? pageColour("other") : OTHERS[(others - 2) % OTHERS.length];
    });
  }

  function draw(root) {
    if (!window.Chart || !root || !root.querySelectorAll) { return; }
    root.querySelectorAll("canvas[data-timeline]").forEach(function (canvas) {
      if (window.Chart.getChart(canvas)) { return; }
      var figures;
      try { figures = JSON.parse(canvas.getAttribute("data-timeline")); } catch (e) { return; }
      new window.Chart(canvas, {
        type: "bar",
        data: {
          labels: figures.labels,
          datasets: (function () {
            var fill = colours(figures.series.map(function (series) { return series.label; }));
            return figures.series.map(function (series, i) {
              return { label: series.label, data: series.counts, backgroundColor: fill[i] };
            });
          })()
        },
        options: {
          animation: false,
          responsive: true,
          maintainAspectRatio: false,
          scales: {
            x: { stacked: true },
            y: { stacked: true, beginAtZero: true, ticks: { precision: 0 },
                 title: { display: true, text: "articles" } }
          },
          plugins: { legend: { position: "bottom" } }
        }
      });
      canvas.setAttribute("data-drawn", "true");
      // The chart says it now; the figures stay one click away.
      var section = canvas.closest(".timeline");
      var figuresBox = section && section.querySelector("details.timeline-data");
      if (figuresBox) { figuresBox.open = false; }
    });
  }

  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSwap", function (event) { draw(event.detail.target); });
})();
