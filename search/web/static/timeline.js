// The timeline of every matching article, drawn with Chart.js (served by the app from
// npm, like htmx) from the figures in the canvas's data-timeline attribute. Without this
// file, Chart.js or JavaScript, the table below the canvas gives the same figures.
(function () {
  "use strict";

  var COLOURS = {
    "left": "#2f6db5", "lean left": "#7aa6d8", "center": "#8a7fb0",
    "lean right": "#e08b84", "right": "#c0392b", "lean unknown": "#a7a9ac"
  };
  var OTHERS = ["#3a9d7a", "#d4a017", "#6c8ebf", "#b5651d", "#7d5ba6"];

  function colour(label, index) {
    return COLOURS[label] || OTHERS[index % OTHERS.length];
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
          datasets: figures.series.map(function (series, i) {
            return { label: series.label, data: series.counts, backgroundColor: colour(series.label, i) };
          })
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
