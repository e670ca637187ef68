import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { AppManifestUtils } from '@microsoft/app-manifest';
import { afterAll, describe, expect, it } from 'vitest';
import {
  APP_PACKAGE_DIR,
  ENV_DIR,
  PACKAGE_FILES,
  ROOT_DIR,
  buildAppPackage,
  checkIcons,
  crc32,
  decodePng,
  drawColorIcon,
  drawOutlineIcon,
  encodePng,
  loadBundledSchema,
  loadEnvironment,
  newestBundledManifestVersion,
  parseEnvFile,
  placeholdersIn,
  readZip,
  substitutePlaceholders,
  writeZip,
} from '../../scripts/package-app';

const SAMPLE_VALUES = {
  TEAMS_APP_ID: '3f1e2d4c-5b6a-4789-8abc-def012345678',
  BOT_ID: '9a8b7c6d-5e4f-4321-9fed-cba987654321',
  APP_NAME_SUFFIX: ' (test)',
  APP_DEVELOPER_NAME: 'Contoso IT',
  APP_WEBSITE_URL: 'https://intranet.contoso.com/opter-mail',
  APP_PRIVACY_URL: 'https://intranet.contoso.com/privacy',
  APP_TERMS_URL: 'https://intranet.contoso.com/terms',
};

