/**
 * runDuckDBScript(): Windmill DuckDB scripts (`-- $name (type)` headers, `$name` parameters)
 * on the embedded lake, bound as parameters.
 */
import { describe, expect, it } from 'vitest';
import { ducklake, duckdbScriptArgs, runDuckDBScript, writeS3File } from '../../src/index.js';
import { caught, embeddedLake } from '../helpers/ducklake.js';
import { SCRIPT } from '../../examples/u7-sentiment-script.js';

embeddedLake('script');

const MESSAGES = `-- $messages (json)
-- $min_sentiment (double) = 0.5
-- $day (date) = '2026-11-21'
CREATE TABLE IF NOT EXISTS messages (content VARCHAR NOT NULL, author VARCHAR NOT NULL, date DATE NOT NULL, sentiment DOUBLE);
INSERT INTO messages
  SELECT value->>'content', value->>'author', CAST(value->>'date' AS DATE), CAST(value->>'sentiment' AS DOUBLE)
  FROM json_each($messages);
-- '$messages' in a literal and $day in this comment stay as written
SELECT author, content, '$min_sentiment' AS lit FROM messages WHERE sentiment >= $min_sentiment AND date = $day ORDER BY author;`;

describe('runDuckDBScript', () => {
  it('reads the header lines Windmill reads', () => {
    expect(duckdbScriptArgs(MESSAGES)).toEqual([
      { name: 'messages', type: 'json' },
      { name: 'min_sentiment', type: 'double', default: '0.5' },
      { name: 'day', type: 'date', default: "'2026-11-21'" },
    ]);
  });

  it('binds each $name outside literals and comments, applies defaults, and returns the last statement rows', async () => {
    const messages = [
      { content: 'great', author: 'ada', date: '2026-11-21', sentiment: 0.9 },
      { content: "it's bad'); DROP TABLE messages; --", author: 'bob', date: '2026-11-21', sentiment: 0.1 },
      { content: 'fine', author: 'cy', date: '2026-11-20', sentiment: 0.7 },
    ];
    const rows = await runDuckDBScript(MESSAGES, { messages });
    expect(rows).toEqual([{ author: 'ada', content: 'great', lit: '$min_sentiment' }]);
    const again = await runDuckDBScript(MESSAGES, { messages: [], min_sentiment: '0', day: new Date('2026-11-20T00:00:00Z') });
    expect(again).toEqual([{ author: 'cy', content: 'fine', lit: '$min_sentiment' }]);
    expect(await ducklake()`SELECT count(*)::INT AS n FROM messages`.fetchOneScalar()).toBe(3);
  });

  it('casts to the declared type: bigint, boolean, text, timestamp and list arguments', async () => {
    const rows = await runDuckDBScript(
      `-- $n (bigint)
-- $flag (boolean)
-- $name (text)
-- $at (timestamp)
-- $ids (bigint[])
SELECT $n + 1 AS n, typeof($n) AS t, NOT $flag AS flag, $name || '!' AS name, year($at) AS y, len($ids) AS k, $n AS again`,
      { n: '41', flag: 'true', name: 'x', at: '2026-11-21 10:00:00', ids: '[1, 2, 3]' },
    );
    expect(rows).toEqual([{ n: 42, t: 'BIGINT', flag: false, name: 'x!', y: 2026, k: 3, again: 41 }]);
  });

  it('an s3object argument becomes the storage URL of that file', async () => {
    await writeS3File({ s3: 'script/in.csv' }, 'a,b\n1,2\n3,4\n');
    const rows = await runDuckDBScript(`-- $file (s3object)\nSELECT sum(b)::INT AS s FROM read_csv($file)`, { file: 's3:///script/in.csv' });
    expect(rows).toEqual([{ s: 6 }]);
  });

  it('a missing argument, an unknown one and a bad list are typed errors before anything runs', async () => {
    expect((await caught(runDuckDBScript('-- $x (bigint)\nSELECT $x AS x'))).code).toBe('InvalidArgument');
    const unknown = await caught(runDuckDBScript('-- $x (bigint)\nSELECT $x AS x', { x: 1, y: 2 }));
    expect(unknown.code).toBe('InvalidArgument');
    expect(unknown.message).toContain('$y');
    expect((await caught(runDuckDBScript('-- $ids (int[])\nSELECT $ids', { ids: 'nope' }))).code).toBe('InvalidArgument');
  });

  it('a hostile text argument is a value, never SQL', async () => {
    await runDuckDBScript('CREATE TABLE IF NOT EXISTS keep (v VARCHAR)');
    const rows = await runDuckDBScript("-- $v (text)\nINSERT INTO keep VALUES ($v); SELECT v FROM keep", { v: "'); DROP TABLE keep; --" });
    expect(rows).toEqual([{ v: "'); DROP TABLE keep; --" }]);
  });

  it('$tag$ dollar quotes and identifiers containing $ are not parameters', async () => {
    expect(await runDuckDBScript('SELECT $q$ $x $q$ AS s')).toEqual([{ s: ' $x ' }]);
  });
});

describe('runDuckDBScript with Windmill conventions', () => {
  it("runs the U7 sentiment script as written: ATTACH 'ducklake://main' AS dl, USE dl, a json[] argument", async () => {
    const messages = [
      { content: 'I love this', author: 'ada', date: '2026-11-21' },
      { content: 'meh', author: 'bob', date: '2026-11-22' },
    ];
    await runDuckDBScript(SCRIPT, { messages });
    const rows = await ducklake()`SELECT author, sentiment FROM dl.messages WHERE date >= DATE '2026-11-21' AND content IN ('I love this', 'meh') ORDER BY author`.fetch();
    expect(rows).toEqual([{ author: 'ada', sentiment: 1 }, { author: 'bob', sentiment: 0 }]);
  });
});
