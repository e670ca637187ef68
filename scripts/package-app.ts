/**
 * Builds the Teams app package: `npm run package [-- --env dev|local]` → appPackage/build/appPackage.<env>.zip.
 *
 * Fills the Teams-Toolkit-style `${{NAME}}` placeholders in appPackage/manifest.json from env/.env.<env> (plus
 * env/.env.<env>.user; shell variables win, as in the Toolkit), validates the result against the manifest schema
 * bundled in @microsoft/app-manifest (no network), checks the icons, and writes a deterministic zip with exactly
 * manifest.json, color.png and outline.png — then reads it back to prove it.
 *
 * `--out <dir>` writes elsewhere than appPackage/build. `npm run package -- --icons` regenerates the two icons
 * (an envelope with a "send" arrow) from code.
 *
 * PNG and zip are written with node:zlib only: both formats are small, and owning them keeps the build free of
 * extra dependencies and byte-for-byte reproducible.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateRawSync, deflateSync, inflateRawSync, inflateSync } from 'node:zlib';

export const ROOT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const APP_PACKAGE_DIR = join(ROOT_DIR, 'appPackage');
export const ENV_DIR = join(ROOT_DIR, 'env');
/** The package holds exactly these files, at the root of the zip. */
export const PACKAGE_FILES = ['manifest.json', 'color.png', 'outline.png'] as const;
/** Placeholders that may legitimately be empty (e.g. no name suffix in production). */
export const OPTIONAL_PLACEHOLDERS: ReadonlySet<string> = new Set(['APP_NAME_SUFFIX']);

export const COLOR_ICON_SIZE = 192;
export const OUTLINE_ICON_SIZE = 32;
const ACCENT_RGB: [number, number, number] = [0x0f, 0x6c, 0xbd];

// ---------------------------------------------------------------------------------------------------------------
// CRC-32 (IEEE 802.3, as PNG and zip use it)
// ---------------------------------------------------------------------------------------------------------------

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(data: Uint8Array, seed = 0): number {
  let c = (seed ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// ---------------------------------------------------------------------------------------------------------------
// PNG
// ---------------------------------------------------------------------------------------------------------------

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface DecodedPng {
  width: number;
  height: number;
  /** PNG colour type: 0 grey, 2 RGB, 4 grey+alpha, 6 RGBA. */
  colorType: number;
  hasAlpha: boolean;
  /** Pixels as RGBA, 4 bytes each, row by row. */
  rgba: Uint8Array;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** 8-bit RGBA, no interlace, filter 0 on every row (the icons are tiny; compression is not the point). */
export function encodePng(width: number, height: number, rgba: Uint8Array): Buffer {
  if (rgba.length !== width * height * 4) throw new Error(`expected ${width * height * 4} RGBA bytes, got ${rgba.length}`);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const raw = Buffer.alloc(height * (width * 4 + 1));
  for (let y = 0; y < height; y++) {
    raw[y * (width * 4 + 1)] = 0;
    Buffer.from(rgba.buffer, rgba.byteOffset + y * width * 4, width * 4).copy(raw, y * (width * 4 + 1) + 1);
  }
  return Buffer.concat([PNG_SIGNATURE, pngChunk('IHDR', ihdr), pngChunk('IDAT', deflateSync(raw, { level: 9 })), pngChunk('IEND', Buffer.alloc(0))]);
}

/** Decodes 8-bit non-interlaced grey/RGB/grey+alpha/RGBA PNGs (what icon tools export), checking every chunk CRC. */
export function decodePng(png: Buffer): DecodedPng {
  if (png.length < 8 || !png.subarray(0, 8).equals(PNG_SIGNATURE)) throw new Error('not a PNG file');
  let offset = 8;
  let header: { width: number; height: number; bitDepth: number; colorType: number; interlace: number } | null = null;
  const idat: Buffer[] = [];
  let ended = false;
  while (offset + 8 <= png.length && !ended) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('ascii', offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    if (offset + 12 + length > png.length) throw new Error(`PNG chunk ${type} is truncated`);
    if (crc32(png.subarray(offset + 4, offset + 8 + length)) !== png.readUInt32BE(offset + 8 + length)) throw new Error(`PNG chunk ${type} has a bad CRC`);
    if (type === 'IHDR') header = { width: data.readUInt32BE(0), height: data.readUInt32BE(4), bitDepth: data[8], colorType: data[9], interlace: data[12] };
    else if (type === 'IDAT') idat.push(Buffer.from(data));
    else if (type === 'IEND') ended = true;
    offset += 12 + length;
  }
  if (!header) throw new Error('PNG has no IHDR');
  if (!ended) throw new Error('PNG has no IEND');
  const channelsByType: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };
  const channels = channelsByType[header.colorType];
  if (header.bitDepth !== 8 || channels === undefined || header.interlace !== 0) {
    throw new Error(`unsupported PNG (bit depth ${header.bitDepth}, colour type ${header.colorType}, interlace ${header.interlace}); export 8-bit RGBA`);
  }
  const { width, height } = header;
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  if (raw.length !== height * (stride + 1)) throw new Error('PNG image data has the wrong length');
  const pixels = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? pixels[y * stride + x - channels] : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels] : 0;
      let predictor: number;
      switch (filter) {
        case 0: predictor = 0; break;
        case 1: predictor = a; break;
        case 2: predictor = b; break;
        case 3: predictor = (a + b) >> 1; break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
          predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default: throw new Error(`PNG row ${y} has unknown filter ${filter}`);
      }
      pixels[y * stride + x] = (line[x] + predictor) & 0xff;
    }
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const p = pixels.subarray(i * channels, (i + 1) * channels);
    const [r, g, b, alpha] = channels === 1 ? [p[0], p[0], p[0], 255] : channels === 2 ? [p[0], p[0], p[0], p[1]] : channels === 3 ? [p[0], p[1], p[2], 255] : [p[0], p[1], p[2], p[3]];
    rgba.set([r, g, b, alpha], i * 4);
  }
  return { width, height, colorType: header.colorType, hasAlpha: channels === 2 || channels === 4, rgba };
}

