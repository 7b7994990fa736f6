// Browser charts (uPlot, web/static/vendor, fetched by make) drawn from
// each chart's JSON export: hover for every series' value, drag to zoom
// the whole page, double-click to zoom out, fill the column, refresh
// trailing ranges in place. Every chart's data is fetched at once; a
// chart is drawn when it comes near the window (IntersectionObserver), so
// a long page is ready after its first screen. Without this script (or
// without uPlot) the server-drawn images show instead.
(function () {
  "use strict";
  var doc = document, charts = [], timer = 0;
  var darkQuery = window.matchMedia ? matchMedia("(prefers-color-scheme: dark)") : null;
  var picker = doc.querySelector("form.picker");
  var tz = picker && picker.dataset.tz;
  // Draw every chart at once instead (a baseline for BenchmarkBrowserPage12).
  var eager = !window.IntersectionObserver || localStorage.getItem("gm-draw") === "all";
  var seen = eager ? null : new IntersectionObserver(function (es) {
    es.forEach(function (e) {
      var c = e.isIntersecting && charts.filter(function (x) { return x.fig === e.target; })[0];
      if (!c) return;
      c.near = true; seen.unobserve(c.fig);
      if (c.data && !c.u) build(c);
    });
  }, { rootMargin: "50% 0px" }); // half a window ahead, above and below

  function cssVar(n) { return getComputedStyle(doc.documentElement).getPropertyValue(n).trim(); }

  // fmt says a value briefly: 3 significant digits, k/M/G above 10,000.
  function fmt(v) {
    if (v == null || isNaN(v)) return "–";
    var a = Math.abs(v), s = "";
    if (a >= 1e10) { v /= 1e9; s = "G"; } else if (a >= 1e7) { v /= 1e6; s = "M"; } else if (a >= 1e4) { v /= 1e3; s = "k"; }
    return (Math.abs(v) >= 100 ? Math.round(v) : +v.toPrecision(3)) + s;
  }

  // Times in the page's zone, 24-hour, ISO-like ("2009-07-30 15:47:05");
  // parts picks the fields (Y M D h m s).
  var clock;
  function timeFmt(t, parts) {
    if (!clock) {
      var o = { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" };
      if (tz && tz !== "Local") o.timeZone = tz;
      try { clock = new Intl.DateTimeFormat("en-US", o); } catch (e) { delete o.timeZone; clock = new Intl.DateTimeFormat("en-US", o); }
    }
    var f = {};
    clock.formatToParts(new Date(t * 1000)).forEach(function (p) { f[p.type] = p.value; });
    var date = [], time = [];
    if (parts.indexOf("Y") >= 0) date.push(f.year);
    if (parts.indexOf("M") >= 0) date.push(f.month);
    if (parts.indexOf("D") >= 0) date.push(f.day);
    if (parts.indexOf("h") >= 0) time.push(f.hour);
    if (parts.indexOf("m") >= 0) time.push(f.minute);
    if (parts.indexOf("s") >= 0) time.push(f.second);
    return [date.join("-"), time.join(":")].filter(Boolean).join(" ");
  }
  function timeText(t) { return timeFmt(t, "YMDhms"); }

  // timeTicks labels the time axis by the span shown; a tick on a new day
  // says the date too.
  function timeTicks(u, splits) {
    var span = u.scales.x.max - u.scales.x.min, last = "";
    return splits.map(function (t) {
      if (span > 400 * 86400) return timeFmt(t, "YM");
      if (span > 3 * 86400) return timeFmt(t, "MD");
      var day = timeFmt(t, "MD"), hm = timeFmt(t, span <= 600 ? "hms" : "hm");
      var s = day !== last ? day + "\n" + hm : hm;
      last = day;
      return s;
    });
  }

  // axisSize fits the widest label of a y axis.
  function axisSize(u, values) {
    var w = 0;
    (values || []).forEach(function (v) { w = Math.max(w, String(v).length); });
    return Math.max(32, w * 7 + 14);
  }

  // sparse series (unknown in most rows, as max rpm is per second) get
  // dots, or their lone values would not show.
  function sparse(ys) {
    var n = 0;
    for (var i = 0; i < ys.length; i++) if (ys[i] != null && (ys[i - 1] == null || ys[i + 1] == null)) n++;
    return n > 0 && n * 4 > ys.filter(function (v) { return v != null; }).length;
  }

  // toData turns the Graphite-shaped export into uPlot's columns.
  function toData(js) {
    var d = [js.length ? js[0].datapoints.map(function (p) { return p[1]; }) : []];
    js.forEach(function (s) { d.push(s.datapoints.map(function (p) { return p[0]; })); });
    return d;
  }

  // fetchData loads a chart's export; a refresh asks the server again,
  // a first load may use the cache (a range that ended long ago is
  // immutable).
  function fetchData(c, again) {
    return fetch(c.url, { cache: again ? "no-cache" : "default", credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error("export " + r.status);
      return r.json();
    }).then(toData);
  }

  // The page's range, moved: every chart and the URL follow (Back returns).
  function goTo(from, until) {
    var u = new URL(location.href);
    u.searchParams.set("from", String(from));
    if (until === "") u.searchParams.delete("until"); else u.searchParams.set("until", String(until));
    u.hash = "";
    sessionStorage.setItem("gm-scroll", location.pathname + " " + Math.round(scrollY));
    location.assign(u.toString());
  }

  function zoomOut(u) {
    var lo = u.scales.x.min, hi = u.scales.x.max, span = hi - lo, now = Date.now() / 1000;
    if (hi + span / 2 >= now - 60) goTo("-" + Math.round(2 * span) + "s", "");
    else goTo(Math.round(lo - span / 2), Math.round(hi + span / 2));
  }

  function drawTicks(c) {
    return function (u) {
      var ctx = u.ctx, b = u.bbox;
      c.styles.forEach(function (s, k) {
        if (s.type !== "TICK") return;
        ctx.save();
        ctx.strokeStyle = s.color;
        ctx.lineWidth = Math.max(1, devicePixelRatio);
        ctx.beginPath();
        u.data[k + 1].forEach(function (v, i) {
          if (!v) return;
          var x = Math.round(u.valToPos(u.data[0][i], "x", true));
          ctx.moveTo(x, b.top); ctx.lineTo(x, b.top + b.height);
        });
        ctx.stroke();
        ctx.restore();
      });
    };
  }

  function options(c, width) {
    var fg = cssVar("--muted"), grid = cssVar("--grid"), font = "11px " + cssVar("--sans");
    var own = c.styles.filter(function (s) { return s.own; })[0];
    var series = [{}];
    c.styles.forEach(function (s, k) {
      var dots = c.data && sparse(c.data[k + 1]);
      var o = { label: s.label, stroke: s.color, width: s.type === "LINE2" ? 2 : s.type === "LINE3" ? 3 : 1.25,
        scale: s.own ? "own" : "y", points: { show: dots, size: 3, fill: s.color, stroke: s.color } };
      if (s.dashed) o.dash = [6, 4];
      if (s.type === "TICK") { o.scale = "tick"; o.paths = function () { return null; }; }
      series.push(o);
    });
    var axis = function (scale, side) {
      return { scale: scale, side: side, stroke: fg, font: font, grid: { stroke: grid, width: 1, show: side !== 1 },
        ticks: { stroke: grid, width: 1 }, size: axisSize };
    };
    var axes = [{ stroke: fg, font: font, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, values: timeTicks, size: 44 }, axis("y", 3)];
    if (own) { var a = axis("own", 1); a.stroke = own.color; a.label = own.label; a.labelFont = font; a.labelSize = 16; axes.push(a); }
    var o = {
      width: width, height: c.height, series: series, axes: axes, legend: { show: false },
      // Row times end their step: the range shown starts a step before the
      // first, so charts of one page line up and show the whole range.
      scales: { x: { time: true, range: function (u, lo, hi) {
        var x = u.data[0], step = x.length > 1 ? x[1] - x[0] : 0;
        return [lo - step, hi];
      } }, tick: { range: [0, 1] } },
      cursor: { drag: { x: !c.pinned, y: false, setScale: false }, bind: { dblclick: function () { return null; } },
        points: { size: 6 } },
      hooks: {
        setSelect: [function (u) {
          if (u.select.width < 3) return;
          var a = Math.floor(u.posToVal(u.select.left, "x")), b = Math.ceil(u.posToVal(u.select.left + u.select.width, "x"));
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          if (b - a >= 10) goTo(a, b);
        }],
        setCursor: [function (u) { showCursor(c, u.cursor.idx); }],
        setScale: [function (u, key) { if (key === "x") showStats(c); }],
        draw: [drawTicks(c)]
      }
    };
    if (tz && tz !== "Local" && uPlot.tzDate) o.tzDate = function (t) { return uPlot.tzDate(new Date(t * 1e3), tz); };
    return o;
  }

  // The legend: every series' value under the cursor, and its last, mean
  // and maximum over the range shown.
  function makeLegend(c) {
    var t = doc.createElement("table");
    t.className = "legend";
    var h = "<thead><tr><th class=\"t\"></th><th>at cursor</th><th>last</th><th>mean</th><th>max</th></tr></thead><tbody>";
    c.styles.forEach(function () { h += "<tr><td class=\"name\"><i></i><span></span></td><td class=\"cur\"></td><td class=\"last\"></td><td class=\"mean\"></td><td class=\"max\"></td></tr>"; });
    t.innerHTML = h + "</tbody>";
    var rows = t.tBodies[0].rows;
    c.styles.forEach(function (s, k) {
      rows[k].cells[0].firstChild.style.background = s.color;
      rows[k].cells[0].lastChild.textContent = s.label;
      if (s.own) rows[k].cells[0].title = "on the right-hand axis";
    });
    c.legend = t;
    return t;
  }

  function showCursor(c, idx) {
    var d = c.u.data, rows = c.legend.tBodies[0].rows, th = c.legend.tHead.rows[0].cells[0];
    if (idx == null) { th.textContent = ""; c.legend.removeAttribute("data-t"); }
    else { th.textContent = timeText(d[0][idx]); c.legend.setAttribute("data-t", d[0][idx]); }
    for (var k = 0; k < rows.length; k++) {
      var v = idx == null ? null : d[k + 1][idx], cell = rows[k].cells[1];
      cell.textContent = idx == null ? "" : fmt(v);
      cell.setAttribute("data-v", v == null ? "" : v);
    }
  }

  function showStats(c) {
    var d = c.u.data, x = d[0], lo = c.u.scales.x.min, hi = c.u.scales.x.max, rows = c.legend.tBodies[0].rows;
    for (var k = 0; k < rows.length; k++) {
      var ys = d[k + 1], last = null, sum = 0, n = 0, mx = null;
      for (var i = 0; i < x.length; i++) {
        var v = ys[i];
        if (x[i] < lo || x[i] > hi || v == null) continue;
        last = v; sum += v; n++;
        if (mx == null || v > mx) mx = v;
      }
      var cells = rows[k].cells;
      cells[2].textContent = fmt(last); cells[3].textContent = n ? fmt(sum / n) : "–"; cells[4].textContent = fmt(mx);
    }
  }

  function showImage(fig) {
    var plot = fig.querySelector(".plot"), src = fig.dataset.img;
    if (!src || plot.querySelector("img")) return;
    if (darkQuery && darkQuery.matches) src += "&theme=dark";
    src += "&iw=" + Math.min(Math.max(plot.clientWidth || 800, 200), 2000); // fill the column
    var img = new Image();
    img.alt = fig.querySelector("figcaption .title").textContent;
    img.src = src; img.srcset = src + "&zoom=2 2x";
    plot.appendChild(img);
    fig.classList.add("drawn");
  }

  function build(c) {
    var width = c.plot.clientWidth || 600;
    if (c.u) c.u.destroy();
    var fallback = c.plot.querySelector("svg.over"); // a server-drawn chart (/urls)
    if (fallback) fallback.remove();
    c.u = new uPlot(options(c, width), c.data, c.plot);
    showStats(c);
    c.fig.classList.add("drawn");
    ready();
  }

  // ready notes when every chart near the window is drawn (viewAt), that
  // and every other one's data in (drawnAt), and all drawn (allDrawnAt).
  function ready() {
    var gm = window.graphmetrics, now = performance.now();
    if (!gm) return;
    if (!gm.viewAt && charts.every(function (x) { return x.u || !x.near; })) gm.viewAt = now;
    if (!gm.drawnAt && charts.every(function (x) { return x.u || (x.data && !x.near); })) gm.drawnAt = now;
    if (!gm.allDrawnAt && charts.every(function (x) { return x.u; })) gm.allDrawnAt = now;
  }

  function setup(fig) {
    var styles = [];
    try { styles = JSON.parse(fig.dataset.series || "[]"); } catch (e) { styles = []; }
    if (!styles.length || !window.uPlot || !window.fetch) { showImage(fig); return; }
    var plot = fig.querySelector(".plot");
    var c = { fig: fig, plot: plot, styles: styles, url: fig.dataset.json, height: +fig.dataset.h || 250,
      pinned: fig.hasAttribute("data-pinned") };
    plot.style.minHeight = c.height + "px";
    plot.parentNode.insertBefore(makeLegend(c), plot.nextSibling);
    // A chart pinned to its own range does not move the page's.
    if (!c.pinned) plot.addEventListener("dblclick", function () { if (c.u) zoomOut(c.u); });
    charts.push(c);
    c.near = eager;
    if (seen) seen.observe(fig);
    fetchData(c).then(function (d) { c.data = d; if (c.near) build(c); else ready(); }).catch(function () {
      c.legend.remove(); charts.splice(charts.indexOf(c), 1); showImage(fig); ready();
    });
  }

  // The overview (issue 20): the filter box narrows the rows as one types
  // (a GET form without JS); a refresh replaces the rows in place, keeping
  // the pools one opened or closed.
  var ov = doc.getElementById("overview");
  var ovBox = doc.querySelector(".ov-filter input[name=q]");
  var ovToggled = {};
  function ovFilter() {
    if (!ov || !ovBox) return;
    var q = ovBox.value.trim().toLowerCase();
    ov.querySelectorAll("section.customer").forEach(function (c) {
      var cAll = !q || c.dataset.match.toLowerCase().indexOf(q) >= 0, any = false;
      c.querySelectorAll("details.pool").forEach(function (p) {
        var all = cAll || p.dataset.match.indexOf(q) >= 0, some = false;
        p.querySelectorAll(".row.inst").forEach(function (r) {
          var m = all || r.dataset.match.indexOf(q) >= 0;
          r.hidden = !m;
          some = some || m;
        });
        p.hidden = !some;
        any = any || some;
      });
      c.hidden = !any;
    });
  }
  function ovRestore() {
    if (!ov) return;
    ov.querySelectorAll("details.pool").forEach(function (p) {
      var k = p.parentNode.dataset.match + "\n" + p.dataset.match;
      if (k in ovToggled) p.open = ovToggled[k];
      p.addEventListener("toggle", function () { ovToggled[k] = p.open; });
    });
    ovFilter();
  }
  // A refresh replaces the parts of the page marked data-reload (the
  // overview, the /urls table) with those of the page fetched again.
  function reloadParts() {
    var parts = doc.querySelectorAll("[data-reload][id]");
    if (!parts.length) return;
    fetch(location.href, { cache: "no-cache", credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.text();
    }).then(function (html) {
      var next = new DOMParser().parseFromString(html, "text/html");
      parts.forEach(function (p) {
        var n = next.getElementById(p.id);
        if (n) p.innerHTML = n.innerHTML;
      });
      if (ov) { ovRestore(); window.graphmetrics.overviewLoads++; }
      window.graphmetrics.reloads++;
    }).catch(function () {});
  }
  if (ov && ovBox) {
    ovBox.addEventListener("input", function () {
      ovFilter();
      var u = new URL(location.href);
      if (ovBox.value.trim()) u.searchParams.set("q", ovBox.value.trim()); else u.searchParams.delete("q");
      history.replaceState(null, "", u.pathname + u.search);
    });
    ovRestore();
  }

  // /urls: a click on a URL draws its chart in place: the page at the
  // link gives the figure and the table with its row marked, the chart
  // draws from over.json (setup), and the address follows (pushState) so
  // Back and Forward work. Without JS the link loads the page.
  var urlsTable = doc.getElementById("urls-table");
  function urlsOver(href, push) {
    fetch(href, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.text();
    }).then(function (html) {
      var next = new DOMParser().parseFromString(html, "text/html");
      ["urls-sum", "urls-table"].forEach(function (id) {
        var p = doc.getElementById(id), n = next.getElementById(id);
        if (p && n) p.innerHTML = n.innerHTML;
      });
      var old = doc.getElementById("over"), fig = next.getElementById("over");
      if (old) {
        for (var i = charts.length - 1; i >= 0; i--) {
          if (charts[i].fig !== old) continue;
          if (charts[i].u) charts[i].u.destroy();
          if (seen) seen.unobserve(old);
          charts.splice(i, 1);
        }
        old.remove();
      }
      if (push) history.pushState(null, "", href);
      if (!fig) return;
      fig = doc.importNode(fig, true);
      urlsTable.parentNode.insertBefore(fig, urlsTable.nextSibling);
      if (fig.matches("figure.chart[data-json]")) setup(fig);
      if (push) fig.scrollIntoView({ block: "nearest" });
      window.graphmetrics.overLoads++;
    }).catch(function () { if (push) location.href = href; });
  }
  if (urlsTable && window.fetch && window.DOMParser && history.pushState) {
    urlsTable.addEventListener("click", function (e) {
      var a = e.target.closest && e.target.closest("td.url a");
      if (!a || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      e.preventDefault();
      urlsOver(a.href, true);
    });
    window.addEventListener("popstate", function () { urlsOver(location.href, false); });
  }

  function refresh() {
    reloadParts();
    charts.forEach(function (c) {
      if (!c.data || !c.fig.hasAttribute("data-refresh")) return;
      fetchData(c, true).then(function (d) {
        c.data = d; c.loads = (c.loads || 0) + 1;
        if (c.u) { c.u.setData(d); showStats(c); }
      }).catch(function () {});
    });
    doc.querySelectorAll("figure.chart[data-refresh] .plot > img").forEach(function (img) {
      var u = new URL(img.getAttribute("src"), location.href);
      u.searchParams.set("r", String(Math.floor(Date.now() / 1000)));
      var next = new Image(); // the old image stays until the new one is in
      next.onload = function () { img.src = next.src; };
      next.src = u.pathname + u.search;
    });
  }

  function setupRefresh() {
    var label = picker && picker.querySelector("label.refresh");
    if (!label || picker.dataset.trailing !== "true") return;
    var sel = label.querySelector("select");
    var saved = localStorage.getItem("gm-refresh");
    if (saved !== null && sel.querySelector("option[value=\"" + saved + "\"]")) sel.value = saved;
    label.hidden = false;
    var start = function () {
      clearInterval(timer);
      if (+sel.value > 0) timer = setInterval(refresh, +sel.value * 1000);
    };
    sel.addEventListener("change", function () { localStorage.setItem("gm-refresh", sel.value); start(); });
    start();
  }

  function restoreScroll() {
    var s = (sessionStorage.getItem("gm-scroll") || "").split(" ");
    sessionStorage.removeItem("gm-scroll");
    if (s[0] === location.pathname && s[1]) scrollTo(0, +s[1]);
  }

  // Plot colours (inline styles are refused by the page's CSP).
  doc.querySelectorAll("i.swatch[data-color]").forEach(function (i) { i.style.background = i.dataset.color; });
  doc.querySelectorAll("figure.chart[data-json]").forEach(setup);
  restoreScroll();
  setupRefresh();
  if (window.ResizeObserver) {
    var ro = new ResizeObserver(function () {
      charts.forEach(function (c) {
        var w = c.plot.clientWidth;
        if (c.u && w && Math.abs(w - c.u.width) > 1) c.u.setSize({ width: w, height: c.height });
      });
    });
    doc.querySelectorAll("section.charts").forEach(function (s) { ro.observe(s); });
  }
  if (darkQuery && darkQuery.addEventListener) darkQuery.addEventListener("change", function () { charts.forEach(function (c) { if (c.u) build(c); }); });
  window.graphmetrics = { charts: charts, refresh: refresh, overviewLoads: 0, reloads: 0, overLoads: 0 }; // for tests
  ready();
})();
