/** One of the concurrent writers of test/sql/ducklake.concurrency.test.ts: 250 single-row inserts into a shared lake. */
const wmill = await import('../../src/index.js');
const [writer, rows] = [Number(process.argv[2]), Number(process.argv[3])];
await wmill.configure(JSON.parse(process.env.LAKE_CONFIG!));
const sql = wmill.ducklake('shared');
const started = Date.now();
for (let i = 0; i < rows; i++) await sql`INSERT INTO hits VALUES (${writer}, ${i})`.execute();
process.stdout.write(JSON.stringify({ writer, ms: Date.now() - started }) + '\n');
await wmill.close();
