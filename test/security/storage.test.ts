/**
 * Untrusted input stays inside what it names, storage side (issue "Untrusted input stays inside"):
 * hostile keys, prefixes, storage and resource names, links in an fs root, aliased storages and
 * the printable forms of config, clients and errors, against the real servers (fs, s3rver, Azurite).
 * Each case checks what reached the disk and the network, not only the error. The figures (cases
 * tried / survived per area) are printed at the end and quoted in the README's reliability section.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { format, inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  configure,
  copyS3File,
  datatable,
  deleteS3File,
  ducklake,
  getConfig,
  getPresignedS3PublicUrl,
  isMillraceError,
  listS3Files,
  loadS3File,
  loadS3FileStream,
  moveS3File,
  signS3Object,
  signS3Objects,
  statS3File,
  writeS3File,
  type S3Object,
  type StorageConfig,
} from '../../src/index.js';
import { close } from '../../src/runtime.js';
import { getStorage } from '../../src/storage/index.js';
import { azureStorage, BACKENDS, everythingSaidBy, freshHome, fsStorage, newStorage, rawAzure, rawS3, s3Storage, uniqueName } from '../helpers/storage.js';

freshHome('security-storage');

/** Cases tried and survived per area, printed when the file ends. */
const tally = new Map<string, { tried: number; survived: number }>();
let failures: string[] = [];

async function attack(area: string, what: string, run: () => unknown): Promise<void> {
  const t = tally.get(area) ?? { tried: 0, survived: 0 };
  tally.set(area, t);
  t.tried++;
  try {
    await run();
    t.survived++;
  } catch (e) {
    failures.push(`${area}: ${what}: ${(e as Error).message}`);
  }
}

/** Every failed case of a test at once, so one test's figure counts all its cases. */
function allSurvived() {
  const seen = failures;
  failures = [];
  expect(seen).toEqual([]);
}

afterAll(async () => {
  await close();
  const rows = [...tally].map(([area, t]) => `| ${area} | ${t.tried} | ${t.survived} |`);
  const total = [...tally.values()].reduce((a, t) => ({ tried: a.tried + t.tried, survived: a.survived + t.survived }), { tried: 0, survived: 0 });
  console.log(['Security (storage): cases tried / survived', '| area | tried | survived |', '| --- | --- | --- |', ...rows, `| total | ${total.tried} | ${total.survived} |`].join('\n'));
});

