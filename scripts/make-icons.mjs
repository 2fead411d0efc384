#!/usr/bin/env node
// Draws the extension icon and one icon per task as PNGs, with a tiny PNG encoder
// (IHDR/IDAT/IEND, zlib, CRC-32) and a supersampling rasteriser. The PNGs are committed;
// run this only when the artwork changes:  node scripts/make-icons.mjs
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// ---------- PNG encoding ----------
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** rgba: Uint8Array of width*height*4, non-premultiplied. */
export function encodePng(width, height, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type RGBA
  ihdr[10] = 0; // compression
  ihdr[11] = 0; // filter
  ihdr[12] = 0; // no interlace
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 4 + 1)] = 0; // filter type None
    Buffer.from(rgba.buffer, rgba.byteOffset + y * width * 4, width * 4).copy(raw, y * (width * 4 + 1) + 1);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// ---------- shapes (coordinates on a 128x128 design grid) ----------
const circle = (cx, cy, r) => (x, y) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
const ring = (cx, cy, r0, r1) => (x, y) => {
  const d = (x - cx) ** 2 + (y - cy) ** 2;
  return d >= r0 * r0 && d <= r1 * r1;
};
const roundRect = (x0, y0, x1, y1, r) => (x, y) => {
  if (x < x0 || x > x1 || y < y0 || y > y1) return false;
  const cx = Math.min(Math.max(x, x0 + r), x1 - r);
  const cy = Math.min(Math.max(y, y0 + r), y1 - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
};
const polygon = (pts) => (x, y) => {
  let inside = false;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
    const [xi, yi] = pts[i];
    const [xj, yj] = pts[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
};
function segDist2(x, y, [x0, y0], [x1, y1]) {
  const dx = x1 - x0;
  const dy = y1 - y0;
  const t = Math.max(0, Math.min(1, ((x - x0) * dx + (y - y0) * dy) / (dx * dx + dy * dy || 1)));
  return (x - x0 - t * dx) ** 2 + (y - y0 - t * dy) ** 2;
}
const stroke = (pts, width) => (x, y) => {
  for (let i = 0; i + 1 < pts.length; i++)
    if (segDist2(x, y, pts[i], pts[i + 1]) <= (width / 2) ** 2) return true;
  return false;
};
const union =
  (...fs) =>
  (x, y) =>
    fs.some((f) => f(x, y));
const minus = (a, b) => (x, y) => a(x, y) && !b(x, y);

function hex(h, alpha = 1) {
  const n = parseInt(h.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255, alpha];
}

/** layers: [{ color: [r,g,b,a], shape(x,y) }], later layers on top. */
function render(size, layers, grid = 128, ss = 4) {
  const rgba = new Uint8Array(size * size * 4);
  const scale = grid / size;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let sy = 0; sy < ss; sy++) {
        for (let sx = 0; sx < ss; sx++) {
          const x = (px + (sx + 0.5) / ss) * scale;
          const y = (py + (sy + 0.5) / ss) * scale;
          // Composite the layers front to back ("over"), premultiplied.
          let cr = 0;
          let cg = 0;
          let cb = 0;
          let ca = 0;
          for (const layer of layers) {
            if (!layer.shape(x, y)) continue;
            const [lr, lg, lb, la] = typeof layer.color === 'function' ? layer.color(x, y) : layer.color;
            cr = lr * la + cr * (1 - la);
            cg = lg * la + cg * (1 - la);
            cb = lb * la + cb * (1 - la);
            ca = la + ca * (1 - la);
          }
          r += cr;
          g += cg;
          b += cb;
          a += ca;
        }
      }
      const n = ss * ss;
      const o = (py * size + px) * 4;
      const alpha = a / n;
      rgba[o] = alpha ? Math.round(r / n / alpha) : 0;
      rgba[o + 1] = alpha ? Math.round(g / n / alpha) : 0;
      rgba[o + 2] = alpha ? Math.round(b / n / alpha) : 0;
      rgba[o + 3] = Math.round(alpha * 255);
    }
  }
  return encodePng(size, size, rgba);
}

