/**
 * The `millrace` bin's SQL side, built and run as a child process: sql on PostgreSQL and on a
 * DuckDB-file lake, the interactive prompt on a pseudo-terminal, run, preview and doctor.
 */
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { buildConsumer, cliEnv, hasScript, runCli, runOnTerminal, type Consumer } from './helpers/cli.js';
import { ensureExtensions } from './helpers/ducklake.js';
import { azureStorage, fsStorage, s3Storage } from './helpers/storage.js';

let c: Consumer;
let env: Record<string, string>;
let home = '';
let config: Record<string, unknown> = {};
const table = `cli_friend_${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  c = buildConsumer('sql');
  home = mkdtempSync(join(tmpdir(), 'millrace-cli-sql-'));
  config = {
    storage: await s3Storage('clisql'),
    secondaryStorage: { az: await azureStorage('clisql'), local: fsStorage('clisql') },
    resources: { 'f/reports': fsStorage('clisql-res') },
    datatables: { main: inject('pgUrl') },
    ducklakes: { main: { catalog: { type: 'duckdb', path: join(home, 'lake', 'main.ducklake') }, storage: 'local', prefix: 'lake/' } },
    duckdb: { extensionDirectory: await ensureExtensions() },
  };
  writeFileSync(join(home, 'config.json'), JSON.stringify(config));
  env = { MILLRACE_CONFIG: join(home, 'config.json'), MILLRACE_HOME: home };
}, 240_000);

const cli = (args: string[], opts: { input?: string; env?: Record<string, string | undefined> } = {}) => runCli(c, args, { ...opts, env: { ...env, ...opts.env } });

describe('millrace sql', () => {
  it('runs statements on the data table and prints the last one as a table, JSON or CSV', async () => {
    const r = await cli(['sql', `CREATE TABLE ${table} (id text PRIMARY KEY, name text, age int); INSERT INTO ${table} VALUES ('u1', 'Robin', 21), ('u2', 'Ada, "the first"', 36); SELECT * FROM ${table} ORDER BY id`]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/│ id\s+│ name\s+│ age │/);
    expect(r.stdout).toMatch(/│ u2\s+│ Ada, "the first" │ 36\s+│/);
    const json = await cli(['sql', '--datatable', 'main', '--json', `SELECT * FROM ${table} WHERE age > 30`]);
    expect(JSON.parse(json.stdout)).toEqual([{ id: 'u2', name: 'Ada, "the first"', age: 36 }]);
    const csv = await cli(['sql', '--csv', `SELECT * FROM ${table} ORDER BY id`]);
    expect(csv.stdout).toBe('id,name,age\r\nu1,Robin,21\r\nu2,"Ada, ""the first""",36\r\n');
    const stdin = await cli(['sql', '--json'], { input: `SELECT count(*)::int AS n FROM ${table}` });
    expect(JSON.parse(stdin.stdout)).toEqual([{ n: 2 }]);
  });

  it('\\dt, \\d table and \\dn describe the data table', async () => {
    expect((await cli(['sql', '\\dt'])).stdout).toMatch(new RegExp(`│ public\\s+│ ${table}\\s+│ base table │`));
    const d = await cli(['sql', '--json', `\\d ${table}`]);
    expect(JSON.parse(d.stdout)).toEqual([
      { column: 'id', type: 'text', nullable: 'NO', default: null },
      { column: 'name', type: 'text', nullable: 'YES', default: null },
      { column: 'age', type: 'integer', nullable: 'YES', default: null },
    ]);
    expect(JSON.parse((await cli(['sql', '--json', '\\dn'])).stdout)).toContainEqual({ schema: 'public' });
  });

  it('a failing statement exits 1 with the Sql code on stderr', async () => {
    const r = await cli(['sql', 'SELECT nope FROM nowhere']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^millrace: Sql: /);
    expect((await cli(['sql', '--json', '--csv', 'SELECT 1'])).status).toBe(2);
    expect((await cli(['sql', '--lake', 'main', '--datatable', 'main', 'SELECT 1'])).status).toBe(2);
  });

  it('--lake runs on the DuckLake; \\d works there too', async () => {
    const r = await cli(['sql', '--lake', 'main', '--json', "CREATE TABLE events (id INT, kind VARCHAR); INSERT INTO events VALUES (1, 'a'), (2, 'b'); SELECT * FROM events ORDER BY id"]);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual([{ id: 1, kind: 'a' }, { id: 2, kind: 'b' }]);
    expect(JSON.parse((await cli(['sql', '--lake', 'main', '--json', '\\dt'])).stdout)).toEqual([{ schema: 'main', name: 'events', type: 'base table' }]);
    expect(JSON.parse((await cli(['sql', '--lake', 'main', '--json', '\\d events'])).stdout).map((x: { column: string }) => x.column)).toEqual(['id', 'kind']);
  });

  it('wide tables are cut to the terminal width', async () => {
    const r = await cli(['sql', `SELECT repeat('x', 200) AS wide, 'short' AS s`], { env: { COLUMNS: '40' } });
    const lines = r.stdout.split('\n').filter(Boolean);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(40);
    expect(r.stdout).toContain('…');
    expect(r.stdout).toContain('short');
  });
});

describe.runIf(hasScript())('the interactive prompt (on a pseudo-terminal)', () => {
  it('multi-line input until ;, \\d commands, errors that do not end the session, \\q', async () => {
    const r = await runOnTerminal(c, ['sql'], ['SELECT 1 AS one,\r', '2 AS two;\r', '\\dt\r', `\\d ${table}\r`, 'select nope;\r', 'SELECT 40 + 2 AS answer;\r', '\\q\r'], { env });
    expect(r.stdout).toContain('datatable:main=> ');
    expect(r.stdout).toMatch(/-> 2 AS two;/);
    expect(r.stdout).toMatch(/│ one │ two │\n[^\n]*\n│ 1\s+│ 2\s+│/);
    expect(r.stdout).toMatch(new RegExp(`│ public\\s+│ ${table}`));
    expect(r.stdout).toMatch(/│ age\s+│ integer/);
    expect(r.stdout).toMatch(/ERROR Sql: .*nope/);
    expect(r.stdout).toMatch(/│ answer │\n[^\n]*\n│ 42\s+│/);
    expect(r.status).toBe(0);
  });

  it('keeps history across sessions (the up arrow brings back the last statement); Ctrl-C drops a half-typed statement, then quits', async () => {
    const r = await runOnTerminal(c, ['sql'], ['\x1b[A', '\r', 'SELECT oops,\r', '\x03', 'SELECT 5 AS five;\r', '\x03'], { env });
    expect(r.stdout).toMatch(/│ answer │\n[^\n]*\n│ 42\s+│/);
    expect(r.stdout).toMatch(/│ five │\n[^\n]*\n│ 5\s+│/);
    expect(r.stdout).not.toContain('ERROR');
    expect(r.status).toBe(0);
  });
});

describe('millrace run', () => {
  it('runs a Windmill DuckDB script with --arg name=value and name=@file.json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'millrace-cli-run-'));
    writeFileSync(join(dir, 'load.sql'), `-- $messages (json)
