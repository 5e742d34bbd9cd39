/** Faults on the embedded default (PGlite), each in its own child process: what kills or hangs a script shows there. */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runFixture } from './helpers/fixture.js';

const home = () => mkdtempSync(join(tmpdir(), 'millrace-emb-faults-'));

describe('the embedded default under faults', () => {
  it('survives aborted statements and keeps serving', async () => {
    const r = await runFixture('embedded-abort.ts', [], { home: home() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.out.before).toBe(1);
    // A statement PGlite has started runs to its end (it cannot be interrupted in-process): each settles
    // with its own result or Aborted, and the failed cancel request is not an uncaught EPIPE.
    expect([{ ok: 'first' }, { code: 'Aborted' }]).toContainEqual(r.out.first);
    expect([{ ok: 'second' }, { code: 'Aborted' }]).toContainEqual(r.out.second);
    expect(r.out.after).toBe(3);
  }, 300_000);

  // Pipelines run steps in parallel on one machine: several processes on one MILLRACE_HOME is normal use.
  it('several processes write to one MILLRACE_HOME without losing a row, run after run', async () => {
    const h = home();
    for (let run = 0; run < 3; run++) {
      const writers = ['a', 'b', 'c'].map((w, i) => runFixture('embedded-writer.ts', [`${run}${w}`, '300', i === 0 ? 'close' : 'end'], { home: h, timeoutMs: 300_000 }));
      const results = await Promise.all(writers);
      for (const r of results) {
        expect(r.code, r.stderr).toBe(0);
        expect(r.out).toMatchObject({ inserted: 300, errors: [] });
      }
      console.log(`run ${run + 1}: 3 writers x 300 rows in ${Math.max(...results.map((r) => r.ms))} ms`);
    }
    // A fresh process sees every row of every run.
    const check = await runFixture('embedded-writer.ts', ['check', '0', 'end'], { home: h });
    expect(check.code, check.stderr).toBe(0);
    const counts = await runFixture('embedded-count.ts', [], { home: h });
    expect(counts.out).toEqual(Object.fromEntries([0, 1, 2].flatMap((run) => ['a', 'b', 'c'].map((w) => [`${run}${w}`, 300]))));
    expect(existsSync(join(h, 'datatable.lock'))).toBe(false);
  }, 900_000);

  it('a killed serving process: the next one takes over, and its socket folder goes', async () => {
    const h = home();
    const lock = join(h, 'datatable.lock');
    const holder = runFixture('embedded-writer.ts', ['holder', '100000', 'end', '5'], { home: h, timeoutMs: 300_000 });
    let pid = 0;
    for (let i = 0; i < 1200 && !pid; i++) {
      await new Promise((r) => setTimeout(r, 100));
      if (existsSync(lock)) pid = JSON.parse(readFileSync(lock, 'utf8') || '{}').pid ?? 0;
    }
    expect(pid).toBeGreaterThan(0);
    // A client of the holder, writing slowly, is still running when the holder dies.
    const client = runFixture('embedded-writer.ts', ['client', '150', 'end', '20'], { home: h, timeoutMs: 300_000 });
    await new Promise((r) => setTimeout(r, 1500));
    process.kill(pid, 'SIGKILL');
    expect((await holder).code).toBe('SIGKILL');
    const c = await client;
    expect(c.code, c.stderr).toBe(0);
    // The statement in flight when the holder died may fail, typed; every later one succeeds.
    for (const e of c.out.errors) expect(e).toMatch(/^Connection: /);
    expect(c.out.errors.length).toBeLessThanOrEqual(1);
    expect(c.out.inserted).toBeGreaterThanOrEqual(150 - c.out.errors.length);
    const next = await runFixture('embedded-writer.ts', ['next', '10', 'close'], { home: h });
    expect(next.code, next.stderr).toBe(0);
    expect(next.out).toMatchObject({ inserted: 10, errors: [] });
    expect(readdirSync(tmpdir()).filter((f) => f.startsWith(`millrace-pg-${pid}-`))).toEqual([]);
    expect(existsSync(lock)).toBe(false);
  }, 600_000);
});
