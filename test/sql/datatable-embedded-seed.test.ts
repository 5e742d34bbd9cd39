/**
 * The embedded datatable's first creation from the build's seed cluster (pglite-seed/), and the
 * fallback to PGlite's initdb when the seed is missing, made by another PGlite version, or unreadable.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { configure } from '../../src/config.js';
import { close } from '../../src/runtime.js';
import { datatable } from '../../src/sql/datatable.js';
import { plantSeed, seedFile } from '../../src/sql/postgres/pglite-seed.js';
import { madeFromSeed } from '../helpers/pglite-seed.js';

const root = resolve(__dirname, '..', '..');
const home = mkdtempSync(join(tmpdir(), 'millrace-dtseed-'));
process.env.MILLRACE_HOME = home;
let seed: string;

beforeAll(() => {
  // `npm test` makes it in pretest; a lone `vitest run` of this file makes it here (once per PGlite version).
  execFileSync(process.execPath, ['scripts/pglite-seed.mjs', '--quiet'], { cwd: root, stdio: 'pipe' });
  delete process.env.MILLRACE_PGLITE_SEED;
  seed = seedFile()!;
}, 180_000);
afterEach(async () => {
  await close();
  delete process.env.MILLRACE_PGLITE_SEED;
});
afterAll(() => close());

/** A folder of its own holding `name` (a copy of the seed, or what `write` puts there), for MILLRACE_PGLITE_SEED. */
function seedFolder(name: string, write: (file: string) => void = (f) => copyFileSync(seed, f)): string {
  const folder = mkdtempSync(join(tmpdir(), 'millrace-dtseed-folder-'));
  write(join(folder, name));
  return folder;
}

async function useDataDir(name: string): Promise<string> {
  const dataDir = join(home, name);
  await configure({ datatables: { main: { type: 'embedded', dataDir } } });
  return dataDir;
}

