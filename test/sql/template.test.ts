/** The SQL template compiler, pure: no database. */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { compile, Fragment, ident, raw, typeAnnotation, type CompiledSql } from '../../src/sql/template.js';
import { findPlaceholders, splitStatements } from '../../src/sql/lexer.js';
import { inferSqlType } from '../../src/sql/infer.js';
import { postgresDialect as postgres } from '../../src/sql/postgres/dialect.js';
import { duckdbDialect } from '../../src/sql/duckdb/dialect.js';
import type { Dialect, SqlEngine } from '../../src/sql/engine.js';
import { collect, parseName, queryStatement, templateFunction } from '../../src/sql/statement.js';

const noEngine = (): SqlEngine => {
  throw new Error('not run');
};
/** PostgreSQL's dialect with each parameter's inferred type shown as windmill-client writes it (`$1::TEXT`), to read inference in the text. */
const postgresDialect: Dialect = { ...postgres, placeholder: (n, p) => (p.explicit ? `$${n}` : `$${n}::${p.type}`) };
const sql = templateFunction(noEngine, postgresDialect);
const frag = (strings: TemplateStringsArray, ...values: unknown[]) => new Fragment(strings, values);
const texts = (text: string, n = 0) => splitStatements({ text, params: Array.from({ length: n }, (_, i) => ({ value: i + 1, type: 'BIGINT', explicit: false })) });