// ---------- artwork ----------
const WHITE = hex('#ffffff');
const ORANGE = '#e8501e'; // Databricks-family tasks
const ORANGE_DARK = '#b8380f';
const BLUE = '#0a6fc2'; // Data Factory-family tasks
const BLUE_DARK = '#07508f';

const gradient = (top, bottom) => {
  const [r0, g0, b0] = hex(top);
  const [r1, g1, b1] = hex(bottom);
  return (_x, y) => {
    const t = Math.min(1, Math.max(0, y / 128));
    return [r0 + (r1 - r0) * t, g0 + (g1 - g0) * t, b0 + (b1 - b0) * t, 1];
  };
};
const tile = (top, bottom) => ({ color: gradient(top, bottom), shape: roundRect(4, 4, 124, 124, 22) });

// A notebook page: rectangle with a folded corner and text lines.
const page = (x0, y0, x1, y1) =>
  minus(
    polygon([
      [x0, y0],
      [x1 - 14, y0],
      [x1, y0 + 14],
      [x1, y1],
      [x0, y1],
    ]),
    polygon([
      [x1 - 14, y0 - 1],
      [x1 + 1, y0 - 1],
      [x1 + 1, y0 + 14],
    ]),
  );
const pageLines = (x0, y0, x1, n, gap) =>
  union(
    ...Array.from({ length: n }, (_, i) =>
      roundRect(x0, y0 + i * gap, x1 - (i % 2) * 10, y0 + i * gap + 5, 2.5),
    ),
  );
const playTriangle = (cx, cy, r) =>
  polygon([
    [cx - r * 0.6, cy - r],
    [cx + r, cy],
    [cx - r * 0.6, cy + r],
  ]);
const upArrow = (cx, top, bottom, w) =>
  union(
    polygon([
      [cx, top],
      [cx + w, top + w],
      [cx - w, top + w],
    ]),
    roundRect(cx - w * 0.38, top + w - 1, cx + w * 0.38, bottom, 2),
  );
const shield = (cx, top, w, h) =>
  polygon([
    [cx - w / 2, top + 8],
    [cx, top],
    [cx + w / 2, top + 8],
    [cx + w / 2, top + h * 0.5],
    [cx, top + h],
    [cx - w / 2, top + h * 0.5],
  ]);
const check = (pts) => stroke(pts, 9);
// Stacked layers (the "bricks" of a lakehouse): three flat rhombuses.
const layer = (cy) =>
  polygon([
    [64, cy - 14],
    [100, cy],
    [64, cy + 14],
    [28, cy],
  ]);
const badge = (cx, cy, r, color) => [
  { color: WHITE, shape: circle(cx, cy, r + 4) },
  { color: hex(color), shape: circle(cx, cy, r) },
];