const rawManifest = readFileSync(join(APP_PACKAGE_DIR, 'manifest.json'), 'utf8');
const manifest = JSON.parse(substitutePlaceholders(rawManifest, SAMPLE_VALUES)) as Record<string, any>;
const color = readFileSync(join(APP_PACKAGE_DIR, 'color.png'));
const outline = readFileSync(join(APP_PACKAGE_DIR, 'outline.png'));
const tempDirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'opter-apppkg-'));
  tempDirs.push(d);
  return d;
};
afterAll(() => tempDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('appPackage/manifest.json', () => {
  it('is on the newest v1.x manifest schema bundled in @microsoft/app-manifest', () => {
    const version = newestBundledManifestVersion();
    expect(manifest.manifestVersion).toBe(version);
    expect(manifest.$schema).toBe(`https://developer.microsoft.com/json-schemas/teams/v${version}/MicrosoftTeams.schema.json`);
  });

  it('validates against the bundled official schema once the placeholders are filled', async () => {
    const schema = loadBundledSchema(manifest.manifestVersion);
    expect(await AppManifestUtils.validateAgainstSchema(manifest as never, schema as never)).toEqual([]);
  });

  it('fails that validation when a value is wrong (so the check is real)', async () => {
    const schema = loadBundledSchema(manifest.manifestVersion);
    const broken = JSON.parse(substitutePlaceholders(rawManifest, { ...SAMPLE_VALUES, BOT_ID: 'not-a-guid' }));
    const errors = await AppManifestUtils.validateAgainstSchema(broken, schema as never);
    expect(errors.join('\n')).toMatch(/\/bots\/0\/botId must match pattern/);
  });

  it('uses Teams Toolkit placeholders for the ids and the publisher details, and nothing secret', () => {
    expect(placeholdersIn(rawManifest).sort()).toEqual(['APP_DEVELOPER_NAME', 'APP_NAME_SUFFIX', 'APP_PRIVACY_URL', 'APP_TERMS_URL', 'APP_WEBSITE_URL', 'BOT_ID', 'SSO_CLIENT_ID', 'TEAMS_APP_ID']);
    expect(rawManifest).toContain('"id": "${{TEAMS_APP_ID}}"');
    expect(rawManifest).toContain('"botId": "${{BOT_ID}}"');
    expect(manifest.id).toBe(SAMPLE_VALUES.TEAMS_APP_ID);
    expect(manifest.bots[0].botId).toBe(SAMPLE_VALUES.BOT_ID);
    // Teams single sign-on for the bot (delegated mode): the bot's own app and its Application ID URI, unless an SSO
    // app of its own is named.
    expect(manifest.webApplicationInfo).toEqual({ id: SAMPLE_VALUES.BOT_ID, resource: `api://botid-${SAMPLE_VALUES.BOT_ID}` });
    const own = '0b1c2d3e-4f50-4617-8283-94a5b6c7d8e9';
    expect(JSON.parse(substitutePlaceholders(rawManifest, { ...SAMPLE_VALUES, SSO_CLIENT_ID: own })).webApplicationInfo).toEqual({ id: own, resource: `api://botid-${own}` });
    expect(manifest.name.short).toBe('Opter Mail (test)');
  });

  it('declares one conversational bot for personal, team and group chats, without files', () => {
    expect(manifest.bots).toHaveLength(1);
    const bot = manifest.bots[0];
    expect(bot.scopes).toEqual(['personal', 'team', 'groupChat']);
    expect(bot.supportsFiles).toBe(false);
    expect(bot.isNotificationOnly).toBe(false);
  });

  it('lists the bot commands once per scope', () => {
    const lists = manifest.bots[0].commandLists as Array<{ scopes: string[]; commands: Array<{ title: string; description: string }> }>;
    expect(lists.flatMap((l) => l.scopes).sort()).toEqual(['groupChat', 'personal', 'team']);
    for (const list of lists) {
      expect(list.scopes).toHaveLength(1);
      const titles = list.commands.map((c) => c.title);
      expect(titles.slice(0, 8)).toEqual(['set up Opter email', 'add sender', 'status', 'new secret', 'remove sender', 'migrate to RBAC', 'test email', 'help']);
      expect(titles.length).toBeLessThanOrEqual(10); // Teams shows at most 10 commands per scope
      for (const c of list.commands) expect(c.description.length).toBeGreaterThan(0);
    }
    expect(lists.find((l) => l.scopes[0] === 'team')!.commands.map((c) => c.title)).toContain('use this channel for audit');
  });

  it('points at the two icons', () => {
    expect(manifest.icons).toEqual({ color: 'color.png', outline: 'outline.png' });
  });
});

describe('icons', () => {
  it('color.png is 192×192 and outline.png a transparent, white-only 32×32', () => {
    expect(checkIcons(color, outline)).toEqual([]);
    const c = decodePng(color);
    expect([c.width, c.height]).toEqual([192, 192]);
    const o = decodePng(outline);
    expect([o.width, o.height, o.hasAlpha]).toEqual([32, 32, true]);
    const alphaAt = (x: number, y: number) => o.rgba[(y * 32 + x) * 4 + 3];
    expect([alphaAt(0, 0), alphaAt(31, 0), alphaAt(0, 31), alphaAt(31, 31)]).toEqual([0, 0, 0, 0]);
    const opaque = Array.from({ length: 32 * 32 }, (_, i) => o.rgba[i * 4 + 3]).filter((a) => a === 255).length;
    expect(opaque).toBeGreaterThan(50); // a visible glyph, not an empty image
  });

  it('are exactly what the generator draws (so `npm run package -- --icons` reproduces them)', () => {
    expect(drawColorIcon().equals(color)).toBe(true);
    expect(drawOutlineIcon().equals(outline)).toBe(true);
  });

  it('icon check rejects wrong sizes, an opaque outline and coloured outline pixels', () => {
    const solid = (size: number, rgba: [number, number, number, number]) => encodePng(size, size, new Uint8Array(size * size * 4).map((_, i) => rgba[i % 4]));
    expect(checkIcons(solid(100, [1, 2, 3, 255]), outline)).toEqual(['color.png is 100×100, must be 192×192']);
    const problems = checkIcons(color, solid(32, [255, 0, 0, 255]));
    expect(problems).toContain('outline.png must be mostly transparent (white glyph on a transparent background)');
    expect(problems).toContain('outline.png has 1024 visible pixels that are not white');
  });

  it('PNG decoder reads what the encoder writes and refuses a corrupted chunk', () => {
    const pixels = new Uint8Array(3 * 2 * 4).map((_, i) => (i * 37) & 0xff);
    const png = encodePng(3, 2, pixels);
    expect(decodePng(png)).toMatchObject({ width: 3, height: 2, colorType: 6, hasAlpha: true, rgba: pixels });
    const bad = Buffer.from(png);
    bad[40] ^= 0xff;
    expect(() => decodePng(bad)).toThrow(/bad CRC/);
  });

  it('PNG decoder undoes every row filter (icons from other tools use them)', () => {
    // One RGB row per filter type 0–4, built by applying each filter the way the PNG spec defines it.
    const width = 4;
    const height = 5;
    const pixels = Buffer.from(Array.from({ length: width * height * 3 }, (_, i) => (i * 53 + 11) & 0xff));
    const stride = width * 3;
    const raw = Buffer.alloc(height * (stride + 1));
    for (let y = 0; y < height; y++) {
      raw[y * (stride + 1)] = y;
      for (let x = 0; x < stride; x++) {
        const a = x >= 3 ? pixels[y * stride + x - 3] : 0;
        const b = y > 0 ? pixels[(y - 1) * stride + x] : 0;
        const c = x >= 3 && y > 0 ? pixels[(y - 1) * stride + x - 3] : 0;
        const p = a + b - c;
        const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
        const predictor = [0, a, b, (a + b) >> 1, paeth][y];
        raw[y * (stride + 1) + 1 + x] = (pixels[y * stride + x] - predictor) & 0xff;
      }
    }
    const chunk = (type: string, data: Buffer) => {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(data.length);
      const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
      const crc = Buffer.alloc(4);
      crc.writeUInt32BE(crc32(body));
      return Buffer.concat([len, body, crc]);
    };
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(width, 0);
    ihdr.writeUInt32BE(height, 4);
    ihdr[8] = 8;
    ihdr[9] = 2;
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
    const decoded = decodePng(png);
    expect(decoded.hasAlpha).toBe(false);
    const rgb = Buffer.from(Array.from({ length: width * height }, (_, i) => [...decoded.rgba.subarray(i * 4, i * 4 + 3)]).flat());
    expect(rgb.equals(pixels)).toBe(true);
  });

  it('CRC-32 matches zlib’s', () => {
    const data = Buffer.from('The quick brown fox jumps over the lazy dog');
    expect(crc32(data)).toBe(0x414fa339);
    const zlibCrc = (zlib as unknown as { crc32?: (d: Uint8Array) => number }).crc32;
    if (zlibCrc) expect(crc32(color)).toBe(zlibCrc(color));
  });
});

describe('placeholders and environment files', () => {
  it('fills placeholders JSON-safely and refuses unset, empty or secret ones', () => {
    expect(substitutePlaceholders('{"a":"${{X}}"}', { X: 'say "hi"\\' })).toBe('{"a":"say \\"hi\\"\\\\"}');
    expect(substitutePlaceholders('"${{APP_NAME_SUFFIX}}"', { APP_NAME_SUFFIX: '' })).toBe('""');
    expect(() => substitutePlaceholders('${{A}} ${{B}} ${{SECRET_BOT_PASSWORD}}', { B: ' ', SECRET_BOT_PASSWORD: 'x' })).toThrow(
      /A is not set[\s\S]*B is empty[\s\S]*SECRET_BOT_PASSWORD is a secret/,
    );
  });

  it('reads KEY=VALUE files; .user values override the file and the shell overrides both', () => {
    const dir = tempDir();
    writeFileSync(join(dir, '.env.x'), '# comment\nA=1\nB="two words"\nC=3\n\n');
    writeFileSync(join(dir, '.env.x.user'), 'SECRET_K=s\nB=from-user\n');
    expect(parseEnvFile('export Q=\'v\'\n')).toEqual({ Q: 'v' });
    const env = loadEnvironment('x', dir, { C: 'shell' });
    expect(env).toMatchObject({ A: '1', B: 'from-user', C: 'shell', SECRET_K: 's' });
    expect(() => loadEnvironment('missing', dir, {})).toThrow(/no environment file/);
    expect(() => loadEnvironment('../etc', dir, {})).toThrow(/bad environment name/);
  });

  const BOT_VARIABLES = [
    'BOT_ID', 'BOT_TYPE', 'BOT_TENANT_ID', 'ADMINS', 'APPROVERS', 'AZURE_TENANT_ID', 'ALLOWED_TENANT_IDS', 'AZURE_CLIENT_ID',
    'AUTHORITY_HOST', 'GRAPH_ENDPOINT', 'EXCHANGE_ENDPOINT', 'DATA_DIR', 'AUDIT_CHANNEL_ID', 'APPROVALS_CHANNEL_ID',
    'APPROVAL_TTL_HOURS', 'SECRET_REVEAL_TTL_HOURS', 'PORT', 'PROVISIONING_AUTH', 'SSO_CONNECTION_NAME',
  ];
  const SECRET_VARIABLES = ['SECRET_BOT_PASSWORD', 'SECRET_AZURE_CLIENT_SECRET', 'SECRET_ENCRYPTION_KEY'];

  it.each(['dev', 'local'])('env/.env.%s names every variable the bot and the package need, each with a comment, and no secret', (name) => {
    const text = readFileSync(join(ENV_DIR, `.env.${name}`), 'utf8');
    const values = parseEnvFile(text);
    for (const v of [...BOT_VARIABLES, ...placeholdersIn(rawManifest)]) expect(Object.keys(values), v).toContain(v);
    // SECRET_REVEAL_TTL_HOURS is a number of hours that merely shares the Toolkit's secret prefix.
    const secretLike = Object.keys(values).filter((k) => (k.startsWith('SECRET_') && k !== 'SECRET_REVEAL_TTL_HOURS') || k === 'BOT_PASSWORD' || k === 'AZURE_CLIENT_SECRET');
    expect(secretLike).toEqual([]);
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      if (/^[A-Z_]+=/.test(line)) expect(lines[i - 1], `comment above ${line}`).toMatch(/^# \S/);
    });
    // Where the secrets go is said in the file itself.
    for (const v of ['BOT_PASSWORD', 'AZURE_CLIENT_SECRET', 'SECRET_ENCRYPTION_KEY']) expect(text).toContain(v);
  });

  it('keeps secrets only in the git-ignored *.user files (template: env/.env.user.example)', () => {
    const example = parseEnvFile(readFileSync(join(ENV_DIR, '.env.user.example'), 'utf8'));
    expect(Object.keys(example)).toEqual(expect.arrayContaining(SECRET_VARIABLES));
    for (const [k, v] of Object.entries(example)) {
      expect(k.startsWith('SECRET_'), k).toBe(true);
      expect(v, k).toBe('');
    }
    const ignored = spawnSync('git', ['check-ignore', 'env/.env.dev.user', 'env/.env.local.user'], { cwd: ROOT_DIR, encoding: 'utf8', timeout: 10_000 });
    expect(ignored.stdout.trim().split('\n')).toEqual(['env/.env.dev.user', 'env/.env.local.user']);
  });
});

