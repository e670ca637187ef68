/**
 * The import rules of docs/architecture.md ("Layers and import rules"), as a checker over source text. It reads every
 * import, re-export, dynamic import() and import type of a TypeScript file with the TypeScript parser (no type
 * checking, so it is fast) and reports each import that breaks a rule.
 */
import { builtinModules } from 'node:module';
import { posix } from 'node:path';
import ts from 'typescript';

/** src/<area> folders from the bottom up. An area may import its own files and areas of a strictly lower layer. */
export const LAYERS: readonly (readonly string[])[] = [
  ['core'],
  ['provisioning'],
  ['requests', 'cards'],
  ['actions'],
  ['adapters', 'store'],
  ['runtime'],
  ['bot', 'cli'],
  ['playground'],
  ['main'],
];

/** Areas that must stay pure: node built-ins at most (src/core: type-only), never a package but PURE_PACKAGES. */
export const PURE_AREAS = ['core', 'provisioning', 'requests', 'cards'];

/** Packages that do no I/O and hold no SDK, which the pure areas (except src/core) may use: schema decoding. */
export const PURE_PACKAGES = ['zod'];

/**
 * Areas with one public surface: code outside the area imports only its index (for src/provisioning: the engine,
 * the job and result types and the pure helpers it exports), never its internals (runtime, workflows, activities).
 */
export const PUBLIC_SURFACES = ['provisioning'];
/**
 * Areas with a short list of what they may import: the action definitions (src/actions) are read by the bot and the
 * CLI and build on the engine and the cards, with zod for their payload schemas — nothing that talks to a tenant,
 * the store or Teams.
 */
export const RESTRICTED_AREAS: Readonly<Record<string, { areas: readonly string[]; packages: readonly string[] }>> = {
  actions: { areas: ['core', 'provisioning', 'cards'], packages: ['zod'] },
};

/** Areas that implement the core's ports: they import the core and nothing else of ours. */
export const PORT_IMPLEMENTATIONS = ['adapters', 'store'];

/** The simulated tenant stands alone: it imports no other area, and only local-mode code imports it. */
export const SIM = 'sim';
export const SIM_USERS = ['runtime', 'playground', 'main'];

/**
 * Files under src/ that exist for tests only. They may import anything (like tests), and no production file may
 * import them.
 */