const icons = {
  'images/extension-icon.png': [
    tile('#23344f', '#0f1a2b'),
    { color: hex(ORANGE), shape: minus(layer(82), layer(72)) },
    { color: hex('#f07a3c'), shape: minus(layer(64), layer(54)) },
    { color: hex('#f7a24b'), shape: layer(46) },
    // Pipeline arrow sweeping from left to right under the layers.
    {
      color: hex('#4fb3ff'),
      shape: union(
        stroke(
          [
            [20, 104],
            [88, 104],
          ],
          8,
        ),
        polygon([
          [86, 92],
          [108, 104],
          [86, 116],
        ]),
      ),
    },
  ],
  'tasks/DatabricksDeployNotebooksV1/icon.png': [
    tile(ORANGE, ORANGE_DARK),
    { color: WHITE, shape: page(24, 18, 82, 104) },
    { color: hex(ORANGE_DARK), shape: pageLines(33, 40, 72, 5, 12) },
    ...badge(92, 90, 22, '#2f9e44'),
    { color: WHITE, shape: upArrow(92, 74, 106, 12) },
  ],
  'tasks/DatabricksRunNotebookV1/icon.png': [
    tile(ORANGE, ORANGE_DARK),
    { color: WHITE, shape: page(24, 18, 82, 104) },
    { color: hex(ORANGE_DARK), shape: pageLines(33, 40, 72, 5, 12) },
    ...badge(92, 90, 22, '#1c7ed6'),
    { color: WHITE, shape: playTriangle(94, 90, 11) },
  ],
  'tasks/DatabricksRunGateV1/icon.png': [
    tile(ORANGE, ORANGE_DARK),
    { color: WHITE, shape: shield(64, 16, 76, 98) },
    {
      color: hex('#2f9e44'),
      shape: check([
        [44, 62],
        [58, 77],
        [86, 46],
      ]),
    },
  ],
  'tasks/DataFactoryBuildArmTemplateV1/icon.png': [
    tile(BLUE, BLUE_DARK),
    // { } braces around a small document.
    {
      color: WHITE,
      shape: stroke(
        [
          [42, 22],
          [32, 26],
          [32, 56],
          [22, 64],
          [32, 72],
          [32, 102],
          [42, 106],
        ],
        8,
      ),
    },
    {
      color: WHITE,
      shape: stroke(
        [
          [86, 22],
          [96, 26],
          [96, 56],
          [106, 64],
          [96, 72],
          [96, 102],
          [86, 106],
        ],
        8,
      ),
    },
    {
      color: WHITE,
      shape: union(roundRect(50, 44, 78, 50, 3), roundRect(50, 61, 78, 67, 3), roundRect(50, 78, 70, 84, 3)),
    },
  ],
  'tasks/DataFactoryDeployV1/icon.png': [
    tile(BLUE, BLUE_DARK),
    // Factory: saw-tooth roof and chimney.
    {
      color: WHITE,
      shape: polygon([
        [18, 104],
        [18, 62],
        [40, 48],
        [40, 62],
        [62, 48],
        [62, 62],
        [84, 48],
        [84, 24],
        [96, 24],
        [96, 104],
      ]),
    },
    {
      color: hex(BLUE_DARK),
      shape: union(roundRect(28, 74, 40, 86, 2), roundRect(50, 74, 62, 86, 2), roundRect(72, 74, 84, 86, 2)),
    },
    ...badge(96, 92, 20, '#2f9e44'),
    { color: WHITE, shape: upArrow(96, 78, 106, 11) },
  ],
  'tasks/DataFactoryRunPipelineV1/icon.png': [
    tile(BLUE, BLUE_DARK),
    // Three activities joined by arrows.
    {
      color: WHITE,
      shape: union(roundRect(14, 30, 42, 54, 5), roundRect(50, 30, 78, 54, 5), roundRect(86, 30, 114, 54, 5)),
    },
    {
      color: WHITE,
      shape: union(
        stroke(
          [
            [42, 42],
            [50, 42],
          ],
          4,
        ),
        stroke(
          [
            [78, 42],
            [86, 42],
          ],
          4,
        ),
      ),
    },
    ...badge(64, 90, 22, '#2f9e44'),
    { color: WHITE, shape: playTriangle(66, 90, 11) },
  ],
  'tasks/DataFactoryPipelineRunGateV1/icon.png': [
    tile(BLUE, BLUE_DARK),
    { color: WHITE, shape: shield(64, 16, 76, 98) },
    {
      color: hex(BLUE),
      shape: union(
        roundRect(42, 52, 56, 62, 2),
        roundRect(72, 52, 86, 62, 2),
        stroke(
          [
            [56, 57],
            [72, 57],
          ],
          3,
        ),
      ),
    },
    {
      color: hex('#2f9e44'),
      shape: check([
        [48, 78],
        [60, 90],
        [82, 70],
      ]),
    },
  ],
  'test/fixtures/tasks/SampleV1/icon.png': [
    tile('#868e96', '#495057'),
    { color: WHITE, shape: ring(64, 64, 26, 38) },
  ],
};

export function makeIcons({ size = 128, only } = {}) {
  const written = [];
  for (const [rel, layers] of Object.entries(icons)) {
    if (only && !only.includes(rel)) continue;
    const file = path.join(repoRoot, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, render(size, layers));
    written.push(rel);
  }
  return written;
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  for (const rel of makeIcons())
    console.log(`wrote ${rel} (${fs.statSync(path.join(repoRoot, rel)).size} bytes)`);
}
