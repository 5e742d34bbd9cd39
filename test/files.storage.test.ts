/**
 * Storage selection (secondary storages, URIs, resources), presigned URLs, bad input and secrets,
 * against the real servers.
 */
import { readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import {
  configure,
  copyS3File,
  deleteS3File,
  getPresignedS3PublicUrl,
  getPresignedS3PublicUrls,
  listS3Files,
  loadS3File,
  loadS3FileStream,
  signS3Object,
  signS3Objects,
  statS3File,
  writeS3File,
  type S3Object,
  type StorageConfig,
} from '../src/entries/s3.js';
import { getConfig } from '../src/config.js';
import { close } from '../src/runtime.js';
import { getStorage } from '../src/storage/index.js';
import type { Storage } from '../src/storage/types.js';
import { azureStorage, everythingSaidBy, freshHome, fsStorage, s3Storage } from './helpers/storage.js';

freshHome('files-storage');
afterAll(() => close());

const text = (b: Uint8Array) => new TextDecoder().decode(b);

async function expectCode(p: Promise<unknown>, code: string, message?: RegExp) {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e, 'expected a rejection').toBeDefined();
  expect(e).toMatchObject({ name: 'MillraceError', code });
  if (message) expect((e as Error).message).toMatch(message);
}

/** Every key in every configured storage, to prove a rejected call wrote nothing. */
async function allKeys(): Promise<string[]> {
  const c = getConfig();
  const out: string[] = [];
  for (const name of [undefined, ...Object.keys(c.secondaryStorage)]) {
    for await (const f of listS3Files({ storage: name })) out.push(`${name ?? ''}:${f.s3}`);
  }
  for (const res of Object.keys(c.resources)) {
    for await (const f of listS3Files({ s3ResourcePath: res })) out.push(`res:${res}:${f.s3}`);
  }
  return out;
}

describe('storage selection', () => {
  let configs: Record<string, StorageConfig>;
  beforeAll(async () => {
    configs = { default: await s3Storage('sel'), storage_1: await azureStorage('sel'), local: fsStorage('sel'), report: await s3Storage('res') };
    await configure({
      storage: configs.default,
      secondaryStorage: { storage_1: configs.storage_1!, local: configs.local! },
      resources: { 'f/data/reports_bucket': configs.report! },
    });
  });

  it('routes { storage } records and s3:// URIs to the named storage', async () => {
    const obj = await writeS3File({ s3: 'data.csv', storage: 'storage_1' }, 'fooo\n1');
    expect(obj).toEqual({ s3: 'data.csv', storage: 'storage_1' });
    expect(text(await loadS3File(obj))).toBe('fooo\n1');
    expect(text(await loadS3File('s3://storage_1/data.csv'))).toBe('fooo\n1');
    expect(await statS3File({ s3: 'data.csv' })).toBeUndefined(); // not in the default storage
    expect(await statS3File('s3://local/data.csv')).toBeUndefined();

    await writeS3File('s3:///default.txt', 'in default');
    expect(text(await loadS3File({ s3: 'default.txt' }))).toBe('in default');
    expect(await (await loadS3FileStream('s3:///default.txt')).text()).toBe('in default');
    expect(await statS3File('s3://storage_1/default.txt')).toBeUndefined();
    await writeS3File('s3://local/here.txt', 'local');
    expect(readdirSync((configs.local as { root: string }).root)).toContain('here.txt');
    await deleteS3File('s3://local/here.txt');
    expect(await statS3File('s3://local/here.txt')).toBeUndefined();
  });

  it('picks a resource with s3ResourcePath, with or without $res: / res:// prefixes', async () => {
    await writeS3File({ s3: 'r.txt' }, 'resource', 'f/data/reports_bucket');
    for (const path of ['f/data/reports_bucket', '$res:f/data/reports_bucket', 'res://f/data/reports_bucket']) {
      expect(text(await loadS3File({ s3: 'r.txt' }, path))).toBe('resource');
      expect(text(await loadS3File({ s3: 'r.txt' }, { s3ResourcePath: path }))).toBe('resource');
      expect(await (await loadS3FileStream({ s3: 'r.txt' }, path)).text()).toBe('resource');
    }
    expect(await statS3File({ s3: 'r.txt' })).toBeUndefined();
    await deleteS3File({ s3: 'r.txt' }, { s3ResourcePath: '$res:f/data/reports_bucket' });
    expect(await statS3File({ s3: 'r.txt' }, 'f/data/reports_bucket')).toBeUndefined();
    await expectCode(loadS3File({ s3: 'r.txt' }, 'f/data/nope'), 'StorageNotConfigured', /f\/data\/reports_bucket/);
  });

  it('reuses one client per storage', async () => {
    expect(await getStorage({ storage: 'storage_1' })).toBe(await getStorage({ storage: 'storage_1' }));
    expect(await getStorage({})).not.toBe(await getStorage({ storage: 'storage_1' }));
  });
});

