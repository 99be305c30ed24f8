package analyze

// mapCSS styles the HTML seam map; the colours of the verdicts are those
// of the DOT map (verdictColors).
const mapCSS = `* { box-sizing: border-box; }
html, body { margin: 0; height: 100%; font: 13px/1.35 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #222; }
body { display: flex; flex-direction: column; }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 10px; padding: 8px 12px; border-bottom: 1px solid #ddd; background: #fafafa; }
header h1 { font-size: 15px; margin: 0 12px 0 0; }
#search { width: 260px; padding: 3px 6px; }
.filters label { margin-right: 8px; padding: 1px 6px; border-radius: 4px; }
#summary { color: #666; }
main { flex: 1; display: flex; min-height: 0; }
#map-pane { flex: 1; overflow: auto; background: #fff; }
#side { width: 540px; overflow: auto; border-left: 1px solid #ddd; padding: 8px 10px; }
svg text { font-size: 11px; pointer-events: none; }
.box { fill: #f6f7f9; stroke: #bbb; }
.pkg.folded .box { fill: #eceef2; }
.pkgname { font-weight: 600; fill: #444; pointer-events: all; cursor: pointer; }
.node { cursor: pointer; }
.node rect { stroke: #777; stroke-width: 1; }
.node.impl rect { fill: #eee; stroke: #aaa; }
.node.impl { cursor: default; }
.seam .sub { fill: #444; font-size: 10px; }
.seam .name { font-weight: 600; }
.seam .measured { fill: #1f4e99; font-size: 10px; font-weight: 600; }
.v-ok rect, label.v-ok, tr.v-ok td:nth-child(3) { fill: #b7e1a1; background: #b7e1a1; }
.v-warn rect, label.v-warn, tr.v-warn td:nth-child(3) { fill: #ffe08a; background: #ffe08a; }
.v-no rect, label.v-no, tr.v-no td:nth-child(3) { fill: #f4a6a6; background: #f4a6a6; }
.node.selected rect { stroke: #1f4e99; stroke-width: 3; }
.node.dim { opacity: 0.25; }
.node.hit rect { stroke: #1f4e99; stroke-width: 2; stroke-dasharray: 4 2; }
.edge { fill: none; stroke: #999; stroke-width: 1.1; stroke-opacity: 0.8; }
.edge.implements { stroke-dasharray: 5 3; }
.edge.hl { stroke: #1f4e99; stroke-width: 2.2; }
table { border-collapse: collapse; width: 100%; }
#ranks { font-size: 12px; }
#ranks th, #ranks td { padding: 2px 4px; border-bottom: 1px solid #eee; text-align: left; white-space: nowrap; }
#ranks tbody tr { cursor: pointer; }
#ranks tbody tr:hover { background: #f0f4fb; }
#ranks tr.selected { outline: 2px solid #1f4e99; }

#details { margin-bottom: 12px; }
#details h2 { font-size: 15px; margin: 4px 0; word-break: break-all; }
#details h3 { font-size: 13px; margin: 10px 0 3px; }
#details ul { margin: 0; padding-left: 18px; }
#details li { margin: 2px 0; word-break: break-word; }
#details .pos, #details code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; }
#details .sev-error { color: #b00020; font-weight: 600; }
#details .sev-warning { color: #8a5a00; font-weight: 600; }
#details .sev-note { color: #555; }
.hint { color: #666; }
`

