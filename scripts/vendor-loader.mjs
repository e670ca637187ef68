// Runtime part of the build (scripts/build.mjs), bundled into dist/: loads dist/node_modules/vendor.js, the npm
// packages compiled into one CommonJS bundle, with the V8 code cache the build made for it (vendor.js.cache beside it).
// The folder is named node_modules because the code is theirs, and Node treats it so: it does not warn about a
// package's deprecated `new Buffer()` (restify's body reader), as it did not when they were loaded from the project's
// node_modules. Why and what it saves: docs/performance.md (P4) and docs/architecture.md ("How it runs").
//
// The cache only saves compile time; it never changes what runs. V8 refuses a cache made by another V8 version or with
// other V8 flags (`cachedDataRejected`), but it checks the source only by its length and trusts the bytes (a damaged
// cache crashes the process), so the cache file starts with a CRC-32 of the source and the cache, checked before V8
// sees them (about 10 ms). A missing, unreadable, mismatching or refused cache means compiling the bundle as if there
// were none; nothing here writes at run time.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { Buffer, isAscii } from 'node:buffer';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants as vmConstants, Script } from 'node:vm';
import { crc32 } from 'node:zlib';

let loaded = null;

/** Cache file: MAGIC, the checksum (uint32 big-endian), 4 bytes reserved, then V8's cached data (so it stays 8-aligned). */
const MAGIC = Buffer.from('OPTERVC1');
const HEADER_BYTES = 16;
const checksum = (source, cache) => crc32(cache, crc32(source));

function readCache(cacheFile, source) {
  try {
    const bytes = readFileSync(cacheFile);
    if (bytes.length <= HEADER_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
    const data = bytes.subarray(HEADER_BYTES);
    return bytes.readUInt32BE(MAGIC.length) === checksum(source, data) ? data : undefined;
  } catch {
    return undefined;
  }
}

const VENDOR = 'node_modules/vendor.js';

function load(distUrl, scriptName) {
  if (loaded) return loaded;
  const file = fileURLToPath(new URL(VENDOR, distUrl));
  const bytes = readFileSync(file);
  // An ASCII source read as latin1 becomes an external one-byte string, outside V8's heap (about 10 MiB less resident
  // memory than the utf8 read, which copies it into the heap). The build makes the bundle ASCII where it can; a
  // bundle that is not is read as utf8, correct, only larger.
  const source = isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
  const cachedData = readCache(`${file}.cache`, bytes);
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
  const { file, script, modules } = load(distUrl, fileURLToPath(new URL(VENDOR, finalDistUrl ?? distUrl)));
  const bytes = readFileSync(file);
  for (const get of Object.values(modules)) get();
  const data = script.createCachedData();
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header);
  header.writeUInt32BE(checksum(bytes, data), MAGIC.length);
  const tmp = `${file}.cache.tmp-${process.pid}`;
  writeFileSync(tmp, Buffer.concat([header, data]));
  renameSync(tmp, `${file}.cache`);
}

/** Whether this process compiled the bundle with its cache: true, false (refused by V8), null (none or not valid, or not loaded yet). */
export function vendorCacheUsed() {
  return loaded ? (loaded.cacheRejected === null ? null : !loaded.cacheRejected) : null;
}
