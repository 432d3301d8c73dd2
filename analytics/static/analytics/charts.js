/*
 * Draws every <div class="chart" data-chart="KIND" data-src="URL"> on an analytics page with ECharts
 * (static/analytics/vendor/echarts.min.js, installed from npm by scripts/assets.sh).
 *
 * Each chart fetches its own JSON endpoint (analytics/api.py) and one builder below turns the answer into
 * ECharts options. Money arrives as strings with two decimals and goes through Number() here, for drawing only.
 * When a chart is drawn, its element gets data-state="ready" ("error" when it failed): the browser tests wait
 * for it. Animation is off so a chart is complete as soon as it is drawn (and screenshots are repeatable).
 */
(function () {
  "use strict";

  const PALETTE = ["#2f6db5", "#e8963a", "#3a9d6e", "#c0392b", "#7b5ea7", "#4bb3c4", "#a0a8b3"];
  const money = (value) => Number(value);
  const dollars = (value) =>
    "$" + Number(value).toLocaleString("en-US", { minimumFractionDigits: 0, maximumFractionDigits: 0 });
  const base = (extra) => ({
    animation: false,
    color: PALETTE,
    textStyle: { fontFamily: "Liberation Sans, Arial, sans-serif" },
    grid: { left: 56, right: 56, top: 40, bottom: 40, containLabel: true },
    tooltip: { trigger: "axis" },
    ...extra,
  });
  const legend = { top: 0, type: "scroll" };
  // Status colours for the Sankey: where a claim stands, at a glance; "(again)" nodes take their status's.
  const STATUS_COLORS = {
    new: "#a0a8b3",
    received: "#4bb3c4",
    validated: "#2f6db5",
    pended: "#e8963a",
    approved: "#3a9d6e",
    denied: "#c0392b",
    replaced: "#7b5ea7",
    voided: "#66768a",
  };
  const statusColor = (name) => STATUS_COLORS[name.replace(" (again)", "")] || "#a0a8b3";
  // ICD-10-CM chapters are numbers: say so on the axis; blocks and codes speak for themselves.
  const icdLabel = (level, key) => (level === "chapter" ? `Ch. ${key}` : key);
  // Every plan name under its bars, slanted only when there are too many to fit side by side.
  const planLabels = (count) => ({ interval: 0, rotate: count > 6 ? 25 : 0, width: 140, overflow: "truncate" });

  const builders = {
    "overview-daily": (d) =>
      base({
        legend,
        xAxis: { type: "category", data: d.days },
        yAxis: [
          { type: "value", name: "claims", minInterval: 1 },
          { type: "value", name: "dollars", axisLabel: { formatter: dollars }, splitLine: { show: false } },
        ],
        dataZoom: [{ type: "inside" }],
        series: [
          {
            name: "Claims",
            type: "bar",
            data: d.claims,
            markArea: {
              itemStyle: { color: "rgba(160, 168, 179, 0.12)" },
              label: { color: "#66768a" },
              data: [
                [{ name: "previous 30 days", xAxis: d.previous_period.start }, { xAxis: d.previous_period.end }],
              ],
            },
          },
          { name: "Denied", type: "bar", data: d.denied, barGap: "-100%" },
          { name: "Billed", type: "line", yAxisIndex: 1, showSymbol: false, data: d.billed.map(money) },
          { name: "Paid", type: "line", yAxisIndex: 1, showSymbol: false, data: d.paid.map(money) },
        ],
      }),

    "icd10-breakdown": (d) => {
      const rows = d.rows.slice().reverse(); // largest at the top of a horizontal bar chart
      return base({
        tooltip: {
          trigger: "item",
          formatter: (p) => {
            const row = rows[p.dataIndex];
            return `<b>${row.key}</b> ${row.title}<br>${row.claims} claims, ${row.patient_months} patient-months`;
          },
        },
        grid: { left: 12, right: 24, top: 8, bottom: 24, containLabel: true },
        xAxis: { type: "value", minInterval: 1 },
        yAxis: { type: "category", data: rows.map((r) => icdLabel(d.level, r.key)) },
        series: [
          {
            type: "bar",
            data: rows.map((r) => r.claims),
            cursor: rows.some((r) => r.href) ? "pointer" : "default",
          },
        ],
      });
    },

    "icd10-monthly": (d) =>
      base({
        legend,
        xAxis: { type: "category", data: d.months },
        yAxis: { type: "value", name: "patients", minInterval: 1 },
        series: d.series.map((s) => ({ name: icdLabel(d.level, s.key), type: "line", data: s.patients })),
      }),

    plans: (d) => {
      const plans = d.plans.filter((p) => p.plan_id !== null);
      return base({
        legend,
        grid: { left: 12, right: 24, top: 40, bottom: 8, containLabel: true },
        xAxis: { type: "category", data: plans.map((p) => p.plan), axisLabel: planLabels(plans.length) },
        yAxis: { type: "value", name: "claims", minInterval: 1 },
        series: [
          { name: d.quarter, type: "bar", data: plans.map((p) => p.current.claims) },
          { name: d.previous_quarter, type: "bar", data: plans.map((p) => p.previous.claims) },
        ],
      });
    },

    "providers-top": (d) => {
      const rows = d.providers.slice().reverse();
      return base({
        legend,
        grid: { left: 12, right: 40, top: 32, bottom: 24, containLabel: true },
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        xAxis: { type: "value", axisLabel: { formatter: dollars } },
        yAxis: { type: "category", data: rows.map((r) => `${r.name} (${r.npi})`) },
        series: [
          { name: "Paid", type: "bar", data: rows.map((r) => money(r.paid)) },
          { name: "Billed", type: "bar", data: rows.map((r) => money(r.billed)) },
        ],
      });
    },

    "flow-sankey": (d) =>
      base({
        tooltip: { trigger: "item" },
        series: [
          {
            type: "sankey",
            left: 24,
            right: 120,
            top: 16,
            bottom: 16,
            nodeAlign: "left",
            emphasis: { focus: "adjacency" },
            lineStyle: { color: "gradient", opacity: 0.45 },
            label: { fontSize: 13 },
            data: d.nodes.map((n) => ({ ...n, itemStyle: { color: statusColor(n.name) } })),
            links: d.links,
          },
        ],
      }),

    "failed-monthly": (d) =>
      base({
        legend,
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        xAxis: { type: "category", data: d.months },
        yAxis: { type: "value", minInterval: 1 },
        series: d.series.map((s) => ({ name: s.label, type: "bar", stack: "failed", data: s.counts })),
      }),

    "failed-carc": (d) => {
      const rows = d.rows.slice().reverse();
      return base({
        grid: { left: 12, right: 24, top: 8, bottom: 24, containLabel: true },
        tooltip: {
          trigger: "item",
          formatter: (p) => `<b>CARC ${rows[p.dataIndex].carc}</b> ${rows[p.dataIndex].description}<br>${p.value} claims`,
        },
        xAxis: { type: "value", minInterval: 1 },
        yAxis: { type: "category", data: rows.map((r) => `CARC ${r.carc}`) },
        series: [{ type: "bar", data: rows.map((r) => r.claims), itemStyle: { color: PALETTE[3] } }],
      });
    },

    "report-plans": (d) =>
      base({
        legend,
        grid: { left: 12, right: 24, top: 40, bottom: 8, containLabel: true },
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        xAxis: { type: "category", data: d.plans.map((p) => p.plan), axisLabel: planLabels(d.plans.length) },
        yAxis: { type: "value", axisLabel: { formatter: dollars } },
        series: [
          { name: "Billed", type: "bar", data: d.plans.map((p) => money(p.billed)) },
          { name: "Paid", type: "bar", data: d.plans.map((p) => money(p.paid)) },
        ],
      }),
  };

  // Clicks that lead somewhere: a bar of the ICD-10 breakdown opens the level below it.
  const clicks = {
    "icd10-breakdown": (d, params) => {
      const row = d.rows[d.rows.length - 1 - params.dataIndex];
      if (row && row.href) window.location.href = row.href;
    },
  };

  const EMPTY = { color: "#66768a", fontSize: 14, fontWeight: "normal" };
  // Every endpoint answers with one main list; an empty one (or one of zeros) gets a message, not blank axes.
  function isEmpty(data) {
    const main = data.rows || data.links || data.providers || data.plans || data.series || data.claims || [];
    if (main.length === 0) return true;
    const values = data.claims || (data.series || []).flatMap((s) => s.counts || s.patients || []);
    return values.length > 0 && values.every((v) => v === 0);
  }

  async function draw(element) {
    const kind = element.dataset.chart;
    const chart = echarts.init(element, null, { renderer: "canvas" });
    chart.showLoading({ text: "" });
    try {
      const response = await fetch(element.dataset.src, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (!response.ok) throw new Error(`${element.dataset.src}: HTTP ${response.status}`);
      const data = await response.json();
      chart.hideLoading();
      chart.setOption(builders[kind](data));
      if (isEmpty(data)) {
        chart.setOption({ title: { text: "No data in this range", left: "center", top: "middle", textStyle: EMPTY } });
      }
      if (clicks[kind]) chart.on("click", (params) => clicks[kind](data, params));
      element.dataset.state = "ready";
    } catch (error) {
      chart.hideLoading();
      element.dataset.state = "error";
      console.error(`chart ${kind}:`, error);
    }
  }

  const elements = Array.from(document.querySelectorAll("[data-chart]"));
  elements.forEach(draw);
  window.addEventListener("resize", () => {
    elements.forEach((element) => {
      const chart = echarts.getInstanceByDom(element);
      if (chart) chart.resize();
    });
  });
})();