export const TEST_SUPPORT = [/^src\/cards\/card-check\.ts$/, /^src\/cards\/render-check\.ts$/, /^src\/store\/testing\//];

/**
 * Files of the bot that must not know its SDK (botbuilder, botframework-*, teams-ai), not even by type: the handlers
 * and the background work see a turn only through src/bot/turn-port.ts, so moving to another Teams SDK changes
 * src/bot/host/ only (src/bot/README.md).
 */
export const BOT_SDK_FREE = [/^src\/bot\/handlers\//, /^src\/bot\/background\//, /^src\/bot\/turn-port\.ts$/];
const isBotSdk = (spec: string) => spec === 'botbuilder' || spec.startsWith('botbuilder-') || spec.startsWith('botbuilder/') || spec.startsWith('botframework-') || spec.startsWith('@microsoft/teams-ai');

export interface Exception {
  /** The importing file, relative to the repository root. */
  from: string;
  /** The import specifier exactly as written. */
  specifier: string;
  /** The exception covers only an `import type` (erased at compile time). */
  typeOnly?: boolean;
  why: string;
}

/** Imports that break a rule on purpose. Each must still occur (a stale entry fails the test), so the list only shrinks. */
export const EXCEPTIONS: readonly Exception[] = [
  {
    from: 'src/bot/index.ts',
    specifier: '../sim',
    typeOnly: true,
    why: 'type only: BotOptions.simulator is the simulator a test or the playground started, handed unchanged to openTenant (src/runtime)',
  },
];

export interface SourceFile {
  /** Relative to the repository root, with forward slashes. */
  path: string;
  text: string;
}

export interface ImportRef {
  specifier: string;
  typeOnly: boolean;
  line: number;
}

export interface Violation {
  from: string;
  specifier: string;
  line: number;
  rule: string;
}

/** Every module specifier a file names, and whether the reference is erased at compile time. */
export function importsOf(file: SourceFile): ImportRef[] {
  const sf = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const refs: ImportRef[] = [];
  const add = (spec: ts.Node, typeOnly: boolean) => {
    if (ts.isStringLiteralLike(spec)) {
      refs.push({ specifier: spec.text, typeOnly, line: sf.getLineAndCharacterOfPosition(spec.getStart(sf)).line + 1 });
    }
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const named = clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings.elements : undefined;
      const allNamedTypeOnly = !!named && named.length > 0 && !clause?.name && named.every((e) => e.isTypeOnly);
      add(node.moduleSpecifier, !!clause && (clause.isTypeOnly || allNamedTypeOnly));
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      const named = node.exportClause && ts.isNamedExports(node.exportClause) ? node.exportClause.elements : undefined;
      add(node.moduleSpecifier, node.isTypeOnly || (!!named && named.length > 0 && named.every((e) => e.isTypeOnly)));
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node.moduleReference.expression, node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments.length > 0) {
      add(node.arguments[0], false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return refs;
}

export const isTestCode = (path: string): boolean =>
  !path.startsWith('src/') || /\.test\.ts$/.test(path) || TEST_SUPPORT.some((re) => re.test(path));

/** The src/<area> a path is in ('main' for src/main.ts), or null outside src/. */
export function areaOf(path: string): string | null {
  const m = /^src\/([^/]+)(\/|$)/.exec(path);
  if (!m) return null;
  return m[2] === '/' ? m[1] : m[1].replace(/\.[cm]?[jt]s$/, '');
}

const BUILTINS = new Set(builtinModules);
const isBuiltin = (spec: string) => spec.startsWith('node:') || BUILTINS.has(spec.split('/')[0]);
const layerOf = (area: string) => LAYERS.findIndex((l) => l.includes(area));

/** The rule an import breaks, or null. */
function ruleBroken(from: string, ref: ImportRef, files: ReadonlySet<string>): string | null {
  const area = areaOf(from)!;
  const spec = ref.specifier;

  const restricted = RESTRICTED_AREAS[area];
  if (!spec.startsWith('.')) {
    if (restricted && !restricted.packages.includes(spec)) return `src/${area} imports no package but ${restricted.packages.join(', ')}`;
    if (isBuiltin(spec)) {
      if (area === 'core' && !ref.typeOnly) return 'src/core imports node built-ins as types only';
      return null;
    }
    if (PURE_AREAS.includes(area) && !(area !== 'core' && PURE_PACKAGES.includes(spec))) return `src/${area} imports no package (SDKs belong in adapters at the edge)`;
    if (isBotSdk(spec) && BOT_SDK_FREE.some((re) => re.test(from))) return 'src/bot/handlers, src/bot/background and the turn port see the Teams SDK only through src/bot/turn-port.ts; SDK code lives in src/bot/host';
    return null;
  }

  const target = posix.normalize(posix.join(posix.dirname(from), spec));
  const targetArea = areaOf(target);
  if (targetArea === null) return 'production code imports nothing outside src/ (tests, scripts)';
  const asTs = /\.[cm]?[jt]s$/.test(target) ? target.replace(/\.js$/, '.ts') : `${target}.ts`;
  const targetFile = [target, asTs, `${target}/index.ts`].find((p) => files.has(p)) ?? asTs;
  if (TEST_SUPPORT.some((re) => re.test(targetFile))) return `${targetFile} is test support; production code does not import it`;
  if (BOT_SDK_FREE.some((re) => re.test(from)) && targetFile.startsWith('src/bot/host/')) {
    return 'src/bot/handlers, src/bot/background and the turn port do not import src/bot/host (it is where the SDK lives; shared shapes are in src/bot/turn-port.ts, src/bot/invoke-result.ts)';
  }
  if (targetArea === area) return null;
  if (PUBLIC_SURFACES.includes(targetArea) && target !== `src/${targetArea}` && targetFile !== `src/${targetArea}/index.ts`) {
    return `outside src/${targetArea}, import only its public surface (src/${targetArea}/index.ts)`;
  }
  if (restricted && !restricted.areas.includes(targetArea)) return `src/${area} imports only ${restricted.areas.map((a) => `src/${a}`).join(', ')}`;
  if (area === SIM) return 'src/sim stands alone: it imports no other area';
  if (targetArea === SIM) return SIM_USERS.includes(area) ? null : `only ${SIM_USERS.map((a) => `src/${a}`).join(', ')} and tests import src/sim`;
  if (PORT_IMPLEMENTATIONS.includes(area) && targetArea !== 'core') return `src/${area} implements the core's ports: it imports only src/core`;
  const [lo, hi] = [layerOf(targetArea), layerOf(area)];
  if (lo < 0) return `src/${targetArea} is in no layer (add it to LAYERS and docs/architecture.md)`;
  if (lo >= hi) return `src/${area} (layer ${hi}) may import only lower layers, not src/${targetArea} (layer ${lo})`;
  return null;
}

/** Every rule broken by the given files' imports, and every exception that no longer matches an import. */
export function checkBoundaries(sources: readonly SourceFile[], exceptions: readonly Exception[] = EXCEPTIONS) {
  const violations: Violation[] = [];
  const usedExceptions = new Set<Exception>();
  const paths = new Set(sources.map((s) => s.path));
  for (const file of sources) {
    if (isTestCode(file.path)) continue;
    const area = areaOf(file.path)!;
    if (area !== SIM && layerOf(area) < 0) {
      violations.push({ from: file.path, specifier: '', line: 0, rule: `src/${area} is in no layer (add it to LAYERS and docs/architecture.md)` });
      continue;
    }
    for (const ref of importsOf(file)) {
      const rule = ruleBroken(file.path, ref, paths);
      if (!rule) continue;
      const exception = exceptions.find((e) => e.from === file.path && e.specifier === ref.specifier && (!e.typeOnly || ref.typeOnly));
      if (exception) usedExceptions.add(exception);
      else violations.push({ from: file.path, specifier: ref.specifier, line: ref.line, rule });
    }
  }
  const staleExceptions = exceptions.filter((e) => !usedExceptions.has(e));
  return { violations, staleExceptions };
}

export const describeViolation = (v: Violation): string => `${v.from}:${v.line} imports '${v.specifier}': ${v.rule}`;