async function rejection(p: unknown): Promise<unknown> {
  try {
    await (typeof p === 'function' ? (p as () => unknown)() : p);
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection, got none');
}

async function expectCode(p: unknown, code: string): Promise<Error> {
  const e = await rejection(p);
  if (!isMillraceError(e, code as never)) throw new Error(`expected ${code}, got ${(e as { code?: string })?.code ?? ''} ${(e as Error)?.name}: ${(e as Error)?.message}`);
  return e;
}

async function drain(it: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Names, sizes and content hashes of everything under a folder (links as their targets' text), to prove nothing changed. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = lstatSync(p);
      if (st.isSymbolicLink()) out[rel + name] = 'link';
      else if (st.isDirectory()) {
        out[rel + name + '/'] = 'dir';
        walk(p, rel + name + '/');
      } else if (!st.isFile()) out[rel + name] = 'special';
      else out[rel + name] = `${st.size}:${st.mtimeMs}:${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
    }
  };
  walk(dir, '');
  return out;
}

/** A loopback HTTP server standing in for S3 and Azure that counts every request it gets (and refuses them). */
async function countingServer(): Promise<{ server: Server; url: string; requests: () => number }> {
  let n = 0;
  const server = createServer((req, res) => {
    n++;
    req.resume();
    res.writeHead(503).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => n };
}

/** Every file function, called with one S3Object in the position under attack. */
function fileCalls(bad: S3Object, good: S3Object): [string, () => Promise<unknown>][] {
  return [
    ['loadS3File', () => loadS3File(bad)],
    ['loadS3FileStream', () => loadS3FileStream(bad)],
    ['writeS3File', () => writeS3File(bad, 'x')],
    ['deleteS3File', () => deleteS3File(bad)],
    ['statS3File', () => statS3File(bad)],
    ['copyS3File src', () => copyS3File(bad, good)],
    ['copyS3File dst', () => copyS3File(good, bad)],
    ['moveS3File src', () => moveS3File(bad, good)],
    ['moveS3File dst', () => moveS3File(good, bad)],
    ['signS3Object', () => signS3Object(bad)],
    ['signS3Objects', () => signS3Objects([good, bad])],
    ['getPresignedS3PublicUrl', () => getPresignedS3PublicUrl(bad)],
  ];
}

const HOSTILE_KEYS = ['', '/etc/passwd', '../escape.txt', 'a/../../escape.txt', '..', 'a/..', './a', 'a/./b', 'a//b', 'a/', 'a\\..\\..\\b', 'a\0b', '..\0/x'];
const HOSTILE_PREFIXES = ['../', '../../../../etc/', '/etc/', '/', 'a/../../', '..', 'a/..', './', '.', 'a//', '//', 'a\\', 'a\0', 'a/./'];

describe('keys, prefixes and names are refused before any I/O', () => {
  let counting: Awaited<ReturnType<typeof countingServer>>;
  let freshRoot: string;
  beforeAll(async () => {
    counting = await countingServer();
    freshRoot = join(mkdtempSync(join(tmpdir(), 'millrace-sec-')), 'never-created');
    // Storages that would show any I/O: an fs root that does not exist yet, S3 and Azure on a counting server.
    await configure({
      storage: { type: 'fs', root: freshRoot },
      secondaryStorage: {
        s3: { type: 's3', bucket: 'b', endPoint: counting.url, accessKey: 'AKIAEXAMPLEEXAMPLE00', secretKey: 'not-a-real-secret-key-0000', pathStyle: true },
        az: { type: 'azure_blob', accountName: 'devstoreaccount1', containerName: 'c', endpoint: `${counting.url}/devstoreaccount1`, accessKey: Buffer.from('not-a-real-azure-key').toString('base64') },
      },
      resources: { 'f/res': { type: 'fs', root: freshRoot } },
    });
  });
  afterAll(() => new Promise<void>((r) => counting.server.close(() => r())));

  it('rejects hostile keys with InvalidS3Object on every function and backend, as records and URIs', async () => {
    for (const storage of [undefined, 's3', 'az']) {
      for (const key of HOSTILE_KEYS) {
        const forms: S3Object[] = [{ s3: key, storage }];
        if (key && !key.startsWith('/')) forms.push(`s3://${storage ?? ''}/${key}` as S3Object);
        for (const bad of forms) {
          for (const [fn, call] of fileCalls(bad, { s3: 'fine.txt', storage })) {
            await attack('keys', `${fn} ${JSON.stringify(bad)}`, () => expectCode(call, 'InvalidS3Object'));
          }
        }
      }
    }
    await attack('keys', 'nothing reached disk or network', () => {
      expect(existsSync(freshRoot)).toBe(false);
      expect(counting.requests()).toBe(0);
    });
    allSurvived();
  });

  it('rejects hostile prefixes with InvalidS3Object before listing, on every backend', async () => {
    for (const sel of [{}, { storage: 's3' }, { storage: 'az' }, { s3ResourcePath: 'f/res' }]) {
      for (const prefix of HOSTILE_PREFIXES) {
        await attack('prefixes', `${JSON.stringify(sel)} ${JSON.stringify(prefix)}`, () => expectCode(drain(listS3Files({ ...sel, prefix })), 'InvalidS3Object'));
      }
      for (const prefix of [42, {}, ['..']]) {
        await attack('prefixes', `${JSON.stringify(sel)} non-string ${JSON.stringify(prefix)}`, () => expectCode(drain(listS3Files({ ...sel, prefix: prefix as never })), 'InvalidS3Object'));
      }
    }
    await attack('prefixes', 'nothing reached disk or network', () => {
      expect(existsSync(freshRoot)).toBe(false);
      expect(counting.requests()).toBe(0);
    });
    allSurvived();
  });

  it('looks storage and resource names up as own entries only: StorageNotConfigured listing the names, no connection', async () => {
    const names = ['__proto__', 'toString', 'constructor', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', '__defineGetter__', 'toJSON', 'propertyIsEnumerable'];
    for (const name of names) {
      const calls: [string, () => Promise<unknown>][] = [
        ...fileCalls({ s3: 'k.txt', storage: name }, { s3: 'k.txt' }),
        ['URI load', () => loadS3File(`s3://${name}/k.txt`)],
        ['listS3Files', () => drain(listS3Files({ storage: name }))],
      ];
      for (const [fn, call] of calls) {
        await attack('names', `${fn} storage ${name}`, async () => {
          const e = await expectCode(call, 'StorageNotConfigured');
          expect(e.message).toContain('configured storages: (default), s3, az');
        });
      }
      for (const path of [name, `$res:${name}`, `res://${name}`]) {
        const resourceCalls: [string, () => Promise<unknown>][] = [
          ['loadS3File', () => loadS3File({ s3: 'k.txt' }, path)],
          ['writeS3File', () => writeS3File({ s3: 'k.txt' }, 'x', path)],
          ['statS3File', () => statS3File({ s3: 'k.txt' }, { s3ResourcePath: path })],
          ['deleteS3File', () => deleteS3File({ s3: 'k.txt' }, { s3ResourcePath: path })],
          ['listS3Files', () => drain(listS3Files({ s3ResourcePath: path }))],
          ['getPresignedS3PublicUrl', () => getPresignedS3PublicUrl({ s3: 'k.txt' }, { s3ResourcePath: path })],
        ];
        for (const [fn, call] of resourceCalls) {
          await attack('names', `${fn} resource ${path}`, async () => {
            const e = await expectCode(call, 'StorageNotConfigured');
            expect(e.message).toContain('configured resources: f/res');
          });
        }
      }
    }
    await attack('names', 'a ducklake on storage "toString" is a Config error', async () => {
      await configure({ ducklakes: { x: { catalog: { type: 'duckdb', path: join(mkdtempSync(join(tmpdir(), 'millrace-sec-lake-')), 'x.ducklake') }, storage: 'toString' } } });
      expect(() => getConfig()).toThrow(expect.objectContaining({ code: 'Config', message: expect.stringContaining('ducklakes.x.storage') }));
    });
    await configure({ storage: { type: 'fs', root: freshRoot }, secondaryStorage: { s3: { type: 's3', bucket: 'b', endPoint: counting.url, pathStyle: true } } });
    // The SQL side reads the same maps: a datatable or ducklake named after an Object.prototype member is unknown.
    for (const name of ['toString', '__proto__', 'constructor', 'hasOwnProperty']) {
      await attack('names', `datatable(${name})`, () => expectCode(() => datatable(name)`SELECT 1`.fetch(), 'Config'));
      await attack('names', `ducklake(${name})`, () => expectCode(() => ducklake(name)`SELECT 1`.fetch(), 'Config'));
    }
    await attack('names', 'nothing reached disk or network', () => {
      expect(existsSync(freshRoot)).toBe(false);
      expect(counting.requests()).toBe(0);
    });
    allSurvived();
  });
});