describe('presigned URLs', () => {
  beforeAll(async () => {
    await configure({ storage: await s3Storage('sign'), secondaryStorage: { az: await azureStorage('sign'), local: fsStorage('sign') } });
  });

  it('gives an S3 URL and an Azure SAS URL that plain fetch() downloads', async () => {
    for (const obj of [{ s3: 'pub/a.txt' }, { s3: 'pub/a.txt', storage: 'az' }] as S3Object[]) {
      await writeS3File(obj, 'public bytes', { contentType: 'text/plain' });
      const url = await getPresignedS3PublicUrl(obj, { expirySecs: 300 });
      const res = await fetch(url);
      expect(res.status, url.split('?')[0]).toBe(200);
      expect(await res.text()).toBe('public bytes');
      if (typeof obj !== 'string' && obj.storage === 'az') {
        // Azurite checks SAS signatures: a tampered one is refused, so the URL really is signed.
        const bad = url.replace(/sig=([^&]{4})/, (_, s: string) => `sig=${s === 'AAAA' ? 'BBBB' : 'AAAA'}`);
        expect((await fetch(bad)).status).toBe(403);
      } else {
        // s3rver does not verify SigV4 signatures, so check the URL is a complete SigV4 presigned GET.
        const q = new URL(url).searchParams;
        expect(q.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
        expect(q.get('X-Amz-Credential')).toMatch(/^S3RVER\/\d{8}\/us-east-1\/s3\/aws4_request$/);
        expect(q.get('X-Amz-Expires')).toBe('300');
        expect(q.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
      }
    }
    const urls = await getPresignedS3PublicUrls([{ s3: 'pub/a.txt' }, 's3://az/pub/a.txt']);
    expect(await Promise.all(urls.map(async (u) => (await fetch(u)).text()))).toEqual(['public bytes', 'public bytes']);
  });

  it('signS3Object sets presigned, keeping the record', async () => {
    const signed = await signS3Object({ s3: 'pub/a.txt' });
    expect(signed.s3).toBe('pub/a.txt');
    expect(signed.presigned).toMatch(/X-Amz-Signature=/);
    const [az] = await signS3Objects(['s3://az/pub/a.txt']);
    expect(az).toMatchObject({ s3: 'pub/a.txt', storage: 'az' });
    expect(az!.presigned).toMatch(/sig=/);
  });

  it('clamps expirySecs to 60..604800 (default 43200, also for NaN or a non-number)', async () => {
    const expires = async (expirySecs?: number) =>
      Number(new URL(await getPresignedS3PublicUrl({ s3: 'pub/a.txt' }, expirySecs === undefined ? {} : { expirySecs })).searchParams.get('X-Amz-Expires'));
    expect(await expires()).toBe(43200);
    expect(await expires(1)).toBe(60);
    expect(await expires(3600)).toBe(3600);
    expect(await expires(10_000_000)).toBe(604800);
    expect(await expires(Infinity)).toBe(604800);
    for (const junk of [NaN, '3600', null, {}]) expect(await expires(junk as number)).toBe(43200);
    const se = new URL(await getPresignedS3PublicUrl('s3://az/pub/a.txt', { expirySecs: 5 })).searchParams.get('se')!;
    const secs = (Date.parse(se) - Date.now()) / 1000;
    expect(secs).toBeGreaterThan(50);
    expect(secs).toBeLessThanOrEqual(61);
  });

  it('says clearly that the fs backend cannot sign', async () => {
    await writeS3File('s3://local/a.txt', 'x');
    await expectCode(getPresignedS3PublicUrl('s3://local/a.txt'), 'Unsupported', /local folder.*cannot sign/);
    await expectCode(signS3Object('s3://local/a.txt'), 'Unsupported');
  });

  it('says clearly that an Azure storage without an account key cannot sign', async () => {
    const az = inject('azure');
    await configure({ storage: { type: 'azure_blob', accountName: az.accountName, containerName: 'whatever', endpoint: az.endpoint, sasToken: 'sv=2020-08-04&sig=abc' } });
    await expectCode(getPresignedS3PublicUrl({ s3: 'x' }), 'Unsupported', /no account key/);
  });
});

describe('Azure credentials', () => {
  it('works with a connection string and with a SAS token, signing only when it holds a key', async () => {
    const az = inject('azure');
    const { containerName } = await azureStorage('cred');
    const connectionString = `DefaultEndpointsProtocol=http;AccountName=${az.accountName};AccountKey=${az.accessKey};BlobEndpoint=${az.endpoint};`;
    const { AccountSASPermissions, AccountSASResourceTypes, AccountSASServices, StorageSharedKeyCredential, generateAccountSASQueryParameters } = await import('@azure/storage-blob');
    const sasToken = generateAccountSASQueryParameters(
      {
        permissions: AccountSASPermissions.parse('rwdlc'),
        services: AccountSASServices.parse('b').toString(),
        resourceTypes: AccountSASResourceTypes.parse('sco').toString(),
        expiresOn: new Date(Date.now() + 3600_000),
      },
      new StorageSharedKeyCredential(az.accountName, az.accessKey),
    ).toString();
    await configure({
      storage: { type: 'azure_blob', accountName: az.accountName, containerName, connectionString },
      secondaryStorage: { sas: { type: 'azure_blob', accountName: az.accountName, containerName, endpoint: az.endpoint, sasToken } },
    });
    await writeS3File({ s3: 'cs.txt' }, 'via connection string');
    expect(text(await loadS3File('s3://sas/cs.txt'))).toBe('via connection string');
    await writeS3File('s3://sas/sas.txt', 'via sas token');
    expect(text(await loadS3File({ s3: 'sas.txt' }))).toBe('via sas token');
    const listed: string[] = [];
    for await (const f of listS3Files({ storage: 'sas' })) listed.push(f.s3);
    expect(listed).toEqual(['cs.txt', 'sas.txt']);
    expect(await (await fetch(await getPresignedS3PublicUrl({ s3: 'sas.txt' }))).text()).toBe('via sas token');
    await expectCode(getPresignedS3PublicUrl('s3://sas/sas.txt'), 'Unsupported');
  });
});

describe('bad input writes nothing', () => {
  beforeAll(async () => {
    await configure({ storage: fsStorage('bad'), secondaryStorage: { s3: await s3Storage('bad'), az: await azureStorage('bad') }, resources: { r: fsStorage('badres') } });
  });

  it('rejects unknown storages, listing the configured names', async () => {
    await expectCode(writeS3File({ s3: 'a.txt', storage: 'nope' }, 'x'), 'StorageNotConfigured', /"nope".*\(default\), s3, az/);
    await expectCode(writeS3File('s3://nope/a.txt', 'x'), 'StorageNotConfigured', /configured storages: \(default\), s3, az/);
    await expectCode(loadS3File({ s3: 'a.txt', storage: 'nope' }), 'StorageNotConfigured');
    expect(await allKeys()).toEqual([]);
  });

  it('rejects malformed URIs, bare strings and unsafe keys before touching storage', async () => {
    const bad: unknown[] = [
      'data.csv', // bare string
      's3://', 's3:///', 's3://storage_only', 'S3://x/y', 'http://x/y',
      { s3: '' }, { s3: '/abs.txt' }, { s3: 'a/../b.txt' }, { s3: '..' }, { s3: 'a/..' }, { s3: 'nul\0.txt' }, { s3: 'back\\slash.txt' },
      's3:///../etc/passwd', 's3://s3//leading.txt', 's3://az/a\\b',
      // Aliases: fs would store these as "a/b.txt"; S3 and Azure as distinct objects.
      { s3: 'a//b.txt' }, { s3: 'a/./b.txt' }, { s3: './b.txt' }, { s3: 'dir/' }, 's3:///a//b.txt', 's3://az/a/./b.txt',
      null, 42, { s3: 42 }, { key: 'a' }, { s3: 'a', storage: 7 },
    ];
    for (const obj of bad) {
      for (const storage of [undefined, 's3', 'az']) {
        const o = obj && typeof obj === 'object' && storage && !('storage' in obj) ? { ...obj, storage } : obj;
        await expectCode(writeS3File(o as S3Object, 'x'), 'InvalidS3Object');
        await expectCode(loadS3File(o as S3Object), 'InvalidS3Object');
        await expectCode(deleteS3File(o as S3Object), 'InvalidS3Object');
      }
    }
    await expectCode(writeS3File({ s3: '.millrace-meta/x' }, 'x'), 'InvalidS3Object');
    expect(await allKeys()).toEqual([]);
  });

  it('reports missing files as NotFound on every backend', async () => {
    for (const obj of ['s3:///missing.txt', 's3://s3/missing.txt', 's3://az/missing.txt']) {
      await expectCode(loadS3File(obj as S3Object), 'NotFound', /missing\.txt/);
      await expectCode(loadS3FileStream(obj as S3Object), 'NotFound');
      expect(await statS3File(obj as S3Object)).toBeUndefined();
    }
    expect(await allKeys()).toEqual([]);
  });

  it('rejects an invalid config field with its name, before any write', async () => {
    await configure({ storage: { type: 's3' } as unknown as StorageConfig, secondaryStorage: {} });
    await expectCode(writeS3File({ s3: 'a.txt' }, 'x'), 'Config', /^storage\.bucket: required$/);
    await configure({ storage: fsStorage('ok'), secondaryStorage: { lake: { type: 's3', bucket: 5 } as unknown as StorageConfig } });
    await expectCode(writeS3File({ s3: 'a.txt' }, 'x'), 'Config', /^secondaryStorage\.lake\.bucket: must be a string$/);
    await configure({ storage: { type: 'gcs' } as unknown as StorageConfig });
    await expectCode(loadS3File({ s3: 'a.txt' }), 'Config', /storage\.type: unknown storage type "gcs"/);
  });

  it('rejects content it cannot write', async () => {
    await configure({ storage: fsStorage('content') });
    await expectCode(writeS3File({ s3: 'a.txt' }, 42 as unknown as string), 'InvalidArgument');
    await expectCode(writeS3File({ s3: 'b.txt' }, (async function* () { yield new Uint8Array(2); yield 5 as unknown as Uint8Array; })()), 'InvalidArgument');
    expect(await allKeys()).toEqual([]);
  });
});

describe('a failed copy across storages releases the source', () => {
  let root: string;
  beforeAll(async () => {
    const local = fsStorage('leak');
    root = local.root;
    await configure({ storage: local, secondaryStorage: { s3: await s3Storage('leak'), az: await azureStorage('leak'), local2: fsStorage('leak2') } });
  });

  /** File descriptors this process holds on a path (Linux): a source GET left open keeps one. */
  const openFdsOn = (path: string) =>
    readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === path;
      } catch {
        return false;
      }
    }).length;

  /** Aborts `ctrl` as soon as the source GET has answered, so the put fails before pulling a byte. */
  function abortAfterGet(storage: Storage, ctrl?: AbortController) {
    const original = storage.get;
    const seen = { gets: 0, returned: 0 };
    storage.get = async (key, opts) => {
      const it = (await original.call(storage, key, opts))[Symbol.asyncIterator]();
      seen.gets++;
      ctrl?.abort();
      return {
        [Symbol.asyncIterator]: () => ({
          next: () => it.next(),
          return: async () => {
            seen.returned++;
            return (await it.return?.()) ?? { done: true as const, value: undefined };
          },
        }),
      };
    };
    return { seen, restore: () => void (storage.get = original) };
  }

  it('closes the source GET when the destination put fails before reading (abort, refused key), on every backend', async () => {
    for (const from of [undefined, 's3', 'az']) {
      const src = { s3: 'leak/src.bin', storage: from };
      await writeS3File(src, new Uint8Array(3 * 1024 * 1024).fill(7));
      const storage = await getStorage({ storage: from });
      for (const [dst, code] of [
        [{ s3: 'leak/dst.bin', storage: from === 's3' ? 'az' : 's3' }, 'Aborted'],
        [{ s3: '.millrace-meta/dst.bin', storage: 'local2' }, 'InvalidS3Object'],
      ] as const) {
        const ctrl = code === 'Aborted' ? new AbortController() : undefined;
        const spy = abortAfterGet(storage, ctrl);
        try {
          await expectCode(copyS3File(src, dst, { signal: ctrl?.signal }), code);
        } finally {
          spy.restore();
        }
        expect(spy.seen, `${from ?? 'fs'} -> ${dst.storage}`).toEqual({ gets: 1, returned: 1 });
        expect(await statS3File(dst.storage === 'local2' ? { s3: 'leak/dst.bin', storage: 'local2' } : dst)).toBeUndefined();
      }
    }
    // On fs the source GET is an open file: returned before its first read, it must still be closed.
    const path = realpathSync(join(root, 'leak/src.bin'));
    await vi.waitFor(() => expect(openFdsOn(path)).toBe(0), { timeout: 2000 });
    const storage = await getStorage({});
    const it = (await storage.get('leak/src.bin'))[Symbol.asyncIterator]();
    expect(openFdsOn(path)).toBe(1);
    await it.return?.();
    await vi.waitFor(() => expect(openFdsOn(path)).toBe(0), { timeout: 2000 });
  });
});

