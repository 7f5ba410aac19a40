// The live classroom page of citysim (served by `citysim serve`; the API is described in cli/serve.cpp).
// The model runs in the server; this page asks it for steps, draws the map and the charts from the values
// it returns (the same numbers `citysim run` writes), and sends the controls' moves, which the server turns
// into the scenario's `schedule`. Plain JavaScript and Chart.js (Debian's libjs-chart.js), nothing else.
"use strict";

const CITY_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                      "#bcbd22", "#17becf"];
// Rent colours: light yellow (cheap) to dark red (dear), ColorBrewer YlOrRd.
const RENT_RAMP = ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026"];
const VARIABLES = ["talent", "rent", "home_price", "startups", "births", "migration"];
const CHARTS = [
  {id: "talent", title: "Talent living in each city", unit: "persons", per: (v, p) => sumFields(v, p)},
  {id: "rent", title: "Rent", unit: "CNY per m² per month", per: (v) => v},
  {id: "home_price", title: "Home price", unit: "CNY per m²", per: (v) => v},
  {id: "startups", title: "Start-ups alive", unit: "firms", per: (v, p) => sumFields(v, p)},
];
const HEARTBEAT_MS = 20000;
const LABEL_COLUMN = true;  // on a map, labels in a column beside the cities, with leader lines
const SVG = "http://www.w3.org/2000/svg";

const state = {
  scenarios: [], meta: null, runId: null, series: null, playing: false, busy: false, netScale: 1,
  moves: [], outline: null, layout: null, charts: {}, lastRecord: null, error: null,
};

