// The status page: reads /api/status?history=1 every 2 s and fills the tables and the SVG
// charts. Every figure is written with textContent, never as HTML: file paths and error texts
// come from outside.
'use strict';
(function () {
  var COLORS = ['#0969da', '#cf222e', '#1a7f37', '#9a6700', '#8250df', '#bf3989', '#1b7c83', '#953800'];
  var token = sessionStorage.getItem('tailship-token') || '';
  var timer;

  function $(id) { return document.getElementById(id); }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function bytes(n) {
    if (n === null || n === undefined) return '-';
    var u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    var i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (i === 0 ? n : n.toFixed(1)) + ' ' + u[i];
  }
  function num(n) { return n === null || n === undefined ? '-' : Number(n).toLocaleString('en-US'); }
  function age(s) {
    if (s === null || s === undefined) return '-';
    if (s < 60) return s + 's';
    if (s < 3600) return Math.floor(s / 60) + 'm' + (s % 60) + 's';
    return Math.floor(s / 3600) + 'h' + Math.floor((s % 3600) / 60) + 'm';
  }

  function row(tbody, cells) {
    var tr = document.createElement('tr');
    cells.forEach(function (c) { tr.appendChild(el('td', c[0], c[1])); });
    tbody.appendChild(tr);
  }

  function render(s) {
    var sum = $('summary');
    sum.textContent = '';
    [['v', s.version], ['up', age(s.uptimeSec)], ['CPU', s.process.cpuPercent + '%'], ['RSS', bytes(s.process.rssBytes)],
      ['reading', s.backpressure.paused ? 'PAUSED by backpressure' : 'on']].forEach(function (p) {
      sum.appendChild(document.createTextNode(p[0] + ' '));
      sum.appendChild(el('b', p[1]));
      sum.appendChild(document.createTextNode('  '));
    });

    var files = $('files').tBodies[0];
    files.textContent = '';
    s.pipelines.forEach(function (p) {
      p.files.forEach(function (f) {
        row(files, [[p.name], [f.path, 'path'], [f.state === 'rotated-unread' ? 'rotated-unread (' + bytes(f.unreadBytes) + ' lost)' : f.state, 'state-' + f.state],
          [bytes(f.lagBytes), 'n'], [f.linesBehindEstimate === null ? '-' : '≈' + num(f.linesBehindEstimate), 'n'], [bytes(f.readBytesPerSec) + '/s', 'n']]);
      });
      if (p.files.length === 0) row(files, [[p.name], ['(no file yet)'], [''], [''], [''], ['']]);
    });

    var outs = $('outputs').tBodies[0];
    outs.textContent = '';
    s.outputs.forEach(function (o) {
      var dl = Object.keys(o.deadLetters).map(function (k) { return k + ' ' + o.deadLetters[k]; }).join(', ') || '0';
      row(outs, [[o.pipeline], [o.output], [num(o.eventsPerSec), 'n'], [num(o.queue.events), 'n'], [bytes(o.queue.bytes), 'n'], [age(o.queue.oldestAgeSec), 'n'],
        [num(o.retries), 'n'], [dl], [o.lastError || '-']]);
    });

    var reasons = $('dead-letters');
    reasons.textContent = '';
    s.deadLetters.latest.forEach(function (d) {
      reasons.appendChild(el('li', d.at + ' ' + d.pipeline + (d.output ? '/' + d.output : '') + ' [' + d.kind + '] ' + d.reason));
    });
    if (s.deadLetters.latest.length === 0) reasons.appendChild(el('li', 'none'));

    if (s.history) {
      chart('lag', s.history.t, s.history.lagBytes, bytes);
      chart('delivered', s.history.t, s.history.deliveredPerSec, num);
      chart('queue', s.history.t, s.history.queueBytes, bytes);
    }
    $('updated').textContent = 'Updated ' + new Date(s.now).toLocaleTimeString();
  }

  var SVG = 'http://www.w3.org/2000/svg';
  function svgEl(tag, attrs) {
    var e = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    return e;
  }

  // One line per series over the 15 minutes; x is time, y from 0 to the largest value.
  function chart(name, t, series, fmt) {
    var svg = $('chart-' + name);
    var legend = $('legend-' + name);
    svg.textContent = '';
    legend.textContent = '';
    var W = 320, H = 120, L = 4, R = 4, T = 12, B = 14;
    var keys = Object.keys(series).slice(0, COLORS.length);
    var max = 0;
    keys.forEach(function (k) { series[k].forEach(function (v) { if (v !== null && v > max) max = v; }); });
    var t0 = t.length ? t[0] : 0, t1 = t.length ? t[t.length - 1] : 1;
    var span = Math.max(1, t1 - t0);
    svg.appendChild(svgEl('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, 'class': 'axis' }));
    var top = svgEl('text', { x: L, y: 9 });
    top.textContent = 'max ' + fmt(max);
    svg.appendChild(top);
    var left = svgEl('text', { x: L, y: H - 3 });
    left.textContent = span < 60000 ? '-' + Math.round(span / 1000) + ' s' : '-' + Math.round(span / 60000) + ' min';
    svg.appendChild(left);
    var right = svgEl('text', { x: W - R, y: H - 3, 'text-anchor': 'end' });
    right.textContent = 'now';
    svg.appendChild(right);
    var plotted = 0;
    keys.forEach(function (k, i) {
      var pts = [];
      series[k].forEach(function (v, j) {
        if (v === null) return;
        var x = L + ((t[j] - t0) / span) * (W - L - R);
        var y = H - B - (max > 0 ? (v / max) * (H - B - T) : 0);
        pts.push(x.toFixed(1) + ',' + y.toFixed(1));
      });
      plotted += pts.length;
      var line = svgEl('polyline', { points: pts.join(' '), fill: 'none', stroke: COLORS[i], 'stroke-width': '1.5', 'data-series': k });
      svg.appendChild(line);
      var li = el('li', k);
      li.style.setProperty('--c', COLORS[i]);
      legend.appendChild(li);
    });
    svg.setAttribute('data-points', String(plotted));
    if (keys.length === 0) legend.appendChild(el('li', 'no data yet'));
  }

  function load() {
    var headers = token ? { Authorization: 'Bearer ' + token } : {};
    fetch('api/status?history=1', { headers: headers, cache: 'no-store' }).then(function (res) {
      if (res.status === 401) {
        $('auth').hidden = false;
        $('error').hidden = true;
        return null;
      }
      if (!res.ok) throw new Error('status ' + res.status);
      return res.json();
    }).then(function (s) {
      if (!s) return;
      $('auth').hidden = true;
      $('error').hidden = true;
      render(s);
      schedule();
    }).catch(function (err) {
      $('error').hidden = false;
      $('error').textContent = 'The daemon does not answer (' + err.message + '); trying again.';
      schedule();
    });
  }
  function schedule() { clearTimeout(timer); timer = setTimeout(load, 2000); }

  $('auth').addEventListener('submit', function (ev) {
    ev.preventDefault();
    token = $('token').value;
    sessionStorage.setItem('tailship-token', token);
    load();
  });
  load();
})();
