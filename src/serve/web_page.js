// web_page.js - memleakd's live page: polls history.json, draws one panel
// per traced process with its latest flame graph (the SVG flame graph,
// flame.svg, in a frame) and two charts over the last reports: the
// outstanding bytes of its top stacks, and its resident memory with the
// outstanding total. Nothing is loaded from anywhere but memleakd.

'use strict';
(function () {
  var SVG_NS = 'http://www.w3.org/2000/svg';
  var COLORS = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4',
    '#42d4f4', '#f032e6', '#9a6324', '#800000', '#469990', '#000075'];
  var WIDTH = 560, HEIGHT = 240, PAD = 48;
  var shown = 0;
  var panels = {};

  function setText(id, text) {
    document.getElementById(id).textContent = text;
  }

  function human(bytes) {
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], i = 0;
    while (bytes >= 1024 && i < units.length - 1) {
      bytes /= 1024;
      i++;
    }
    return i ? bytes.toFixed(1) + ' ' + units[i] : bytes + ' B';
  }

  function element(tag, attrs, parent, ns) {
    var e = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      e.setAttribute(k, attrs[k]);
    });
    if (parent)
      parent.appendChild(e);
    return e;
  }

  function figure(parent, caption, cls) {
    var f = element('figure', { 'class': cls }, parent);
    element('figcaption', {}, f).textContent = caption;
    return {
      svg: element('svg', { 'class': 'chart', width: WIDTH, height: HEIGHT,
        viewBox: '0 0 ' + WIDTH + ' ' + HEIGHT }, f, SVG_NS),
      legend: element('ul', { 'class': 'legend' }, f),
    };
  }

  function panel(p) {
    var s = element('section', { 'class': 'process', 'data-pid': p.pid },
      document.getElementById('processes'));
    var h = element('h2', {}, s);
    var charts = element('div', { 'class': 'charts' }, s);
    var out = {
      title: element('span', {}, h),
      verdict: element('span', { 'class': 'verdict' }, h),
      cost: element('span', { 'class': 'cost' }, h),
      stacks: figure(charts, 'Outstanding bytes of the top stacks', 'stacks'),
      memory: figure(charts, 'Resident memory and outstanding bytes', 'memory'),
    };
    element('h3', {}, s).textContent = 'Outstanding bytes by stack (latest report)';
    out.flame = element('iframe', { 'class': 'flame', title: 'flame graph' }, s);
    return out;
  }

  // Lines of series ({name, color, values: [[x, y], ...]}) over a shared
  // scale, with the largest value and the time span on the axes.
  function chart(fig, series) {
    var xs = [], ymax = 1, xmin, xmax;
    while (fig.svg.firstChild)
      fig.svg.removeChild(fig.svg.firstChild);
    while (fig.legend.firstChild)
      fig.legend.removeChild(fig.legend.firstChild);
    series.forEach(function (s) {
      s.values.forEach(function (v) {
        xs.push(v[0]);
        ymax = Math.max(ymax, v[1]);
      });
    });
    xmin = Math.min.apply(null, xs);
    xmax = Math.max.apply(null, xs);
    if (xmax === xmin)
      xmax = xmin + 1;
    function x(v) {
      return PAD + (v - xmin) / (xmax - xmin) * (WIDTH - 2 * PAD);
    }
    function y(v) {
      return HEIGHT - PAD / 2 - v / ymax * (HEIGHT - PAD);
    }
    element('line', { 'class': 'axis', x1: PAD, y1: y(0), x2: WIDTH - PAD, y2: y(0) },
      fig.svg, SVG_NS);
    element('line', { 'class': 'axis', x1: PAD, y1: y(0), x2: PAD, y2: y(ymax) },
      fig.svg, SVG_NS);
    element('text', { x: 2, y: y(ymax) + 4 }, fig.svg, SVG_NS).textContent = human(ymax);
    element('text', { x: PAD, y: HEIGHT - 4 }, fig.svg, SVG_NS).textContent =
      xmin.toFixed(0) + ' s';
    element('text', { x: WIDTH - PAD - 20, y: HEIGHT - 4 }, fig.svg, SVG_NS).textContent =
      xmax.toFixed(0) + ' s';
    series.forEach(function (s) {
      var last = s.values[s.values.length - 1];
      var item = element('li', {}, fig.legend);
      element('polyline', {
        stroke: s.color, 'data-name': s.name,
        points: s.values.map(function (v) {
          return x(v[0]).toFixed(1) + ',' + y(v[1]).toFixed(1);
        }).join(' '),
      }, fig.svg, SVG_NS);
      element('span', { 'class': 'swatch', style: 'background:' + s.color }, item);
      item.appendChild(document.createTextNode(s.name + ': ' + human(last ? last[1] : 0)));
    });
  }

  function stackSeries(p) {
    var last = p.points[p.points.length - 1];
    var ids = Object.keys(last.stacks).sort(function (a, b) {
      return last.stacks[b] - last.stacks[a];
    });
    return ids.map(function (id, i) {
      return {
        name: p.stacks[id] || id, color: COLORS[i % COLORS.length],
        values: p.points.map(function (pt) {
          return [pt.since_attach_s, pt.stacks[id] || 0];
        }),
      };
    });
  }

  function memorySeries(p) {
    function of(field) {
      return p.points.map(function (pt) {
        return [pt.since_attach_s, pt[field]];
      });
    }
    return [{ name: 'resident memory', color: COLORS[2], values: of('rss_bytes') },
      { name: 'outstanding', color: COLORS[0], values: of('outstanding_bytes') }];
  }

  function update(h) {
    h.processes.forEach(function (p) {
      var view = panels[p.pid] || (panels[p.pid] = panel(p));
      if (!p.points.length)
        return;
      view.title.textContent = 'pid ' + p.pid + ' (' + p.comm + ')';
      view.verdict.textContent = p.verdict || 'no verdict';
      view.verdict.setAttribute('class', 'verdict ' + (p.verdict || ''));
      view.cost.textContent = p.cost ? 'tracing: ' + Math.round(p.cost.probe_hits_per_s) +
        ' probe hits/s, ' + (100 * p.cost.cpu_share).toFixed(2) + '% of a CPU'
        : 'tracing cost unknown';
      chart(view.stacks, stackSeries(p));
      chart(view.memory, memorySeries(p));
      if (h.report !== shown)
        view.flame.setAttribute('src', p.flame + '&report=' + h.report);
    });
    shown = h.report;
    setText('report', String(h.report));
    setText('status', h.report ? 'updated ' + new Date().toLocaleTimeString()
      : 'waiting for the first report');
  }

  function poll() {
    var request = new window.XMLHttpRequest();
    var again = 2;
    request.open('GET', 'history.json');
    request.onload = function () {
      if (request.status === 200) {
        var h = JSON.parse(request.responseText);
        update(h);
        again = Math.min(Math.max(h.interval_s / 2, 1), 10);
      } else {
        setText('status', 'memleakd answered ' + request.status);
      }
      window.setTimeout(poll, again * 1000);
    };
    request.onerror = function () {
      setText('status', 'memleakd is not answering');
      window.setTimeout(poll, again * 1000);
    };
    request.send();
  }

  poll();
})();