describe('odd but valid keys name exactly one object', () => {
  const ODD = ['q?x=1&y=2', 'hash#frag', 'star/*', 'glob/**/x', 'br[a-z]', 'brace{a,b}', '%2e%2e/%2e%2e/escape.txt', '%2F..%2Fx', 'sp ace', '~user', '..dots..', '.hidden', 'a/.../b', 'ünï/😀'];
  it('writes, lists, reads and deletes each key as itself on every backend, touching nothing else', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'millrace-sec-outside-'));
    writeFileSync(join(outside, 'escape.txt'), 'outside');
    const configs: Record<string, StorageConfig> = {};
    for (const kind of BACKENDS) configs[kind] = await newStorage(kind, 'odd');
    (configs.fs as { root: string }).root = join(outside, 'root');
    mkdirSync(join(outside, 'root'));
    await configure({ secondaryStorage: configs });
    const before = snapshot(outside);
    for (const kind of BACKENDS) {
      for (const key of ODD) {
        await attack('odd keys', `${kind} ${key}`, async () => {
          const obj = { s3: key, storage: kind };
          await writeS3File(obj, `content of ${key}`);
          expect(new TextDecoder().decode(await loadS3File(obj))).toBe(`content of ${key}`);
          expect((await drain(listS3Files({ storage: kind }))).map((f) => (f as { s3: string }).s3)).toEqual([key]);
          expect((await drain(listS3Files({ storage: kind, prefix: key }))).length).toBe(1);
          await deleteS3File(obj);
          expect(await drain(listS3Files({ storage: kind }))).toEqual([]);
        });
      }
    }
    const outsideRoot = (snap: Record<string, string>) => Object.fromEntries(Object.entries(snap).filter(([k]) => !k.startsWith('root/')));
    await attack('odd keys', 'folder outside the fs root untouched', () => expect(outsideRoot(snapshot(outside))).toEqual(outsideRoot(before)));
    allSurvived();
  });
});