-- $min (double) = 0.5
CREATE TABLE IF NOT EXISTS messages (content VARCHAR NOT NULL, author VARCHAR NOT NULL, sentiment DOUBLE);
INSERT INTO messages SELECT value->>'content', value->>'author', CAST(value->>'sentiment' AS DOUBLE) FROM json_each($messages);
SELECT author, content FROM messages WHERE sentiment >= $min ORDER BY author;
`);
    writeFileSync(join(dir, 'messages.json'), JSON.stringify([{ content: 'great', author: 'ada', sentiment: 0.9 }, { content: "'); DROP TABLE messages; --", author: 'bob', sentiment: 0.2 }]));
    const r = await cli(['run', join(dir, 'load.sql'), '--arg', `messages=@${join(dir, 'messages.json')}`, '--json']);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual([{ author: 'ada', content: 'great' }]);
    const all = await cli(['run', join(dir, 'load.sql'), '--arg', 'messages=[]', '--arg', 'min=0', '--csv']);
    expect(all.stdout).toBe(`author,content\r\nada,great\r\nbob,'); DROP TABLE messages; --\r\n`);
    const missing = await cli(['run', join(dir, 'load.sql')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/InvalidArgument: Missing argument \$messages/);
    expect((await cli(['run', join(dir, 'load.sql'), '--arg', 'nonsense'])).status).toBe(2);
  });
});

