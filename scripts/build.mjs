#!/usr/bin/env node
// `npm run build`: compiles the product into dist/ with esbuild — one ESM bundle per entry point, npm packages left
// external (botbuilder, restify, better-sqlite3 … are loaded from node_modules as Node loads them), and code
// splitting, so what only local mode uses (the simulator, the playground) sits in chunks that a bot on a real
// tenant never loads. The playground's static files are copied beside the output that serves them.
//
//   node scripts/build.mjs             build
//   node scripts/build.mjs --if-stale  build only when dist/ is missing or older than its sources (prestart)
//
// dist/build-info.json records which sources went into which output; it is the staleness check's input list.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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

/** Defined at the top of every output file; the CommonJS packages are loaded through it (see cjsPackagesByRequire). */
const REQUIRE = '__opterRequire';
const BANNER = `import { createRequire as __opterCreateRequire } from 'node:module';\nconst ${REQUIRE} = __opterCreateRequire(import.meta.url);`;

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
 * Every npm package stays external. Those that are CommonJS (botbuilder, @microsoft/teams-ai, better-sqlite3 …) are
 * loaded with require() rather than `import`: importing CommonJS from ESM makes Node scan each module, and every
 * module it re-exports, for export names (cjs-module-lexer), which for teams-ai's and botbuilder's re-export trees
 * is a measurable part of start-up. esbuild's CommonJS interop then gives the same bindings TypeScript's
 * esModuleInterop describes. ESM packages (and node: built-ins) are imported as they are.
 */
const cjsPackagesByRequire = {
  name: 'cjs-packages-by-require',
  setup(b) {
    const cache = new Map();
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.namespace === 'cjs-package' || args.path.startsWith('node:') || builtinModules.includes(args.path)) return { path: args.path, external: true };
      if (!cache.has(args.path)) cache.set(args.path, isCommonJsPackage(args.path));
      return cache.get(args.path) ? { path: args.path, namespace: 'cjs-package' } : { path: args.path, external: true };
    });
    b.onLoad({ filter: /.*/, namespace: 'cjs-package' }, (args) => ({ contents: `module.exports = ${REQUIRE}(${JSON.stringify(args.path)});`, loader: 'js' }));
  },
};

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
      plugins: [cjsPackagesByRequire],
      banner: { js: BANNER },
      sourcemap: 'linked',
      metafile: true,
      logLevel: 'warning',
    });
    const outputs = {};
    const staticHomes = new Set();
    for (const [file, meta] of Object.entries(result.metafile.outputs)) {
      if (file.endsWith('.map')) continue;
      const out = join('dist', relative(staging, join(ROOT, file)));
      // Only files count: the CommonJS stubs are virtual (`cjs-package:<name>`) and change with package.json.
      outputs[out] = Object.keys(meta.inputs).filter((input) => !input.startsWith('cjs-package:')).sort();
      if (meta.inputs[STATIC_READER]) staticHomes.add(dirname(join(ROOT, file)));
    }
    for (const home of staticHomes) cpSync(join(ROOT, STATIC_DIR), join(home, 'static'), { recursive: true });
    // The sources' mtimes are compared with the moment the build *started*: an edit during the build stays stale.
    writeFileSync(join(staging, 'build-info.json'), `${JSON.stringify({ builtAt: started, entryPoints: ENTRY_POINTS, outputs }, null, 1)}\n`);
    const old = join(ROOT, `.dist-old-${process.pid}`);
    if (existsSync(DIST)) renameSync(DIST, old);
    renameSync(staging, DIST);
    rmSync(old, { recursive: true, force: true });
    log(`built dist/ in ${Date.now() - started} ms`);
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