// ---------------------------------------------------------------------------------------------------------------
// Icons: an envelope with a "send" arrow, drawn with 4×4 supersampling
// ---------------------------------------------------------------------------------------------------------------

type Segment = [number, number, number, number];

function distanceToSegment(px: number, py: number, [ax, ay, bx, by]: Segment): number {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/** Is the point (unit square, y down) on the glyph? `stroke` is the line width in the same units. */
export function onGlyph(x: number, y: number, stroke: number): boolean {
  const [left, right, top, bottom] = [0.06, 0.8, 0.07, 0.6];
  const inOuter = x >= left && x <= right && y >= top && y <= bottom;
  const inInner = x > left + stroke && x < right - stroke && y > top + stroke && y < bottom - stroke;
  if (inOuter && !inInner) return true;
  const half = stroke / 2;
  const tip: [number, number] = [(left + right) / 2, top + (bottom - top) * 0.56];
  const lines: Segment[] = [
    // envelope flap
    [left + half, top + half, tip[0], tip[1]],
    [right - half, top + half, tip[0], tip[1]],
    // arrow: shaft and head, below-right of the envelope
    [0.46, 0.83, 0.93, 0.83],
    [0.93, 0.83, 0.82, 0.72],
    [0.93, 0.83, 0.82, 0.94],
  ];
  return lines.some((s) => distanceToSegment(x, y, s) <= half);
}

function rasterize(size: number, margin: number, stroke: number, paint: (coverage: number) => [number, number, number, number]): Uint8Array {
  const rgba = new Uint8Array(size * size * 4);
  const samples = 4;
  const span = 1 - 2 * margin;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let hits = 0;
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const gx = ((px + (sx + 0.5) / samples) / size - margin) / span;
          const gy = ((py + (sy + 0.5) / samples) / size - margin) / span;
          if (onGlyph(gx, gy, stroke)) hits++;
        }
      }
      rgba.set(paint(hits / (samples * samples)), (py * size + px) * 4);
    }
  }
  return rgba;
}

