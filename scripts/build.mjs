#!/usr/bin/env node
// `npm run build`: compiles the product into dist/ with esbuild — one ESM bundle per entry point, with code
// splitting, so what only local mode uses (the simulator, the playground) sits in chunks that a bot on a real
// tenant never loads. The playground's static files are copied beside the output that serves them.
//
// The npm packages the sources import (botbuilder, teams-ai, restify, the Graph client …) are compiled into one
// CommonJS bundle, dist/node_modules/vendor.js, loaded with a V8 code cache that the build makes
// (scripts/vendor-loader.mjs): loading some 1,500 files from node_modules, and compiling them at every start, was
// most of `npm start`'s time (docs/performance.md, P4). Packages that cannot be bundled (NOT_BUNDLED: native code
// found through its own path) are still loaded from node_modules.
//
//   node scripts/build.mjs             build
//   node scripts/build.mjs --if-stale  build only when dist/ is missing or older than its sources (prestart)
//
// dist/build-info.json records which sources went into which output (the staleness check's input list) and what
// the vendor bundle was made from (a rebuild keeps a bundle made from the same, see vendorKey).
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DIST = join(ROOT, 'dist');
export const BUILD_INFO = join(DIST, 'build-info.json');

/** What `npm start`, `opter-mail` and `npm run sim` run. */
export const ENTRY_POINTS = ['src/main.ts', 'src/cli/index.ts', 'src/sim/cli.ts'];
const STATIC_DIR = 'src/playground/static';
/** The module that reads STATIC_DIR relative to its own URL (`new URL('./static/', import.meta.url)`). */
const STATIC_READER = 'src/playground/server.ts';
/** Besides the bundled sources, these change what a build produces. */
const BUILD_INPUTS = ['package.json', 'scripts/build.mjs'];
/** What npm rewrites on every install: when one is newer than dist/, the bundled packages may have changed. */
const INSTALL_MARKERS = ['package-lock.json', 'node_modules/.package-lock.json'];
/**
 * Loaded from node_modules, not bundled: better-sqlite3 finds its native addon relative to its own files
 * (the `bindings` package); dtrace-provider is restify's optional native probe, which restify tolerates missing.
 */
const NOT_BUNDLED_PACKAGES = ['better-sqlite3', 'bindings', 'dtrace-provider'];
const NOT_BUNDLED = new RegExp(`^(${NOT_BUNDLED_PACKAGES.join('|')})(/|$)`);
/** In dist/. Under node_modules because it is their code (scripts/vendor-loader.mjs says what that changes). */
const VENDOR = 'node_modules/vendor.js';
const VENDOR_LOADER = join(ROOT, 'scripts', 'vendor-loader.mjs');
/** In the banner, replaced per output file by its path to dist/ ('./' or '../'), where the loader finds VENDOR. */
const DIST_PLACEHOLDER = '__OPTER_DIST_FROM_HERE__';

/** Defined at the top of every output file; the CommonJS packages are loaded through it (see npmPackages). */
const REQUIRE = '__opterRequire';
const DIST_URL = '__opterDist';
const BANNER = [
  `import { createRequire as __opterCreateRequire } from 'node:module';`,
  `const ${REQUIRE} = __opterCreateRequire(import.meta.url);`,
  `const ${DIST_URL} = new URL(${JSON.stringify(DIST_PLACEHOLDER)}, import.meta.url);`,
].join('\n');

/** True when Node would load `specifier` (imported from the project root) as CommonJS. */
function isCommonJsPackage(specifier) {
  let file;
  try {
    file = fileURLToPath(import.meta.resolve(specifier));
  } catch {
    return false;
  }
  if (file.endsWith('.cjs')) return true;
  if (!file.endsWith('.js')) return false;
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) return JSON.parse(readFileSync(pkg, 'utf8')).type !== 'module';
  }
  return true;
}

