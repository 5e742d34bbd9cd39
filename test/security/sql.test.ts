/**
 * The SQL side of the security suite, against the real PostgreSQL and DuckDB: rows own exactly their
 * columns, no bound value reaches any printable form of an error, materialization names are
 * identifiers, and the statement splitter agrees with both engines. Each area counts the cases it
 * tried and the ones that held; afterAll prints them (the README's Security table quotes them).
 */
import fc from 'fast-check';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { close, configure, datatable, ducklake, type SqlTemplateFunction } from '../../src/index.js';
import { ensureExtensions, freshHome } from '../helpers/ducklake.js';
import { freshDatabase } from '../setup/pgdb.js';

freshHome('security-sql');

beforeAll(async () => {
  const url = await freshDatabase(inject('pgUrl'), 'millrace_security_sql');
  await configure({ datatables: { main: url }, duckdb: { extensionDirectory: await ensureExtensions() } });
});

const tally = new Map<string, { tried: number; held: number }>();
/** Counts one case of an area: `held` when the assertion inside passes. */
async function attempt(area: string, check: () => unknown): Promise<void> {
  const t = tally.get(area) ?? { tried: 0, held: 0 };
  tally.set(area, t);
  t.tried++;
  await check();
  t.held++;
}

afterAll(async () => {
  await close();
  console.log(['Security (SQL): area | cases tried | held', ...[...tally].map(([a, t]) => `${a} | ${t.tried} | ${t.held}`)].join('\n'));
});

type EngineCase = { name: string; sql: () => SqlTemplateFunction };
const ENGINES: EngineCase[] = [
  { name: 'PostgreSQL', sql: () => datatable() },
  { name: 'DuckDB', sql: () => ducklake() },
];

describe.each(ENGINES)('rows own exactly their columns ($name)', ({ name, sql: open }) => {
  const area = 'rows own their columns (`__proto__`)';
  it('a column named __proto__ is an own property, whatever its value', async () => {
    const sql = open();
    const json = name === 'DuckDB' ? sql.raw(`'{"isAdmin":true}'::JSON`) : sql.raw(`'{"isAdmin":true}'::json`);
    const values: [unknown, unknown][] = [
      [json, { isAdmin: true }],
      [sql.raw(`'text'`), 'text'],
      [sql.raw('42'), 42],
      [sql.raw('NULL'), null],
    ];
    for (const [expr, expected] of values) {
      await attempt(area, async () => {
        const rows = await sql`SELECT 1 AS a, ${expr} AS "__proto__", 2 AS b`.fetch();
        const row = rows[0]!;
        expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
        expect(Object.keys(row)).toEqual(['a', '__proto__', 'b']);
        expect(Object.getOwnPropertyDescriptor(row, '__proto__')?.value).toEqual(expected);
        expect((row as { isAdmin?: unknown }).isAdmin).toBeUndefined();
        expect(JSON.parse(JSON.stringify(row))).toEqual(JSON.parse(`{"a":1,"__proto__":${JSON.stringify(expected)},"b":2}`));
      });
    }
  });

  it('JSON values keep "__proto__" keys as own properties', async () => {
    const sql = open();
    await attempt(area, async () => {
      const cast = sql.raw(name === 'DuckDB' ? 'JSON' : 'jsonb');
      const v = await sql`SELECT ${sql.raw(`'{"__proto__": {"isAdmin": true}, "x": 1}'`)}::${cast} AS j`.fetchOneScalar();
      expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
      expect((v as { isAdmin?: unknown }).isAdmin).toBeUndefined();
      expect(Object.getOwnPropertyDescriptor(v, '__proto__')?.value).toEqual({ isAdmin: true });
    });
  });

  if (name === 'DuckDB') {
    it('STRUCT fields and MAP keys named __proto__ are own properties', async () => {
      const sql = open();
      const cases: [string, unknown][] = [
        [`{'__proto__': {'isAdmin': true}, 'y': 1}`, { isAdmin: true }],
        [`{'__proto__': 'x', 'y': 1}`, 'x'],
        [`{'__proto__': NULL, 'y': 1}`, null],
        [`[{'__proto__': {'isAdmin': true}, 'y': 1}][1]`, { isAdmin: true }],
        [`MAP {'__proto__': {'isAdmin': true}, 'y': {'isAdmin': false}}`, { isAdmin: true }],
        [`MAP {'__proto__': 'x', 'y': 'z'}`, 'x'],
      ];
      for (const [expr, expected] of cases) {
        await attempt(area, async () => {
          const v = (await sql`SELECT ${sql.raw(expr)} AS s`.fetchOneScalar()) as Record<string, unknown>;
          expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
          expect(Object.keys(v)).toEqual(['__proto__', 'y']);
          expect(Object.getOwnPropertyDescriptor(v, '__proto__')?.value).toEqual(expected);
          expect(v.isAdmin).toBeUndefined();
        });
      }
    });
  }
});