/** 192×192 full-colour icon: white glyph on the accent colour. */
export function drawColorIcon(): Buffer {
  const [r, g, b] = ACCENT_RGB;
  const mix = (bg: number, cov: number) => Math.round(bg + (255 - bg) * cov);
  return encodePng(COLOR_ICON_SIZE, COLOR_ICON_SIZE, rasterize(COLOR_ICON_SIZE, 0.18, 0.075, (cov) => [mix(r, cov), mix(g, cov), mix(b, cov), 255]));
}

/** 32×32 outline icon: white glyph, transparent everywhere else (what Teams asks for). */
export function drawOutlineIcon(): Buffer {
  return encodePng(OUTLINE_ICON_SIZE, OUTLINE_ICON_SIZE, rasterize(OUTLINE_ICON_SIZE, 0.03, 0.075, (cov) => [255, 255, 255, Math.round(cov * 255)]));
}

/** Teams' icon rules: colour 192×192; outline 32×32, transparent background, white (or transparent) pixels only. */
export function checkIcons(color: Buffer, outline: Buffer): string[] {
  const problems: string[] = [];
  const c = decodePng(color);
  if (c.width !== COLOR_ICON_SIZE || c.height !== COLOR_ICON_SIZE) problems.push(`color.png is ${c.width}×${c.height}, must be ${COLOR_ICON_SIZE}×${COLOR_ICON_SIZE}`);
  const o = decodePng(outline);
  if (o.width !== OUTLINE_ICON_SIZE || o.height !== OUTLINE_ICON_SIZE) problems.push(`outline.png is ${o.width}×${o.height}, must be ${OUTLINE_ICON_SIZE}×${OUTLINE_ICON_SIZE}`);
  if (!o.hasAlpha) problems.push('outline.png has no alpha channel; it must have a transparent background');
  let transparent = 0;
  let coloured = 0;
  for (let i = 0; i < o.width * o.height; i++) {
    const [r, g, b, a] = o.rgba.subarray(i * 4, i * 4 + 4);
    if (a === 0) transparent++;
    else if (r !== 255 || g !== 255 || b !== 255) coloured++;
  }
  if (transparent < (o.width * o.height) / 2) problems.push('outline.png must be mostly transparent (white glyph on a transparent background)');
  if (coloured > 0) problems.push(`outline.png has ${coloured} visible pixels that are not white`);
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------
// Zip (stored names at the root, deflate, fixed timestamps so the same input gives the same bytes)
// ---------------------------------------------------------------------------------------------------------------

export interface ZipEntry {
  name: string;
  data: Buffer;
}

/** 1980-01-01 00:00, the zip epoch: a fixed time keeps the package reproducible. */
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
const DOS_TIME = 0;

export function writeZip(entries: ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const { name, data } of entries) {
    const nameBytes = Buffer.from(name, 'utf8');
    const compressed = deflateRawSync(data, { level: 9 });
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, nameBytes, compressed);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4); // made by: MS-DOS/FAT, 2.0
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(DOS_TIME, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    // extra, comment, disk, internal and external attributes stay 0
    central.writeUInt32LE(offset, 42);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + compressed.length;
  }
  const centralDir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralDir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, centralDir, end]);
}

/** Reads a zip through its central directory (stored or deflated entries), verifying sizes and CRCs. */
export function readZip(zip: Buffer): ZipEntry[] {
  const endAt = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (endAt < 0) throw new Error('not a zip file (no end of central directory)');
  const count = zip.readUInt16LE(endAt + 10);
  let at = zip.readUInt32LE(endAt + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`bad central directory entry ${i}`);
    const method = zip.readUInt16LE(at + 10);
    const crc = zip.readUInt32LE(at + 16);
    const compressedSize = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const localAt = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    if (zip.readUInt32LE(localAt) !== 0x04034b50) throw new Error(`bad local header for ${name}`);
    const dataAt = localAt + 30 + zip.readUInt16LE(localAt + 26) + zip.readUInt16LE(localAt + 28);
    const stored = zip.subarray(dataAt, dataAt + compressedSize);
    const data = method === 0 ? Buffer.from(stored) : method === 8 ? inflateRawSync(stored) : null;
    if (!data) throw new Error(`${name}: unsupported compression method ${method}`);
    if (data.length !== size || crc32(data) !== crc) throw new Error(`${name}: size or CRC mismatch`);
    entries.push({ name, data });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

// ---------------------------------------------------------------------------------------------------------------
// Environment files and placeholders
// ---------------------------------------------------------------------------------------------------------------

/** KEY=VALUE lines; `#` comment lines and blanks ignored; a value in matching quotes is unquoted. */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new Error(`not a KEY=VALUE line: ${line.slice(0, 40)}`);
    let value = m[2];
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.endsWith(value[0])) value = value.slice(1, -1);
    out[m[1]] = value;
  }
  return out;
}