/**
 * The npm packages the sources import. Each becomes a small CommonJS stub: `module.exports = <the package>`, taken
 * from dist/node_modules/vendor.js (`vendor` namespace; every specifier is recorded in `specifiers` for the vendor
 * build) or, for NOT_BUNDLED ones, loaded with require(); an ESM package that is not bundled is imported as it is. CommonJS through
 * require() rather than `import`: importing CommonJS from ESM makes Node scan each module, and every module it
 * re-exports, for export names (cjs-module-lexer). esbuild's CommonJS interop then gives the same bindings
 * TypeScript's esModuleInterop describes.
 */
function npmPackages(specifiers) {
  return {
    name: 'npm-packages',
    setup(b) {
      const cache = new Map();
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.namespace !== 'file' || args.path.startsWith('node:') || builtinModules.includes(args.path)) return { path: args.path, external: true };
        if (!NOT_BUNDLED.test(args.path)) {
          specifiers.add(args.path);
          return { path: args.path, namespace: 'vendor' };
        }
        if (!cache.has(args.path)) cache.set(args.path, isCommonJsPackage(args.path));
        return cache.get(args.path) ? { path: args.path, namespace: 'cjs-package' } : { path: args.path, external: true };
      });
      b.onLoad({ filter: /.*/, namespace: 'cjs-package' }, (args) => ({ contents: `module.exports = ${REQUIRE}(${JSON.stringify(args.path)});`, loader: 'js' }));
      b.onLoad({ filter: /.*/, namespace: 'vendor' }, (args) => ({
        contents: `module.exports = require(${JSON.stringify(VENDOR_LOADER)}).vendorModule(${DIST_URL}, ${JSON.stringify(args.path)});`,
        resolveDir: ROOT,
        loader: 'js',
      }));
    },
  };
}

/**
 * Requires that teams-ai makes when it loads but needs only when a bot uses its sign-in (the `authentication`
 * option, which this bot does not use): they load botbuilder-dialogs with its text recognizers, a quarter of the
 * bundle. Each becomes a require on first use, so the code is the same and runs the same if sign-in is ever used.
 * The files are teams-ai's (pinned in package.json); a version whose lines differ fails the build here.
 */
const LAZY_REQUIRES = {
  '@microsoft/teams-ai/lib/Application.js': ['./authentication/Authentication'],
  '@microsoft/teams-ai/lib/authentication/BotAuthenticationBase.js': ['botbuilder-dialogs', './Authentication'],
};

const lazyRequires = {
  name: 'lazy-requires',
  setup(b) {
    const seen = new Set();
    b.onEnd((result) => {
      if (result.errors.length) return;
      const missing = Object.keys(LAZY_REQUIRES).filter((key) => !seen.has(key));
      if (missing.length) throw new Error(`${missing.join(', ')} not found in the bundle: review LAZY_REQUIRES in scripts/build.mjs`);
    });
    b.onLoad({ filter: /[\\/]node_modules[\\/]@microsoft[\\/]teams-ai[\\/]lib[\\/].*\.js$/ }, (args) => {
      const key = relative(join(ROOT, 'node_modules'), args.path).split(sep).join('/');
      const specifiers = LAZY_REQUIRES[key];
      if (!specifiers) return undefined;
      seen.add(key);
      let text = readFileSync(args.path, 'utf8');
      for (const spec of specifiers) {
        const pattern = new RegExp(`^const (\\w+) = require\\(${JSON.stringify(spec).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\);$`, 'm');
        const match = pattern.exec(text);
        if (!match) throw new Error(`${key} no longer has \`const … = require(${JSON.stringify(spec)});\`: review LAZY_REQUIRES in scripts/build.mjs`);
        const [line, name] = match;
        text = text.replace(line, `let ${name}$loaded; const ${name} = new Proxy({}, { get: (_, key) => (${name}$loaded ??= require(${JSON.stringify(spec)}))[key] });`);
      }
      return { contents: text, loader: 'js' };
    });
  },
};

/**
 * dist/node_modules/vendor.js: every package in `specifiers`, as one CommonJS bundle whose exports map each
 * specifier to a function that loads it (so a package is evaluated when the first module that imports it is, as
 * before). The file is wrapped the way Node wraps a CommonJS module, so the loader compiles it with vm.Script, which
 * can use and make a code cache (Node 20 has no compile cache for require()). Returns counts for the build's log.
 */
