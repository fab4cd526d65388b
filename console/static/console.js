// riskpool-ledger console: charts drawn from the figures on the page. No inline script anywhere
// (the Content-Security-Policy forbids it): a chart's figures are a JSON block beside it
// (<script type="application/json">, never run), and the same figures are a table on the page,
// which is what a browser without scripts shows.
(function () {
  "use strict";

  function draw(root) {
    if (typeof echarts === "undefined") return;
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      if (el.dataset.drawn) return;
      var source = document.getElementById(el.dataset.chart);
      if (!source) return;
      var spec = JSON.parse(source.textContent);
      el.hidden = false;
      el.dataset.drawn = "1";
      var chart = echarts.init(el, null, { renderer: "canvas" });
      chart.setOption({
        animation: false,
        tooltip: { trigger: "axis" },
        legend: { top: 0 },
        grid: { left: 90, right: 20, top: 40, bottom: 40 },
        xAxis: { type: "category", data: spec.x },
        yAxis: { type: "value", name: spec.unit || "" },
        series: spec.series.map(function (s) {
          return {
            name: s.name,
            type: spec.kind || "line",
            // figures are exact yuan strings; the chart only draws them
            data: s.data.map(function (v) { return v === null ? null : Number(v); }),
            step: spec.step ? "end" : false,
          };
        }),
      });
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSwap", function (event) { draw(event.target); });
})();