describe('secrets never leak', () => {
  const AK = 'AKIAZZ7QFAKEXAMPLE12';
  const SK = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzSECRETKEY';
  const TOKEN = 'FwoGZXIvYXdzEFAKESESSIONTOKEN0123456789abcdef';
  const AZKEY = Buffer.from('totally-secret-azure-account-key-0123456789').toString('base64');

  it('keeps keys out of error messages, causes and util.inspect', async () => {
    const s3 = inject('s3');
    const az = inject('azure');
    const wrongS3: StorageConfig = { type: 's3', bucket: 'secret-test', endPoint: s3.endPoint, accessKey: AK, secretKey: SK, token: TOKEN, pathStyle: true };
    const wrongAz: StorageConfig = { type: 'azure_blob', accountName: az.accountName, containerName: 'secret-test', endpoint: az.endpoint, accessKey: AZKEY };
    const cs = `DefaultEndpointsProtocol=http;AccountName=${az.accountName};AccountKey=${AZKEY};BlobEndpoint=${az.endpoint};`;
    const wrongCs: StorageConfig = { type: 'azure_blob', accountName: az.accountName, containerName: 'secret-test', connectionString: cs };
    const unreachable: StorageConfig = { type: 's3', bucket: 'x', endPoint: 'http://127.0.0.1:9', accessKey: AK, secretKey: SK };
    const cfg = { storage: wrongS3, secondaryStorage: { az: wrongAz, cs: wrongCs, down: unreachable } };
    await configure(cfg);

    const errors: unknown[] = [];
    const attempt = async (p: Promise<unknown>) => errors.push(await p.then(() => new Error('no error'), (e) => e));
    for (const storage of [undefined, 'az', 'cs', 'down']) {
      await attempt(writeS3File({ s3: 'k.txt', storage }, 'x'));
      await attempt(loadS3File({ s3: 'k.txt', storage }));
      await attempt(statS3File({ s3: 'k.txt', storage }));
      await attempt((async () => { for await (const _ of listS3Files({ storage })) void _; })());
    }
    expect(errors.length).toBe(16);
    const codes = errors.map((e) => (e as { code?: string }).code);
    expect(codes.every((c) => c !== undefined)).toBe(true);
    expect(codes).toContain('PermissionDenied');

    const said = [
      ...errors.map((e) => everythingSaidBy(e, (x) => inspect(x, { depth: 10, showHidden: true }))),
      inspect(getConfig(), { depth: 10 }),
      inspect(await getStorage({}), { depth: 10, showHidden: true }),
      inspect(await getStorage({ storage: 'az' }), { depth: 10, showHidden: true }),
      inspect(await getStorage({ storage: 'cs' }), { depth: 10, showHidden: true }),
      inspect((await getStorage({})).duckdb(), { depth: 10 }),
      inspect((await getStorage({ storage: 'cs' })).duckdb(), { depth: 10 }),
    ].join('\n');
    for (const secret of [AK, SK, TOKEN, AZKEY]) expect(said).not.toContain(secret);
    // The secrets are really in use: the DuckDB secret carries them for the ducklake driver.
    expect((await getStorage({})).duckdb().secret?.options).toMatchObject({ KEY_ID: AK, SECRET: SK, SESSION_TOKEN: TOKEN });
  });
});
