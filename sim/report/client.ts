/**
 * The page's own script, run in the browser: it reads the embedded JSON (model.ts's ReportData)
 * and lays it out: tables as text, line and point charts through uPlot (inlined beside it), heat
 * maps on a plain canvas. Each drawn chart is listed in `window.__infersimCharts` with its canvas,
 * plot box and uPlot's own data, so a test can check that every chart holds and shows data.
 * Plain ES2017, no imports: it is inlined into the HTML as it is written here.
 */
export const PAGE_SCRIPT = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('infersim-data').textContent);
  var charts = (window.__infersimCharts = []);
  var VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];

  function color(i) {
    return 'hsl(' + Math.round((i * 137.5 + 210) % 360) + ', 75%, 42%)';
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function table(t) {
    var wrap = el('div', 'table');
    if (t.title) wrap.appendChild(el('h3', '', t.title));
    var keyed = t.head.every(function (h) { return h === ''; });
    var tab = el('table', keyed ? 'keyed' : '');
    if (!keyed) {
      var tr = el('tr');
      t.head.forEach(function (h) { tr.appendChild(el('th', '', h)); });
      tab.appendChild(el('thead')).appendChild(tr);
    }
    var body = tab.appendChild(el('tbody'));
    t.rows.forEach(function (row) {
      var r = el('tr');
      row.forEach(function (cell, i) { r.appendChild(el(i === 0 ? 'th' : 'td', '', cell)); });
      body.appendChild(r);
    });
    wrap.appendChild(tab);
    if (t.note) wrap.appendChild(el('p', 'note', t.note));
    return wrap;
  }

  function lineChart(c, host) {
    var width = Math.max(320, host.clientWidth - 24);
    var cols = c.series.length === 1 ? [c.series[0].x, c.series[0].y] : uPlot.join(c.series.map(function (s) { return [s.x, s.y]; }));
    var pointsOnly = c.type === 'points';
    var series = [{ label: c.x }].concat(c.series.map(function (s, i) {
      var scatter = pointsOnly && i === 0;
      return {
        label: s.label,
        stroke: color(i),
        width: scatter ? 0 : 1.5,
        spanGaps: true,
        paths: scatter ? function () { return null; } : undefined,
        // A line of a few points (a burst: one bin) would draw nothing without its markers.
        points: pointsOnly || s.x.length <= 60 ? { show: true, space: 0, size: scatter ? 4 : 6, fill: color(i), stroke: color(i) } : { show: false },
      };
    }));
    var u = new uPlot({
      title: c.title,
      width: width,
      height: 280,
      // Padded so that a line at its extreme (a queue that stays empty) is drawn inside the plot box.
      scales: { x: { time: false, distr: c.xLog ? 3 : 1 }, y: { range: function (u, min, max) { var pad = (max - min) * 0.05 || Math.abs(max) * 0.05 || 1; return [min - pad, max + pad]; } } },
      axes: [{ label: c.x }, { label: c.y, size: axisWidth }],
      legend: { show: c.series.length <= 16, live: false },
      series: series,
    }, cols, host);
    charts.push({
      id: c.id,
      type: c.type,
      title: c.title,
      points: u.data.slice(1).map(function (col) { return col.filter(function (v) { return v !== null && v !== undefined; }).length; }),
      canvas: u.ctx.canvas,
      bbox: { left: u.bbox.left, top: u.bbox.top, width: u.bbox.width, height: u.bbox.height },
    });
  }

  /** Room for the longest tick label of the y axis, so that the axis title never overlaps it. */
  function axisWidth(u, values) {
    var longest = (values || []).reduce(function (m, v) { return Math.max(m, String(v).length); }, 0);
    return Math.max(50, 28 + 7 * longest);
  }

  function heatColor(t) {
    var x = Math.max(0, Math.min(1, t)) * (VIRIDIS.length - 1);
    var i = Math.min(VIRIDIS.length - 2, Math.floor(x));
    var f = x - i;
    var a = VIRIDIS[i], b = VIRIDIS[i + 1];
    return 'rgb(' + [0, 1, 2].map(function (k) { return Math.round(a[k] + (b[k] - a[k]) * f); }).join(',') + ')';
  }

  function heatMap(c, host) {
    var dpr = window.devicePixelRatio || 1;
    var cssW = Math.max(320, host.clientWidth - 24), cssH = 80 + 36 * c.ys.length;
    var left = 130, top = 34, bottom = 46, right = 10;
    var canvas = el('canvas');
    canvas.width = Math.round(cssW * dpr);
    canvas.height = Math.round(cssH * dpr);
    canvas.style.width = cssW + 'px';
    canvas.style.height = cssH + 'px';
    host.appendChild(canvas);
    var ctx = canvas.getContext('2d');
    ctx.scale(dpr, dpr);
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, cssW, cssH);
    var vals = [].concat.apply([], c.z).filter(function (v) { return v !== null; });
    var lo = Math.min.apply(null, vals), hi = Math.max.apply(null, vals);
    var cw = (cssW - left - right) / c.xs.length, ch = (cssH - top - bottom) / c.ys.length;
    ctx.font = '12px sans-serif';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    var cells = 0;
    c.z.forEach(function (row, yi) {
      row.forEach(function (v, xi) {
        var x = left + xi * cw, y = top + (c.ys.length - 1 - yi) * ch;
        if (v === null) { ctx.fillStyle = '#eee'; ctx.fillRect(x + 1, y + 1, cw - 2, ch - 2); return; }
        var t = hi > lo ? (v - lo) / (hi - lo) : 1;
        ctx.fillStyle = heatColor(c.higherIsBetter ? t : 1 - t);
        ctx.fillRect(x + 1, y + 1, cw - 2, ch - 2);
        ctx.fillStyle = (c.higherIsBetter ? t : 1 - t) > 0.6 ? '#000' : '#fff';
        ctx.fillText(Number(v.toPrecision(4)).toString(), x + cw / 2, y + ch / 2);
        cells++;
      });
    });
    ctx.fillStyle = '#222';
    ctx.font = 'bold 13px sans-serif';
    ctx.fillText(c.title, cssW / 2, 14);
    ctx.font = '12px sans-serif';
    c.xs.forEach(function (s, i) { ctx.fillText(s, left + (i + 0.5) * cw, cssH - bottom + 14); });
    ctx.fillText(c.x, left + (cssW - left - right) / 2, cssH - 12);
    ctx.textAlign = 'right';
    c.ys.forEach(function (s, i) { ctx.fillText(s, left - 8, top + (c.ys.length - 1 - i + 0.5) * ch); });
    ctx.save();
    ctx.translate(14, top + (cssH - top - bottom) / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = 'center';
    ctx.fillText(c.y, 0, 0);
    ctx.restore();
    charts.push({
      id: c.id,
      type: c.type,
      title: c.title,
      points: [cells],
      canvas: canvas,
      bbox: { left: left * dpr, top: top * dpr, width: (cssW - left - right) * dpr, height: (cssH - top - bottom) * dpr },
    });
  }

  function chart(c, grid) {
    var box = grid.appendChild(el('figure', 'chart'));
    box.id = 'chart-' + c.id;
    var host = box.appendChild(el('div'));
    try {
      if (c.type === 'heatmap') heatMap(c, host); else lineChart(c, host);
    } catch (err) {
      box.appendChild(el('p', 'error', 'chart failed: ' + err));
      console.error('chart ' + c.id + ' failed:', err);
    }
    if (c.note) box.appendChild(el('figcaption', 'note', c.note));
  }

  function section(s, main) {
    var sec = main.appendChild(el('section'));
    sec.appendChild(el('h2', '', s.title));
    if (s.note) sec.appendChild(el('p', 'note', s.note));
    s.tables.forEach(function (t) { sec.appendChild(table(t)); });
    if (s.charts.length) {
      var grid = sec.appendChild(el('div', 'grid'));
      s.charts.forEach(function (c) { chart(c, grid); });
    }
    if (s.pre) {
      var d = sec.appendChild(el('details'));
      d.appendChild(el('summary', '', 'Scenario (defaults filled in)'));
      d.appendChild(el('pre', '', s.pre));
    }
  }

  var main = document.getElementById('report');
  main.appendChild(el('h1', '', data.title));
  main.appendChild(el('p', 'note', data.subtitle));
  data.sections.forEach(function (s) { section(s, main); });
  document.body.setAttribute('data-ready', String(charts.length));
})();
`;