// ---------------------------------------------------------------- server
async function api(method, path, params) {
  const query = params ? "?" + new URLSearchParams(params).toString() : "";
  const response = await fetch(path + query, {method, cache: "no-store"});
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (e) { body = {error: text}; }
  if (!response.ok) {
    const error = new Error((body && body.error) || `HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return body;
}

function runPath(action) { return `/api/runs/${state.runId}/${action}`; }

// ---------------------------------------------------------------- values
// What one unit of a variable's values stands for: persons per agent for counts of agents (talent,
// migration), 1 for everything else (start-ups are counted in firms); the server says which.
function scaleOf(name) { return state.meta.variables[name].per_value; }

// A per-city value from a variable's flat values: counts summed over the field axis (and any other axis
// after the city), times what one value stands for; per-city variables as they are.
function sumFields(values, scale) {
  const cities = state.meta.cities.length;
  const per = values.length / cities;
  const out = [];
  for (let c = 0; c < cities; ++c) {
    let total = 0;
    for (let k = 0; k < per; ++k) total += values[c * per + k];
    out.push(total * scale);
  }
  return out;
}

function cityValues(record, name) {
  const chart = CHARTS.find((c) => c.id === name);
  return chart.per(record.values[name], scaleOf(name));
}

// Persons who moved from each origin to each destination during the step.
function flows(record) {
  const n = state.meta.cities.length;
  const m = record.values.migration;
  const p = scaleOf("migration");
  return (i, j) => m[i * n + j] * p;
}

function format(x, digits = 0) {
  if (x === null || x === undefined || Number.isNaN(x)) return "–";
  return x.toLocaleString("en-US", {minimumFractionDigits: digits, maximumFractionDigits: digits});
}

function formatControl(value, control) {
  const step = control.step;
  const decimals = step >= 1 ? 0 : Math.min(6, Math.max(0, Math.ceil(-Math.log10(step) - 1e-9)));
  return format(value, decimals);
}

function periodText(step) {
  const unit = state.meta.step_unit;
  const total = state.meta.steps;
  const name = unit.charAt(0).toUpperCase() + unit.slice(1);
  let calendar = "";
  if (unit === "month" && step > 0) calendar = `year ${Math.floor((step - 1) / 12) + 1}, month ${((step - 1) % 12) + 1}`;
  else if (unit === "quarter" && step > 0) calendar = `year ${Math.floor((step - 1) / 4) + 1}, quarter ${((step - 1) % 4) + 1}`;
  else if (step === 0) calendar = "the start";
  return [`${name} ${step} of ${total}`, calendar];
}

// ---------------------------------------------------------------- notices
function notice(text, kind) {
  const box = document.getElementById("notice");
  box.textContent = text || "";
  box.hidden = !text;
  box.className = kind || "";
}

function failed(error) {
  state.error = error.message;
  pause();
  if (error.status === 410) {
    notice(`${error.message}. Press Reset to start a new run.`, "error");
    state.runId = null;
  } else {
    notice(`The server answered: ${error.message}`, "error");
  }
}

// ---------------------------------------------------------------- map
function el(name, attributes, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes || {})) node.setAttribute(key, value);
  if (parent) parent.appendChild(node);
  return node;
}

function rentColour(rent) {
  const [low, high] = state.rentDomain;
  const t = Math.min(1, Math.max(0, (rent - low) / (high - low)));
  const x = t * (RENT_RAMP.length - 1);
  const i = Math.min(RENT_RAMP.length - 2, Math.floor(x));
  const mix = (a, b, f) => Math.round(a + (b - a) * f);
  const hex = (s) => [1, 3, 5].map((k) => parseInt(s.slice(k, k + 2), 16));
  const [a, b] = [hex(RENT_RAMP[i]), hex(RENT_RAMP[i + 1])];
  return `rgb(${mix(a[0], b[0], x - i)},${mix(a[1], b[1], x - i)},${mix(a[2], b[2], x - i)})`;
}

// Positions in the 800 x 680 view: the cities' coordinates (an equirectangular projection centred on
// them, with the outline of China behind), or a schematic ring when the scenario gives no locations.
function computeLayout() {
  const W = 800, H = 680, cities = state.meta.cities;
  const layout = {W, H, points: [], project: null};
  if (state.meta.layout === "map") {
    const lats = cities.map((c) => c.latitude), lons = cities.map((c) => c.longitude);
    const midLat = (Math.min(...lats) + Math.max(...lats)) / 2;
    const kx = Math.cos(midLat * Math.PI / 180);
    let x0 = Math.min(...lons) * kx, x1 = Math.max(...lons) * kx, y0 = Math.min(...lats), y1 = Math.max(...lats);
    const margin = Math.max(1.8, 0.14 * Math.max(x1 - x0, y1 - y0));
    x0 -= margin; x1 += margin; y0 -= margin; y1 += margin;
    // The cities fill the left of the view at one scale; their labels stand in a column on the right.
    const region = LABEL_COLUMN ? 0.5 * W : W;
    const scale = Math.min(region / (x1 - x0), H / (y1 - y0));
    const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
    layout.project = (lon, lat) => [region / 2 + (lon * kx - cx) * scale, H / 2 - (lat - cy) * scale];
    layout.column = LABEL_COLUMN;
    layout.points = cities.map((c) => layout.project(c.longitude, c.latitude));
  } else {
    const n = cities.length;
    if (n === 1) layout.points = [[W / 2, H / 2]];
    else if (n === 2) layout.points = [[W * 0.27, H * 0.52], [W * 0.73, H * 0.52]];
    else layout.points = cities.map((_, i) => {
      const angle = Math.PI - 2 * Math.PI * i / n;
      return [W / 2 + 0.33 * W * Math.cos(angle), H / 2 - 0.34 * H * Math.sin(angle)];
    });
  }
  // The largest circle: room for it between the nearest two cities.
  let nearest = Infinity;
  for (let i = 0; i < layout.points.length; ++i)
    for (let j = i + 1; j < layout.points.length; ++j)
      nearest = Math.min(nearest, Math.hypot(layout.points[i][0] - layout.points[j][0], layout.points[i][1] - layout.points[j][1]));
  // On a map, neighbours may overlap a little rather than shrink to dots.
  layout.maxRadius = state.meta.layout === "map" ? Math.max(26, Math.min(42, 0.6 * nearest))
                                                 : Math.max(16, Math.min(100, 0.36 * nearest));
  return layout;
}

// Name, talent, rent and start-ups on their own lines; with many cities, rent and start-ups share one.
function compactLabels() { return state.meta.cities.length > 3; }
function labelLines() { return state.meta.founding && !compactLabels() ? 4 : 3; }
function cityTitle(name) { return name.charAt(0).toUpperCase() + name.slice(1); }

// Labels beside their city (sizes measured), on the side where they overlap the fewest circles, other
// labels and obstacles (the clock, the note), inside the view.
function placeLabels(layout, sizes, obstacles) {
  const R = layout.maxRadius;
  const boxes = [...obstacles];
  const candidates = [[1, 0], [-1, 0], [0, -1], [0, 1], [1, -1], [-1, -1], [1, 1], [-1, 1]];
  const overlap = (a, b) => Math.max(0, Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0)) *
                            Math.max(0, Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0));
  return layout.points.map(([x, y], index) => {
    const {width, height} = sizes[index];
    let best = null;
    candidates.forEach(([dx, dy], rank) => {
      const gap = R + 8;
      const bx = dx > 0 ? x + gap * (dy ? 0.75 : 1) : dx < 0 ? x - gap * (dy ? 0.75 : 1) - width : x - width / 2;
      const by = dy > 0 ? y + gap * (dx ? 0.75 : 1) : dy < 0 ? y - gap * (dx ? 0.75 : 1) - height : y - height / 2;
      const box = {x0: bx, y0: by, x1: bx + width, y1: by + height, anchor: dx > 0 ? "start" : dx < 0 ? "end" : "middle",
                   tx: dx > 0 ? bx : dx < 0 ? bx + width : x};
      let cost = rank;  // prefer the right, then the left, above, below
      for (const other of boxes) cost += overlap(box, other);
      layout.points.forEach(([px, py], k) => {
        if (k !== index) cost += overlap(box, {x0: px - R, y0: py - R, x1: px + R, y1: py + R});
      });
      const outside = Math.max(0, 4 - box.x0) + Math.max(0, box.x1 - layout.W + 4) +
                      Math.max(0, 4 - box.y0) + Math.max(0, box.y1 - layout.H + 4);
      cost += outside * height * 4;
      if (!best || cost < best.cost) best = {...box, cost};
    });
    boxes.push(best);
    return best;
  });
}

// Labels in a column right of the cities, in the order of the cities from north to south, each as near its
// city's height as the others allow; a leader line joins each to its city.
function placeLabelsInColumn(layout, sizes) {
  const R = layout.maxRadius, gap = 8;
  const x = Math.max(...layout.points.map((p) => p[0])) + R + 34;
  const order = layout.points.map((p, i) => i).sort((a, b) => layout.points[a][1] - layout.points[b][1]);
  const tops = [];
  let bottom = -Infinity;
  for (const i of order) {
    const top = Math.max(layout.points[i][1] - sizes[i].height / 2, bottom + gap);
    tops[i] = top;
    bottom = top + sizes[i].height;
  }
  const overflow = bottom - (layout.H - 34);
  if (overflow > 0) for (const i of order) tops[i] = Math.max(gap, tops[i] - overflow);
  return layout.points.map((p, i) => ({x0: x, y0: tops[i], x1: x + sizes[i].width, y1: tops[i] + sizes[i].height,
                                       anchor: "start", tx: x, leader: true}));
}

function drawMapBase() {
  const svg = document.getElementById("map");
  svg.replaceChildren();
  const layout = state.layout;
  el("rect", {x: 0, y: 0, width: layout.W, height: layout.H, fill: state.meta.layout === "map" ? "#dcebf7" : "#f4f6f8"}, svg);
  if (state.meta.layout === "map" && state.outline) {
    let d = "";
    for (const feature of state.outline.features)
      for (const polygon of feature.geometry.coordinates)
        for (const ring of polygon) {
          d += ring.map(([lon, lat], k) => {
            const [x, y] = layout.project(lon, lat);
            return `${k ? "L" : "M"}${x.toFixed(1)},${y.toFixed(1)}`;
          }).join("") + "Z";
        }
    el("path", {d, fill: "#fbf8f0", stroke: "#9d9383", "stroke-width": 1.2}, svg);
  }
  const note = el("text", {x: layout.W - 10, y: layout.H - 12, "text-anchor": "end", class: "map-note halo"}, svg);
  note.textContent = state.meta.layout === "map" ? "Cities at their coordinates; outline of China: DCW-GMT (LGPL)"
                                                 : "Schematic layout: the scenario gives no coordinates";
  state.leaderLayer = el("g", {}, svg);
  state.flowLayer = el("g", {}, svg);
  state.cityLayer = el("g", {}, svg);
  state.labelLayer = el("g", {}, svg);
  state.cityShapes = state.meta.cities.map((city, i) => {
    const [x, y] = layout.points[i];
    const circle = el("circle", {cx: x, cy: y, r: 10, stroke: CITY_COLOURS[i % CITY_COLOURS.length], "stroke-width": 5,
                                 "fill-opacity": 0.9}, state.cityLayer);
    el("circle", {cx: x, cy: y, r: 3, fill: "#1b1f24"}, state.cityLayer);
    const text = el("text", {x: 0, y: 0, class: "halo"}, state.labelLayer);
    const lines = [];
    for (let k = 0; k < labelLines(); ++k)
      lines.push(el("tspan", {x: 0, dy: k === 0 ? 0 : 26, class: k === 0 ? "city-name" : "city-line"}, text));
    lines[0].textContent = cityTitle(city.name);
    lines[0].setAttribute("fill", CITY_COLOURS[i % CITY_COLOURS.length]);
    return {circle, text, lines};
  });
  // Measure the labels with the starting values (and room for numbers to grow), then place them.
  writeLabels(state.meta.record);
  const sizes = state.cityShapes.map((shape) => {
    const box = shape.text.getBBox();
    return {width: box.width * 1.12 + 6, height: box.height + 4};
  });
  const noteBox = note.getBBox();
  const obstacles = [{x0: noteBox.x - 4, y0: noteBox.y - 4, x1: noteBox.x + noteBox.width + 4, y1: layout.H}];
  layout.labels = layout.column ? placeLabelsInColumn(layout, sizes) : placeLabels(layout, sizes, obstacles);
  state.cityShapes.forEach((shape, i) => {
    const box = layout.labels[i];
    if (box.leader) {
      const [cx, cy] = layout.points[i];
      el("polyline", {points: `${cx},${cy} ${box.x0 - 20},${box.y0 + 18} ${box.x0 - 4},${box.y0 + 18}`, fill: "none",
                      stroke: CITY_COLOURS[i % CITY_COLOURS.length], "stroke-width": 2, "stroke-opacity": 0.8},
         state.leaderLayer);
    }
    shape.text.setAttribute("text-anchor", box.anchor);
    shape.text.setAttribute("x", box.tx);
    shape.text.setAttribute("y", box.y0 + 27);
    for (const line of shape.lines) line.setAttribute("x", box.tx);
  });
  drawKey();
}

function drawKey() {
  const key = document.getElementById("map-key");
  key.replaceChildren();
  const [low, high] = state.rentDomain;
  const ramp = document.createElement("span");
  const gradient = RENT_RAMP.map((c, i) => `${c} ${(100 * i / (RENT_RAMP.length - 1)).toFixed(0)}%`).join(",");
  ramp.innerHTML = `Circle colour = rent: ${format(low)} <span style="display:inline-block;width:120px;height:14px;` +
    `vertical-align:middle;border:1px solid #999;background:linear-gradient(90deg,${gradient})"></span> ` +
    `${format(high)} CNY per m² per month`;
  key.appendChild(ramp);
  const size = document.createElement("span");
  size.textContent = "Circle area = talent living there (persons)";
  key.appendChild(size);
  const arrows = document.createElement("span");
  arrows.textContent = "Arrow = net moves this " + state.meta.step_unit + " (width = persons)";
  key.appendChild(arrows);
  if (state.meta.founding && !compactLabels()) {
    const births = document.createElement("span");
    births.textContent = `(+N) = start-ups founded this ${state.meta.step_unit}`;
    key.appendChild(births);
  }
}

function writeLabels(record) {
  const talent = cityValues(record, "talent");
  const rent = record.values.rent;
  const startups = state.meta.founding ? cityValues(record, "startups") : null;
  const births = state.meta.founding ? sumFields(record.values.births, scaleOf("births")) : null;
  state.meta.cities.forEach((city, i) => {
    const shape = state.cityShapes[i];
    shape.lines[1].textContent = `${format(talent[i])} talent`;
    if (compactLabels()) {
      shape.lines[2].textContent = `rent ${format(rent[i], 1)}` + (startups ? ` · ${format(startups[i])} start-ups` : "");
    } else {
      shape.lines[2].textContent = `rent ${format(rent[i], 1)} CNY/m²`;
      if (startups) shape.lines[3].textContent = `${format(startups[i])} start-ups (+${format(births[i])})`;
    }
  });
}

function drawMap(record) {
  const layout = state.layout;
  const talent = cityValues(record, "talent");
  const rent = record.values.rent;
  const radii = talent.map((t) => layout.maxRadius * Math.min(1.25, Math.sqrt(t / state.talentScale)));
  state.meta.cities.forEach((city, i) => {
    state.cityShapes[i].circle.setAttribute("r", radii[i].toFixed(2));
    state.cityShapes[i].circle.setAttribute("fill", rentColour(rent[i]));
  });
  writeLabels(record);
  // Net flows: one arrow per pair, from the city that loses people to the one that gains them, as wide as
  // the net number (the largest net flow of the run so far sets the scale).
  state.flowLayer.replaceChildren();
  if (record.time === 0) return;
  const flow = flows(record);
  const n = state.meta.cities.length;
  const nets = [];
  for (let i = 0; i < n; ++i)
    for (let j = i + 1; j < n; ++j) {
      const net = flow(i, j) - flow(j, i);
      if (net !== 0) nets.push(net > 0 ? {from: i, to: j, persons: net} : {from: j, to: i, persons: -net});
    }
  for (const f of nets) state.netScale = Math.max(state.netScale, f.persons);
  // With many cities only the largest net flows are drawn (those of at least a tenth of the largest this
  // step, six at most), and the three largest are labelled.
  nets.sort((a, b) => b.persons - a.persons);
  const shown = nets.filter((f, k) => k < 6 && f.persons >= 0.1 * nets[0].persons);
  const labelled = shown.slice(0, 3);
  for (const f of shown) {
    const [x0, y0] = layout.points[f.from], [x1, y1] = layout.points[f.to];
    const length = Math.hypot(x1 - x0, y1 - y0);
    if (length < 1) continue;
    const ux = (x1 - x0) / length, uy = (y1 - y0) / length;
    const width = 2 + 16 * f.persons / state.netScale;
    const head = Math.max(14, 2.2 * width);
    const start = radii[f.from] + 4, end = length - radii[f.to] - 4;
    if (end - start < head + 4) continue;
    const sx = x0 + ux * start, sy = y0 + uy * start, ex = x0 + ux * end, ey = y0 + uy * end;
    const bx = ex - ux * head, by = ey - uy * head, px = -uy, py = ux;
    const g = el("g", {class: "flow", "data-from": state.meta.cities[f.from].name, "data-to": state.meta.cities[f.to].name,
                       "data-persons": f.persons}, state.flowLayer);
    el("line", {x1: sx, y1: sy, x2: bx, y2: by, stroke: "#4a3b1a", "stroke-opacity": 0.72, "stroke-width": width}, g);
    el("polygon", {points: `${ex},${ey} ${bx + px * head * 0.55},${by + py * head * 0.55} ${bx - px * head * 0.55},${by - py * head * 0.55}`,
                   fill: "#4a3b1a", "fill-opacity": 0.72}, g);
    if (labelled.includes(f)) {
      // Beside the middle of the line between the two cities, on whichever side is free of city labels.
      const label = el("text", {"text-anchor": "middle", class: "flow-label halo"}, g);
      label.textContent = `${format(f.persons)} / ${state.meta.step_unit}`;
      const place = (side) => {
        const mx = (x0 + x1) / 2 + side * px * (width / 2 + 24), my = (y0 + y1) / 2 + side * py * (width / 2 + 24);
        label.setAttribute("x", mx);
        label.setAttribute("y", my + 7);
        const b = label.getBBox();
        return layout.labels.some((l) => Math.min(l.x1, b.x + b.width) > Math.max(l.x0, b.x) &&
                                         Math.min(l.y1, b.y + b.height) > Math.max(l.y0, b.y));
      };
      if (place(1) && place(-1)) label.remove();
    }
  }
}

// ---------------------------------------------------------------- charts
// Months are shown as years on the time axis.
function axisTicks() {
  const unit = state.meta.step_unit, per = unit === "month" ? 12 : unit === "quarter" ? 4 : 1;
  const years = state.meta.steps / per;
  const every = years <= 12 ? 1 : years <= 30 ? 5 : 10;
  return {stepSize: per * every, callback: (v) => format(v / per)};
}
function axisTitle() { return "years since the start"; }
function makeCharts() {
  for (const chart of Object.values(state.charts)) chart.destroy();
  state.charts = {};
  const legend = document.getElementById("legend");
  legend.replaceChildren(...state.meta.cities.map((city, i) => {
    const entry = document.createElement("span");
    entry.style.setProperty("--colour", CITY_COLOURS[i % CITY_COLOURS.length]);
    entry.textContent = cityTitle(city.name);
    return entry;
  }));
  Chart.defaults.font.size = 14;
  Chart.defaults.font.family = "'DejaVu Sans', 'Liberation Sans', Arial, sans-serif";
  Chart.defaults.color = "#1b1f24";
  const unit = state.meta.step_unit;
  for (const spec of CHARTS) {
    const canvas = document.getElementById(`chart-${spec.id}`);
    const holder = canvas.parentElement;
    holder.querySelectorAll(".empty").forEach((node) => node.remove());
    const empty = spec.id === "startups" && !state.meta.founding;
    if (empty) {
      const message = document.createElement("div");
      message.className = "empty";
      message.textContent = "No start-ups: founding is switched off in this scenario.";
      holder.appendChild(message);
    }
    state.charts[spec.id] = new Chart(canvas, {
      type: "line",
      data: {datasets: state.meta.cities.map((city, i) => ({
        label: city.name, data: [], borderColor: CITY_COLOURS[i % CITY_COLOURS.length],
        backgroundColor: CITY_COLOURS[i % CITY_COLOURS.length], borderWidth: 2.5, pointRadius: 0, tension: 0,
        hidden: empty,
      }))},
      options: {
        animation: false, responsive: true, maintainAspectRatio: false, parsing: false, normalized: true,
        interaction: {mode: "nearest", intersect: false},
        plugins: {
          title: {display: true, text: `${spec.title} (${spec.unit})`, font: {size: 16, weight: "bold"}},
          legend: {display: false},
          tooltip: {callbacks: {label: (item) => `${item.dataset.label}: ${format(item.parsed.y, spec.id === "rent" ? 1 : 0)} ${spec.unit}`}},
        },
        scales: {
          x: {type: "linear", min: 0, max: state.meta.steps, ticks: {maxRotation: 0, ...axisTicks()},
              title: {display: true, text: axisTitle()}},
          y: {display: !empty},
        },
      },
    });
  }
}

function chartRecord(record) {
  for (const spec of CHARTS) {
    const values = cityValues(record, spec.id);
    state.charts[spec.id].data.datasets.forEach((dataset, i) => dataset.data.push({x: record.time, y: values[i]}));
  }
}

function refreshCharts() {
  for (const chart of Object.values(state.charts)) chart.update("none");
}

// ---------------------------------------------------------------- controls
function drawControls() {
  const box = document.getElementById("controls");
  box.replaceChildren();
  state.controlInputs = {};
  if (!state.meta.controls.length) {
    const none = document.createElement("div");
    none.className = "none";
    none.textContent = "This scenario has no controls (a `controls:` section gives it sliders).";
    box.appendChild(none);
  }
  for (const control of state.meta.controls) {
    const label = document.createElement("label");
    label.className = "label";
    label.textContent = control.label;
    label.title = `${control.key}: ${control.description}`;
    const id = "control-" + control.key.replace(/[^a-z0-9]+/gi, "-");
    label.htmlFor = id;
    const input = document.createElement("input");
    input.id = id;
    input.dataset.key = control.key;
    const value = document.createElement("span");
    value.className = "value";
    const show = (v) => {
      value.innerHTML = "";
      value.append(control.kind === "switch" ? (v === control.max ? "on" : "off") + ` (${formatControl(v, control)})`
                                             : formatControl(v, control));
      if (control.unit && control.unit !== "1") {
        const unit = document.createElement("span");
        unit.className = "unit";
        unit.textContent = control.unit;
        value.appendChild(unit);
      }
    };
    if (control.kind === "switch") {
      input.type = "checkbox";
      input.checked = control.value === control.max;
      input.addEventListener("change", () => {
        const v = input.checked ? control.max : control.min;
        show(v);
        sendControl(control, v);
      });
    } else {
      input.type = "range";
      input.min = control.min;
      input.max = control.max;
      input.step = control.step;
      input.value = control.value;
      input.addEventListener("input", () => show(Number(input.value)));
      input.addEventListener("change", () => sendControl(control, Number(input.value)));
    }
    show(control.value);
    state.controlInputs[control.key] = {input, show, control};
    box.append(label, input, value);
  }
  drawMoves();
}

function drawMoves() {
  const list = document.getElementById("moves");
  list.replaceChildren();
  for (const move of state.moves) {
    const item = document.createElement("li");
    item.textContent = `from ${state.meta.step_unit} ${move.from}: ${move.label} = ${move.text}`;
    list.appendChild(item);
  }
}

async function sendControl(control, value) {
  if (!state.runId) return;
  try {
    const answer = await queue(() => api("POST", runPath("control"), {key: control.key, value: String(value)}));
    state.lastControls = answer.controls;
    const text = control.kind === "switch" ? (value === control.max ? "on" : "off") : formatControl(value, control);
    state.moves = state.moves.filter((m) => !(m.key === control.key && m.from === answer.from_step));
    state.moves.push({key: control.key, label: control.label, from: answer.from_step, text});
    drawMoves();
    notice("");
  } catch (error) {
    failed(error);
    // Show the value in force again.
    const entry = state.controlInputs[control.key];
    if (entry && state.lastControls) {
      const v = state.lastControls[control.key];
      if (control.kind === "switch") entry.input.checked = v === control.max; else entry.input.value = v;
      entry.show(v);
    }
  }
}

// ---------------------------------------------------------------- the run
// Requests to the run go one at a time, in order.
let chain = Promise.resolve();
function queue(task) {
  const next = chain.then(task, task);
  chain = next.catch(() => {});
  return next;
}

function ingest(records) {
  for (const record of records) {
    chartRecord(record);
    state.lastRecord = record;
  }
  if (records.length) {
    drawMap(state.lastRecord);
    refreshCharts();
    const [period, calendar] = periodText(state.lastRecord.time);
    document.getElementById("period").textContent = period;
    document.getElementById("calendar").textContent = calendar;
  }
  updateButtons();
}

function start(meta) {
  state.meta = meta;
  state.runId = meta.run;
  state.moves = [];
  state.netScale = 1;
  state.error = null;
  state.lastControls = Object.fromEntries(meta.controls.map((c) => [c.key, c.value]));
  const first = meta.record;
  const rents = first.values.rent;
  state.rentDomain = [Math.floor(Math.min(...rents) * 0.6), Math.ceil(Math.max(...rents) * 1.5)];
  state.talentScale = Math.max(...cityValues(first, "talent")) * 1.15;
  document.getElementById("seed").value = meta.seed;
  document.getElementById("description").textContent = meta.description;
  document.title = `citysim live: ${meta.name}`;
  state.layout = computeLayout();
  drawMapBase();
  makeCharts();
  drawControls();
  ingest([first]);
  notice(meta.notes.length ? meta.notes.join("\n") : "");
}

async function openRun(index, seed) {
  pause();
  const old = state.runId;
  state.runId = null;
  if (old) navigator.sendBeacon(`/api/runs/${old}/close`);
  const params = {scenario: index, variables: VARIABLES.join(",")};
  if (seed !== undefined && seed !== "") params.seed = seed;
  try {
    start(await queue(() => api("POST", "/api/runs", params)));
  } catch (error) {
    failed(error);
  }
}

async function resetRun() {
  const seed = document.getElementById("seed").value;
  if (!state.runId) return openRun(Number(document.getElementById("scenario").value), seed);
  pause();
  try {
    const params = seed === "" ? {} : {seed};
    start(await queue(() => api("POST", runPath("reset"), params)));
  } catch (error) {
    if (error.status === 410) return openRun(Number(document.getElementById("scenario").value), seed);
    failed(error);
  }
}

async function stepRun(count) {
  if (!state.runId) return false;
  const answer = await queue(() => api("POST", runPath("step"), {count}));
  ingest(answer.records);
  if (answer.done) pause();
  return !answer.done;
}

function done() { return state.lastRecord && state.lastRecord.time >= state.meta.steps; }

function updateButtons() {
  const play = document.getElementById("play");
  play.classList.toggle("playing", state.playing);
  play.innerHTML = state.playing ? "&#10073;&#10073; Pause" : "&#9654; Play";
  const over = !state.runId || done();
  play.disabled = over && !state.playing;
  document.getElementById("step").disabled = over || state.playing;
  document.getElementById("save").disabled = !state.runId;
}

function pause() {
  state.playing = false;
  updateButtons();
}

async function play() {
  if (state.playing || !state.runId || done()) return;
  state.playing = true;
  updateButtons();
  while (state.playing) {
    const speed = Number(document.getElementById("speed").value);
    const began = performance.now();
    try {
      if (!(await stepRun(speed === 0 ? 6 : 1))) break;
    } catch (error) {
      failed(error);
      break;
    }
    const wait = speed === 0 ? 0 : 1000 / speed - (performance.now() - began);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)));
  }
  pause();
}