describe('compile', () => {
  it("PostgreSQL's placeholders are bare: the driver types each parameter (explicit casts stay as written)", () => {
    const c = compile(frag`SELECT * FROM t WHERE id = ${'u1'} AND n > ${2} AND d = ${'2024-01-01'}::date`, postgres);
    expect(c.text).toBe('SELECT * FROM t WHERE id = $1 AND n > $2 AND d = $3::date');
    expect(c.params.map((p) => [p.type, p.explicit])).toEqual([['TEXT', false], ['BIGINT', false], ['date', true]]);
  });

  it('binds every value as a typed placeholder, never splicing it', () => {
    const evil = "'; DROP TABLE friend; --";
    const c = compile(frag`SELECT * FROM friend WHERE name = ${evil} AND age = ${3} AND score > ${1.5}`, postgresDialect);
    expect(c.text).toBe('SELECT * FROM friend WHERE name = $1::TEXT AND age = $2::BIGINT AND score > $3::DOUBLE PRECISION');
    expect(c.params.map((p) => p.value)).toEqual([evil, 3, 1.5]);
    expect(c.text).not.toContain('DROP');
    expect(compile(frag`SELECT ${evil}`, duckdbDialect).text).toBe('SELECT $1');
  });

  it('infers types like windmill-client, plus bigint, Uint8Array and Date arrays', () => {
    expect(inferSqlType(1)).toBe('BIGINT');
    expect(inferSqlType(1.5)).toBe('DOUBLE PRECISION');
    expect(inferSqlType(2n ** 70n)).toBe('BIGINT');
    expect(inferSqlType('x')).toBe('TEXT');
    expect(inferSqlType(null)).toBe('TEXT');
    expect(inferSqlType(undefined)).toBe('TEXT');
    expect(inferSqlType(true)).toBe('BOOLEAN');
    expect(inferSqlType(new Date())).toBe('TIMESTAMPTZ');
    expect(inferSqlType(new Uint8Array(2))).toBe('BYTEA');
    expect(inferSqlType({ a: 1 })).toBe('JSON');
    expect(inferSqlType([1, 2])).toBe('BIGINT[]');
    expect(inferSqlType([1, 2.5])).toBe('DOUBLE PRECISION[]');
    expect(inferSqlType([2.5, 1])).toBe('DOUBLE PRECISION[]');
    expect(inferSqlType([1n, 2])).toBe('BIGINT[]');
    expect(inferSqlType(['a'])).toBe('TEXT[]');
    expect(inferSqlType([true])).toBe('BOOLEAN[]');
    expect(inferSqlType([new Date()])).toBe('TIMESTAMPTZ[]');
    expect(inferSqlType([])).toBe('JSON');
    expect(inferSqlType([1, 'a'])).toBe('JSON');
    expect(inferSqlType([null])).toBe('JSON');
    expect(inferSqlType([null, undefined])).toBe('JSON');
    expect(inferSqlType([1, null])).toBe('BIGINT[]');
    expect(inferSqlType([undefined, 'a', null])).toBe('TEXT[]');
    expect(inferSqlType([null, 1, 2.5])).toBe('DOUBLE PRECISION[]');
    expect(inferSqlType([1, null, 'a'])).toBe('JSON');
    expect(inferSqlType(2 ** 60)).toBe('BIGINT');
    expect(inferSqlType([{ a: 1 }])).toBe('JSON');
  });

  it('an explicit ::type or CAST(x AS type) wins and leaves the text as written', () => {
    expect(typeAnnotation('SELECT ', '::int')).toBe('int');
    expect(typeAnnotation('SELECT ', ' :: numeric(10,2) AS n')).toBe('numeric(10');
    expect(typeAnnotation('SELECT CAST( ', ' AS date)')).toBe('date');
    expect(typeAnnotation('SELECT cast(', ' as text)')).toBe('text');
    expect(typeAnnotation('SELECT ', ' AS x')).toBeUndefined();
    expect(typeAnnotation('SELECT broadcast(', ' AS x)')).toBeUndefined();
    const c = compile(frag`SELECT ${'1'}::int, CAST(${'2024-01-01'} AS date), ${'x'}`, postgresDialect);
    expect(c.text).toBe("SELECT $1::int, CAST($2 AS date), $3::TEXT");
    expect(c.params.map((p) => [p.type, p.explicit])).toEqual([['int', true], ['date', true], ['TEXT', false]]);
  });

  it('an explicit type written with sql.raw after :: or AS wins too', () => {
    const c = compile(frag`SELECT ${'{}'}::${raw('jsonb')}, CAST(${'1'} AS ${raw('int')}), ${'x'}, ${raw('1')}`, postgresDialect);
    expect(c.text).toBe('SELECT $1::jsonb, CAST($2 AS int), $3::TEXT, 1');
    expect(c.params.map((p) => [p.type, p.explicit])).toEqual([['jsonb', true], ['int', true], ['TEXT', false]]);
  });

  it('one call site compiles each call from its own values (annotations are cached per site, types are not)', () => {
    const at = (v: unknown) => sql`SELECT ${v}, ${2}::int`.content;
    expect([1, 'a', 1.5, raw('now()'), 2].map(at)).toEqual([
      'SELECT $1::BIGINT, $2::int',
      'SELECT $1::TEXT, $2::int',
      'SELECT $1::DOUBLE PRECISION, $2::int',
      'SELECT now(), $1::int',
      'SELECT $1::BIGINT, $2::int',
    ]);
  });

  it('inlines sql.raw, quotes sql.ident and nests statements with renumbered parameters', () => {
    const inner = sql`age > ${30} AND name <> ${'x'}`;
    const stmt = sql`SELECT ${sql.ident('we"ird.t')} FROM ${sql.ident('s', 't.u')} WHERE id = ${1} AND ${inner} ORDER BY ${sql.raw('id DESC')} LIMIT ${5}`;
    expect(stmt.content).toBe('SELECT "we""ird"."t" FROM "s"."t.u" WHERE id = $1::BIGINT AND age > $2::BIGINT AND name <> $3::TEXT ORDER BY id DESC LIMIT $4::BIGINT');
    expect(stmt.args).toEqual({ arg1: 1, arg2: 30, arg3: 'x', arg4: 5 });
    const twice = sql`${inner} OR ${inner}`;
    expect(twice.content).toBe('age > $1::BIGINT AND name <> $2::TEXT OR age > $3::BIGINT AND name <> $4::TEXT');
    // Nesting goes through a private symbol: SqlStatement is windmill-client's shape, no `fragment`.
    expect('fragment' in inner).toBe(false);
    expect(Object.keys(inner)).toEqual([]);
    expect(Object.getOwnPropertySymbols(inner).map(String)).toEqual(['Symbol(millrace.fragment)']);
    // A look-alike object with a `fragment` property is a value (bound as JSON), not SQL.
    const fake = { fragment: new Fragment(['DROP TABLE x'], []) };
    expect(sql`SELECT ${fake}`.content).toBe('SELECT $1::JSON');
    expect(() => ident('')).toThrow();
    expect(() => ident('a..b')).toThrow();
    expect(() => raw(1 as unknown as string)).toThrow();
  });

  it('query() finds $n outside literals and comments only', () => {
    const q = queryStatement(noEngine, postgresDialect, `SELECT $2, '$1', "$1", $$ $1 $$, $t$ $1 $t$, E'\\' $1', a$1, $1 -- $1\n/* $1 /* $1 */ */`, ['a', 'b']);
    expect(q.content).toBe(`SELECT $1::TEXT, '$1', "$1", $$ $1 $$, $t$ $1 $t$, E'\\' $1', a$1, $2::TEXT -- $1\n/* $1 /* $1 */ */`);
    expect(q.args).toEqual({ arg1: 'b', arg2: 'a' });
    expect(() => queryStatement(noEngine, postgresDialect, 'SELECT $0', [])).toThrow();
    expect(() => queryStatement(noEngine, postgresDialect, 'SELECT $3', [1, 2])).toThrow();
    expect(queryStatement(noEngine, postgresDialect, "SELECT '$3'", []).content).toBe("SELECT '$3'");
  });
});