describe('materialization names are identifiers', () => {
  const area = 'materialization names (upsertPartition, appendPartition)';
  const HOSTILE_TABLES = [
    't; DROP TABLE sentinel; --',
    't" ; DROP TABLE sentinel; --',
    't AS SELECT 1; DROP TABLE sentinel; --',
    'sentinel --',
    't(x); DROP TABLE sentinel',
    '"t"; DROP TABLE sentinel; --',
    '"t""; DROP TABLE sentinel; --"x"; DROP TABLE sentinel; --',
    't\0; DROP TABLE sentinel',
    'a.b.c.d',
    '.t',
    't.',
    '',
    ' t',
  ];
  const HOSTILE_COLUMNS = ['id) OR true; DROP TABLE sentinel; --', 'id; DROP TABLE sentinel', 'id" ; DROP TABLE sentinel; --', 'x.id', '1id', 'id --'];

  beforeAll(async () => {
    await ducklake()`CREATE TABLE sentinel AS SELECT 1 AS id; CREATE TABLE src AS SELECT 1 AS id, 'a' AS v UNION ALL SELECT 2, 'b'`.execute();
  });

  async function sentinelSurvives() {
    expect(await ducklake()`SELECT count(*) FROM sentinel`.fetchOneScalar()).toBe(1);
  }

  function rejected(run: () => unknown) {
    let err: unknown;
    try {
      run();
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'InvalidArgument' });
  }

  it('a hostile table, uniqueKey or partitionCol is refused before anything runs', async () => {
    const { upsertPartition, appendPartition } = await import('../../src/index.js');
    const selectSql = 'SELECT * FROM src';
    for (const table of HOSTILE_TABLES) {
      for (const partition of [undefined, '2026-11-21']) {
        await attempt(area, async () => {
          rejected(() => upsertPartition({ table, selectSql, partition, uniqueKey: 'id' }).execute());
          rejected(() => upsertPartition({ table, selectSql, partition }).execute());
          rejected(() => appendPartition({ table, selectSql, partition }).execute());
          await sentinelSurvives();
        });
      }
    }
    for (const column of HOSTILE_COLUMNS) {
      await attempt(area, async () => {
        rejected(() => upsertPartition({ table: 'm1', selectSql, uniqueKey: column }).execute());
        rejected(() => upsertPartition({ table: 'm1', selectSql, partition: 'p', uniqueKey: column }).execute());
        rejected(() => upsertPartition({ table: 'm1', selectSql, partition: 'p', partitionCol: column }).execute());
        rejected(() => appendPartition({ table: 'm1', selectSql, partition: 'p', partitionCol: column }).execute());
        await sentinelSurvives();
      });
    }
  });

  it('ordinary names work as in windmill-client: plain, schema-qualified, any case, pre-quoted', async () => {
    const { upsertPartition, appendPartition } = await import('../../src/index.js');
    const sql = ducklake();
    const cases: { table: string; read: string; uniqueKey?: string; partitionCol?: string }[] = [
      { table: 'daily', read: 'daily', uniqueKey: 'id' },
      { table: 'main.daily_q', read: 'daily_q', uniqueKey: 'ID' },
      { table: 'Daily_Mixed', read: 'daily_mixed', partitionCol: 'Day' },
      { table: '"Daily Sales"', read: '"Daily Sales"', uniqueKey: '"id"' },
      { table: 'ünï_tåble', read: 'ünï_tåble', partitionCol: '_wm_partition' },
    ];
    for (const c of cases) {
      await attempt(area, async () => {
        const opts = { table: c.table, selectSql: 'SELECT * FROM src', partition: '2026-11-21', partitionCol: c.partitionCol };
        await upsertPartition({ ...opts, uniqueKey: c.uniqueKey }).execute();
        await upsertPartition({ ...opts, uniqueKey: c.uniqueKey }).execute();
        expect(await sql`SELECT count(*) FROM ${sql.raw(c.read)}`.fetchOneScalar()).toBe(2);
        await appendPartition(opts).execute();
        expect(await sql`SELECT count(*) FROM ${sql.raw(c.read)}`.fetchOneScalar()).toBe(4);
        await sentinelSurvives();
      });
    }
    await attempt(area, async () => {
      for (let i = 0; i < 2; i++) await upsertPartition({ table: 'main.Whole', selectSql: 'SELECT * FROM src', uniqueKey: 'Id' }).execute();
      expect(await sql`SELECT count(*) FROM whole`.fetchOneScalar()).toBe(2);
    });
  });
});