function save() {
  if (!state.runId) return;
  const link = document.createElement("a");
  link.href = runPath("scenario.yaml");
  link.download = "";
  document.body.appendChild(link);
  link.click();
  link.remove();
}

// ---------------------------------------------------------------- start
async function main() {
  try {
    const [list, outline] = await Promise.all([api("GET", "/api/scenarios"), fetch("/china-outline.json").then((r) => r.json())]);
    state.scenarios = list.scenarios;
    state.idleTimeout = list.idle_timeout;
    state.outline = outline;
  } catch (error) {
    failed(error);
    return;
  }
  const select = document.getElementById("scenario");
  for (const s of state.scenarios) {
    const option = document.createElement("option");
    option.value = s.index;
    option.textContent = s.name;
    option.title = s.description;
    select.appendChild(option);
  }
  const wanted = new URLSearchParams(location.search).get("scenario");
  const chosen = state.scenarios.find((s) => s.name === wanted || String(s.index) === wanted);
  select.value = chosen ? chosen.index : 0;
  select.addEventListener("change", () => openRun(Number(select.value)));
  document.getElementById("play").addEventListener("click", () => (state.playing ? pause() : play()));
  document.getElementById("step").addEventListener("click", () => stepRun(1).catch(failed));
  document.getElementById("reset").addEventListener("click", resetRun);
  document.getElementById("save").addEventListener("click", save);
  document.addEventListener("keydown", (event) => {
    if (event.code === "Space" && event.target.tagName !== "INPUT" && event.target.tagName !== "SELECT") {
      event.preventDefault();
      state.playing ? pause() : play();
    }
  });
  // Keep the run open while the tab is, and free it when the tab goes.
  // (three pings within the server's idle timeout, which closes runs whose tab went without a word)
  const heartbeat = Math.min(HEARTBEAT_MS, (1000 * state.idleTimeout) / 3);
  setInterval(() => {
    if (state.runId && !state.playing) queue(() => api("POST", runPath("ping"))).catch(failed);
  }, heartbeat);
  window.addEventListener("pagehide", () => {
    if (state.runId) navigator.sendBeacon(`/api/runs/${state.runId}/close`);
  });
  await openRun(Number(select.value));
}

// For the end-to-end test and the curious: the state and what each chart shows.
window.citysim = {
  state,
  ready: () => state.lastRecord !== null && !!state.runId,
  stepsDone: () => (state.lastRecord ? state.lastRecord.time : -1),
  charted: () => Object.fromEntries(Object.entries(state.charts).map(([id, chart]) => [id,
    Object.fromEntries(chart.data.datasets.map((d) => [d.label, d.data.map((p) => [p.x, p.y])]))])),
  play, pause, stepRun, openRun, resetRun,
};

main();