describe('npm run package', () => {
  it('writes a zip with exactly manifest.json, color.png and outline.png that reads back to them', async () => {
    const outDir = tempDir();
    const result = await buildAppPackage({ envName: 'test', values: SAMPLE_VALUES, outDir });
    expect(result.zipPath).toBe(join(outDir, 'appPackage.test.zip'));
    const entries = readZip(readFileSync(result.zipPath));
    expect(entries.map((e) => e.name)).toEqual([...PACKAGE_FILES]);
    expect(entries[0].data.toString('utf8')).toBe(substitutePlaceholders(rawManifest, SAMPLE_VALUES));
    expect(entries[1].data.equals(color)).toBe(true);
    expect(entries[2].data.equals(outline)).toBe(true);
    expect(readFileSync(result.manifestPath, 'utf8')).toBe(entries[0].data.toString('utf8'));
    // Same input, same bytes.
    const again = await buildAppPackage({ envName: 'test', values: SAMPLE_VALUES, outDir: tempDir() });
    expect(readFileSync(again.zipPath).equals(readFileSync(result.zipPath))).toBe(true);
  });

  const unzip = spawnSync('unzip', ['-v'], { encoding: 'utf8', timeout: 10_000 });
  it.skipIf(unzip.status !== 0)('the zip opens with Info-ZIP unzip too (an independent reader)', async () => {
    const outDir = tempDir();
    const { zipPath } = await buildAppPackage({ envName: 'test', values: SAMPLE_VALUES, outDir });
    expect(spawnSync('unzip', ['-tq', zipPath], { encoding: 'utf8', timeout: 10_000 }).status).toBe(0);
    expect(spawnSync('unzip', ['-Z1', zipPath], { encoding: 'utf8', timeout: 10_000 }).stdout.trim().split('\n')).toEqual([...PACKAGE_FILES]);
    const extracted = spawnSync('unzip', ['-p', zipPath, 'outline.png'], { timeout: 10_000 }).stdout as Buffer;
    expect(extracted.equals(outline)).toBe(true);
  });

  it('refuses to package with missing placeholders or an invalid manifest', async () => {
    const { TEAMS_APP_ID: _omit, ...withoutAppId } = SAMPLE_VALUES;
    await expect(buildAppPackage({ envName: 'test', values: withoutAppId, outDir: tempDir() })).rejects.toThrow(/TEAMS_APP_ID is not set/);
    await expect(buildAppPackage({ envName: 'test', values: { ...SAMPLE_VALUES, APP_WEBSITE_URL: 'intranet' }, outDir: tempDir() })).rejects.toThrow(/does not match its schema[\s\S]*websiteUrl/);
  });

  it('writes zip entries that any reader can verify (stored CRC and sizes)', () => {
    const zip = writeZip([{ name: 'a.txt', data: Buffer.from('hello hello hello') }]);
    expect(readZip(zip)).toEqual([{ name: 'a.txt', data: Buffer.from('hello hello hello') }]);
    const corrupted = Buffer.from(zip);
    corrupted.writeUInt32LE(0, 14 + 0); // CRC in the local header is not what readers trust …
    corrupted.writeUInt32LE(0, zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])) + 16); // … the central one is
    expect(() => readZip(corrupted)).toThrow(/CRC mismatch/);
  });

  it('runs as a command: env file + shell variables → appPackage.<env>.zip', () => {
    const outDir = tempDir();
    const r = spawnSync('npx', ['tsx', 'scripts/package-app.ts', '--env', 'local', '--out', outDir], {
      cwd: ROOT_DIR,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, TEAMS_APP_ID: SAMPLE_VALUES.TEAMS_APP_ID, BOT_ID: SAMPLE_VALUES.BOT_ID },
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`appPackage.local.zip (app ${SAMPLE_VALUES.TEAMS_APP_ID}, bot ${SAMPLE_VALUES.BOT_ID}, manifest ${newestBundledManifestVersion()})`);
    const files = readZip(readFileSync(join(outDir, 'appPackage.local.zip')));
    expect(JSON.parse(files[0].data.toString('utf8')).name.short).toBe('Opter Mail (local)');
  });
});