async function buildVendor(esbuild, staging, specifiers) {
  const entry = `module.exports = {\n${[...specifiers].sort().map((s) => `  ${JSON.stringify(s)}: () => require(${JSON.stringify(s)}),`).join('\n')}\n};\n`;
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    stdin: { contents: entry, resolveDir: ROOT, sourcefile: 'vendor-entry.cjs', loader: 'js' },
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    // node_modules may be a link; its packages are still named by their path in this folder.
    preserveSymlinks: true,
    external: [...builtinModules, 'node:*', ...NOT_BUNDLED_PACKAGES],
    plugins: [lazyRequires],
    // ESM packages become CommonJS here, where esbuild would leave `import.meta` empty (its warnings about files in
    // node_modules are not shown); their import.meta.url is the bundle's, as __dirname is for the CommonJS ones.
    define: { 'import.meta.url': '__opterImportMetaUrl' },
    banner: { js: 'var __opterImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
    // Whitespace only: fewer bytes to read and keep resident. Renaming and rewriting the code measured slower, as
    // V8 then compiled more functions eagerly.
    minifyWhitespace: true,
    legalComments: 'linked',
    outfile: join(staging, VENDOR),
    write: false,
    metafile: true,
    logLevel: 'warning',
  });
  mkdirSync(dirname(join(staging, VENDOR)), { recursive: true });
  for (const file of result.outputFiles) {
    const wrapped = file.path.endsWith('.js') ? `(function (exports, require, module, __filename, __dirname) {${asciiOnly(file.text)}\n})` : file.text;
    writeFileSync(file.path, wrapped);
  }
  if (!existsSync(join(staging, VENDOR))) throw new Error('the vendor bundle was not written');
  const packages = new Set(Object.keys(result.metafile.inputs).map((i) => /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(i)?.[1]).filter(Boolean));
  return { packages: packages.size, modules: Object.keys(result.metafile.inputs).length };
}

/**
 * esbuild escapes non-ASCII characters except in regular expression literals (some packages match full-width digits
 * that way). `\\uXXXX` means the same code unit there as in strings, identifiers and comments, so the bundle can be
 * all ASCII, which the loader keeps outside V8's heap. A character after a backslash is left as it is (the loader then
 * reads the file as UTF-8, which is correct, only larger).
 */
