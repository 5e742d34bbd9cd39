/**
 * A worker process of the TPC-DS pipeline: one lane (raw or millrace) on its own DuckDB, driven
 * by JSON lines on stdin, answering on stdout. The coordinator may start it on another host
 * (test/multihost.test.ts starts it inside a network namespace).
 *
 *   node --import tsx bench/tpcds/worker.ts
 *   <- {"runner":"raw","spec":{...}}              -> {"ready":true}
 *   <- {"id":1,"task":{...}} | {"id":2,"check":"t","sql":"..."} | {"id":3,"insert":[w,n]}
 *   -> {"id":1,"result":{...}} | {"id":1,"error":"..."}
 *   <- {"exit":true}                               -> {"maxRssKiB":n}
 */
import { createInterface } from 'node:readline';
import { laneFactory, type Lane, type LaneFactory } from './lane.js';

const send = (m: unknown) => process.stdout.write(JSON.stringify(m) + '\n');
let factory: LaneFactory | undefined;
let lane: Lane | undefined;
let sqlTag: ((s: TemplateStringsArray, ...v: unknown[]) => { execute(): Promise<void> }) | undefined;

for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const m = JSON.parse(line);
  if (m.runner) {
    factory = await laneFactory(m.runner, m.spec);
    lane = await factory.lane();
    if (m.runner === 'millrace') sqlTag = (await import('../../src/index.js')).ducklake() as never;
    send({ ready: true });
  } else if (m.exit) {
    await factory?.close();
    send({ maxRssKiB: process.resourceUsage().maxRSS });
    break;
  } else {
    // Tasks run concurrently when the coordinator sends several (the multi-host insert test does).
    void (async () => {
      try {
        if (m.task) send({ id: m.id, result: await lane!.run(m.task) });
        else if (m.check) send({ id: m.id, result: await lane!.check(m.check, m.sql) });
        else if (m.insert) {
          // 300 concurrent single-row inserts through millrace's ducklake(), as many scripts on one host would.
          const [worker, n] = m.insert as [number, number];
          await Promise.all(Array.from({ length: n }, (_, i) => sqlTag!`INSERT INTO hits VALUES (${worker}, ${i})`.execute()));
          send({ id: m.id, result: {} });
        }
      } catch (e) {
        send({ id: m.id, error: e instanceof Error ? e.message : String(e) });
      }
    })();
  }
}
process.exit(0);
