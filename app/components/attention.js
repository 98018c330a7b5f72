// nlviz hover component (st.components.v2, plain JS, no build step).
//
// The payload (nlviz.session.hover) carries a block's row factors; as the pointer moves over any frame this code
// computes the exact row of the query cell under it — softmax(s·θ_iᵀφ_j), θ_iᵀφ_j/N, ReLU(a_i + b_j)/N, or BAT's
// T[t,t']·P_t'[i,a]·Q_t'[b,j] — in float64 from the float32 factors, then redraws the per-frame heatmaps and the
// top-k arrows. A click pins the query: its input pixel (t, y, x) goes back to Python as the trigger "pin".
//
// window.__nlvizHover exposes what was computed last (rows per group, the reduced row, the top-k) and the
// pointer-move → redrawn-frame latencies, for the browser tests and the benchmark.

const decoded = new Map(); // payload id → {F: factors, images: {frame: HTMLImageElement}, ready: Promise}
const GAP = 8;
const HEADER = 22;
const SIGNED_KINDS = new Set(["linear_contribution", "jacobian"]);

function b64bytes(s) {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function array(d) {
  const bytes = b64bytes(d.data);
  if (d.dtype === "float32") return new Float32Array(bytes.buffer);
  if (d.dtype === "uint8") return bytes;
  throw new Error(`nlviz hover: unsupported dtype ${d.dtype}`);
}

function decode(data) {
  let entry = decoded.get(data.id);
  if (entry) return entry;
  const F = {};
  for (const [name, d] of Object.entries(data.factors)) F[name] = { a: array(d), shape: d.shape };
  const images = {};
  const loads = Object.entries(data.frames).map(([f, url]) => {
    const img = new Image();
    img.src = url;
    images[f] = img;
    return img.decode().catch(() => undefined);
  });
  entry = { F, images, loaded: false };
  entry.ready = Promise.all(loads).then(() => (entry.loaded = true));
  decoded.set(data.id, entry);
  if (decoded.size > 8) decoded.delete(decoded.keys().next().value);
  return entry;
}

// ---- exact rows --------------------------------------------------------------------------------------------

function keySpan(data, qt) {
  const [, hk, wk] = data.key_grid;
  const nk = data.key_grid[0] * hk * wk;
  if (!data.frame_local) return [0, nk];
  return [qt * hk * wk, (qt + 1) * hk * wk];
}

// Rows of query cell (t, y, x): an array of G Float64Array(N_k), zero outside the keys the query sees.
function computeRows(data, F, cell) {
  const [tq, hq, wq] = data.query_grid;
  const nk = data.key_grid[0] * data.key_grid[1] * data.key_grid[2];
  const G = data.groups;
  const q = (cell[0] * hq + cell[1]) * wq + cell[2];
  const rows = [];
  if (data.kind === "bilinear") {
    const [T, H, W] = data.query_grid;
    const [t, i, j] = cell;
    const P = F.P.a, Q = F.Q.a, Tm = F.T ? F.T.a : null;
    for (let g = 0; g < G; g++) {
      const row = new Float64Array(nk);
      for (let tp = 0; tp < T; tp++) {
        const tw = Tm ? Tm[(g * T + t) * T + tp] : tp === t ? 1 : 0;
        if (tw === 0) continue;
        const pBase = ((g * T + tp) * H + i) * H; // P[g, t', i, :]
        const qBase = (g * T + tp) * W * W; // Q[g, t', :, :]
        for (let a = 0; a < H; a++) {
          const pa = tw * P[pBase + a];
          const off = (tp * H + a) * W;
          for (let b = 0; b < W; b++) row[off + b] = pa * Q[qBase + b * W + j];
        }
      }
      rows.push(row);
    }
    return rows;
  }
  const [k0, k1] = keySpan(data, cell[0]);
  const n = k1 - k0;
  const nq = tq * hq * wq;
  for (let g = 0; g < G; g++) {
    const row = new Float64Array(nk);
    if (data.kind === "concatenation") {
      const ai = F.a.a[g * nq + q];
      const b = F.b.a;
      for (let k = k0; k < k1; k++) row[k] = Math.max(ai + b[g * nk + k], 0) / n;
      rows.push(row);
      continue;
    }
    const C = F.theta.shape[1];
    const th = F.theta.a, ph = F.phi.a;
    for (let c = 0; c < C; c++) {
      const v = th[(g * C + c) * nq + q];
      const base = (g * C + c) * nk;
      for (let k = k0; k < k1; k++) row[k] += v * ph[base + k];
    }
    if (data.kind === "dot_product") {
      for (let k = k0; k < k1; k++) row[k] /= n;
    } else {
      let m = -Infinity;
      for (let k = k0; k < k1; k++) {
        row[k] *= data.scale;
        if (row[k] > m) m = row[k];
      }
      let s = 0;
      for (let k = k0; k < k1; k++) {
        row[k] = Math.exp(row[k] - m);
        s += row[k];
      }
      for (let k = k0; k < k1; k++) row[k] /= s;
    }
    rows.push(row);
  }
  return rows;
}

// The row the views show: shares if asked, then the groups reduced ("mean", "max" or one index).
function reduceRows(rows, view, normalized) {
  let rs = rows;
  if (view.values === "share") {
    rs = rows.map((r) => {
      let s = 0;
      for (let k = 0; k < r.length; k++) s += Math.abs(r[k]);
      const out = new Float64Array(r.length);
      if (s > 0) for (let k = 0; k < r.length; k++) out[k] = (normalized ? r[k] : Math.abs(r[k])) / s;
      return out;
    });
  }
  if (typeof view.groups === "number") return rs[view.groups];
  const out = new Float64Array(rs[0].length);
  if (view.groups === "max") {
    out.set(rs[0]);
    for (const r of rs.slice(1)) for (let k = 0; k < r.length; k++) if (r[k] > out[k]) out[k] = r[k];
  } else {
    for (const r of rs) for (let k = 0; k < r.length; k++) out[k] += r[k];
    for (let k = 0; k < out.length; k++) out[k] /= rs.length;
  }
  return out;
}

// The color scale of a row, as nlviz.render.scale.make_scale builds it.
function colorScale(row, view, kind) {
  let lo, hi, signed;
  if (view.fixed) {
    [lo, hi] = view.fixed;
    signed = lo < 0 && 0 < hi;
  } else {
    let m = 0, neg = false;
    for (let k = 0; k < row.length; k++) {
      const a = Math.abs(row[k]);
      if (a > m) m = a;
      if (row[k] < 0) neg = true;
    }
    signed = neg || SIGNED_KINDS.has(kind);
    if (!(m > 0) || !isFinite(m)) m = 1;
    [lo, hi] = signed ? [-m, m] : [0, m];
  }
  return { lo, hi, signed, top: Math.max(Math.abs(lo), Math.abs(hi)) };
}

function topK(row, k, minFraction, signed) {
  const idx = [];
  const val = (i) => (signed ? Math.abs(row[i]) : row[i]);
  for (let i = 0; i < row.length; i++) {
    const v = val(i);
    if (idx.length === k && v <= val(idx[k - 1])) continue;
    let p = idx.length < k ? idx.length : k - 1;
    if (idx.length < k) idx.push(i);
    while (p > 0 && val(idx[p - 1]) < v) {
      idx[p] = idx[p - 1];
      p--;
    }
    idx[p] = i;
  }
  const best = idx.length ? Math.abs(row[idx[0]]) : 0;
  return idx.filter((i) => Math.abs(row[i]) >= minFraction * best);
}

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// %.3g, as the Python views format numbers
function fmt3(v) {
  if (v === 0 || !isFinite(v)) return String(v);
  const e = Math.floor(Math.log10(Math.abs(v)));
  if (e < -4 || e >= 3) {
    const [m, x] = v.toExponential(2).split("e");
    const mm = m.replace(/\.?0+$/, "");
    const ex = Number(x);
    return `${mm}e${ex < 0 ? "-" : "+"}${String(Math.abs(ex)).padStart(2, "0")}`;
  }
  return String(Number(v.toPrecision(3)));
}

// ---- one mounted component ---------------------------------------------------------------------------------

class Hover {
  constructor(root) {
    this.root = root;
    this.canvas = root.querySelector("canvas.panels");
    this.ctx = this.canvas.getContext("2d");
    this.overlay = document.createElement("canvas");
    this.pointerText = root.querySelector(".pointer .text");
    this.pinnedText = root.querySelector(".pinned .text");
    this.hover = null; // input point under the pointer, or null
    this.pending = null; // a move waiting for the next animation frame: {point, since}
    this.inFrame = false; // a row was drawn since the last animation frame
    this.width = 0;
    this.stats = (window.__nlvizHover = window.__nlvizHover || { latencies: [], draws: 0 });
    this.resize = new ResizeObserver(() => this.relayout());
    this.resize.observe(root);
  }

  update(data, setTrigger) {
    this.setTrigger = setTrigger;
    const fresh = !this.data || this.data.id !== data.id;
    this.data = data;
    this.entry = decode(data);
    this.pin = data.pin.point;
    this.pinCell = data.pin.cell;
    this.luts = { seq: array(data.view.lut.seq), div: array(data.view.lut.div) };
    this.stats.ready = false;
    this.stats.id = data.id;
    this.stats.block = data.block;
    this.stats.panels = data.panels;
    // the viewport point (CSS px) of input pixel (y, x) in panel p, for tests and automation
    this.stats.at = (p, y, x) => {
      const r = this.canvas.getBoundingClientRect();
      const [oy, ox] = this.origin(p);
      return { x: r.left + ox + (x + 0.5) * this.data.zoom, y: r.top + oy + (y + 0.5) * this.data.zoom };
    };
    if (fresh) this.hover = null;
    this.relayout();
    this.entry.ready.then(() => {
      if (this.data === data) {
        this.draw();
        this.stats.ready = true;
      }
    });
    this.legendStatic();
  }

  relayout() {
    if (!this.data) return;
    const d = this.data;
    const [, h, w] = d.input;
    const pw = w * d.zoom, ph = h * d.zoom, n = d.panels.length;
    const avail = Math.max(pw + 2 * GAP, this.root.clientWidth || pw * d.cols);
    const fit = Math.max(1, Math.min(d.cols, Math.floor((avail - GAP) / (pw + GAP))));
    const rows = Math.ceil(n / fit);
    const cols = Math.ceil(n / rows);
    const cssW = GAP + cols * (pw + GAP), cssH = rows * (HEADER + ph + GAP);
    this.layout = { pw, ph, cols, rows };
    const dpr = window.devicePixelRatio || 1;
    this.canvas.style.width = `${cssW}px`;
    this.canvas.style.height = `${cssH}px`;
    if (this.canvas.width !== Math.round(cssW * dpr) || this.canvas.height !== Math.round(cssH * dpr)) {
      this.canvas.width = Math.round(cssW * dpr);
      this.canvas.height = Math.round(cssH * dpr);
    }
    this.dpr = dpr;
    this.font = getComputedStyle(this.root).fontFamily || "sans-serif";
    if (this.entry && this.entry.loaded) this.draw();
  }

  origin(p) {
    const { pw, ph, cols } = this.layout;
    const r = Math.floor(p / cols), c = p % cols;
    return [r * (HEADER + ph + GAP) + HEADER, GAP + c * (pw + GAP)];
  }

  // canvas CSS px → input point (t, y, x), or null outside the frames
  pointAt(cx, cy) {
    const d = this.data;
    const [, h, w] = d.input;
    const { pw, ph } = this.layout;
    for (let p = 0; p < d.panels.length; p++) {
      const [oy, ox] = this.origin(p);
      if (cx >= ox && cx < ox + pw && cy >= oy && cy < oy + ph) {
        const y = Math.min(h - 1, Math.floor((cy - oy) / d.zoom));
        const x = Math.min(w - 1, Math.floor((cx - ox) / d.zoom));
        return [d.panels[p].frame, y, x];
      }
    }
    return null;
  }

  cellOf(point) {
    const m = this.data.maps;
    return [m.query_t[point[0]], m.query_y[point[1]], m.query_x[point[2]]];
  }

  // Draw at once (Chrome already aligns pointermove with frames); a second move within one frame waits for the
  // next animation frame, so at most one row is computed per frame whatever the event rate.
  onMove(ev) {
    this.moveTo(this.pointAt(ev.offsetX, ev.offsetY), ev.timeStamp);
  }

  onLeave() {
    this.moveTo(null, performance.now());
  }

  moveTo(point, since) {
    if (!this.entry || !this.entry.loaded) return;
    if (this.pending) {
      this.pending.point = point;
    } else if (this.inFrame) {
      this.pending = { point, since };
      requestAnimationFrame(() => {
        const p = this.pending;
        this.pending = null;
        this.render(p.point, p.since);
      });
    } else {
      this.render(point, since);
    }
  }

  onClick(ev) {
    const point = this.pointAt(ev.offsetX, ev.offsetY);
    if (!point) return;
    this.pin = point;
    this.pinCell = this.cellOf(point);
    this.draw();
    this.setTrigger("pin", { t: point[0], y: point[1], x: point[2] });
  }

  // Latency of one move: to the end of drawing, and to the task after the next animation frame's rendering (the
  // redrawn frame has been produced).
  render(point, since) {
    this.hover = point;
    this.draw();
    const drawn = performance.now();
    this.inFrame = true;
    requestAnimationFrame(() => {
      this.inFrame = false;
      const ch = new MessageChannel();
      ch.port1.onmessage = () => {
        const lat = this.stats.latencies;
        lat.push({ draw: drawn - since, frame: performance.now() - since });
        if (lat.length > 5000) lat.splice(0, lat.length - 5000);
      };
      ch.port2.postMessage(0);
    });
  }

  draw() {
    const d = this.data, view = d.view, m = d.maps;
    const point = this.hover || this.pin;
    const cell = this.hover ? this.cellOf(this.hover) : this.pinCell;
    const normalized = d.kind === "softmax" || d.kind === "bilinear";
    const rows = computeRows(d, this.entry.F, cell);
    const row = reduceRows(rows, view, normalized);
    const kind = view.values === "share" ? "share" : d.kind;
    const sc = colorScale(row, view, kind);
    const lut = sc.signed ? this.luts.div : this.luts.seq;
    const top = topK(row, Math.min(view.k, row.length), view.min_fraction, sc.signed);
    const [, hk, wk] = d.key_grid;
    const [, h, w] = d.input;
    const ctx = this.ctx;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.imageSmoothingEnabled = false;
    const { pw, ph } = this.layout;
    // frames, each with the row of its key frame overlaid (opacity follows the weight)
    if (this.overlay.width !== w || this.overlay.height !== h) {
      [this.overlay.width, this.overlay.height] = [w, h];
      this.image = null;
    }
    const octx = this.overlay.getContext("2d");
    if (!this.image) this.image = octx.createImageData(w, h);
    const px = new Uint32Array(this.image.data.buffer); // RGBA bytes as one little-endian word per pixel
    const cellColor = new Uint32Array(hk * wk);
    const qPanel = m.query_panel[cell[0]];
    ctx.font = `600 13px ${this.font}`;
    ctx.textBaseline = "alphabetic";
    for (let p = 0; p < d.panels.length; p++) {
      const [oy, ox] = this.origin(p);
      const panel = d.panels[p];
      ctx.drawImage(this.entry.images[String(panel.frame)], ox, oy, pw, ph);
      const base = panel.key_t * hk * wk;
      for (let c = 0; c < hk * wk; c++) {
        const v = row[base + c];
        const v01 = Math.min(1, Math.max(0, (v - sc.lo) / (sc.hi - sc.lo)));
        const li = Math.min(255, Math.max(0, Math.floor(v01 * 255 + 0.5))) * 3;
        const a = Math.round(255 * view.alpha * Math.min(1, Math.abs(v) / sc.top));
        cellColor[c] = ((a << 24) | (lut[li + 2] << 16) | (lut[li + 1] << 8) | lut[li]) >>> 0;
      }
      for (let y = 0; y < h; y++) {
        const cy = m.key_y[y] * wk, o = y * w;
        for (let x = 0; x < w; x++) px[o + x] = cellColor[cy + m.key_x[x]];
      }
      octx.putImageData(this.image, 0, 0);
      ctx.drawImage(this.overlay, ox, oy, pw, ph);
    }
    // arrows to the top-k key cells, weakest first; a key at the query's own position is a ring
    const qc = [m.query_center_y[cell[1]], m.query_center_x[cell[2]]];
    const [qoy, qox] = this.origin(qPanel);
    const start = [qoy + (qc[0] + 0.5) * d.zoom, qox + (qc[1] + 0.5) * d.zoom];
    const baseW = Math.max(1, pw / 96);
    const edges = [m.query_edge_t, m.query_edge_y, m.query_edge_x];
    const topList = [];
    for (let r = top.length - 1; r >= 0; r--) {
      const k = top[r];
      const kt = Math.floor(k / (hk * wk)), ky = Math.floor(k / wk) % hk, kx = k % wk;
      const v = row[k];
      topList.unshift({ cell: [kt, ky, kx], weight: v });
      const s = Math.min(1, Math.abs(v) / sc.top);
      const v01 = Math.min(1, Math.max(0, (v - sc.lo) / (sc.hi - sc.lo)));
      const li = Math.min(255, Math.floor(v01 * 255 + 0.5)) * 3;
      const color = `rgb(${lut[li]},${lut[li + 1]},${lut[li + 2]})`;
      const width = Math.max(1, baseW * (0.5 + 2.5 * s));
      const alpha = 0.35 + 0.65 * s;
      const kc = [m.key_center_t[kt], m.key_center_y[ky], m.key_center_x[kx]];
      const self = [0, 1, 2].every((a) => kc[a] + 0.5 >= edges[a][cell[a]] && kc[a] + 0.5 < edges[a][cell[a] + 1]);
      const [koy, kox] = this.origin(kt);
      const end = [koy + (kc[1] + 0.5) * d.zoom, kox + (kc[2] + 0.5) * d.zoom];
      ctx.globalAlpha = alpha;
      if (self) {
        const rad = Math.max(6, 0.6 * d.zoom * Math.max(edges[1][1] - edges[1][0], edges[2][1] - edges[2][0]));
        ctx.lineWidth = width + 2;
        ctx.strokeStyle = "rgba(255,255,255,0.85)";
        ctx.beginPath();
        ctx.arc(start[1], start[0], rad, 0, 2 * Math.PI);
        ctx.stroke();
        ctx.lineWidth = width;
        ctx.strokeStyle = color;
        ctx.stroke();
      } else {
        arrow(ctx, start, end, width, color);
      }
      ctx.globalAlpha = 1;
    }
    // the query cell (red) and the pinned one (blue, dashed) when the pointer is elsewhere
    const box = (c, stroke, dash) => {
      const [oy, ox] = this.origin(m.query_panel[c[0]]);
      const y0 = oy + m.query_edge_y[c[1]] * d.zoom, y1 = oy + m.query_edge_y[c[1] + 1] * d.zoom;
      const x0 = ox + m.query_edge_x[c[2]] * d.zoom, x1 = ox + m.query_edge_x[c[2] + 1] * d.zoom;
      ctx.setLineDash(dash);
      ctx.lineWidth = 3;
      ctx.strokeStyle = "#ffffff";
      ctx.strokeRect(x0 - 1, y0 - 1, x1 - x0 + 2, y1 - y0 + 2);
      ctx.lineWidth = 2;
      ctx.strokeStyle = stroke;
      ctx.strokeRect(x0 - 1, y0 - 1, x1 - x0 + 2, y1 - y0 + 2);
      ctx.setLineDash([]);
    };
    if (this.hover && this.pinCell.some((v, a) => v !== cell[a])) box(this.pinCell, "#1f4e99", [4, 3]);
    box(cell, this.hover ? "#d62728" : "#1f4e99", []);
    // titles last, outlined in white, so arrows never hide them
    ctx.lineWidth = 4;
    ctx.lineJoin = "round";
    ctx.strokeStyle = "#ffffff";
    for (let p = 0; p < d.panels.length; p++) {
      const [oy, ox] = this.origin(p);
      const title = `frame ${d.panels[p].frame}${p === qPanel ? " (query)" : ""}`;
      ctx.strokeText(title, ox, oy - 6);
      ctx.fillStyle = p === qPanel ? "#d62728" : "#31333f";
      ctx.fillText(title, ox, oy - 6);
    }
    this.readout(point, cell, row, topList);
    this.legend(sc, lut);
    this.stats.draws += 1;
    this.stats.last = { point, cell, rows, row, top: topList, scale: sc, hovering: !!this.hover };
  }

  readout(point, cell, row, top) {
    const best = top.length ? top[0] : null;
    const pt = `input pixel (t, y, x) = <code>(${point.join(", ")})</code> → block cell (t, y, x) = <code>(${cell.join(
      ", ",
    )})</code> of <code>${escapeHtml(this.data.block)}</code>`;
    const extra = best ? ` · strongest key cell <code>(${best.cell.join(", ")})</code>: ${fmt3(best.weight)}` : "";
    if (this.hover) this.pointerText.innerHTML = pt + extra;
    else this.pointerText.textContent = "move over any frame: the heatmaps and arrows follow the pointer";
    const pin = this.pin, pc = this.pinCell;
    this.pinnedText.innerHTML = `input pixel (t, y, x) = <code>(${pin.join(", ")})</code> → block cell (t, y, x) = <code>(${pc.join(
      ", ",
    )})</code> — click a pixel to pin it; the figures and tables below follow the pin`;
  }

  legendStatic() {
    const v = this.data.view;
    this.root.querySelector(".label").textContent = v.label; // it says how groups are reduced
    this.root.querySelector(".note").textContent =
      `rows computed in the browser from the block's recorded factors (${this.data.kind}) · ` +
      `arrows: top-${v.k} keys, those below ${fmt3(v.min_fraction)} of the strongest left out; width and opacity ` +
      "follow the weight; a ring is the query attending to itself";
  }

  legend(sc, lut) {
    const bar = this.root.querySelector("canvas.bar");
    const key = `${sc.signed}|${lut === this.luts.div}|${this.data.view.lut.names}`;
    if (this.barKey !== key) {
      const b = bar.getContext("2d");
      const im = b.createImageData(256, 1);
      for (let i = 0; i < 256; i++) {
        im.data.set([lut[3 * i], lut[3 * i + 1], lut[3 * i + 2], 255], 4 * i);
      }
      b.putImageData(im, 0, 0);
      this.barKey = key;
    }
    const t = this.root.querySelector(".ticks");
    t.querySelector(".lo").textContent = fmt3(sc.lo);
    t.querySelector(".mid").textContent = fmt3((sc.lo + sc.hi) / 2);
    t.querySelector(".hi").textContent = fmt3(sc.hi);
  }
}

function arrow(ctx, start, end, width, color) {
  const [y0, x0] = start, [y1, x1] = end;
  const len = Math.hypot(y1 - y0, x1 - x0);
  if (len < 1) return;
  const ux = (x1 - x0) / len, uy = (y1 - y0) / len;
  const head = Math.min(len * 0.5, 4 + 2.5 * width);
  const bx = x1 - ux * head, by = y1 - uy * head;
  for (const [stroke, extra] of [
    ["rgba(255,255,255,0.8)", 2],
    [color, 0],
  ]) {
    ctx.strokeStyle = stroke;
    ctx.fillStyle = stroke;
    ctx.lineWidth = width + extra;
    ctx.lineCap = "round";
    ctx.beginPath();
    ctx.moveTo(x0, y0);
    ctx.lineTo(bx, by);
    ctx.stroke();
    const hw = head * 0.55 + extra / 2;
    ctx.beginPath();
    ctx.moveTo(x1 + ux * (extra / 2), y1 + uy * (extra / 2));
    ctx.lineTo(bx - uy * hw, by + ux * hw);
    ctx.lineTo(bx + uy * hw, by - ux * hw);
    ctx.closePath();
    ctx.fill();
  }
}

const mounted = new WeakMap(); // parentElement → Hover

export default function (component) {
  const { parentElement, setTriggerValue } = component;
  const data = typeof component.data === "string" ? JSON.parse(component.data) : component.data;
  const root = parentElement.querySelector(".nlviz-hover");
  if (!root || !data) return undefined;
  let hover = mounted.get(parentElement);
  if (!hover || hover.root !== root) {
    hover = new Hover(root);
    mounted.set(parentElement, hover);
  }
  hover.update(data, setTriggerValue);
  const move = (ev) => hover.onMove(ev);
  const leave = () => hover.onLeave();
  const click = (ev) => hover.onClick(ev);
  hover.canvas.addEventListener("pointermove", move);
  hover.canvas.addEventListener("pointerleave", leave);
  hover.canvas.addEventListener("click", click);
  return () => {
    hover.canvas.removeEventListener("pointermove", move);
    hover.canvas.removeEventListener("pointerleave", leave);
    hover.canvas.removeEventListener("click", click);
  };
}
