/**
 * ATTACH 'datatable://name' in ducklake() checks the datatable answers (and, embedded, is served)
 * once per process: counted in the statements a proxy in front of the server sees.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { close, configure, datatable, ducklake } from '../../src/index.js';
import { embeddedLake, EXTENSION_DIR } from '../helpers/ducklake.js';
import { pgProxy, type PgProxy } from '../helpers/pg-proxy.js';
import { freshDatabase } from '../setup/pgdb.js';

let proxy: PgProxy | undefined;
afterAll(() => proxy?.close()); // registered first, so it runs after embeddedLake's close()
embeddedLake('dlprobe', async () => {
  proxy = await pgProxy(await freshDatabase(inject('pgUrl'), 'millrace_dl_probe'));
  return { datatables: { main: proxy.url } };
});

/** millrace's probe; DuckDB's postgres extension sends its own `SELECT 1` (a pool health check) from unnamed connections. */
const probes = () => proxy!.statements.filter((s) => s.app === 'millrace' && s.text === 'SELECT 1').length;
const attachAndCount = () => ducklake()`ATTACH 'datatable://main' AS pg; SELECT count(*) AS n FROM pg.public.account`.fetchOneScalar();

describe("ATTACH 'datatable://main'", () => {
  it('probes the datatable on the first ATTACH only, and again after close()', async () => {
    await datatable()`CREATE TABLE account (id int); INSERT INTO account VALUES (1), (2)`.execute();
    expect(probes()).toBe(0);
    expect(await attachAndCount()).toBe(2);
    expect(probes()).toBe(1);
    for (let i = 0; i < 3; i++) expect(await attachAndCount()).toBe(2);
    expect(probes()).toBe(1);
    // The proxy reads the statements themselves: millrace's own, and DuckDB's reading the table.
    expect(proxy!.statements.some((s) => s.app === 'millrace' && /CREATE TABLE account/.test(s.text))).toBe(true);
    expect(proxy!.statements.some((s) => s.app !== 'millrace' && /COPY \(SELECT .* FROM "public"."account"/.test(s.text))).toBe(true);
    await close();
    expect(await attachAndCount()).toBe(2);
    expect(probes()).toBe(2);
  });

  it('a config change probes again, once', async () => {
    const before = probes();
    await configure({ datatables: { main: proxy!.url }, duckdb: { extensionDirectory: EXTENSION_DIR } });
    for (let i = 0; i < 2; i++) expect(await attachAndCount()).toBe(2);
    expect(probes()).toBe(before + 1);
  });
});
