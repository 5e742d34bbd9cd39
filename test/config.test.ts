/** Config: sources and their precedence, `$env:` substitution, field-named errors, redaction. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configure, getConfig, redact } from '../src/config.js';
import { close } from '../src/runtime.js';
import { loadS3File, writeS3File } from '../src/entries/s3.js';
import { freshHome } from './helpers/storage.js';

const home = freshHome('config');
const startDir = process.cwd();
let dir: string;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'millrace-config-cwd-'));
  process.chdir(dir);
  delete process.env.MILLRACE_CONFIG;
  await configure(undefined);
});
afterEach(() => process.chdir(startDir));
afterAll(() => close());

const fsAt = (root: string) => ({ storage: { type: 'fs' as const, root } });

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toMatchObject({ name: 'MillraceError', code: 'Config' });
    return (e as Error).message;
  }
  throw new Error('expected a Config error');
}

describe('sources', () => {
  it('falls back to the embedded default under MILLRACE_HOME', () => {
    const c = getConfig();
    expect(c.source).toBe('embedded default');
    expect(c.storage).toEqual({ type: 'fs', root: resolve(home, 'storage') });
    expect(c.datatables.main).toEqual({ type: 'embedded', dataDir: resolve(home, 'datatable') });
  });

  it('configure() > MILLRACE_CONFIG > ./millrace.config.json > embedded default', async () => {
    writeFileSync(join(dir, 'millrace.config.json'), JSON.stringify(fsAt('from-file')));
    await configure(undefined);
    expect(getConfig().storage).toEqual({ type: 'fs', root: resolve(dir, 'from-file') });
    expect(getConfig().source).toBe(resolve(dir, 'millrace.config.json'));

    process.env.MILLRACE_CONFIG = JSON.stringify(fsAt('/tmp/from-env-inline'));
    await configure(undefined);
    expect(getConfig()).toMatchObject({ source: 'MILLRACE_CONFIG', storage: { root: '/tmp/from-env-inline' } });

    const path = join(dir, 'elsewhere.json');
    writeFileSync(path, JSON.stringify(fsAt('/tmp/from-env-file')));
    process.env.MILLRACE_CONFIG = path;
    await configure(undefined);
    expect(getConfig()).toMatchObject({ source: path, storage: { root: '/tmp/from-env-file' } });

    await configure(fsAt('/tmp/from-code'));
    expect(getConfig()).toMatchObject({ source: 'configure()', storage: { root: '/tmp/from-code' } });

    await configure(undefined);
    expect(getConfig().storage).toMatchObject({ root: '/tmp/from-env-file' });
  });

  it('reports unreadable and invalid sources as Config errors', async () => {
    process.env.MILLRACE_CONFIG = join(dir, 'missing.json');
    await configure(undefined);
    expect(configError(getConfig)).toMatch(/cannot read config file/);
    process.env.MILLRACE_CONFIG = '{ not json';
    await configure(undefined);
    expect(configError(getConfig)).toMatch(/^MILLRACE_CONFIG: invalid JSON/);
  });

  it('is used by the file API, and a changed config reaches it', async () => {
    const a = mkdtempSync(join(tmpdir(), 'millrace-a-'));
    const b = mkdtempSync(join(tmpdir(), 'millrace-b-'));
    await configure(fsAt(a));
    await writeS3File({ s3: 'x.txt' }, 'in a');
    await configure(fsAt(b));
    await expect(loadS3File({ s3: 'x.txt' })).rejects.toMatchObject({ code: 'NotFound' });
    process.env.MILLRACE_CONFIG = JSON.stringify(fsAt(a));
    await configure(undefined);
    expect(new TextDecoder().decode(await loadS3File({ s3: 'x.txt' }))).toBe('in a');
  });
});

describe('validation', () => {
  const check = async (config: unknown) => {
    await configure(config as never);
    return configError(getConfig);
  };

  it('names the field that is wrong', async () => {
    expect(await check({ secondaryStorage: { lake: { type: 's3' } } })).toBe('secondaryStorage.lake.bucket: required');
    expect(await check({ storage: { type: 's3', bucket: 'b', port: '9000' } })).toBe('storage.port: must be a number');
    expect(await check({ storage: { type: 'azure_blob', accountName: 'a' } })).toBe('storage.containerName: required');
    expect(await check({ storage: { type: 'fs' } })).toBe('storage.root: required');
    expect(await check({ storage: { bucket: 'b' } })).toMatch(/^storage\.type: required/);
    expect(await check({ storage: { type: 'gcs' } })).toMatch(/^storage\.type: unknown storage type "gcs"/);
    expect(await check({ resources: { 'f/x': { type: 's3', bucket: 'b', useSSL: 'yes' } } })).toBe('resources.f/x.useSSL: must be a boolean');
    expect(await check({ secondaryStorage: [] })).toMatch(/^secondaryStorage: must be an object/);
    expect(await check({ ducklakes: { lake: { catalog: { type: 'duckdb', path: 'x' }, storage: 'nope' } } })).toMatch(/^ducklakes\.lake\.storage: unknown storage "nope"/);
  });

  it('rejects unknown fields, so a typo never falls back to a default', async () => {
    expect(await check({ storage: { type: 's3', bucket: 'b', endpoint: 'http://minio:9000' } })).toMatch(/^storage\.endpoint: unknown field; expected one of .*endPoint/);
    expect(await check({ storages: {} })).toMatch(/^storages: unknown field/);
    expect(await check({ datatables: { main: { host: 'h', user: 'u', dbname: 'd', pasword: 'x' } } })).toMatch(/^datatables\.main\.pasword: unknown field/);
    expect(await check({ ducklakes: { l: { catalog: { type: 'sqlite', path: 'x', url: 'y' } } } })).toMatch(/^ducklakes\.l\.catalog\.url: unknown field/);
    expect(await check({ duckdb: { extensionDir: '/x' } })).toMatch(/^duckdb\.extensionDir: unknown field/);
  });

  it('reports invalid JSON by line and column, without quoting the text (it may hold a secret)', async () => {
    process.env.MILLRACE_CONFIG = '{\n  "storage": { "type": "s3", "bucket": "b",\n    "secretKey": AKIAsupersecretvalue }\n}';
    await configure(undefined);
    const message = configError(getConfig);
    expect(message).toBe('MILLRACE_CONFIG: invalid JSON at line 3, column 18: invalid symbol');
    expect(message).not.toContain('AKIA');
    process.env.MILLRACE_CONFIG = '{\n  "storage": {\n    "type": "fs",,\n  }\n}';
    await configure(undefined);
    expect(configError(getConfig)).toBe('MILLRACE_CONFIG: invalid JSON at line 3, column 18: property name expected');
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{ "storage": { "type": "fs" "root": "/tmp/x" } }');
    process.env.MILLRACE_CONFIG = file;
    await configure(undefined);
    expect(configError(getConfig)).toBe(`${file}: invalid JSON at line 1, column 29: comma expected`);
  });

  it('accepts comments and trailing commas (JSONC) from MILLRACE_CONFIG and ./millrace.config.json', async () => {
    const jsonc = (root: string) => `{
      // the default storage
      "storage": { "type": "fs", "root": ${JSON.stringify(root)}, }, /* trailing comma above */
    }`;
    process.env.MILLRACE_CONFIG = jsonc('/tmp/jsonc-inline');
    await configure(undefined);
    expect(getConfig()).toMatchObject({ source: 'MILLRACE_CONFIG', storage: { root: '/tmp/jsonc-inline' } });
    const file = join(dir, 'custom.jsonc');
    writeFileSync(file, jsonc('/tmp/jsonc-file'));
    process.env.MILLRACE_CONFIG = file;
    await configure(undefined);
    expect(getConfig().storage).toMatchObject({ root: '/tmp/jsonc-file' });
    delete process.env.MILLRACE_CONFIG;
    writeFileSync(join(dir, 'millrace.config.json'), jsonc(join(dir, 'jsonc-local')));
    await configure(undefined);
    expect(getConfig()).toMatchObject({ source: resolve(dir, 'millrace.config.json'), storage: { root: join(dir, 'jsonc-local') } });
    await writeS3File({ s3: 'jsonc.txt' }, 'read through a JSONC config');
    expect(new TextDecoder().decode(await loadS3File({ s3: 'jsonc.txt' }))).toBe('read through a JSONC config');
  });

  it('substitutes $env: references anywhere, and names a missing variable', async () => {
    process.env.MR_TEST_BUCKET = 'env-bucket';
    process.env.MR_TEST_SECRET = 'env-secret-value-123';
    await configure({ storage: { type: 's3', bucket: '$env:MR_TEST_BUCKET', accessKey: 'ak', secretKey: '$env:MR_TEST_SECRET' } });
    expect(getConfig().storage).toMatchObject({ bucket: 'env-bucket', secretKey: 'env-secret-value-123' });
    expect(await check({ secondaryStorage: { s: { type: 's3', bucket: '$env:MR_TEST_UNSET_VAR' } } })).toBe('secondaryStorage.s.bucket: environment variable MR_TEST_UNSET_VAR is not set');
  });

  it('redacts secrets in util.inspect and redact()', async () => {
    const secrets = ['AKIA-config-test-1', 'secret/config+test=2', 'token-config-test-3', 'azure-key-config-test-4', 'pw-config-test-5', 'sas-sig-config-test-6'];
    await configure({
      storage: { type: 's3', bucket: 'b', accessKey: secrets[0], secretKey: secrets[1], token: secrets[2] },
      secondaryStorage: { az: { type: 'azure_blob', accountName: 'a', containerName: 'c', accessKey: secrets[3], sasToken: secrets[5] } },
      datatables: { main: `postgres://user:${secrets[4]}@localhost/db` },
    });
    const shown = inspect(getConfig(), { depth: 20 }) + JSON.stringify(redact(getConfig()));
    for (const s of secrets) expect(shown).not.toContain(s);
    expect(shown).toContain('***');
    expect(shown).toContain('"b"'); // non-secrets still shown
    expect(getConfig().storage).toMatchObject({ accessKey: secrets[0] }); // the real value is still there to use
  });
});

describe('printable forms of the maps of named entries', () => {
  it('JSON of a map redacts a datatable given as a URL; a name never finds the hidden toJSON', async () => {
    await configure({ datatables: { main: 'postgres://app:hunter2-secret@127.0.0.1:1/db' }, secondaryStorage: { lake: { type: 'fs', root: join(tmpdir(), 'millrace-json-map') } } });
    const c = getConfig();
    for (const text of [JSON.stringify(c.datatables), JSON.stringify(c), String(c.datatables), inspect(c.datatables, { depth: 5 })]) {
      expect(text).not.toContain('hunter2');
    }
    expect(JSON.parse(JSON.stringify(c.datatables)).main).toContain('127.0.0.1');
    // The real value is still there for code that connects.
    expect(c.datatables.main).toContain('hunter2-secret');
    const { datatable } = await import('../src/sql/datatable.js');
    const err = await datatable('toJSON')`SELECT 1`.fetch().catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('Config');
    const e2 = await loadS3File({ s3: 'k', storage: 'toJSON' }).catch((e: unknown) => e);
    expect((e2 as { code?: string }).code).toBe('StorageNotConfigured');
    await configure(undefined);
  });
});
