/** Runs usage scenario U5 from examples/ as a user would: on a configured server and on the embedded default. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { configure, close, datatable } from '../src/index.js';
import { main as u5, clicks } from '../examples/u5-datatable-lookup.js';
import { freshDatabase } from './setup/pgdb.js';

process.env.MILLRACE_HOME = mkdtempSync(join(tmpdir(), 'millrace-dt-examples-'));
afterAll(() => close());

async function seed() {
  await datatable()`
    CREATE TABLE friend (id text PRIMARY KEY, name text, age int);
    INSERT INTO friend VALUES ('u1', 'Robin', 21), ('u2', 'Ada', 36);
    CREATE SCHEMA analytics;
    CREATE TABLE analytics.events (kind text);
    INSERT INTO analytics.events VALUES ('click'), ('open'), ('click');
    CREATE TABLE public.events (kind text)`.execute();
}

describe('U5: look up a row in a data table', () => {
  it('on a PostgreSQL server', async () => {
    await configure({ datatables: { main: await freshDatabase(inject('pgUrl'), 'millrace_dt_examples') } });
    await seed();
    expect(await u5('u2')).toEqual({ id: 'u2', name: 'Ada', age: 36 });
    expect(await u5("u1' OR '1'='1")).toBeNull();
    expect(await clicks()).toBe(2);
    expect(await clicks('open')).toBe(1);
  });

  it('on the embedded default, with nothing configured', async () => {
    await configure(undefined);
    await seed();
    expect(await u5('u1')).toEqual({ id: 'u1', name: 'Robin', age: 21 });
    expect(await clicks()).toBe(2);
  });
});