// mapJS runs the HTML seam map: it restacks the package boxes when
// packages are folded or verdicts filtered (the geometry mirrors
// layoutMap's), searches, and shows a clicked seam's details from the
// embedded JSON report.
const mapJS = `(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('data').textContent);
  var seams = data.report.seams;
  var svg = document.getElementById('map');
  var G = {};
  ['margin', 'boxw', 'colgap', 'header', 'pad', 'seamh', 'implh', 'nodegap', 'pkggap', 'loop'].forEach(function (k) { G[k] = +svg.dataset[k]; });
  var pkgs = Array.prototype.slice.call(svg.querySelectorAll('g.pkg'));
  var edges = Array.prototype.slice.call(svg.querySelectorAll('path.edge'));
  var rows = Array.prototype.slice.call(document.querySelectorAll('#ranks tbody tr'));
  var folded = {};
  var shown = {};
  var query = '';
  var selected = -1;
  var showImpls = true;
  var pos = {};

  function filters() {
    document.querySelectorAll('.verdict-filter').forEach(function (c) { shown[c.value] = c.checked; });
    showImpls = document.getElementById('show-impls').checked;
  }

  function edgePath(sx, sy, tx, ty, tright) {
    if (tx > sx) {
      var dx = Math.max(40, Math.floor((tx - sx) / 2));
      return 'M' + sx + ' ' + sy + 'C' + (sx + dx) + ' ' + sy + ' ' + (tx - dx) + ' ' + ty + ' ' + tx + ' ' + ty;
    }
    return 'M' + sx + ' ' + sy + 'C' + (sx + 60) + ' ' + sy + ' ' + (tright + 60) + ' ' + ty + ' ' + tright + ' ' + ty;
  }

  function layout() {
    var cols = {};
    pkgs.forEach(function (p) { var c = +p.dataset.col; (cols[c] = cols[c] || []).push(p); });
    var height = 0, width = 0;
    Object.keys(cols).forEach(function (c) {
      var x = G.margin + c * (G.boxw + G.colgap), y = G.margin;
      width = Math.max(width, x + G.boxw + G.margin + G.loop);
      cols[c].forEach(function (p) {
        var ny = G.header, any = false, isFolded = !!folded[p.id];
        p.querySelectorAll('g.node').forEach(function (n) {
          var seam = n.classList.contains('seam');
          var h = seam ? G.seamh : G.implh;
          var vis = !isFolded && (seam ? shown[n.dataset.verdict] : showImpls);
          n.style.display = vis ? '' : 'none';
          if (vis) {
            n.setAttribute('transform', 'translate(' + G.pad + ' ' + ny + ')');
            pos[n.id] = { x: x, y: y + ny, h: h, vis: true, pkg: p.id };
            ny += h + G.nodegap;
            any = true;
          } else {
            pos[n.id] = { vis: false, filtered: seam && !isFolded, pkg: p.id };
          }
        });
        var h = any ? ny - G.nodegap + G.pad : G.header;
        p.setAttribute('transform', 'translate(' + x + ' ' + y + ')');
        p.querySelector('rect.box').setAttribute('height', h);
        p.classList.toggle('folded', isFolded);
        var mark = p.querySelector('.fold');
        if (mark) { mark.textContent = isFolded ? '\u25b8 ' : '\u25be '; }
        pos[p.id] = { x: x, y: y, h: h, vis: true, pkg: p.id };
        y += h + G.pkggap;
      });
      height = Math.max(height, y - G.pkggap + G.margin);
    });
    svg.setAttribute('width', width);
    svg.setAttribute('height', height);
    svg.setAttribute('viewBox', '0 0 ' + width + ' ' + height);
    edges.forEach(function (e) {
      var f = pos[e.dataset.from], t = pos[e.dataset.to];
      if (!f || !t || t.filtered || f.filtered) { e.style.display = 'none'; return; }
      e.style.display = '';
      var sx, sy, tx, ty, tright;
      if (e.dataset.from.charAt(0) === 'p' || !f.vis) {
        var fp = pos[f.pkg];
        sx = fp.x + G.boxw; sy = fp.y + G.header / 2;
      } else {
        sx = f.x + G.boxw - G.pad; sy = f.y + f.h / 2;
      }
      if (t.vis) {
        tx = t.x + G.pad; ty = t.y + G.seamh / 2; tright = t.x + G.boxw - G.pad;
      } else {
        var tp = pos[t.pkg];
        tx = tp.x; ty = tp.y + G.header / 2; tright = tp.x + G.boxw;
      }
      e.setAttribute('d', edgePath(sx, sy, tx, ty, tright));
    });
    rows.forEach(function (r) {
      r.style.display = shown[r.dataset.verdict] && matches(+r.dataset.seam) ? '' : 'none';
    });
  }

  function matches(i) {
    if (!query) { return true; }
    var s = seams[i];
    var hay = [data.short[i], s.name, s.package];
    s.methods.forEach(function (m) { hay.push(m.name); });
    s.implementations.forEach(function (im) { hay.push(im.type); });
    return hay.join('\n').toLowerCase().indexOf(query) >= 0;
  }

  function search() {
    query = document.getElementById('search').value.trim().toLowerCase();
    svg.querySelectorAll('g.seam').forEach(function (n) {
      var m = matches(+n.dataset.seam);
      n.classList.toggle('dim', !!query && !m);
      n.classList.toggle('hit', !!query && m);
    });
    layout();
  }

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = text; }
    if (cls) { e.className = cls; }
    return e;
  }

  function section(box, title, items, render) {
    box.appendChild(el('h3', title + ' (' + items.length + ')'));
    if (!items.length) { box.appendChild(el('p', 'none', 'hint')); return; }
    var ul = el('ul');
    items.forEach(function (it) { var li = el('li'); render(li, it); ul.appendChild(li); });
    box.appendChild(ul);
  }

  function select(i, scroll) {
    selected = i;
    var s = seams[i];
    svg.querySelectorAll('g.seam').forEach(function (n) { n.classList.toggle('selected', +n.dataset.seam === i); });
    rows.forEach(function (r) { r.classList.toggle('selected', +r.dataset.seam === i); });
    var id = 's' + i;
    edges.forEach(function (e) { e.classList.toggle('hl', e.dataset.to === id); });
    var box = document.getElementById('details');
    box.textContent = '';
    box.dataset.seam = String(i);
    box.appendChild(el('h2', '#' + s.rank + ' ' + data.short[i]));
    var p = el('p');
    p.appendChild(el('span', s.verdict, 'verdict'));
    p.appendChild(document.createTextNode(', score ' + s.score + ', declared at '));
    p.appendChild(el('span', s.pos, 'pos'));
    box.appendChild(p);
    var ms = data.measured[s.name];
    if (ms) {
      box.appendChild(el('h3', 'measured by meshsplit verify'));
      box.appendChild(el('p', ms.calls + ' calls crossed in ' + ms.tests + ' tests, ' + ms.bytes + ' bytes, ' + ms.sites + ' call sites, ' + ms.inLoops + ' calls from inside loops (recorded ' + ms.taken + '); meshsplit impact -iface ' + data.short[i] + ' says what they cost', 'measured'));
    }
    section(box, 'methods', s.methods, function (li, m) {
      li.appendChild(el('code', m.name + m.signature.replace(/^func/, '')));
      li.appendChild(document.createTextNode(': ' + m.verdict + ', ' + m.calls + ' calls (' + m.callsInLoops + ' in loops)' + (m.embedded ? ', from ' + m.embedded : '')));
      if (m.callSites.length) { li.appendChild(el('div', 'called at ' + m.callSites.join(', '), 'pos')); }
    });
    section(box, 'findings', s.findings, function (li, f) {
      li.className = 'finding';
      li.appendChild(el('span', f.pos, 'pos'));
      li.appendChild(document.createTextNode(' [' + f.rule + '] '));
      li.appendChild(el('span', f.severity, 'sev-' + f.severity));
      li.appendChild(document.createTextNode(': ' + (f.method ? f.method + ': ' : '') + f.message));
    });
    section(box, 'implementations', s.implementations, function (li, im) {
      li.appendChild(el('code', (im.pointer ? '*' : '') + im.type));
      li.appendChild(document.createTextNode(' at '));
      li.appendChild(el('span', im.pos, 'pos'));
      if (im.alsoUsedAs.length) { li.appendChild(document.createTextNode(', also used as ' + im.alsoUsedAs.join(', '))); }
    });
    section(box, 'constructors', s.constructors, function (li, c) {
      li.appendChild(el('code', c.func));
      li.appendChild(document.createTextNode(' at '));
      li.appendChild(el('span', c.pos, 'pos'));
      li.appendChild(document.createTextNode(' returns the ' + c.returns + ' ' + c.type));
      if (c.calls.length) { li.appendChild(el('div', 'called at ' + c.calls.join(', '), 'pos')); }
    });
    section(box, 'conversions', s.conversions, function (li, c) {
      li.appendChild(el('span', c.pos, 'pos'));
      li.appendChild(document.createTextNode(': ' + c.kind + ', ' + c.type));
    });
    section(box, 'importers', s.importers, function (li, im) {
      li.appendChild(el('code', im.package));
      li.appendChild(document.createTextNode(': ' + im.refs + ' references, ' + im.calls + ' method calls'));
    });
    var node = document.getElementById(id);
    if (scroll && node && node.style.display !== 'none' && node.scrollIntoView) {
      node.scrollIntoView({ block: 'center', inline: 'center' });
    }
  }

  svg.addEventListener('click', function (ev) {
    var t = ev.target;
    var seam = t.closest ? t.closest('g.seam') : null;
    if (seam) { select(+seam.dataset.seam, false); return; }
    var title = t.closest ? t.closest('.pkgname') : null;
    if (title) {
      var p = title.closest('g.pkg');
      folded[p.id] = !folded[p.id];
      layout();
    }
  });
  svg.addEventListener('keydown', function (ev) {
    var seam = ev.target.closest ? ev.target.closest('g.seam') : null;
    if (seam && (ev.key === 'Enter' || ev.key === ' ')) { select(+seam.dataset.seam, false); ev.preventDefault(); }
  });
  rows.forEach(function (r) { r.addEventListener('click', function () { select(+r.dataset.seam, true); }); });
  document.querySelectorAll('.verdict-filter').forEach(function (c) { c.addEventListener('change', function () { filters(); layout(); }); });
  document.getElementById('show-impls').addEventListener('change', function () { filters(); layout(); });
  document.getElementById('search').addEventListener('input', search);
  document.getElementById('search').addEventListener('keydown', function (ev) {
    if (ev.key !== 'Enter') { return; }
    for (var i = 0; i < seams.length; i++) {
      if (shown[seams[i].verdict] && matches(i)) { select(i, true); return; }
    }
  });
  document.getElementById('fold-all').addEventListener('click', function () {
    pkgs.forEach(function (p) { if (p.querySelector('g.node')) { folded[p.id] = true; } });
    layout();
  });
  document.getElementById('unfold-all').addEventListener('click', function () { folded = {}; layout(); });

  // Large modules open without the implementations (their arrows start
  // at their package's title) and, when still large, folded.
  var count = svg.querySelectorAll('g.node').length;
  if (count > 150) { document.getElementById('show-impls').checked = false; }
  filters();
  if (svg.querySelectorAll('g.seam').length > 300) {
    pkgs.forEach(function (p) { if (p.querySelector('g.node')) { folded[p.id] = true; } });
  }
  layout();
  document.body.dataset.ready = 'true';
})();
`
