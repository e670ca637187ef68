// Runtime part of the build (scripts/build.mjs), bundled into dist/: loads dist/node_modules/vendor.js, the npm
// packages compiled into one CommonJS bundle, with the V8 code cache the build made for it (vendor.js.cache beside it).
// The folder is named node_modules because the code is theirs: Node treats it as such (e.g. it does not warn about a
// package's deprecated `new Buffer()`, as it never did when they were loaded from the project's node_modules). Why and what it saves:
// docs/performance.md (P4) and docs/architecture.md ("How it runs").
//
// The cache only saves compile time; it never changes what runs. V8 refuses a cache made by another V8 version, with
// other V8 flags or for a source of another length (`cachedDataRejected`), and the build writes both files into the
// same staging folder that then replaces dist/ as a whole, so a cache always belongs to its bundle. A missing,
// unreadable or refused cache means compiling the bundle as if there were none.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isAscii } from 'node:buffer';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants as vmConstants, Script } from 'node:vm';

let loaded = null;

const VENDOR = 'node_modules/vendor.js';

function load(distUrl, scriptName) {
  if (loaded) return loaded;
  const file = fileURLToPath(new URL(VENDOR, distUrl));
  const bytes = readFileSync(file);
  // An ASCII source read as latin1 becomes an external one-byte string: outside V8's heap and never copied into it
  // (about 15 MiB less resident memory than the utf8 read). esbuild escapes non-ASCII characters, so it is ASCII
  // unless a package has them in a regular expression or comment; those are read as utf8.
  const source = isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
  let cachedData;
  try {
    cachedData = readFileSync(`${file}.cache`);
  } catch {
    cachedData = undefined;
  }
  const script = new Script(source, {
    // Stack traces name this file. A cached script keeps the name it was made under, hence `scriptName` for the build.
    filename: scriptName ?? file,
    cachedData,
    // A package's own `import()` (none is known to be reached) then behaves as in a CommonJS module of the package.
    importModuleDynamically: vmConstants?.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  // The file is `(function (exports, require, module, __filename, __dirname) { … })`, as Node wraps a CommonJS module.
  const wrapper = script.runInThisContext();
  const module = { exports: {} };
  wrapper.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  loaded = { file, script, modules: module.exports, cacheRejected: cachedData ? script.cachedDataRejected === true : null };
  return loaded;
}

/** The package `specifier` (as the sources import it) from the bundle beside `distUrl` (the dist/ folder's URL). */
export function vendorModule(distUrl, specifier) {
  const get = load(distUrl).modules[specifier];
  if (!get) throw new Error(`${specifier} is not in dist/${VENDOR}: rebuild dist/ (npm run build)`);
  return get();
}

/**
 * For the build: loads every package of the bundle (so the code their loading runs is compiled) and writes the code
 * cache. Run in a fresh process with the V8 flags of `npm start`, since V8 refuses a cache made with other flags.
 * `finalDistUrl`: where the bundle will be run from (the build makes it in a staging folder).
 */
export function writeCodeCache(distUrl, finalDistUrl) {
  const { file, script, modules } = load(distUrl, fileURLToPath(new URL(VENDOR, finalDistUrl)));
  for (const get of Object.values(modules)) get();
  const tmp = `${file}.cache.tmp-${process.pid}`;
  writeFileSync(tmp, script.createCachedData());
  renameSync(tmp, `${file}.cache`);
}

/** Whether this process compiled the bundle with its cache: true, false (refused), null (none, or not loaded yet). */
export function vendorCacheUsed() {
  return loaded ? (loaded.cacheRejected === null ? null : !loaded.cacheRejected) : null;
}
