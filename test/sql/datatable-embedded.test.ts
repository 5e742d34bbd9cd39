/** The embedded datatable (PGlite) leaves nothing behind when opening it fails half-way, nor after close(). */
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { configure } from '../../src/config.js';
import { close } from '../../src/runtime.js';
import { datatable } from '../../src/sql/datatable.js';
import { PostgresPool } from '../../src/sql/postgres/driver.js';
import { EmbeddedServer } from '../../src/sql/postgres/embedded-server.js';

const home = mkdtempSync(join(tmpdir(), 'millrace-dtemb-'));
process.env.MILLRACE_HOME = home;
const originalTmp = process.env.TMPDIR;
/** Our own temp folder, so the socket folders the embedded server makes can be counted. */
const tmp = mkdtempSync(join(tmpdir(), 'millrace-dtemb-tmp-'));
const socketFolders = () => readdirSync(tmp).filter((f) => f.startsWith('millrace-pg-'));
const lockFile = () => existsSync(join(home, 'pglite.lock'));

beforeAll(async () => {
  process.env.TMPDIR = tmp;
  await configure({ datatables: { main: { type: 'embedded', dataDir: join(home, 'pglite') } } });
});
afterEach(() => {
  process.env.TMPDIR = tmp;
  vi.restoreAllMocks();
});
afterAll(async () => {
  await close();
  if (originalTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = originalTmp;
});

describe('embedded datatable failures leak nothing', () => {
  it('the server cannot start: PGlite closed, socket folder and lock removed, the next open works', async () => {
    const started = vi.spyOn(EmbeddedServer.prototype, 'listen').mockRejectedValueOnce(Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' }));
    const closed = vi.spyOn(PGlite.prototype, 'close');
    const err = await datatable()`SELECT 1`.fetch().catch((e) => e);
    expect(started).toHaveBeenCalledTimes(1);
    expect(err).toMatchObject({ code: 'Connection' });
    expect(err.message).toContain('cannot serve the embedded PostgreSQL');
    expect(closed).toHaveBeenCalled();
    expect(socketFolders()).toEqual([]);
    expect(lockFile()).toBe(false);
    // The data dir was released: the same process opens it again and it works.
    expect(await datatable()`SELECT 41 + 1 AS n`.fetchOneScalar()).toBe(42);
    await close();
    expect(socketFolders()).toEqual([]);
  });

  it('the pool cannot open: nothing was started; the server starts with the first connection and close() removes it', async () => {
    await close();
    vi.spyOn(PostgresPool, 'open').mockRejectedValueOnce(new Error('pool refused'));
    const err = await datatable()`SELECT 1`.fetch().catch((e) => e);
    expect(err.message).toBe('pool refused');
    expect(socketFolders()).toEqual([]);
    expect(lockFile()).toBe(false);
    expect(await datatable()`SELECT 1 AS n`.fetchOneScalar()).toBe(1);
    expect(socketFolders()).toHaveLength(1);
    expect(lockFile()).toBe(true);
    const closed = vi.spyOn(PGlite.prototype, 'close');
    await close();
    expect(closed).toHaveBeenCalled();
    expect(socketFolders()).toEqual([]);
    expect(lockFile()).toBe(false);
  });
});
