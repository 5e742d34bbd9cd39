/**
 * A lane runs one task at a time. The raw lane is `@duckdb/node-api` with its own ATTACH of the
 * lake (one instance per process, one connection per lane, `USE` on each); the millrace lane
 * is `ducklake()` (millrace decides the connections). Both read the same lake spec.
 */
import type * as DuckDBApi from '@duckdb/node-api';
import { checksum, splitSource, sourceKey, type Task } from './tasks.js';

/** Everything a worker needs to reach the lake: plain data, sent to worker processes as JSON. */
export type LakeSpec = {
  pg: { host: string; port: number; user: string; dbname: string };
  s3: { endPoint: string; accessKey: string; secretKey: string; region: string };
  sourceBucket: string;
  lakeBucket: string;
  /** The run's folder in the lake bucket: every run writes its own data files. */
  prefix: string;
  sf: number;
  extensionDirectory: string;
};

export type Runner = 'raw' | 'millrace';

export type TaskResult = { rows?: number; checksum?: string; findings?: string[][] };

export interface Lane {
  run(task: Task): Promise<TaskResult>;
  /** Untimed: [row count, hash] of an output table. */
  check(table: string, sql: string): Promise<[string, string]>;
  close(): Promise<void>;
}

export interface LaneFactory {
  lane(): Promise<Lane>;
  close(): Promise<void>;
}

function summarize(task: Task, rows: unknown[][]): TaskResult {
  const sum = checksum(rows);
  return task.stage === 'validate' ? { ...sum, findings: rows.map((r) => r.map((v) => String(v))) } : sum;
}

function endpointHost(endPoint: string): string {
  return new URL(endPoint).host;
}

export async function rawFactory(spec: LakeSpec): Promise<LaneFactory> {
  const api = await import('@duckdb/node-api');
  const instance = await api.DuckDBInstance.create(':memory:', {
    extension_directory: spec.extensionDirectory,
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'true',
  });
  const setup = await instance.connect();
  for (const ext of ['ducklake', 'httpfs', 'postgres_scanner']) await setup.run(`LOAD ${ext}`);
  const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
  await setup.run(`CREATE SECRET s3 (TYPE s3, KEY_ID ${q(spec.s3.accessKey)}, SECRET ${q(spec.s3.secretKey)}, REGION ${q(spec.s3.region)},
    ENDPOINT ${q(endpointHost(spec.s3.endPoint))}, USE_SSL false, URL_STYLE 'path')`);
  const { host, port, user, dbname } = spec.pg;
  await setup.run(`ATTACH IF NOT EXISTS ${q(`ducklake:postgres:host=${host} port=${port} user=${user} dbname=${dbname}`)} AS lake
    (DATA_PATH ${q(`s3://${spec.lakeBucket}/${spec.prefix}`)}, DATA_INLINING_ROW_LIMIT 0)`);
  const connections: DuckDBApi.DuckDBConnection[] = [setup];
  return {
    async lane() {
      const conn = await instance.connect();
      connections.push(conn);
      await conn.run('USE lake');
      return {
        async run(task) {
          const parts = splitSource(task.sql);
          let reader: DuckDBApi.DuckDBResultReader;
          if (task.source) {
            const p = await conn.prepare(parts.join('$1'));
            p.bindVarchar(1, `s3://${spec.sourceBucket}/${sourceKey(spec.sf, task.source)}`);
            reader = await p.runAndReadAll();
            p.destroySync();
          } else {
            reader = await conn.runAndReadAll(task.sql);
          }
          if (task.kind === 'exec') return {};
          return summarize(task, reader.getRowsJS());
        },
        async check(_table, sql) {
          const row = (await conn.runAndReadAll(sql)).getRowsJS()[0]!;
          return [String(row[0]), String(row[1])];
        },
        async close() {},
      };
    },
    async close() {
      for (const c of connections) c.closeSync();
      instance.closeSync();
    },
  };
}

export function millraceConfig(spec: LakeSpec) {
  const s3 = { type: 's3' as const, endPoint: spec.s3.endPoint, region: spec.s3.region, accessKey: spec.s3.accessKey, secretKey: spec.s3.secretKey, pathStyle: true };
  return {
    storage: { ...s3, bucket: spec.sourceBucket },
    secondaryStorage: { lake: { ...s3, bucket: spec.lakeBucket } },
    ducklakes: { main: { catalog: { type: 'postgresql' as const, ...spec.pg }, storage: 'lake', prefix: spec.prefix } },
    duckdb: { extensionDirectory: spec.extensionDirectory },
  };
}

export async function millraceFactory(spec: LakeSpec, entry = '../../src/index.js'): Promise<LaneFactory> {
  const wmill = (await import(entry)) as typeof import('../../src/index.js');
  await wmill.configure(millraceConfig(spec));
  const sql = wmill.ducklake();
  return {
    async lane() {
      return {
        async run(task) {
          const parts = splitSource(task.sql);
          const strings = Object.assign([...parts], { raw: [...parts] }) as unknown as TemplateStringsArray;
          const values = task.source ? [`s3:///${sourceKey(spec.sf, task.source)}`] : [];
          const statement = sql(strings, ...values);
          if (task.kind === 'exec') {
            await statement.execute();
            return {};
          }
          const rows = (await statement.fetch()) as Record<string, unknown>[];
          return summarize(task, rows.map((r) => Object.values(r)));
        },
        async check(_table, text) {
          const row = (await sql(Object.assign([text], { raw: [text] }) as unknown as TemplateStringsArray).fetchOne()) as Record<string, unknown>;
          return [String(row.n), String(row.h)];
        },
        async close() {},
      };
    },
    async close() {
      await wmill.close();
    },
  };
}

export function laneFactory(runner: Runner, spec: LakeSpec): Promise<LaneFactory> {
  return runner === 'raw' ? rawFactory(spec) : millraceFactory(spec);
}
