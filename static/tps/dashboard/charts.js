// Charts of the dashboard, drawn with the local copy of Chart.js
// (static/vendor/chartjs). The figures come from the page as JSON
// (<script id="dashboard-charts" type="application/json">), never from a CDN.
(function () {
  "use strict";

  var PALETTE = ["#417690", "#79aec8", "#ba2121", "#e1a948", "#5b8c5a", "#8e6bb4", "#666666"];

  function colour(index) {
    return PALETTE[index % PALETTE.length];
  }

  function withColours(datasets, fill) {
    return datasets.map(function (dataset, index) {
      return Object.assign({}, dataset, {
        backgroundColor: colour(index),
        borderColor: colour(index),
        fill: fill,
      });
    });
  }

  function titled(options, text) {
    return Object.assign({}, options, { plugins: { title: { display: true, text: text } } });
  }

  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (canvas && window.Chart) {
      new window.Chart(canvas, config);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var source = document.getElementById("dashboard-charts");
    if (!source) {
      return;
    }
    var data = JSON.parse(source.textContent);
    var common = { responsive: true, maintainAspectRatio: false };

    draw("chart-register", {
      type: "bar",
      data: { labels: data.labels, datasets: withColours(data.register, true) },
      options: titled(
        Object.assign({}, common, { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }),
        data.titles.register
      ),
    });
    draw("chart-ballots", {
      type: "bar",
      data: { labels: data.labels, datasets: withColours(data.ballots, true) },
      options: titled(
        Object.assign({}, common, { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }),
        data.titles.ballots
      ),
    });
    draw("chart-projection", {
      type: "line",
      data: { labels: data.projection.labels, datasets: withColours(data.projection.datasets, false) },
      options: titled(
        Object.assign({}, common, { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }),
        data.titles.projection
      ),
    });
  });
})();