describe('splitStatements', () => {
  it('splits at top-level semicolons and drops empty and comment-only statements', () => {
    expect(texts('SELECT 1; SELECT 2;;  ; -- done\n').map((s) => s.text)).toEqual(['SELECT 1', 'SELECT 2']);
    expect(texts('  SELECT 1  ')).toEqual([{ text: 'SELECT 1', params: [] }]);
    expect(texts('-- only a comment')).toEqual([]);
    expect(texts('/* a ; b */')).toEqual([]);
    expect(texts('')).toEqual([]);
  });

  it('keeps semicolons inside quotes, identifiers, dollar-quotes and comments', () => {
    const cases = [
      "SELECT 'a;b', 'it''s; fine'",
      'SELECT 1 AS "x;y", "a""b;"',
      "SELECT E'\\';', e'\\\\'",
      'SELECT $$ ; $$, $fn$ a $$ ; $$ b $fn$',
      'SELECT 1 /* ; /* nested ; */ still; */',
      'SELECT 1 -- ; comment\n + 1',
      'DO $body$ BEGIN PERFORM 1; RAISE NOTICE \'x;\'; END $body$',
      "SELECT U&'d\\0061t;a'",
    ];
    for (const c of cases) expect(texts(`${c}; SELECT 2`).map((s) => s.text)).toEqual([c, 'SELECT 2']);
  });

  it('a $ inside an identifier is not a dollar-quote or placeholder', () => {
    expect(texts('SELECT a$b$; SELECT 2').map((s) => s.text)).toEqual(['SELECT a$b$', 'SELECT 2']);
  });

  it('an unterminated literal runs to the end rather than splitting', () => {
    expect(texts("SELECT 'a; SELECT 2").map((s) => s.text)).toEqual(["SELECT 'a; SELECT 2"]);
    expect(texts('SELECT $$a; SELECT 2').map((s) => s.text)).toEqual(['SELECT $$a; SELECT 2']);
  });

  it('renumbers each statement from $1 and keeps only its own parameters', () => {
    const c: CompiledSql = compile(frag`INSERT INTO t VALUES (${'a'}, ${2}); SELECT ${'b'}, '$1' AS lit; SELECT ${true}, ${'c'}`, postgresDialect);
    const parts = splitStatements(c);
    expect(parts.map((p) => p.text)).toEqual(['INSERT INTO t VALUES ($1::TEXT, $2::BIGINT)', "SELECT $1::TEXT, '$1' AS lit", 'SELECT $1::BOOLEAN, $2::TEXT']);
    expect(parts.map((p) => p.params.map((x) => x.value))).toEqual([['a', 2], ['b'], [true, 'c']]);
  });

  it('a parameter used twice in one statement is bound once', () => {
    const parts = texts('SELECT 1; SELECT $2, $2, $1', 2);
    expect(parts[1]).toEqual({ text: 'SELECT $1, $1, $2', params: [{ value: 2, type: 'BIGINT', explicit: false }, { value: 1, type: 'BIGINT', explicit: false }] });
  });

  it('a single statement keeps its parameters as they are', () => {
    const c = compile(frag`SELECT ${1}, ${2}`, postgresDialect);
    expect(splitStatements(c)).toEqual([{ text: c.text, params: c.params }]);
  });

  it('property: values holding SQL syntax never change how the text splits', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary', maxLength: 20 }), { minLength: 1, maxLength: 6 }), (values) => {
        const strings = Object.assign(['SELECT ', ...values.slice(1).map(() => '; SELECT '), ''], { raw: [] }) as unknown as TemplateStringsArray;
        const parts = splitStatements(compile(new Fragment(strings, values), postgresDialect));
        expect(parts.map((p) => p.text)).toEqual(values.map(() => 'SELECT $1::TEXT'));
        expect(parts.map((p) => p.params[0]!.value)).toEqual(values);
      }),
      { numRuns: 500 },
    );
  });

  it('property: text without ; splits as the full scan does (the fast path changes nothing)', () => {
    const piece = fc.constantFrom(' ', '\n', '\u00a0', '-', '--', '/', '/*', '*/', "'", "E'", '"', '$', '$$', '$1', 'a', 'SELECT 1');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }).map((ps) => ps.join('')), (text) => {
        // After a `;` the scan starts afresh, so the statements following it are the scan's answer for `text`.
        expect(texts(text)).toEqual(texts(`SELECT 0;${text}`).slice(1));
      }),
      { numRuns: 2000 },
    );
  });

  it('property: statements joined with ; split back exactly, whatever literals they hold', () => {
    const literal = fc.oneof(
      fc.string({ maxLength: 10 }).map((s) => `'${s.replace(/'/g, "''")}'`),
      fc.string({ maxLength: 10 }).map((s) => `"${s.replace(/"/g, '""').replace(/\0/g, '')}"`),
      fc.string({ maxLength: 10 }).filter((s) => !s.includes('$q$')).map((s) => `$q$${s}$q$`),
      fc.string({ maxLength: 10 }).filter((s) => !s.includes('*/') && !s.includes('/*')).map((s) => `/* ${s} */`),
      fc.string({ maxLength: 10 }).filter((s) => !/[\n\r]/.test(s)).map((s) => `-- ${s}\n`),
    );
    const statement = fc.array(literal, { minLength: 1, maxLength: 4 }).map((ls) => `SELECT ${ls.join(' , ')} x`);
    fc.assert(
      fc.property(fc.array(statement, { minLength: 1, maxLength: 5 }), (stmts) => {
        expect(texts(stmts.join(';\n')).map((s) => s.text)).toEqual(stmts);
      }),
      { numRuns: 500 },
    );
  });
});

