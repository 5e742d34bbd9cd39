/** `millrace doctor`: is the config, each storage, data table, lake and the DuckDB extensions usable? One line per check. */
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import {
  datatable, deleteS3File, ducklake, getConfig, listS3Files, loadS3File, statS3File, writeS3File,
  type ResolvedConfig, type StorageConfig,
} from '../index.js';
import { errorLine, paint, toJson } from './output.js';

type Check = { check: string; ok: boolean; detail: string; hint?: string };

function describeStorage(s: StorageConfig): string {
  const c = s as Record<string, unknown>;
  if (s.type === 'fs') return `fs ${c.root}`;
  if (s.type === 's3') return `s3 bucket ${c.bucket}${c.endPoint ? ` at ${c.endPoint}` : ''}`;
  return `azure_blob ${c.accountName}/${c.containerName}`;
}

function describePostgres(p: unknown): string {
  if (typeof p === 'string') return p.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@').replace(/\?.*$/, '');
  const c = p as Record<string, unknown>;
  if (c.type === 'embedded') return `embedded PostgreSQL in ${c.dataDir}`;
  return `postgres ${c.host}:${c.port ?? 5432}/${c.dbname} as ${c.user}`;
}

async function withTimeout<T>(ms: number, what: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000}s`)), ms);
  });
  try {
    return await Promise.race([what, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A storage by name (`storage`) or a `resources` entry (`resource`): list, then a probe written, read back and deleted. */
async function storageCheck(at: { storage?: string; resource?: string }, s: StorageConfig, readOnly: boolean): Promise<string> {
  const opts = { s3ResourcePath: at.resource };
  for await (const _ of listS3Files({ storage: at.storage, s3ResourcePath: at.resource, limit: 1 })) break;
  if (readOnly) return `${describeStorage(s)}: list ok (read-only: no probe written)`;
  const probe = { s3: `.millrace-doctor/${randomUUID()}`, ...(at.storage ? { storage: at.storage } : {}) };
  const body = `millrace doctor ${new Date().toISOString()}`;
  await writeS3File(probe, body, opts);
  try {
    const back = new TextDecoder().decode(await loadS3File(probe, opts));
    if (back !== body) throw new Error('the probe read back differs from what was written');
  } finally {
    await deleteS3File(probe, opts);
  }
  if (await statS3File(probe, opts)) throw new Error('the probe is still there after delete');
  return `${describeStorage(s)}: list, write, read, delete ok`;
}

async function datatableCheck(name: string, config: unknown): Promise<string> {
  const sql = datatable(name);
  const row = (await sql`SELECT version() AS version, current_schema() AS schema, current_user AS role`.fetchOne()) as Record<string, string>;
  const version = /PostgreSQL [\d.]+/.exec(String(row.version))?.[0] ?? String(row.version);
  return `${describePostgres(config)}: ${version}, schema ${row.schema}, role ${row.role}`;
}

async function lakeCheck(name: string, c: ResolvedConfig): Promise<string> {
  const lake = c.ducklakes[name]!;
  const sql = ducklake(name);
  const db = (await sql`SELECT current_database() AS db`.fetchOneScalar()) as string;
  const snapshots = await sql`SELECT count(*) AS n FROM ducklake_snapshots(${db})`.fetchOneScalar();
  const catalog = lake.catalog.type === 'postgresql' ? `postgresql ${describePostgres(lake.catalog).replace(/^postgres /, '')}` : `${lake.catalog.type} ${(lake.catalog as { path: string }).path}`;
  return `catalog ${catalog}, data in ${lake.storage ?? '(default)'} storage under ${lake.prefix ?? '/'}, ${Number(snapshots)} snapshot(s)`;
}

/** The extension files DuckDB will look for, for the DuckDB that @duckdb/node-api bundles. */
async function extensionsCheck(c: ResolvedConfig): Promise<string> {
  const dir = c.duckdb.extensionDirectory;
  const needed = new Set(['ducklake']);
  for (const s of [c.storage, ...Object.values(c.secondaryStorage)]) {
    if (s.type === 's3') needed.add('httpfs');
    if (s.type === 'azure_blob') needed.add('azure');
  }
  for (const l of Object.values(c.ducklakes)) {
    if (l.catalog.type === 'postgresql') needed.add('postgres_scanner');
    if (l.catalog.type === 'sqlite') needed.add('sqlite_scanner');
  }
  if (!dir) throw new Error('no extension directory (duckdb.extensionDirectory, or <MILLRACE_HOME>/duckdb-extensions)');
  if (!existsSync(dir)) throw new Error(`${dir} does not exist`);
  const api = (await import('@duckdb/node-api' as string)) as typeof import('@duckdb/node-api');
  const instance = await api.DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  let version: string;
  let platform: string;
  try {
    const row = (await conn.runAndReadAll('SELECT version() AS v, (SELECT platform FROM pragma_platform()) AS p')).getRowObjects()[0]!;
    version = String(row.v);
    platform = String(row.p);
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
  const folder = join(dir, version, platform);
  const present = existsSync(folder) ? readdirSync(folder).filter((f) => f.endsWith('.duckdb_extension')).map((f) => f.replace(/\.duckdb_extension$/, '')) : [];
  const missing = [...needed].filter((n) => !present.includes(n));
  if (missing.length) throw new Error(`${folder} lacks ${missing.join(', ')}`);
  return `DuckDB ${version} ${platform}: ${[...needed].join(', ')} in ${dir}`;
}

type DoctorOptions = { readOnly?: boolean; json?: boolean; timeout: string };

async function doctor(opts: DoctorOptions): Promise<void> {
  const ms = Math.max(1, Number(opts.timeout) || 60) * 1000;
  const checks: Check[] = [];
  const report = (c: Check) => {
    checks.push(c);
    if (opts.json) return;
    const mark = c.ok ? paint('green', 'ok  ') : paint('red', 'FAIL');
    process.stdout.write(`${mark} ${c.check}: ${c.detail}${c.ok || !c.hint ? '' : paint('dim', `  → ${c.hint}`)}\n`);
  };
  const run = async (check: string, hint: string, fn: () => Promise<string>) => {
    try {
      report({ check, ok: true, detail: await withTimeout(ms, fn()) });
    } catch (e) {
      report({ check, ok: false, detail: errorLine(e), hint });
    }
  };
  let config: ResolvedConfig;
  try {
    config = getConfig();
    report({ check: 'config', ok: true, detail: `from ${config.source} (home ${config.home})` });
  } catch (e) {
    report({ check: 'config', ok: false, detail: errorLine(e), hint: 'fix the field named above in MILLRACE_CONFIG or millrace.config.json' });
    return finish(checks, opts);
  }
  const storageHint = (field: string) => `check ${field} (bucket or container, endpoint, credentials) and that the account may list, write and delete`;
  const readOnly = Boolean(opts.readOnly);
  await run('storage (default)', storageHint('storage'), () => storageCheck({}, config.storage, readOnly));
  for (const [name, s] of Object.entries(config.secondaryStorage)) {
    await run(`storage ${name}`, storageHint(`secondaryStorage.${name}`), () => storageCheck({ storage: name }, s, readOnly));
  }
  for (const [path, s] of Object.entries(config.resources)) {
    await run(`resource ${path}`, storageHint(`resources.${path}`), () => storageCheck({ resource: path }, s, readOnly));
  }
  for (const [name, dt] of Object.entries(config.datatables)) {
    await run(`datatable ${name}`, `check datatables.${name}: is the server up and reachable, are the user, password and dbname right?`, () => datatableCheck(name, dt));
  }
  const extensions = { ok: true };
  await run('duckdb extensions', 'run `millrace extensions` (or set duckdb.extensionDirectory)', async () => {
    try {
      return await extensionsCheck(config);
    } catch (e) {
      extensions.ok = false;
      throw e;
    }
  });
  for (const name of Object.keys(config.ducklakes)) {
    await run(`ducklake ${name}`, extensions.ok ? `check ducklakes.${name}.catalog and its storage` : 'provision the DuckDB extensions first: `millrace extensions`', () => lakeCheck(name, config));
  }
  finish(checks, opts);
}

function finish(checks: Check[], opts: DoctorOptions): void {
  if (opts.json) process.stdout.write(toJson(checks) + '\n');
  if (checks.some((c) => !c.ok)) process.exitCode = 1;
}

export function register(program: Command): void {
  program
    .command('doctor')
    .description('check the config, each storage, data table and lake, and the DuckDB extensions; exit 1 if any check fails')
    .option('--read-only', 'only list storages, write no probe file')
    .option('--timeout <seconds>', 'give up on a check after this long (an embedded PostgreSQL starting for the first time takes a while)', '60')
    .option('--json', 'JSON output')
    .addHelpText('after', '\nExamples:\n  millrace doctor\n  MILLRACE_CONFIG=prod.json millrace doctor --read-only')
    .action(doctor);
}