describe.each(ENGINES)('the splitter agrees with the engine ($name)', ({ name, sql: open }) => {
  const area = 'statement splitting (parameters come back where written)';
  /** A template: text pieces and values, as a tagged template would hand them over. */
  type Piece = { text: string } | { value: string };
  const template = (pieces: Piece[]) => {
    const strings: string[] = [''];
    const values: string[] = [];
    for (const p of pieces) {
      if ('text' in p) strings[strings.length - 1] += p.text;
      else {
        values.push(p.value);
        strings.push('');
      }
    }
    return { strings: Object.assign(strings, { raw: strings }) as unknown as TemplateStringsArray, values };
  };
  const run = (pieces: Piece[]) => {
    const { strings, values } = template(pieces);
    return open()(strings, ...values).fetch({ resultCollection: 'all_statements_all_rows' }) as Promise<Record<string, unknown>[][]>;
  };

  it('the cases of the issue: E-string continued on the next line, a value in a comment, CREATE RULE ... DO (a; b)', async () => {
    await attempt(area, async () => {
      const pieces: Piece[] = [
        { text: 'SELECT ' }, { value: 'A' }, { text: "::text AS a, E'q'\n'\\' AS junk, ' AS s, " }, { value: 'C' },
        { text: "::text AS c -- '\n, " }, { value: 'D' }, { text: '::text AS d; SELECT 1 AS one' },
      ];
      expect(await run(pieces)).toEqual([[{ a: 'A', s: "q' AS junk, ", c: 'C', d: 'D' }], [{ one: 1 }]]);
    });
    await attempt(area, async () => {
      expect(await run([{ text: 'SELECT 1 AS a -- ' }, { value: 'x' }, { text: '\n' }])).toEqual([[{ a: 1 }]]);
      expect(await run([{ text: 'SELECT ' }, { value: 'y' }, { text: '::text AS a /* ' }, { value: 'x' }, { text: ' */' }])).toEqual([[{ a: 'y' }]]);
    });
    await attempt(area, async () => {
      const err = await run([{ text: "SELECT '" }, { value: 'x' }, { text: "' AS a; SELECT 1" }]).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'InvalidArgument' });
    });
    if (name === 'DuckDB') {
      await attempt(area, async () => {
        // DuckDB's conventions (`dl.`, 's3://' literals) read the text with the same rules: nothing inside
        // an E-string's continuation or a nested comment is rewritten.
        const rows = await run([{ text: "SELECT E'a'\n'\\' dl.t ' AS s /* /* */ FROM dl.t */" }]);
        expect(rows).toEqual([[{ s: "a' dl.t " }]]);
      });
    }
    if (name === 'PostgreSQL') {
      await attempt(area, async () => {
        const sql = open();
        await sql`CREATE TABLE rule_src (v text); CREATE TABLE rule_a (v text); CREATE TABLE rule_b (v text);
CREATE RULE fan_out AS ON INSERT TO rule_src DO ALSO (INSERT INTO rule_a VALUES (NEW.v); INSERT INTO rule_b VALUES (NEW.v || ';'));
INSERT INTO rule_src VALUES (${'x'})`.execute();
        expect(await sql`SELECT (SELECT v FROM rule_a) AS a, (SELECT v FROM rule_b) AS b`.fetchOne()).toEqual({ a: 'x', b: 'x;' });
      });
    }
  });

  it('property: every value comes back from the statement and column it was written in', async () => {
    const chars = fc.constantFrom('a', 'Z', ' ', ';', "'", '"', '$', '-', '/', '*', '(', ')', '\\', '\n', 'é', '1', ' dl.t ', 's3:///k');
    const content = fc.array(chars, { maxLength: 6 }).map((cs) => cs.join(''));
    const value = fc.string({ maxLength: 8 }).map((v) => v.replace(/\0/g, ''));
    /** An inert column: its SQL and the value the engine returns for it. */
    const junk = fc.oneof<fc.Arbitrary<[string, unknown]>[]>(
      content.map((t) => [`'${t.replace(/'/g, "''")}'`, t]),
      fc.tuple(content, content).map(([a, b]) => {
        const e = (t: string) => t.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
        return [`E'${e(a)}'\n  '${e(b)}'`, a + b];
      }),
      fc.tuple(content, content).map(([a, b]) => [`'${a.replace(/'/g, "''")}' -- ; ' $$\n'${b.replace(/'/g, "''")}'`, a + b]),
      content.filter((t) => !t.includes('$q$') && !t.endsWith('$')).map((t) => [`$q$${t}$q$`, t]),
      content.map((t) => [`(';' || '${t.replace(/'/g, "''")}' || (')'))`, `;${t})`]),
    );
    type Item = { kind: 'value'; v: string } | { kind: 'junk'; sql: string; expected: unknown } | { kind: 'comment'; line: boolean; v: string | undefined; t: string };
    const item: fc.Arbitrary<Item> = fc.oneof(
      { weight: 3, arbitrary: value.map((v) => ({ kind: 'value' as const, v })) },
      { weight: 3, arbitrary: junk.map(([sql, expected]) => ({ kind: 'junk' as const, sql, expected })) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('comment' as const), line: fc.boolean(), v: fc.option(value, { nil: undefined }), t: content }) },
    );
    const statement = fc.array(item, { minLength: 1, maxLength: 5 });
    await fc.assert(
      fc.asyncProperty(fc.array(statement, { minLength: 1, maxLength: 3 }), async (statements) => {
        await attempt(area, async () => {
          const pieces: Piece[] = [];
          const expected: Record<string, unknown>[][] = [];
          statements.forEach((items, s) => {
            if (s > 0) pieces.push({ text: ';\n' });
            pieces.push({ text: 'SELECT 0 AS c0' });
            const row: Record<string, unknown> = { c0: 0 };
            items.forEach((it, k) => {
              if (it.kind === 'value') {
                pieces.push({ text: ', ' }, { value: it.v }, { text: `::text AS "c${k + 1}"` });
                row[`c${k + 1}`] = it.v;
              } else if (it.kind === 'junk') {
                pieces.push({ text: `, ${it.sql} AS "j${k + 1};'"` });
                row[`j${k + 1};'`] = it.expected;
              } else {
                const body = it.line ? it.t.replace(/[\n\r]/g, ' ') : it.t.replace(/\/\*|\*\//g, '');
                pieces.push({ text: it.line ? ` -- ${body}` : ` /* ${body} /* nested ; */ ` });
                if (it.v !== undefined) pieces.push({ value: it.v });
                pieces.push({ text: it.line ? '\n' : ' */ ' });
              }
            });
            expected.push([row]);
          });
          expect(await run(pieces)).toEqual(expected);
        });
      }),
      { numRuns: 200 },
    );
  });
});

