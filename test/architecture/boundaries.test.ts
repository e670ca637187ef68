import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkBoundaries, describeViolation, EXCEPTIONS, importsOf, type SourceFile } from './boundaries';

const root = join(import.meta.dirname, '..', '..');

function sourcesUnder(dir: string): SourceFile[] {
  return readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.ts$/.test(e.name))
    .map((e) => relative(root, join(e.parentPath, e.name)).split(sep).join('/'))
    .map((path) => ({ path, text: readFileSync(join(root, path), 'utf8') }));
}

describe('import boundaries (docs/architecture.md, "Layers and import rules")', () => {
  it('src/ keeps every rule, and every listed exception is still needed', () => {
    const sources = sourcesUnder('src');
    expect(sources.length).toBeGreaterThan(50);
    const { violations, staleExceptions } = checkBoundaries(sources);
    expect(violations.map(describeViolation)).toEqual([]);
    expect(staleExceptions).toEqual([]);
  });

  it('every exception says why', () => {
    for (const e of EXCEPTIONS) expect(e.why.length).toBeGreaterThan(20);
  });
});

describe('the checker', () => {
  const check = (files: Record<string, string>) =>
    checkBoundaries(Object.entries(files).map(([path, text]) => ({ path, text })), []).violations.map((v) => `${v.from} ${v.specifier}`);

  it('reads static, type-only, re-exported, dynamic and import-type references', () => {
    const refs = importsOf({
      path: 'src/x/a.ts',
      text: [
        "import a from 'pkg-a';",
        "import type { B } from 'pkg-b';",
        "import { type C, type D } from 'pkg-c';",
        "import { type E, f } from 'pkg-e';",
        "export * from './star';",
        "export type { G } from './g';",
        "const h = await import('pkg-h');",
        "let i: import('pkg-i').I;",
        "import 'side-effect';",
      ].join('\n'),
    });
    expect(refs.map((r) => [r.specifier, r.typeOnly, r.line])).toEqual([
      ['pkg-a', false, 1],
      ['pkg-b', true, 2],
      ['pkg-c', true, 3],
      ['pkg-e', false, 4],
      ['./star', false, 5],
      ['./g', true, 6],
      ['pkg-h', false, 7],
      ['pkg-i', true, 8],
      ['side-effect', false, 9],
    ]);
  });

  it('passes code that keeps the rules', () => {
    expect(
      check({
        'src/core/ports.ts': "import type { Readable } from 'node:stream';\nimport { E } from './errors';",
        'src/provisioning/engine.ts': "import { randomUUID } from 'node:crypto';\nimport type { Clock } from '../core/ports';",
        'src/cards/form.ts': "import { toAlias } from '../provisioning';",
        'src/cli/run.ts': "import { ProvisioningEngine } from '../provisioning/index';",
        'src/store/db.ts': "import Database from 'better-sqlite3';\nimport { OpterError } from '../core/errors';",
        'src/runtime/tenant.ts': "import { startSimulator } from '../sim';\nimport { createTenantAdapters } from '../adapters';",
        'src/bot/app.ts': "import { Application } from '@microsoft/teams-ai';\nimport { requestForm } from '../cards/request-form';",
        'src/main.ts': "const p = await import('./playground/product');",
        'src/sim/graph.ts': "import { createServer } from 'node:https';\nimport { ids } from './ids';",
        'src/cards/card-check.ts': "const AC = await import('adaptivecards');",
        'src/cards/form.test.ts': "import { checkCard } from './card-check';\nimport { startSimulator } from '../sim';",
        'src/actions/remove-sender/index.ts': "import { z } from 'zod';\nimport { lifecycleResultCard } from '../../cards';\nimport { REMOVE_SENDER_STEPS } from '../../provisioning';\nimport type { JobRecord } from '../../core/ports';\nimport { defineAction } from '../types';",
        'src/bot/handlers/commands.ts': "import { registry } from '../../actions/registry';",
        'src/cli/lifecycle.ts': "import { actionFor } from '../actions/registry';",
      }),
    ).toEqual([]);
  });

  it('catches each kind of violation', () => {
    expect(
      check({
        'src/core/clock.ts': "import { setTimeout } from 'node:timers/promises';",
        'src/core/ports.ts': "import type { TokenCredential } from '@azure/identity';",
        'src/provisioning/engine.ts': "import { Client } from '@microsoft/microsoft-graph-client';",
        'src/requests/rules.ts': "import type { Store } from '../store';",
        'src/cards/approval.ts': "import * as AC from 'adaptivecards';\nimport { isAdmin } from '../bot/auth';",
        'src/adapters/exchange.ts': "import { toAlias } from '../provisioning/names';",
        'src/bot/jobs.ts': "import { WORKFLOWS } from '../provisioning/workflows';",
        'src/store/journal.ts': "import { startSimulator } from '../sim';",
        'src/sim/graph.ts': "import { OpterError } from '../core/errors';",
        'src/bot/app.ts': "import { runCli } from '../cli';\nimport { fakeClock } from '../../test/harness/clock';",
        'src/cli/index.ts': "import { checkCard } from '../cards/card-check';",
        'src/runtime/tenant.ts': "import { startProduct } from '../playground/product';",
        'src/newarea/x.ts': "export const x = 1;",
        'src/actions/setup/index.ts': "import type { Store } from '../../store';\nimport { TeamsInfo } from 'botbuilder';\nimport { randomUUID } from 'node:crypto';\nimport type { Actor } from '../../requests/rules';",
        'src/store/requests.ts': "import type { ActionKind } from '../actions/registry';",
        'src/cards/help.ts': "import { actionHelp } from '../actions/registry';",
        'src/provisioning/rotate.ts': "import type { ActionKind } from '../actions/registry';",
      }),
    ).toEqual([
      'src/core/clock.ts node:timers/promises',
      'src/core/ports.ts @azure/identity',
      'src/provisioning/engine.ts @microsoft/microsoft-graph-client',
      'src/requests/rules.ts ../store',
      'src/cards/approval.ts adaptivecards',
      'src/cards/approval.ts ../bot/auth',
      'src/adapters/exchange.ts ../provisioning/names',
      'src/bot/jobs.ts ../provisioning/workflows',
      'src/store/journal.ts ../sim',
      'src/sim/graph.ts ../core/errors',
      'src/bot/app.ts ../cli',
      'src/bot/app.ts ../../test/harness/clock',
      'src/cli/index.ts ../cards/card-check',
      'src/runtime/tenant.ts ../playground/product',
      'src/newarea/x.ts ',
      'src/actions/setup/index.ts ../../store',
      'src/actions/setup/index.ts botbuilder',
      'src/actions/setup/index.ts node:crypto',
      'src/actions/setup/index.ts ../../requests/rules',
      'src/store/requests.ts ../actions/registry',
      'src/cards/help.ts ../actions/registry',
      'src/provisioning/rotate.ts ../actions/registry',
    ]);
  });

  it('an exception covers only the import it names, and one that matches nothing is reported stale', () => {
    const files = [
      { path: 'src/bot/index.ts', text: "import type { Simulator } from '../sim';" },
      { path: 'src/bot/other.ts', text: "import { startSimulator } from '../sim';" },
    ];
    const exceptions = [
      { from: 'src/bot/index.ts', specifier: '../sim', typeOnly: true, why: 'fixture' },
      { from: 'src/bot/gone.ts', specifier: '../sim', why: 'fixture' },
    ];
    const { violations, staleExceptions } = checkBoundaries(files, exceptions);
    expect(violations.map((v) => v.from)).toEqual(['src/bot/other.ts']);
    expect(staleExceptions.map((e) => e.from)).toEqual(['src/bot/gone.ts']);
    // A type-only exception does not excuse a value import of the same module.
    const valueImport = checkBoundaries([{ path: 'src/bot/index.ts', text: "import { startSimulator } from '../sim';" }], exceptions.slice(0, 1));
    expect(valueImport.violations).toHaveLength(1);
  });

  it('BOT_SDK_FREE: handlers and background work decide without importing the host (where the SDK lives)', () => {
    expect(
      check({
        'src/bot/handlers/forms.ts': "import { sendInvokeResponse } from '../host/invoke';\nimport { cardResult } from '../invoke-result';",
        'src/bot/background/runner.ts': "import { describeError } from '../host/log';\nimport { describeError as d } from '../describe-error';",
        'src/bot/turn-port.ts': "import type { BotServer } from './host/server';",
        'src/bot/host/app.ts': "import { handleDecision } from '../handlers/approvals';",
        'src/bot/index.ts': "import { startBotServer } from './host/server';",
      }),
    ).toEqual(['src/bot/handlers/forms.ts ../host/invoke', 'src/bot/background/runner.ts ../host/log', 'src/bot/turn-port.ts ./host/server']);
  });

  it('BOT_SDK_FREE: handlers, background work and the turn port import no Teams SDK, not even a type; host/ may', () => {
    expect(
      check({
        'src/bot/handlers/forms.ts': "import type { TurnContext } from 'botbuilder';\nimport type { TurnPort } from '../turn-port';",
        'src/bot/handlers/x.ts': "import { TeamsInfo } from 'botbuilder';",
        'src/bot/background/worker.ts': "import type { ConversationReference } from 'botbuilder-core';",
        'src/bot/background/runner.ts': "import type { ServiceClientCredentialsFactory } from 'botframework-connector';",
        'src/bot/turn-port.ts': "let a: import('@microsoft/teams-ai').TurnState;",
        'src/bot/host/invoke.ts': "import { ActivityTypes, type TurnContext } from 'botbuilder';",
        'src/bot/host/app.ts': "import { Application } from '@microsoft/teams-ai';",
        'src/bot/index.ts': "import type { ServiceClientCredentialsFactory } from 'botframework-connector';",
        'src/bot/handlers/forms.test.ts': "import { TurnContext } from 'botbuilder';",
      }),
    ).toEqual([
      'src/bot/handlers/forms.ts botbuilder',
      'src/bot/handlers/x.ts botbuilder',
      'src/bot/background/worker.ts botbuilder-core',
      'src/bot/background/runner.ts botframework-connector',
      'src/bot/turn-port.ts @microsoft/teams-ai',
    ]);
  });
});