function asciiOnly(text) {
  return text.replace(/(\\*)([\u0080-\uffff])/g, (match, slashes, ch) => (slashes.length % 2 ? match : `${slashes}\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

/**
 * Makes dist/node_modules/vendor.js.cache in a fresh process with `npm start`'s V8 flags (V8 refuses a cache made
 * with other flags): it loads every bundled package and saves what V8 compiled meanwhile. Without a cache dist/ still
 * works, only slower to start, so a failure here is reported and the build goes on.
 */
function makeVendorCache(staging, log) {
  const flags = startArguments().filter((a) => a.startsWith('-'));
  const script = `import(${JSON.stringify(pathToFileURL(VENDOR_LOADER).href)}).then((m) => m.writeCodeCache(${JSON.stringify(pathToFileURL(`${staging}/`).href)}, ${JSON.stringify(pathToFileURL(`${DIST}/`).href)}))`;
  const run = spawnSync(process.execPath, [...flags, '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  if (run.status !== 0) log(`no code cache for ${VENDOR} (start-up is slower, nothing else changes): ${(run.stderr || run.error?.message || '').trim().split('\n').slice(-3).join(' ')}`);
}

/**
 * What the vendor bundle and its cache are made from: the packages imported, the installed versions (the lockfiles),
 * this build and the loader, Node and `npm start`'s flags. When dist/ already has a bundle of the same key, a
 * rebuild keeps it (copied into the new build) instead of bundling and caching again, which takes seconds.
 */
function vendorKey(specifiers) {
  const hash = createHash('sha256');
  hash.update(JSON.stringify([[...specifiers].sort(), process.version, startArguments()]));
  for (const file of [...INSTALL_MARKERS, 'scripts/build.mjs', relative(ROOT, VENDOR_LOADER)]) {
    hash.update(`\0${file}\0`);
    try {
      hash.update(readFileSync(join(ROOT, file)));
    } catch {
      hash.update('(missing)');
    }
  }
  return hash.digest('hex');
}

function reuseVendor(staging, key) {
  try {
    const previous = JSON.parse(readFileSync(BUILD_INFO, 'utf8')).vendor;
    if (previous?.key !== key) return null;
    const folder = dirname(join(DIST, VENDOR));
    if (!existsSync(join(DIST, VENDOR)) || !existsSync(join(DIST, `${VENDOR}.cache`))) return null;
    cpSync(folder, dirname(join(staging, VENDOR)), { recursive: true });
    return { ...previous, reused: true };
  } catch {
    return null;
  }
}

const LOCK = join(ROOT, '.dist-lock');
const LOCK_STALE_MS = 120_000;
const LOCK_WAIT_MS = 120_000;

function mtimeMs(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return Number.POSITIVE_INFINITY; // a source that vanished makes the build stale
  }
}

function filesUnder(dir) {
  const out = [];
  const walk = (d) => {
    for (const entry of readdirSyncSafe(d)) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk(dir);
  return out;
}

function readdirSyncSafe(d) {
  try {
    return readdirSync(d, { withFileTypes: true });
  } catch {
    return [];
  }
}

/** Why dist/ must be (re)built, or null when it is up to date. `root`: the package folder (tests). */
export function staleReason(root = ROOT) {
  const buildInfo = join(root, 'dist', 'build-info.json');
  if (!existsSync(buildInfo)) return 'dist/ has not been built';
  let info;
  try {
    info = JSON.parse(readFileSync(buildInfo, 'utf8'));
  } catch {
    return 'dist/build-info.json is unreadable';
  }
  if (JSON.stringify(info.entryPoints) !== JSON.stringify(ENTRY_POINTS)) return 'the entry points changed';
  // The vendor bundle's code cache is V8's, valid for one Node version only (another would ignore it and start slower).
  if (info.node && info.node !== process.version) return `dist/ was built by Node ${info.node}`;
  for (const output of Object.keys(info.outputs ?? {})) if (!existsSync(join(root, output))) return `${output} is missing`;
  const sources = [...new Set([...Object.values(info.outputs ?? {}).flat(), ...BUILD_INPUTS])].map((p) => join(root, p));
  // A new import adds a file only by changing an existing one, and a new static file changes the folder's mtime.
  const staticDir = join(root, STATIC_DIR);
  for (const file of [...sources, ...filesUnder(staticDir), staticDir]) {
    if (mtimeMs(file) > info.builtAt) return `${relative(root, file)} changed`;
  }
  return null;
}

/**
 * The arguments after `node` of package.json's "start" script, so that what measures or tests `npm start` (P4,
 * src/playground/npm-start.test.ts) runs exactly that command line, without npm in between.
 */
export function startArguments() {
  const script = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts?.start ?? '';
  const [command, ...args] = script.trim().split(/\s+/);
  if (command !== 'node' || !args.length) throw new Error(`package.json "start" is not a plain \`node …\` command: ${script}`);
  return args;
}

function acquireLock() {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      mkdirSync(LOCK);
      return () => rmSync(LOCK, { recursive: true, force: true });
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      if (Date.now() - mtimeMs(LOCK) > LOCK_STALE_MS) rmSync(LOCK, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`another build holds ${LOCK} for too long; remove it if no build runs`, { cause: e });
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
}

/** Builds dist/ (into a staging folder, then swapped in, so a reader never sees half a build). */
export async function build({ log = (line) => console.error(line) } = {}) {
  const release = acquireLock();
  try {
    await buildUnlocked(log);
  } finally {
    release();
  }
}

async function buildUnlocked(log) {
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    throw new Error('esbuild is not installed: the build needs the devDependencies (npm ci without --omit=dev)');
  }
  const started = Date.now();
  const staging = join(ROOT, `.dist-tmp-${process.pid}`);
  const specifiers = new Set();
  rmSync(staging, { recursive: true, force: true });
  try {
    const result = await esbuild.build({
      absWorkingDir: ROOT,
      entryPoints: ENTRY_POINTS,
      outdir: staging,
      outbase: 'src',
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      plugins: [npmPackages(specifiers)],
      banner: { js: BANNER },
      sourcemap: 'linked',
      metafile: true,
      write: false,
      logLevel: 'warning',
    });
    for (const file of result.outputFiles) {
      mkdirSync(dirname(file.path), { recursive: true });
      const fromHere = relative(dirname(file.path), staging);
      writeFileSync(file.path, file.path.endsWith('.js') ? file.text.replace(DIST_PLACEHOLDER, fromHere ? `${fromHere}/` : './') : file.contents);
    }
    const key = vendorKey(specifiers);
    let vendor = reuseVendor(staging, key);
    if (!vendor) {
      vendor = { ...(await buildVendor(esbuild, staging, specifiers)), key };
      makeVendorCache(staging, log);
    }
    const outputs = {};
    const staticHomes = new Set();
    for (const [file, meta] of Object.entries(result.metafile.outputs)) {
      if (file.endsWith('.map')) continue;
      const out = join('dist', relative(staging, join(ROOT, file)));
      // Only files count: the package stubs are virtual (`cjs-package:<name>`, `vendor:<name>`).
      outputs[out] = Object.keys(meta.inputs).filter((input) => !/^(cjs-package|vendor):/.test(input)).sort();
      if (meta.inputs[STATIC_READER]) staticHomes.add(dirname(join(ROOT, file)));
    }
    for (const home of staticHomes) cpSync(join(ROOT, STATIC_DIR), join(home, 'static'), { recursive: true });
    // The bundled packages change with an install, which rewrites the lockfiles; their 1,500 files are not listed.
    outputs[join('dist', VENDOR)] = [...INSTALL_MARKERS.filter((f) => existsSync(join(ROOT, f))), relative(ROOT, VENDOR_LOADER)];
    if (existsSync(join(staging, `${VENDOR}.cache`))) outputs[join('dist', `${VENDOR}.cache`)] = outputs[join('dist', VENDOR)];
    // The sources' mtimes are compared with the moment the build *started*: an edit during the build stays stale.
    writeFileSync(join(staging, 'build-info.json'), `${JSON.stringify({ builtAt: started, node: process.version, entryPoints: ENTRY_POINTS, vendor: { packages: vendor.packages, modules: vendor.modules, key: vendor.key }, outputs }, null, 1)}\n`);
    const old = join(ROOT, `.dist-old-${process.pid}`);
    if (existsSync(DIST)) renameSync(DIST, old);
    renameSync(staging, DIST);
    rmSync(old, { recursive: true, force: true });
    log(`built dist/ in ${Date.now() - started} ms (${vendor.packages} npm packages, ${vendor.modules} modules in ${VENDOR}${vendor.reused ? ', kept' : ''})`);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Builds when dist/ is stale. Without esbuild (an install without devDependencies) an existing dist/ is used as
 * it is; a missing one is an error that says what to run.
 */
export async function ensureBuilt({ log = (line) => console.error(line) } = {}) {
  if (!staleReason()) return;
  const release = acquireLock();
  try {
    const reason = staleReason(); // another process may have built it while we waited
    if (!reason) return;
    try {
      await import('esbuild');
    } catch {
      if (existsSync(BUILD_INFO)) return;
      throw new Error('dist/ is missing and esbuild (a devDependency) is not installed: run `npm ci` and `npm run build`');
    }
    log(`building dist/ (${reason})`);
    await buildUnlocked(log);
  } finally {
    release();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const ifStale = process.argv.includes('--if-stale');
  (ifStale ? ensureBuilt() : build()).catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