describe('no bound value in any printable form of an error', () => {
  const area = 'bound values kept out of errors';
  /** Every printable form of an error, its cause chain included. */
  const printed = (err: unknown): string => {
    const out: string[] = [inspect(err, { depth: 10 }), JSON.stringify(err) ?? ''];
    for (let e = err as { cause?: unknown; stack?: unknown } | undefined, n = 0; e && n < 10; e = e.cause as typeof e, n++) out.push(String(e), String(e.stack));
    return out.join('\n');
  };
  /** `text` standing on its own in `s`: not glued to a letter, digit or _ where `text` itself starts or ends with one. */
  const standalone = (s: string, text: string): boolean => {
    const word = /[\p{L}\p{N}_]/u;
    for (let i = s.indexOf(text); i !== -1; i = s.indexOf(text, i + 1)) {
      const end = i + text.length;
      const gluedStart = word.test(text[0]!) && i > 0 && word.test(s[i - 1]!);
      const gluedEnd = word.test(text.at(-1)!) && end < s.length && word.test(s[end]!);
      if (!gluedStart && !gluedEnd) return true;
    }
    return false;
  };
  /** What a user would call the value: its text, its JSON, the strings inside it, and their words (engines echo one token). */
  const forms = (v: unknown): string[] => {
    if (typeof v === 'string') return [v, ...v.split(/[\s{}[\]":,]+/).filter((w) => w !== v)];
    if (typeof v === 'number' || typeof v === 'bigint') return [String(v)];
    if (v instanceof Date) return [v.toISOString(), v.toISOString().slice(0, 10)];
    const leaves = Object.values(v as object).flatMap(forms);
    return [JSON.stringify(v), ...leaves];
  };

  type Position = { engine: EngineCase; sql: string };
  const PG_TYPES = ['int', 'bigint', 'numeric', 'float8', 'boolean', 'date', 'timestamptz', 'time', 'interval', 'uuid', 'json', 'jsonb', 'int[]', 'text[]', 'inet', 'money', 'int4range', 'mood'];
  const DK_TYPES = ['INTEGER', 'BIGINT', 'DECIMAL(10,2)', 'DOUBLE', 'BOOLEAN', 'DATE', 'TIMESTAMPTZ', 'TIME', 'INTERVAL', 'UUID', 'JSON', 'INTEGER[]', 'TINYINT', 'HUGEINT', 'STRUCT(a INT)', 'MAP(VARCHAR, INT)', 'VARCHAR[]'];
  const POSITIONS: Position[] = [
    ...PG_TYPES.flatMap((t) => [`SELECT $1::text::${t}`, `SELECT $1::${t}`]).map((sql) => ({ engine: ENGINES[0]!, sql })),
    ...[
      "SELECT to_date($1, 'YYYY-MM-DD')",
      'SELECT current_setting($1)',
      'SELECT $1::text::regclass',
      "SELECT json_build_object('k', $1)::text::int",
      'SELECT ($1::text || $1::text)::int',
      'INSERT INTO guarded (a, b) VALUES (1, $1::text)',
      'INSERT INTO guarded (a, b, c) VALUES (2, $1::text, $1::text)',
      'SELECT * FROM no_such_table WHERE x = $1',
    ].map((sql) => ({ engine: ENGINES[0]!, sql })),
    ...DK_TYPES.flatMap((t) => [`SELECT $1::VARCHAR::${t}`, `SELECT CAST($1 AS ${t})`]).map((sql) => ({ engine: ENGINES[1]!, sql })),
    ...[
      "SELECT strptime($1::VARCHAR, '%Y')",
      "SELECT json_extract($1::VARCHAR, '$.a')",
      "SELECT regexp_matches('a', '(' || $1::VARCHAR)",
      'SELECT error($1::VARCHAR)',
      "SELECT $1::VARCHAR::JSON->>'a'",
      "SELECT to_json($1)::VARCHAR::INTEGER",
      'INSERT INTO guarded VALUES ($1::VARCHAR), ($1::VARCHAR)',
      'SELECT * FROM no_such_table WHERE x = $1',
    ].map((sql) => ({ engine: ENGINES[1]!, sql })),
  ];

  beforeAll(async () => {
    await datatable()`CREATE TYPE mood AS ENUM ('ok'); CREATE TABLE guarded (a int, b text NOT NULL UNIQUE, c text CHECK (length(c) < 3))`.execute();
    await ducklake()`CREATE TEMP TABLE guarded (v VARCHAR PRIMARY KEY CHECK (length(v) < 1))`.execute();
  });

  /** The position's statement with the value in each `$1`. */
  const failure = (p: Position, v: unknown): Promise<unknown> => {
    const strings = p.sql.split('$1');
    const tag = Object.assign(strings, { raw: strings }) as unknown as TemplateStringsArray;
    return p.engine.sql()(tag, ...strings.slice(1).map(() => v)).fetch();
  };

  it('property: random values in every position on both engines never appear in an error', async () => {
    // What each position's error prints for a value that is not there: a value found standing in it
    // (a word of the message, the SQL text, a path of the stack) is not the engine echoing it.
    const reference = new Map<Position, string>();
    for (const p of POSITIONS) reference.set(p, printed(await failure(p, 'qzqzqz').then(() => undefined, (e: unknown) => e)));
    const value = fc.oneof(
      fc.string({ minLength: 3, maxLength: 24 }),
      fc.string({ unit: 'grapheme', minLength: 3, maxLength: 12 }),
      fc.stringMatching(/^[a-z]{3,8}[0-9]{0,3}( [a-z0-9]{3,8}){0,2}$/),
      fc.stringMatching(/^\{"[a-z]{1,3}": [a-z]{3,8}\}$/),
      fc.integer({ min: 100, max: 2 ** 31 }),
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => String(d).length >= 3),
      fc.dictionary(fc.stringMatching(/^[a-z]{1,4}$/), fc.string({ minLength: 3, maxLength: 10 }), { minKeys: 1, maxKeys: 3 }),
      fc.date({ min: new Date('1900-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }),
    ).map((v) => (typeof v === 'string' ? v.replace(/\0/g, '') : v));
    let errors = 0;
    await fc.assert(
      fc.asyncProperty(value, fc.constantFrom(...POSITIONS), async (v, p) => {
        const look = forms(v).filter((f) => f.length >= 3 && !standalone(reference.get(p)!, f));
        fc.pre(look.length > 0);
        const err = await failure(p, v).then(() => undefined, (e: unknown) => e);
        if (err === undefined) return; // the value was valid there
        errors++;
        await attempt(area, () => {
          const text = printed(err);
          for (const f of look) expect(standalone(text, f), `${JSON.stringify(f)} in ${p.engine.name}: ${p.sql}\n${text}`).toBe(false);
        });
      }),
      { numRuns: 600 },
    );
    expect(errors).toBeGreaterThan(300);
  });

  it('DuckDB regexp errors (RE2 echoes the rest of the pattern) keep the value out', async () => {
    const p = POSITIONS.find((x) => x.sql.includes('regexp_matches'))!;
    let failed = 0;
    for (const v of [',[###', 'abc[secretword', 'x\\qsecretword', '[z-asecretword]', '(?P<secretword']) {
      const err = await failure(p, v).then(() => undefined, (e: unknown) => e);
      if (err === undefined) continue;
      failed++;
      await attempt(area, () => {
        const text = printed(err);
        for (const f of forms(v).filter((x) => x.length >= 3 && !standalone(printed(new Error('x')), x))) expect(standalone(text, f), `${f} in ${text}`).toBe(false);
        expect(text).not.toContain('secretword');
      });
    }
    expect(failed).toBeGreaterThanOrEqual(3);
  });

  it('the engines\' own words survive: only the bound values are replaced', async () => {
    const { scrubParams } = await import('../../src/sql/scrub.js');
    const bound = (...values: unknown[]) => values.map((value) => ({ value, type: 'TEXT', explicit: false }));
    const harmless: [string, unknown[]][] = [
      ['too many bind parameters: 70000 (the limit is 65535)', [5535, '6553']],
      ['relation "database_metadata" does not exist', ['data', 'base', 'meta']],
      ['column "metadata" does not exist', ['data', 'tada']],
      ["Catalog Error: Table with name no_such_table does not exist!\n\nLINE 1: SELECT * FROM no_such_table WHERE x = $1", ['such', 'tab', 1, 'LIN']],
      ['Conversion Error: Type INT64 with value 3000 can\'t be cast because the value is out of range', [300, 'ype']],
      ['syntax error at or near "SELECTED"', ['SELECT', 'ECTED']],
      ['duplicate key value violates unique constraint "guarded_b_key"', ['guarded', 'key_b']],
      ['permission denied for table secrets2', ['secrets']],
    ];
    for (const [message, values] of harmless) {
      await attempt(area, () => expect(scrubParams(message, bound(...values))).toBe(message));
    }
    // And on the real engines: a message that quotes no value keeps every word.
    await attempt(area, async () => {
      const err = await datatable()`SELECT ${5535}::int, ${'data'}::text FROM database_metadata`.fetch().catch((e: unknown) => e);
      expect(String(err)).toContain('relation "database_metadata" does not exist');
    });
    await attempt(area, async () => {
      const err = await ducklake()`SELECT ${'such'} FROM no_such_table`.fetch().catch((e: unknown) => e);
      expect(String(err)).toContain('Table with name no_such_table does not exist');
    });
  });
});
