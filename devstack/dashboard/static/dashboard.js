// The dashboard's only script: keeps the server-rendered sections fresh, runs the log
// filter in place, and draws the metric charts with uPlot (vendored from npm).
// Without it the page still shows every section as of its loading.
"use strict";

(function () {
  const main = document.getElementById("main");
  const form = document.querySelector("form.log-filter");
  const follow = document.getElementById("log-follow");

  function visible() {
    return document.visibilityState === "visible";
  }

  // ---- sections rendered on the server ------------------------------------------------
  function logQuery() {
    const params = new URLSearchParams();
    for (const [key, value] of new FormData(form)) {
      if (value && !(key === "view" && value === "structured")) params.set(key, value);
    }
    return params.toString();
  }

  function fragmentUrl(name) {
    return "/fragments/" + name + (name === "logs" ? "?" + logQuery() : "");
  }

  async function refresh(box) {
    const name = box.dataset.fragment;
    let response;
    try {
      response = await fetch(fragmentUrl(name), { headers: { Accept: "text/html" } });
    } catch (err) {
      box.dataset.stale = "true";
      return;
    }
    const html = await response.text();
    delete box.dataset.stale;
    // Unchanged: leave it be (an opened <details> stays open, a selection stays).
    if (html !== box.dataset.html) {
      box.innerHTML = html;
      box.dataset.html = html;
      if (name === "logs") showNewest();
    }
  }

  // The console scrolls by itself; while following, keep its newest line in view.
  function showNewest() {
    const lines = document.querySelector("ol.console");
    if (lines && follow.checked) lines.scrollTop = lines.scrollHeight;
  }

  const boxes = Array.from(document.querySelectorAll("[data-fragment]"));
  for (const box of boxes) {
    box.dataset.html = box.innerHTML;
    const every = Number(box.dataset.every || 5) * 1000;
    setInterval(function () {
      if (!visible()) return;
      if (box.dataset.fragment === "logs") {
        if (!follow.checked || box.querySelector("details[open]")) return;
      }
      refresh(box);
    }, every);
  }
  const logBox = boxes.find((box) => box.dataset.fragment === "logs");
  showNewest();

  // ---- the log filter, in place -----------------------------------------------------------
  function showLogs() {
    const query = logQuery();
    history.replaceState(null, "", (query ? "?" + query : location.pathname) + "#logs");
    refresh(logBox);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!form.reportValidity()) return;
    showLogs();
  });
  for (const field of form.querySelectorAll("select, input[type=radio], input[name=probes]")) {
    field.addEventListener("change", showLogs);
  }

  // Links to a log view ("logs" of a part or a trace, "filter" by a trace): fill the form.
  main.addEventListener("click", function (event) {
    const link = event.target.closest("a[href^='?']");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
    const url = new URL(link.href);
    if (url.hash !== "#logs") return;
    event.preventDefault();
    const params = url.searchParams;
    form.elements.part.value = params.get("part") || "";
    form.elements.level.value = params.get("level") || "";
    form.elements.q.value = params.get("q") || "";
    form.elements.trace.value = params.get("trace") || "";
    form.elements.probes.checked = params.get("probes") === "show";
    for (const radio of form.querySelectorAll("input[name=view]")) {
      radio.checked = radio.value === (params.get("view") || "structured");
    }
    showLogs();
    document.getElementById("logs").scrollIntoView();
    document.getElementById("log-part").focus({ preventScroll: true });
  });

  // ---- charts ---------------------------------------------------------------------------------
  const COLOURS = ["#1f6feb", "#d9480f", "#2b8a3e", "#9c36b5", "#c92a2a", "#0b7285", "#5c940d", "#862e9c"];
  const chartBox = document.getElementById("charts");
  const chartStatus = document.getElementById("metrics-status");
  const plots = {};

  function figure(chart) {
    let fig = document.getElementById("chart-" + chart.id);
    if (!fig) {
      fig = document.createElement("figure");
      fig.id = "chart-" + chart.id;
      fig.className = "chart";
      const caption = document.createElement("figcaption");
      caption.textContent = chart.title + (chart.unit ? " (" + chart.unit + ")" : "");
      const plot = document.createElement("div");
      plot.className = "plot";
      const latest = document.createElement("p");
      latest.className = "latest";
      latest.setAttribute("aria-live", "off");
      fig.append(caption, plot, latest);
      chartBox.append(fig);
    }
    return fig;
  }

  function latestText(chart) {
    const parts = [];
    for (const series of chart.series) {
      const values = series.values.filter((v) => v !== null);
      if (values.length) parts.push(series.label + " " + values[values.length - 1]);
    }
    return parts.length ? "Latest: " + parts.join(", ") + "." : "No data yet.";
  }

  function draw(chart) {
    const fig = figure(chart);
    const holder = fig.querySelector(".plot");
    fig.querySelector(".latest").textContent = latestText(chart);
    const key = chart.series.map((s) => s.label).join("\u0000");
    const data = [chart.times, ...chart.series.map((s) => s.values)];
    const existing = plots[chart.id];
    if (existing && existing.key === key) {
      existing.plot.setData(data);
      return;
    }
    if (existing) existing.plot.destroy();
    delete plots[chart.id];
    if (!chart.series.length) return;
    const options = {
      width: Math.max(holder.clientWidth, 280),
      height: 200,
      series: [
        {},
        ...chart.series.map((s, i) => ({
          label: s.label,
          stroke: COLOURS[i % COLOURS.length],
          width: 2,
        })),
      ],
      axes: [{}, { label: chart.unit, size: 60 }],
    };
    plots[chart.id] = { key: key, plot: new window.uPlot(options, data, holder) };
  }

  function describeSources(sources) {
    const ok = sources.filter((s) => s.status === "ok").map((s) => s.part);
    const none = sources.filter((s) => s.status === "no metrics").map((s) => s.part);
    const failed = sources.filter((s) => s.status === "error").map((s) => s.part + " (" + s.detail + ")");
    if (!sources.length) return "Collecting the first points…";
    const words = [];
    words.push(ok.length ? "Scraping " + ok.join(", ") + "." : "No part has metrics yet.");
    if (failed.length) words.push("Failing: " + failed.join(", ") + ".");
    if (none.length) words.push("No metrics: " + none.join(", ") + ".");
    return words.join(" ");
  }

  async function refreshCharts() {
    if (!visible()) return;
    let data;
    try {
      data = await (await fetch("/api/metrics")).json();
    } catch (err) {
      chartStatus.textContent = "The dashboard did not answer.";
      return;
    }
    chartStatus.textContent = describeSources(data.sources);
    for (const chart of data.charts) draw(chart);
  }

  if (window.uPlot) {
    refreshCharts();
    setInterval(refreshCharts, 5000);
    window.addEventListener("resize", function () {
      for (const { plot } of Object.values(plots)) {
        plot.setSize({ width: Math.max(plot.root.parentNode.clientWidth, 280), height: 200 });
      }
    });
  }
})();