describe('the embedded datatable from the seed', () => {
  it('the build made a seed named for the installed PGlite, beside src/', () => {
    const version = JSON.parse(readFileSync(join(root, 'node_modules', '@electric-sql', 'pglite', 'package.json'), 'utf8')).version;
    expect(seed).toBe(join(root, 'pglite-seed', `pglite-${version}.tar.gz`));
  });

  it('a new data folder is unpacked from the seed and works; a second run opens it as it is', async () => {
    const dataDir = await useDataDir('fresh');
    const sql = datatable();
    await sql`CREATE TABLE notes (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), doc jsonb NOT NULL, n int)`.execute();
    await sql`INSERT INTO notes (doc, n) VALUES (${JSON.stringify({ tags: ['a', 'b'], ok: true })}::jsonb, ${7})`.execute();
    const row = await sql<{ id: string; doc: unknown; n: number }>`SELECT id, doc, n FROM notes`.fetchOne();
    expect(row!.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(row!.doc).toEqual({ tags: ['a', 'b'], ok: true });
    expect(row!.n).toBe(7);
    expect(madeFromSeed(dataDir, seed)).toBe(true);
    await close();

    // The second run: the folder is not empty, so nothing is unpacked over it and the row is there.
    await useDataDir('fresh');
    expect(await datatable()`SELECT doc->'tags'->>1 FROM notes WHERE n = ${7}`.fetchOneScalar()).toBe('b');
    expect(await datatable()`SELECT count(*)::int FROM notes`.fetchOneScalar()).toBe(1);
    expect(plantSeed(dataDir)).toBe(false);
  });

  it("a fresh project's first statement creates the folders above the data folder too", async () => {
    const dataDir = await useDataDir(join('not', 'yet', 'datatable'));
    expect(await datatable()`SELECT 1 AS n`.fetchOneScalar()).toBe(1);
    expect(madeFromSeed(dataDir, seed)).toBe(true);
  });

  it('without a seed (none in MILLRACE_PGLITE_SEED) the folder is made by initdb, as before', async () => {
    process.env.MILLRACE_PGLITE_SEED = mkdtempSync(join(tmpdir(), 'millrace-dtseed-none-'));
    expect(seedFile()).toBeUndefined();
    const dataDir = await useDataDir('no-seed');
    expect(await datatable()`SELECT gen_random_uuid()::text`.fetchOneScalar()).toMatch(/^[0-9a-f-]{36}$/);
    expect(madeFromSeed(dataDir, seed)).toBe(false);
  });

  it('a seed made by another PGlite version is not used', () => {
    process.env.MILLRACE_PGLITE_SEED = seedFolder('pglite-0.0.1.tar.gz');
    expect(seedFile()).toBeUndefined();
    const dataDir = join(home, 'other-version');
    mkdirSync(dataDir);
    expect(plantSeed(dataDir)).toBe(false);
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('a truncated seed is skipped and leaves the folder empty for initdb', () => {
    const name = seed.split(/[\\/]/).pop()!;
    process.env.MILLRACE_PGLITE_SEED = seedFolder(name, (f) => writeFileSync(f, readFileSync(seed).subarray(0, 1_000_000)));
    expect(seedFile()).toBe(join(process.env.MILLRACE_PGLITE_SEED, name));
    const dataDir = join(home, 'truncated');
    mkdirSync(dataDir);
    expect(plantSeed(dataDir)).toBe(false);
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('a seed PGlite cannot open is removed and initdb makes the folder: the datatable works', async () => {
    const name = seed.split(/[\\/]/).pop()!;
    // A well-formed tarball of a cluster no PostgreSQL can open.
    const bogus = mkdtempSync(join(tmpdir(), 'millrace-dtseed-bogus-'));
    writeFileSync(join(bogus, 'PG_VERSION'), '99\n');
    mkdirSync(join(bogus, 'base'));
    writeFileSync(join(bogus, 'base', 'junk'), 'not a relation');
    process.env.MILLRACE_PGLITE_SEED = seedFolder(name, (f) => execFileSync('tar', ['czf', f, '-C', bogus, 'PG_VERSION', 'base']));
    const dataDir = await useDataDir('bogus');
    expect(await datatable()`SELECT 41 + 1 AS n`.fetchOneScalar()).toBe(42);
    expect(readFileSync(join(dataDir, 'PG_VERSION'), 'utf8').trim()).not.toBe('99');
    expect(existsSync(join(dataDir, 'base', 'junk'))).toBe(false);
  });
});

function runFixture(fixture: string, env: NodeJS.ProcessEnv, args: string[]): Promise<{ code: number | null; out: any; stderr: string }> {
  return new Promise((done, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', `test/fixtures/${fixture}`, ...args], { cwd: root, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      let out: unknown;
      try {
        out = JSON.parse(stdout.trim().split('\n').pop()!);
      } catch {
        out = undefined;
      }
      done({ code, out, stderr });
    });
  });
}

describe('two processes creating the embedded database at once', () => {
  it('one unpacks the seed and serves it, the other connects: both rows are there', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'millrace-dtseed-two-'));
    const env: NodeJS.ProcessEnv = { ...process.env, MILLRACE_HOME: fresh, MILLRACE_CONFIG: '' };
    delete env.MILLRACE_PGLITE_SEED;
    const [a, b] = await Promise.all(['a', 'b'].map((w) => runFixture('embedded-writer.ts', env, [w, '20', 'end'])));
    for (const r of [a!, b!]) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.out).toMatchObject({ inserted: 20, errors: [] });
    }
    const counts = await runFixture('embedded-count.ts', env, []);
    expect(counts.code, counts.stderr).toBe(0);
    expect(counts.out).toEqual({ a: 20, b: 20 });
    expect(madeFromSeed(join(fresh, 'datatable'), seed)).toBe(true);
  }, 300_000);
});

