/**
 * The pipeline: stages in order, the tasks of a stage spread over N lanes (each lane takes the
 * next task when it is free). Lanes are in this process, or worker processes (bench/tpcds/worker.ts),
 * possibly started on other hosts.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { laneFactory, type Lane, type LakeSpec, type Runner, type TaskResult } from './lane.js';
import { outputCheckSql, type Stage, type Task } from './tasks.js';

export type PipelineResult = {
  stages: { name: string; ms: number }[];
  totalMs: number;
  results: Record<string, TaskResult>;
};

export async function runPipeline(stages: Stage[], lanes: Lane[]): Promise<PipelineResult> {
  const results: Record<string, TaskResult> = {};
  const times: { name: string; ms: number }[] = [];
  const started = performance.now();
  for (const stage of stages) {
    const t0 = performance.now();
    const queue = [...stage.tasks];
    await Promise.all(
      lanes.map(async (lane) => {
        for (let task = queue.shift(); task; task = queue.shift()) {
          try {
            results[`${task.stage}/${task.name}`] = await lane.run(task);
          } catch (e) {
            throw new Error(`task ${task.stage}/${task.name}: ${e instanceof Error ? e.message : String(e)}`);
          }
        }
      }),
    );
    times.push({ name: stage.name, ms: performance.now() - t0 });
  }
  return { stages: times, totalMs: performance.now() - started, results };
}

/** Untimed, after a run: every output table's row count and hash. */
export async function checkOutputs(stages: Stage[], lane: Lane): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of stages.flatMap((s) => s.tasks).filter((t): t is Task & { output: string } => Boolean(t.output))) {
    const [n, h] = await lane.check(t.output, outputCheckSql(t.output));
    out[t.output] = `${n} rows, hash ${h}`;
  }
  return out;
}

/** A lane in a worker process; `prefix` runs it elsewhere (e.g. ['ip', 'netns', 'exec', 'ns1']). */
export class WorkerLane implements Lane {
  readonly #child: ChildProcessByStdio<Writable, Readable, null>;
  readonly #pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  #next = 1;
  #exit: ((rss: number) => void) | undefined;
  readonly ready: Promise<void>;

  constructor(runner: Runner, spec: LakeSpec, prefix: string[] = []) {
    const argv = [...prefix, process.execPath, '--import', 'tsx', join(import.meta.dirname, 'worker.ts')];
    this.#child = spawn(argv[0]!, argv.slice(1), { cwd: join(import.meta.dirname, '..', '..'), stdio: ['pipe', 'pipe', 'inherit'] });
    let onReady!: () => void;
    let onFail!: (e: Error) => void;
    this.ready = new Promise((res, rej) => ((onReady = res), (onFail = rej)));
    this.#child.once('exit', (code) => {
      const e = new Error(`worker exited (${code})`);
      onFail(e);
      for (const p of this.#pending.values()) p.reject(e);
    });
    const stdout = this.#child.stdout;
    void (async () => {
      for await (const line of createInterface({ input: stdout })) {
        if (!line.startsWith('{')) continue;
        const m = JSON.parse(line);
        if (m.ready) onReady();
        else if (m.maxRssKiB !== undefined) this.#exit?.(m.maxRssKiB);
        else {
          const p = this.#pending.get(m.id);
          this.#pending.delete(m.id);
          if (m.error) p?.reject(new Error(m.error));
          else p?.resolve(m.result);
        }
      }
    })();
    this.#send({ runner, spec });
  }

  #send(m: unknown): void {
    this.#child.stdin.write(JSON.stringify(m) + '\n');
  }

  request<T>(m: Record<string, unknown>): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#send({ ...m, id });
    });
  }

  run(task: Task): Promise<TaskResult> {
    return this.request({ task });
  }

  check(table: string, sql: string): Promise<[string, string]> {
    return this.request({ check: table, sql });
  }

  /** Closes the worker; resolves to its peak RSS in KiB. */
  close(): Promise<void> {
    return this.stop().then(() => undefined);
  }

  stop(): Promise<number> {
    return new Promise<number>((resolve) => {
      this.#exit = resolve;
      this.#send({ exit: true });
      this.#child.stdin.end();
    });
  }
}

export type Lanes = { lanes: Lane[]; close(): Promise<number[]> };

/** N lanes: in this process (`lanes`), or one worker process each (`processes`). Returns peak RSS (KiB) per process on close. */
export async function openLanes(runner: Runner, spec: LakeSpec, n: number, mode: 'lanes' | 'processes', prefixes: string[][] = []): Promise<Lanes> {
  if (mode === 'processes') {
    // The first ATTACH of a fresh catalog creates DuckLake's tables: two processes doing it at once collide,
    // so one worker attaches first and the others join an existing lake.
    const first = new WorkerLane(runner, spec, prefixes[0] ?? []);
    await first.ready;
    await first.check('attach', 'SELECT 1 AS n, 1 AS h');
    const workers = [first, ...Array.from({ length: n - 1 }, (_, i) => new WorkerLane(runner, spec, prefixes[i + 1] ?? []))];
    await Promise.all(workers.map((w) => w.ready));
    return { lanes: workers, close: () => Promise.all(workers.map((w) => w.stop())) };
  }
  const factory = await laneFactory(runner, spec);
  const lanes = await Promise.all(Array.from({ length: n }, () => factory.lane()));
  return {
    lanes,
    close: async () => {
      await factory.close();
      return [process.resourceUsage().maxRSS];
    },
  };
}