describe('fs: links below the root are never followed', () => {
  let root: string;
  let outside: string;
  let before: Record<string, string>;
  const SECRET = 'outside-secret-7f3a';
  beforeAll(async () => {
    const base = mkdtempSync(join(tmpdir(), 'millrace-sec-links-'));
    outside = join(base, 'outside');
    root = join(base, 'root');
    mkdirSync(join(outside, 'sub'), { recursive: true });
    writeFileSync(join(outside, 'secret.txt'), SECRET);
    writeFileSync(join(outside, 'sub', 'deep.txt'), SECRET);
    mkdirSync(join(root, 'real'), { recursive: true });
    writeFileSync(join(root, 'real', 'inside.txt'), 'inside');
    symlinkSync(join(outside, 'secret.txt'), join(root, 'file-link'));
    symlinkSync(outside, join(root, 'dir-link'));
    symlinkSync(join(outside, 'not-yet'), join(root, 'dangling'));
    symlinkSync(join(root, 'real', 'inside.txt'), join(root, 'inside-link'));
    symlinkSync(join(root, 'real'), join(root, 'inside-dir-link'));
    symlinkSync('../../outside', join(root, 'real', 'relative-link'));
    try {
      execFileSync('mkfifo', [join(root, 'fifo')]);
    } catch {
      /* no mkfifo: the FIFO case is skipped */
    }
    // The backend's own folders as links out of the root.
    const other = join(base, 'root2');
    mkdirSync(other);
    mkdirSync(join(outside, 'meta'));
    mkdirSync(join(outside, 'tmp'));
    symlinkSync(join(outside, 'meta'), join(other, '.millrace-meta'));
    symlinkSync(join(outside, 'tmp'), join(other, '.millrace-tmp'));
    await configure({ storage: { type: 'fs', root }, secondaryStorage: { planted: { type: 'fs', root: other }, s3: await s3Storage('links') } });
    before = snapshot(outside);
  });

  const LINKED = ['file-link', 'dir-link/secret.txt', 'dir-link/sub/deep.txt', 'dangling', 'dangling/x.txt', 'inside-link', 'inside-dir-link/inside.txt', 'real/relative-link/secret.txt'];

  it('refuses reads, stats, writes, copies, moves and deletes through a link with PermissionDenied', async () => {
    for (const key of LINKED) {
      const obj = { s3: key };
      const calls: [string, () => Promise<unknown>][] = [
        ['loadS3File', () => loadS3File(obj)],
        ['loadS3FileStream', () => loadS3FileStream(obj)],
        ['statS3File', () => statS3File(obj)],
        ['writeS3File', () => writeS3File(obj, 'overwritten')],
        ['writeS3File stream', () => writeS3File(obj, new Blob(['overwritten']).stream())],
        ['deleteS3File', () => deleteS3File(obj)],
        ['copyS3File src', () => copyS3File(obj, { s3: 'real/copied.txt' })],
        ['copyS3File dst', () => copyS3File({ s3: 'real/inside.txt' }, obj)],
        ['copyS3File to s3', () => copyS3File(obj, { s3: 'stolen.txt', storage: 's3' })],
        ['moveS3File src', () => moveS3File(obj, { s3: 'real/moved.txt' })],
        ['moveS3File dst', () => moveS3File({ s3: 'real/inside.txt' }, obj)],
      ];
      for (const [fn, call] of calls) {
        // A dangling link reads as nothing there to read; anything that would go through it is refused.
        const expected = key.startsWith('dangling') && /load|stat|src|s3$/.test(fn) ? ['PermissionDenied', 'NotFound'] : ['PermissionDenied'];
        await attack('links', `${fn} ${key}`, async () => {
          const e = await rejection(call);
          expect(expected, `${(e as Error).message}`).toContain((e as { code?: string }).code);
        });
      }
      await attack('links', `DuckDB URL of ${key}`, async () => expectCode(async () => (await getStorage({})).duckdb().url(key), 'PermissionDenied'));
    }
    await attack('links', 'the inside file is intact', async () => expect(new TextDecoder().decode(await loadS3File({ s3: 'real/inside.txt' }))).toBe('inside'));
    await attack('links', 'nothing was stolen into s3', async () => expect(await drain(listS3Files({ storage: 's3' }))).toEqual([]));
    await attack('links', 'no copy of the secret anywhere in the root', () => {
      const snap = snapshot(root);
      const inRoot = Object.keys(snap).filter((k) => !['dir', 'link', 'special'].includes(snap[k]!));
      for (const k of inRoot) expect(readFileSync(join(root, k), 'utf8')).not.toContain(SECRET);
    });
    await attack('links', 'everything outside the root untouched', () => expect(snapshot(outside)).toEqual(before));
    allSurvived();
  });

  it('never lists a link nor walks into one', async () => {
    for (const prefix of ['', 'dir-link/', 'dir-link/sub/', 'inside-dir-link/', 'real/relative-link/', 'file', 'dir', 'real/', 'inside']) {
      await attack('links', `list ${JSON.stringify(prefix)}`, async () => {
        const listed = await drain(listS3Files({ prefix })).catch((e: unknown) => e);
        if (listed instanceof Error) {
          expect((listed as { code?: string }).code).toBe('PermissionDenied');
          expect(prefix).toMatch(/link\//);
        } else {
          const keys = (listed as { s3: string }[]).map((f) => f.s3);
          expect(keys.every((k) => k === 'real/inside.txt'), keys.join(', ')).toBe(true);
        }
      });
    }
    allSurvived();
  });

  it('reads a FIFO planted in the root as nothing there, without hanging', async () => {
    if (!existsSync(join(root, 'fifo'))) return;
    await attack('links', 'FIFO read', () => expectCode(loadS3File({ s3: 'fifo' }), 'NotFound'));
    await attack('links', 'FIFO stat', async () => expect(await statS3File({ s3: 'fifo' })).toBeUndefined());
    allSurvived();
  });

  it('writes nothing outside when the backend\'s own folders are links', async () => {
    await attack('links', 'write with .millrace-tmp and .millrace-meta linked out', () => expectCode(writeS3File({ s3: 'a.txt', storage: 'planted' }, 'x', { contentType: 'text/plain' }), 'PermissionDenied'));
    await attack('links', 'copy with .millrace-tmp linked out', () => expectCode(copyS3File({ s3: 'real/inside.txt' }, { s3: 'b.txt', storage: 'planted' }), 'PermissionDenied'));
    await attack('links', 'outside untouched', () => expect(snapshot(outside)).toEqual(before));
    allSurvived();
  });
});

describe('aliased storages: one physical object under two names', () => {
  it('never deletes a file moved or copied onto itself through another name, on every backend', async () => {
    for (const kind of BACKENDS) {
      const config = await newStorage(kind, 'alias');
      let alias: StorageConfig = { ...config };
      if (kind === 'fs') {
        // The same folder reached through a link to it: the real root is what counts.
        const link = join(mkdtempSync(join(tmpdir(), 'millrace-sec-alias-')), 'root-link');
        symlinkSync((config as { root: string }).root, link);
        alias = { type: 'fs', root: link };
      } else if (kind === 's3') {
        alias = { ...config, endPoint: `${(config as { endPoint: string }).endPoint}/`, region: 'eu-west-1' } as StorageConfig;
      }
      await configure({ storage: config, secondaryStorage: { alias, same: config }, resources: { 'f/alias': alias } });
      const cases: [string, () => Promise<unknown>][] = [
        ['move default -> alias', () => moveS3File({ s3: 'k.txt' }, { s3: 'k.txt', storage: 'alias' })],
        ['move alias -> default', () => moveS3File({ s3: 'k.txt', storage: 'alias' }, { s3: 'k.txt' })],
        ['move as URIs', () => moveS3File('s3://alias/k.txt', 's3:///k.txt')],
        ['move alias -> same', () => moveS3File({ s3: 'k.txt', storage: 'alias' }, { s3: 'k.txt', storage: 'same' })],
        ['move to a resource on the same place', () => moveS3File({ s3: 'k.txt' }, { s3: 'k.txt' }, { s3ResourcePath: 'f/alias' })],
        ['copy default -> alias', () => copyS3File({ s3: 'k.txt' }, { s3: 'k.txt', storage: 'alias' })],
        ['move onto itself', () => moveS3File({ s3: 'k.txt' }, { s3: 'k.txt' })],
        ['move with a new type', () => moveS3File({ s3: 'k.txt' }, { s3: 'k.txt', storage: 'alias' }, { contentType: 'text/csv' })],
      ];
      await writeS3File({ s3: 'k.txt' }, 'precious', { contentType: 'text/plain' });
      for (const [what, run] of cases) {
        await attack('aliases', `${kind}: ${what}`, async () => {
          await run();
          expect(new TextDecoder().decode(await loadS3File({ s3: 'k.txt' }))).toBe('precious');
          expect(new TextDecoder().decode(await loadS3File({ s3: 'k.txt', storage: 'alias' }))).toBe('precious');
        });
      }
      await attack('aliases', `${kind}: the new type landed`, async () => expect((await statS3File({ s3: 'k.txt' }))?.contentType).toBe('text/csv'));
      await attack('aliases', `${kind}: a move to another key through the alias still moves`, async () => {
        await moveS3File({ s3: 'k.txt' }, { s3: 'moved.txt', storage: 'alias' });
        expect(await statS3File({ s3: 'k.txt' })).toBeUndefined();
        expect(new TextDecoder().decode(await loadS3File({ s3: 'moved.txt' }))).toBe('precious');
      });
      await attack('aliases', `${kind}: a missing source is still NotFound`, () => expectCode(moveS3File({ s3: 'nope.txt' }, { s3: 'nope.txt', storage: 'alias' }), 'NotFound'));
    }
    allSurvived();
  });
});

describe('no secret in any printable form', () => {
  const AK = 'AKIAQQ7SECRETEXAMPLE';
  const SK = 'sk/SECRET+example+key+0123456789abcdefXYZ';
  const TOKEN = 'FwoGZXIvSECRETSESSIONTOKENexample0123456789';
  const AZKEY = Buffer.from('secret-azure-account-key-for-the-security-suite').toString('base64');
  const SAS = 'sv=2024-01-01&ss=b&srt=co&sp=r&se=2030-01-01T00:00:00Z&sig=SECRETsasSIGNATUREexample%3D';
  const PGPW = 'pg-SECRET-password-123';
  const SECRETS = [AK, SK, TOKEN, AZKEY, SAS, 'SECRETsasSIGNATUREexample', PGPW];

  const printed = (x: unknown): string[] => [
    inspect(x, { depth: Infinity, showHidden: true }),
    inspect(x, { depth: Infinity }),
    format('%s %o %O %j', x, x, x, x),
    String(x),
    `${x as string}`,
    JSON.stringify(x) ?? '',
  ];

  it('keeps secrets out of the config, the clients and their errors, while using them', async () => {
    const s3 = inject('s3');
    const az = inject('azure');
    const wrong = await s3Storage('sec');
    const wrongAz = await azureStorage('sec');
    await configure({
      storage: { ...wrong, accessKey: AK, secretKey: SK, token: TOKEN },
      secondaryStorage: {
        az: { ...wrongAz, accessKey: AZKEY },
        cs: { type: 'azure_blob', accountName: az.accountName, containerName: wrongAz.containerName, connectionString: `DefaultEndpointsProtocol=http;AccountName=${az.accountName};AccountKey=${AZKEY};BlobEndpoint=${az.endpoint};` },
        sas: { type: 'azure_blob', accountName: az.accountName, containerName: wrongAz.containerName, connectionString: `BlobEndpoint=${az.endpoint};SharedAccessSignature=${SAS}` },
        sas2: { type: 'azure_blob', accountName: az.accountName, containerName: wrongAz.containerName, endpoint: az.endpoint, sasToken: SAS },
        fs: fsStorage('sec'),
      },
      resources: { 'f/r': { type: 's3', bucket: 'r', endPoint: s3.endPoint, accessKey: AK, secretKey: SK } },
      datatables: {
        url: `postgres://u:${PGPW}@127.0.0.1:9/db`,
        obj: { host: '127.0.0.1', port: 9, user: 'u', password: PGPW, dbname: 'db', root_certificate_pem: '-----BEGIN CERTIFICATE-----SECRET' },
      },
      ducklakes: { lake: { catalog: { type: 'postgresql', host: '127.0.0.1', user: 'u', password: PGPW, dbname: 'db' } } },
    });
    const c = getConfig();
    const forms: [string, unknown][] = [
      ['config', c],
      ['config.storage', c.storage],
      ['config.secondaryStorage', c.secondaryStorage],
      ['config.secondaryStorage.cs', c.secondaryStorage.cs],
      ['config.resources', c.resources],
      ['config.datatables.obj', c.datatables.obj],
      ['config.ducklakes', c.ducklakes],
      ['config.ducklakes.lake.catalog', c.ducklakes.lake!.catalog],
    ];
    for (const storage of [undefined, 'az', 'cs', 'sas', 'sas2', 'fs']) {
      const client = await getStorage({ storage });
      forms.push([`client ${storage ?? 'default'}`, client], [`client ${storage ?? 'default'} duckdb access`, client.duckdb()]);
    }
    // Errors from the servers, with wrong credentials that carry the secrets.
    for (const storage of [undefined, 'az', 'cs', 'sas', 'sas2']) {
      for (const [fn, call] of [
        ['write', () => writeS3File({ s3: 'k.txt', storage }, 'x')],
        ['load', () => loadS3File({ s3: 'k.txt', storage })],
        ['list', () => drain(listS3Files({ storage }))],
      ] as const) {
        const e = await rejection(call).catch((x: unknown) => x);
        forms.push([`${fn} error on ${storage ?? 'default'}`, e], [`${fn} error on ${storage ?? 'default'}, everything it says`, everythingSaidBy(e, (x) => inspect(x, { depth: Infinity, showHidden: true }))]);
      }
    }
    for (const [what, x] of forms) {
      await attack('printable forms', what, () => {
        const text = printed(x).join('\n');
        for (const s of SECRETS) expect(text, `${what} shows a secret`).not.toContain(s);
      });
    }
    await attack('printable forms', 'the real secrets are still there to use', () => {
      expect(c.storage).toMatchObject({ accessKey: AK, secretKey: SK, token: TOKEN });
      expect(c.datatables.url).toBe(`postgres://u:${PGPW}@127.0.0.1:9/db`);
      expect(JSON.parse(JSON.stringify(c))).toMatchObject({ storage: { accessKey: '***', bucket: wrong.bucket }, datatables: { obj: { password: '***', user: 'u' } } });
    });
    allSurvived();
  });
});

describe('no storage created for a refused call', () => {
  it('creates no bucket, container or fs root for a hostile key, prefix or name', async () => {
    const root = join(mkdtempSync(join(tmpdir(), 'millrace-sec-')), 'root');
    const bucket = uniqueName('mr-never');
    const container = uniqueName('mr-never');
    const s3 = inject('s3');
    const az = inject('azure');
    await configure({
      storage: { type: 'fs', root },
      secondaryStorage: {
        s3: { type: 's3', bucket, endPoint: s3.endPoint, accessKey: s3.accessKey, secretKey: s3.secretKey, pathStyle: true },
        az: { type: 'azure_blob', accountName: az.accountName, accessKey: az.accessKey, endpoint: az.endpoint, containerName: container },
      },
    });
    for (const storage of [undefined, 's3', 'az']) {
      await attack('keys', `write ../ on ${storage ?? 'fs'} leaves the servers as they were`, async () => {
        await expectCode(writeS3File({ s3: '../x', storage }, 'x'), 'InvalidS3Object');
        await expectCode(drain(listS3Files({ storage, prefix: '../' })), 'InvalidS3Object');
      });
    }
    await attack('keys', 'no fs root, bucket or container appeared', async () => {
      expect(existsSync(root)).toBe(false);
      const client = rawS3();
      const { ListBucketsCommand } = await import('@aws-sdk/client-s3');
      const buckets = (await client.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name) ?? [];
      client.destroy();
      expect(buckets).not.toContain(bucket);
      expect(await rawAzure().getContainerClient(container).exists()).toBe(false);
    });
    allSurvived();
  });
});