describe('a first creation cut short, and where the seed may come from', () => {
  it('a process killed while unpacking the seed leaves no half-made folder: the next run creates it', async () => {
    const dataDir = join(home, 'killed');
    const env: NodeJS.ProcessEnv = { ...process.env, MILLRACE_CONFIG: '' };
    delete env.MILLRACE_PGLITE_SEED;
    const killed = spawnSync(process.execPath, ['--import', 'tsx', 'test/fixtures/seed-killed.ts', dataDir], { cwd: root, env, encoding: 'utf8' });
    expect(killed.signal, killed.stdout + killed.stderr).toBe('SIGKILL');
    const left = readdirSync(home).filter((n) => n.startsWith('killed.seed-'));

    await useDataDir('killed');
    expect(await datatable()`SELECT 41 + 1 AS n`.fetchOneScalar()).toBe(42);
    expect(madeFromSeed(dataDir, seed)).toBe(true);
    // What the killed process unpacked was beside the data folder, and the next run swept it.
    expect(left).toHaveLength(1);
    expect(readdirSync(home).filter((n) => n.startsWith('killed.seed-'))).toEqual([]);
  }, 120_000);

  it("a seeded folder is the owner's alone, as initdb makes it", () => {
    const dataDir = join(home, 'modes');
    expect(plantSeed(dataDir)).toBe(true);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    const open: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).mode & 0o077) open.push(path);
        if (statSync(path).isDirectory()) walk(path);
      }
    };
    walk(dataDir);
    expect(open).toEqual([]);
  });

  it("a pglite-seed/ folder above a package that is not millrace's is not used; millrace's own is", () => {
    const name = seed.split(/[\\/]/).pop()!;
    // The module as an application would bundle it: <tmp>/app/lib/, with a seed planted in <tmp>/pglite-seed/.
    const top = mkdtempSync(join(tmpdir(), 'millrace-dtseed-planted-'));
    const app = join(top, 'app');
    mkdirSync(join(app, 'lib'), { recursive: true });
    copyFileSync(join(root, 'src', 'sql', 'postgres', 'pglite-seed.ts'), join(app, 'lib', 'pglite-seed.ts'));
    // What it imports, where its `../../pid.js` points from there.
    copyFileSync(join(root, 'src', 'pid.ts'), join(top, 'pid.ts'));
    symlinkSync(join(root, 'node_modules'), join(app, 'node_modules'));
    mkdirSync(join(top, 'pglite-seed'));
    copyFileSync(seed, join(top, 'pglite-seed', name));
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.MILLRACE_PGLITE_SEED;
    writeFileSync(join(app, 'lib', 'probe.ts'), "import { seedFile } from './pglite-seed.ts';\nconsole.log(JSON.stringify(seedFile() ?? null));\n");
    const found = () => {
      const r = spawnSync(process.execPath, ['--import', 'tsx', join(app, 'lib', 'probe.ts')], { cwd: root, env, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout.trim().split('\n').pop()!) as string | null;
    };

    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', type: 'module' }));
    expect(found()).toBeNull();
    // In millrace's own package folder, its seed is found.
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'millrace', type: 'module' }));
    mkdirSync(join(app, 'pglite-seed'));
    copyFileSync(seed, join(app, 'pglite-seed', name));
    expect(found()).toBe(join(app, 'pglite-seed', name));
    // Loaded from `node -e` (which defines a global __dirname: the current folder), still the module's own folder.
    const probe = 'import(process.argv[1]).then((m) => console.log(JSON.stringify(m.seedFile() ?? null)))';
    const fromEval = spawnSync(process.execPath, ['--import', join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs'), '-e', probe, join(app, 'lib', 'pglite-seed.ts')], { cwd: top, env, encoding: 'utf8' });
    expect(fromEval.status, fromEval.stderr).toBe(0);
    expect(JSON.parse(fromEval.stdout.trim())).toBe(join(app, 'pglite-seed', name));
  }, 60_000);

  it('a seed the build cannot make is a warning, not a failed build or install', () => {
    // The script where @electric-sql/pglite cannot be loaded, as a failure to make the seed.
    const copy = mkdtempSync(join(tmpdir(), 'millrace-dtseed-script-'));
    cpSync(join(root, 'scripts', 'pglite-seed.mjs'), join(copy, 'scripts', 'pglite-seed.mjs'));
    const r = spawnSync(process.execPath, [join(copy, 'scripts', 'pglite-seed.mjs')], { cwd: copy, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: no PGlite seed made/);
    expect(existsSync(join(copy, 'pglite-seed'))).toBe(false);
  });
});