describe('findPlaceholders', () => {
  it('reports positions of $n in code only', () => {
    const text = "SELECT $1, '$2', $10";
    expect(findPlaceholders(text)).toEqual([{ start: 7, end: 9, n: 1 }, { start: 17, end: 20, n: 10 }]);
  });
});

describe('collect', () => {
  const results = [[{ a: 1, b: 2 }], [], [{ c: 'x' }, { c: 'y' }]];
  it('shapes rows for the nine modes', () => {
    expect(collect(results, 'last_statement_all_rows')).toEqual([{ c: 'x' }, { c: 'y' }]);
    expect(collect(results, 'last_statement_first_row')).toEqual({ c: 'x' });
    expect(collect(results, 'last_statement_all_rows_scalar')).toEqual(['x', 'y']);
    expect(collect(results, 'last_statement_first_row_scalar')).toBe('x');
    expect(collect(results, 'all_statements_all_rows')).toEqual(results);
    expect(collect(results, 'all_statements_first_row')).toEqual([{ a: 1, b: 2 }, null, { c: 'x' }]);
    expect(collect(results, 'all_statements_all_rows_scalar')).toEqual([[1], [], ['x', 'y']]);
    expect(collect(results, 'all_statements_first_row_scalar')).toEqual([1, null, 'x']);
    expect(collect(results, 'legacy')).toEqual(results);
    expect(collect([[{ a: 1 }]], 'legacy')).toEqual([{ a: 1 }]);
    expect(collect([[]], 'last_statement_first_row')).toBeNull();
    expect(collect([[]], 'last_statement_first_row_scalar')).toBeNull();
  });
});

describe('parseName (datatable and ducklake alike)', () => {
  it('splits at the first colon; an empty part is the default', () => {
    expect(parseName('main')).toEqual({ name: 'main', schema: undefined });
    expect(parseName('lake:analytics')).toEqual({ name: 'lake', schema: 'analytics' });
    expect(parseName(':analytics')).toEqual({ name: 'main', schema: 'analytics' });
    expect(parseName('')).toEqual({ name: 'main', schema: undefined });
    expect(parseName('lake:')).toEqual({ name: 'lake', schema: undefined });
    expect(parseName('a:b:c')).toEqual({ name: 'a', schema: 'b:c' });
  });
});
