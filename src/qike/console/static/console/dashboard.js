// The dashboard's trend chart, drawn again whenever htmx refreshes the figures.
(function () {
  "use strict";
  let chart = null;
  let drawn = false;

  function draw() {
    const box = document.getElementById("trend-chart");
    const source = document.getElementById("trend-data");
    if (!box || !source || !window.echarts) return;
    if (chart) chart.dispose();
    const trend = JSON.parse(source.textContent);
    chart = window.echarts.init(box);
    chart.setOption({
      animation: !drawn, // animate once; a refresh every 30 s should not make the chart dance
      color: ["#1f6feb", "#cf222e"],
      tooltip: { trigger: "axis" },
      legend: { data: [box.dataset.added, box.dataset.lost], top: 0 },
      grid: { left: 40, right: 16, top: 36, bottom: 28 },
      xAxis: {
        type: "category",
        data: trend.days.map((day) => day.slice(5)),
        axisTick: { alignWithLabel: true },
      },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: box.dataset.added, type: "bar", data: trend.added, barMaxWidth: 14 },
        { name: box.dataset.lost, type: "line", data: trend.lost, smooth: true, symbolSize: 5 },
      ],
    });
    drawn = true;
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.body.addEventListener("htmx:afterSettle", draw);
  window.addEventListener("resize", () => chart && chart.resize());
})();