/** env/.env.<name>, then env/.env.<name>.user, then the shell (the shell wins, as in Teams Toolkit). */
export function loadEnvironment(envName: string, envDir = ENV_DIR, shell: Record<string, string | undefined> = process.env): Record<string, string> {
  if (!/^[a-z0-9-]+$/i.test(envName)) throw new Error(`bad environment name "${envName}"`);
  const file = join(envDir, `.env.${envName}`);
  if (!existsSync(file)) throw new Error(`no environment file ${file}; create it from env/.env.dev`);
  const values = parseEnvFile(readFileSync(file, 'utf8'));
  const userFile = `${file}.user`;
  if (existsSync(userFile)) Object.assign(values, parseEnvFile(readFileSync(userFile, 'utf8')));
  for (const [k, v] of Object.entries(shell)) if (v !== undefined) values[k] = v;
  return values;
}

const PLACEHOLDER = /\$\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

export function placeholdersIn(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1]))];
}

/**
 * Replaces every `${{NAME}}` with its value, JSON-escaped (the manifest is JSON). Refuses unset placeholders, empty
 * required ones, and any SECRET_ variable: the package is uploaded to Teams and must never carry a secret.
 */
/** Placeholders that default to another one when empty: the SSO app is the bot's own unless told otherwise. */
const DEFAULTS_TO: Record<string, string> = { SSO_CLIENT_ID: 'BOT_ID' };

