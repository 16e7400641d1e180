// flame_graph.js - what makes the SVG flame graph interactive: hover
// details, click to zoom, search, kept apart from the document's layout
// (report_svg.c), which carries it inline (flame_graph_assets.S embeds it),
// so the graph works offline. Zooming and search work on each frame's
// bytes (data-x, data-b), exact integers, not on its pixels: a frame's
// ancestors are the frames of lower rows whose byte range covers it, and
// its descendants those of higher rows inside it.
//
// ES5 syntax, with Map and today's DOM (tests/js/eslint.config.js lints it
// so). It sits in a CDATA section, so it never holds "]]>"; the build drops
// comment and blank lines before embedding it, so a comment stands on
// lines of its own.

'use strict';
(function () {
var svg = document.documentElement;
var pad = +svg.dataset.pad, fw = +svg.dataset.fw, cw = +svg.dataset.cw;
var el = function (id) { return document.getElementById(id); };
var details = el('details'), matched = el('matched'), unzoom = el('unzoom'),
    clear = el('clear');
var frames = Array.prototype.map.call(document.querySelectorAll('g.f'), function (g) {
  var t = g.querySelector('title').textContent.split('\n');
  return { g: g, rect: g.querySelector('rect'), text: g.querySelector('text'),
           name: t[0], info: t[1], x: +g.dataset.x, b: +g.dataset.b, d: +g.dataset.d };
});
var byG = new Map(frames.map(function (f) { return [f.g, f]; }));
var root = frames[0], total = root.b;
var pct = function (b) { return (100 * b / total).toFixed(2) + '%'; };
var frameOf = function (e) { return byG.get(e.target.closest('g.f')); };
// The same fit as report_svg.c's: a label, cut with "..", or nothing.
function fit(name, w) {
  var n = Math.floor((w - 4) / cw);
  if (n < 3) return '';
  return name.length <= n ? name : name.slice(0, n - 2) + '..';
}
function place(f, x, w) {
  f.rect.setAttribute('x', x.toFixed(2));
  f.rect.setAttribute('width', w.toFixed(2));
  f.text.setAttribute('x', (x + 3).toFixed(2));
  f.text.textContent = fit(f.name, w);
  f.g.classList.remove('hide');
}
// z spans the width; its ancestors stay, dimmed, everything else that
// is not inside z is hidden.
function zoom(z) {
  if (!z.b) return;
  var scale = fw / z.b;
  frames.forEach(function (f) {
    var covers = f.x <= z.x && f.x + f.b >= z.x + z.b;
    var inside = f.x >= z.x && f.x + f.b <= z.x + z.b;
    f.g.classList.toggle('parent', f.d < z.d && covers);
    if (f.d < z.d && covers) place(f, pad, fw);
    else if (f.d >= z.d && inside) place(f, pad + (f.x - z.x) * scale, f.b * scale);
    else f.g.classList.add('hide');
  });
  unzoom.classList.toggle('hide', z === root);
}
// Matched bytes count each byte once: a match inside an earlier
// match (its caller or callee) adds nothing.
function search(term) {
  var re;
  try { re = new RegExp(term); } catch (e) { matched.textContent = 'bad regex'; return; }
  var hits = frames.filter(function (f) {
    var m = f !== root && re.test(f.name);
    f.g.classList.toggle('match', m);
    return m;
  });
  hits.sort(function (a, b) { return a.x - b.x || b.b - a.b; });
  var end = 0, sum = 0;
  hits.forEach(function (f) { if (f.x >= end) { sum += f.b; end = f.x + f.b; } });
  matched.textContent = hits.length ? 'Matched: ' + pct(sum) + ' (' + sum + ' bytes)'
                                    : 'No match for ' + term;
  clear.classList.remove('hide');
}
function clearSearch() {
  frames.forEach(function (f) { f.g.classList.remove('match'); });
  matched.textContent = '';
  clear.classList.add('hide');
}
function askSearch() {
  var term = window.prompt('Search frames (regular expression)', '');
  if (term) search(term);
}
svg.addEventListener('mouseover', function (e) {
  var f = frameOf(e);
  if (f) details.textContent = f.name + ': ' + f.info;
});
svg.addEventListener('mouseout', function (e) {
  if (frameOf(e)) details.textContent = ' ';
});
svg.addEventListener('click', function (e) {
  var f = frameOf(e);
  if (f) zoom(f);
});
unzoom.addEventListener('click', function () { zoom(root); });
el('search').addEventListener('click', askSearch);
clear.addEventListener('click', clearSearch);
window.addEventListener('keydown', function (e) {
  if ((e.ctrlKey && e.key === 'f') || e.key === '/') { e.preventDefault(); askSearch(); }
  else if (e.key === 'Escape') { zoom(root); clearSearch(); }
});
})();