describe('millrace preview', () => {
  it('CSV, TSV, JSON, NDJSON and Parquet through DuckDB: schema, row count, first rows', async () => {
    await cli(['cp', '-', 's3:///p/people.csv'], { input: 'name,age\nada,36\nbob,41\ncy,29\n' });
    await cli(['cp', '-', 's3://az/p/people.tsv'], { input: 'name\tage\nada\t36\n' });
    await cli(['cp', '-', 's3://local/p/people.json'], { input: '[{"name":"ada","age":36},{"name":"bob","age":41}]' });
    await cli(['cp', '-', 's3://local/p/people.ndjson'], { input: '{"name":"ada","age":36}\n{"name":"bob","age":41}\n{"name":"cy","age":29}\n' });
    const dir = mkdtempSync(join(tmpdir(), 'millrace-cli-pq-'));
    writeFileSync(join(dir, 'pq.sql'), '-- $out (s3object)\nCOPY (SELECT range AS n, range * 2 AS twice FROM range(25)) TO $out (FORMAT parquet);\n');
    expect((await cli(['run', join(dir, 'pq.sql'), '--arg', 'out=s3://local/p/numbers.parquet'])).stderr).toBe('');

    const csv = await cli(['preview', '--limit', '2', 's3:///p/people.csv']);
    expect(csv.stderr).toBe('');
    expect(csv.stdout).toContain('s3:///p/people.csv: csv, 3 rows, 2 columns');
    expect(csv.stdout).toMatch(/│ age\s+│ BIGINT\s+│/);
    expect(csv.stdout).toMatch(/│ bob\s+│ 41\s+│/);
    expect(csv.stdout).not.toContain('cy');
    expect(csv.stdout).toContain('1 more row');
    const tsv = await cli(['preview', '--json', 's3://az/p/people.tsv']);
    expect(JSON.parse(tsv.stdout)).toMatchObject({ format: 'tsv', rows: 1, preview: [{ name: 'ada', age: 36 }] });
    const json = await cli(['preview', '--json', 's3://local/p/people.json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ format: 'json', rows: 2, preview: [{ name: 'ada', age: 36 }, { name: 'bob', age: 41 }] });
    const nd = await cli(['preview', '--json', 's3://local/p/people.ndjson']);
    expect(JSON.parse(nd.stdout)).toMatchObject({ format: 'ndjson', rows: 3 });
    const pq = await cli(['preview', '--json', '--limit', '3', 's3://local/p/numbers.parquet']);
    expect(JSON.parse(pq.stdout)).toMatchObject({ format: 'parquet', rows: 25, schema: [{ column: 'n', type: 'BIGINT' }, { column: 'twice', type: 'BIGINT' }], preview: [{ n: 0, twice: 0 }, { n: 1, twice: 2 }, { n: 2, twice: 4 }] });
    const forced = await cli(['preview', '--format', 'csv', '--json', 's3://local/p/people.ndjson']);
    expect(JSON.parse(forced.stdout).format).toBe('csv');
  });

  it('a text file shows its head; an unknown --format is a usage error', async () => {
    await cli(['cp', '-', 's3:///p/notes.txt'], { input: Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join('\n') });
    const r = await cli(['preview', '--limit', '3', 's3:///p/notes.txt']);
    expect(r.stdout).toBe('line 1\nline 2\nline 3\n');
    expect((await cli(['preview', '--format', 'xlsx', 's3:///p/notes.txt'])).status).toBe(2);
  });
});

describe('millrace doctor', () => {
  it('all checks pass on a working config: exit 0, one line per check', async () => {
    const r = await cli(['doctor']);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n');
    expect(lines.map((l) => l.split(':')[0])).toEqual([
      'ok   config', 'ok   storage (default)', 'ok   storage az', 'ok   storage local', 'ok   resource f/reports', 'ok   datatable main', 'ok   duckdb extensions', 'ok   ducklake main',
    ]);
    expect(r.stdout).toMatch(/storage az: azure_blob .*: list, write, read, delete ok/);
    expect(r.stdout).toMatch(/datatable main: .*PostgreSQL \d+/);
    expect(r.stdout).toMatch(/ducklake main: catalog duckdb .*\d+ snapshot/);
    expect(r.status).toBe(0);
    expect((await cli(['doctor', '--read-only'])).stdout).toContain('read-only: no probe written');
  });

  it('a broken storage and an unreachable datatable: exit 1, a FAIL line with a hint for each', async () => {
    const s3 = inject('s3');
    const broken = {
      ...config,
      secondaryStorage: { ...(config.secondaryStorage as object), broken: { type: 's3', bucket: 'no-such-bucket-for-doctor', endPoint: s3.endPoint, region: s3.region, accessKey: s3.accessKey, secretKey: s3.secretKey, pathStyle: true } },
      datatables: { main: inject('pgUrl'), down: 'postgres://postgres:hunter2secret@127.0.0.1:1/postgres' },
    };
    const r = await cli(['doctor', '--timeout', '15'], { env: { MILLRACE_CONFIG: JSON.stringify(broken) } });
    expect(r.status).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(10);
    const failed = lines.filter((l) => l.startsWith('FAIL'));
    expect(failed.map((l) => l.split(':')[0])).toEqual(['FAIL storage broken', 'FAIL datatable down']);
    for (const l of failed) expect(l).toMatch(/ → (check|provision)/);
    expect(r.stdout).not.toContain('hunter2secret');
    const bad = await cli(['doctor'], { env: { MILLRACE_CONFIG: '{"storage": {"type": "s3"}}' } });
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/^FAIL config: Config: storage.bucket: required/);
  });
});

describe('millrace extensions', () => {
  it('is the DuckDB extension provisioner', async () => {
    const r = await cli(['extensions', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/--dir/);
    expect((await cli(['extensions', '--no-such-flag'])).status).not.toBe(0);
  });
});

describe('examples/cli-walkthrough.sh', () => {
  it('runs start to finish on the embedded default with the bin on PATH', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'millrace-cli-walk-'));
    // What `npx millrace extensions` leaves in ./.millrace once.
    cpSync(await ensureExtensions(), join(dir, '.millrace', 'duckdb-extensions'), { recursive: true });
    const r = spawnSync('sh', [join(__dirname, '..', 'examples', 'cli-walkthrough.sh')], {
      cwd: dir,
      encoding: 'utf8',
      env: cliEnv({ PATH: `${join(c.dir, 'node_modules', '.bin')}:${dirname(process.execPath)}:${process.env.PATH}`, MILLRACE_HOME: undefined, MILLRACE_CONFIG: undefined }),
    });
    expect(r.stderr).toBe('deleted 1 file\n');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('ok   ducklake main');
    expect(r.stdout).toContain('s3:///inputs/people.csv: csv, 3 rows, 2 columns');
    expect(r.stdout).toMatch(/│ bob\s+│ 41\s+│\n└/);
    expect(r.stdout).toContain('"people": 3');
    expect(r.stdout).toContain('id,name\r\nu1,Robin\r\n');
    expect(r.stdout.trimEnd().endsWith('name,age\nada,36')).toBe(true);
  }, 180_000);
});