export function substitutePlaceholders(text: string, given: Record<string, string | undefined>): string {
  const values = { ...given };
  for (const [name, from] of Object.entries(DEFAULTS_TO)) if (!values[name]?.trim()) values[name] = values[from];
  const problems: string[] = [];
  for (const name of placeholdersIn(text)) {
    if (name.startsWith('SECRET_')) problems.push(`${name} is a secret and must not be put into the app package`);
    else if (values[name] === undefined) problems.push(`${name} is not set`);
    else if (values[name]!.trim() === '' && !OPTIONAL_PLACEHOLDERS.has(name)) problems.push(`${name} is empty`);
  }
  if (problems.length > 0) throw new Error(`Cannot fill the manifest placeholders:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  // Not trimmed: a suffix like " (dev)" starts with a space on purpose.
  return text.replace(PLACEHOLDER, (_m, name: string) => JSON.stringify(values[name]!).slice(1, -1));
}

// ---------------------------------------------------------------------------------------------------------------
// Manifest schema (bundled in @microsoft/app-manifest)
// ---------------------------------------------------------------------------------------------------------------

const require = createRequire(import.meta.url);

export function bundledSchemaDir(): string {
  return join(dirname(require.resolve('@microsoft/app-manifest/package.json')), 'build', 'json-schemas', 'teams');
}

/** The newest released v1.x Teams manifest schema the package ships (e.g. "1.30"; devPreview excluded). */
export function newestBundledManifestVersion(): string {
  const versions = readdirSync(bundledSchemaDir())
    .map((d) => /^v1\.(\d+)$/.exec(d))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]));
  return `1.${Math.max(...versions)}`;
}

export function loadBundledSchema(manifestVersion: string): Record<string, unknown> {
  const file = join(bundledSchemaDir(), `v${manifestVersion}`, 'MicrosoftTeams.schema.json');
  if (!existsSync(file)) throw new Error(`@microsoft/app-manifest ships no schema for manifest version ${manifestVersion}`);
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}

/** Schema errors for a filled-in manifest (empty = valid). Uses the bundled schema explicitly, so no download. */
export async function validateManifest(manifest: Record<string, unknown>): Promise<string[]> {
  const version = String(manifest.manifestVersion);
  const expectedSchemaUrl = `https://developer.microsoft.com/json-schemas/teams/v${version}/MicrosoftTeams.schema.json`;
  const problems: string[] = manifest.$schema === expectedSchemaUrl ? [] : [`$schema should be ${expectedSchemaUrl}`];
  const { AppManifestUtils } = await import('@microsoft/app-manifest');
  const schema = loadBundledSchema(version);
  problems.push(...(await AppManifestUtils.validateAgainstSchema(manifest as never, schema as never)));
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------
// Build
// ---------------------------------------------------------------------------------------------------------------

export interface BuildOptions {
  envName: string;
  /** Values for the placeholders; default: loadEnvironment(envName). */
  values?: Record<string, string | undefined>;
  appPackageDir?: string;
  outDir?: string;
}

export interface BuildResult {
  zipPath: string;
  manifestPath: string;
  manifest: Record<string, unknown>;
  files: ZipEntry[];
}

export async function buildAppPackage(options: BuildOptions): Promise<BuildResult> {
  const dir = options.appPackageDir ?? APP_PACKAGE_DIR;
  const outDir = options.outDir ?? join(dir, 'build');
  const values = options.values ?? loadEnvironment(options.envName);
  const manifestText = substitutePlaceholders(readFileSync(join(dir, 'manifest.json'), 'utf8'), values);
  const manifest = JSON.parse(manifestText) as Record<string, unknown>;
  const schemaProblems = await validateManifest(manifest);
  if (schemaProblems.length > 0) throw new Error(`manifest.json does not match its schema:\n${schemaProblems.map((p) => `  - ${p}`).join('\n')}`);

  const color = readFileSync(join(dir, 'color.png'));
  const outline = readFileSync(join(dir, 'outline.png'));
  const iconProblems = checkIcons(color, outline);
  if (iconProblems.length > 0) throw new Error(`icons do not meet Teams' rules:\n${iconProblems.map((p) => `  - ${p}`).join('\n')}`);

  const files: ZipEntry[] = [
    { name: 'manifest.json', data: Buffer.from(manifestText, 'utf8') },
    { name: 'color.png', data: color },
    { name: 'outline.png', data: outline },
  ];
  const zip = writeZip(files);
  // Read our own output back: a package that Teams cannot open is worse than no package.
  const back = readZip(zip);
  if (back.length !== files.length || back.some((e, i) => e.name !== files[i].name || !e.data.equals(files[i].data))) {
    throw new Error('the written zip does not read back to the package files');
  }
  mkdirSync(outDir, { recursive: true });
  const zipPath = join(outDir, `appPackage.${options.envName}.zip`);
  const manifestPath = join(outDir, `manifest.${options.envName}.json`);
  writeFileSync(zipPath, zip);
  writeFileSync(manifestPath, manifestText);
  return { zipPath, manifestPath, manifest, files };
}

export function writeIcons(dir = APP_PACKAGE_DIR): void {
  writeFileSync(join(dir, 'color.png'), drawColorIcon());
  writeFileSync(join(dir, 'outline.png'), drawOutlineIcon());
}

async function main(argv: string[]): Promise<void> {
  if (argv.includes('--icons')) {
    writeIcons();
    console.log(`Wrote ${join(APP_PACKAGE_DIR, 'color.png')} and outline.png`);
    return;
  }
  const flag = (name: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] ?? '' : undefined);
  const envName = flag('--env') ?? 'dev';
  const outDir = flag('--out');
  if (!envName || outDir === '') throw new Error('usage: npm run package [-- --env <name>] [--out <dir>] | npm run package -- --icons');
  const result = await buildAppPackage({ envName, outDir: outDir ? resolve(outDir) : undefined });
  const bot = (result.manifest.bots as Array<{ botId: string }>)[0];
  console.log(`Wrote ${result.zipPath} (app ${String(result.manifest.id)}, bot ${bot.botId}, manifest ${String(result.manifest.manifestVersion)})`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  });
}
