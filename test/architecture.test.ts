/**
 * The shape of src/: no import cycles (type-only and dynamic imports included), no file over 350
 * lines, and every file the README's Architecture section names exists.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const src = join(root, 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** The src files a file imports: `import ... from`, `import type`, `export ... from`, `import('...')`, relative specifiers only. */
export function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [
    ...text.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s+['"]([^'"]+)['"]/gms),
    ...text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm),
    ...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1]!);
  return specifiers.filter((s) => s.startsWith('.')).map((s) => resolve(dirname(file), s.replace(/\.js$/, '.ts')));
}

function findCycle(graph: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'visiting') return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, 'visiting');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

describe('architecture', () => {
  const files = sources(src);
  const graph = new Map(files.map((f) => [f, importsOf(f)]));

  it('every relative import names a file in src/', () => {
    for (const [file, deps] of graph) for (const d of deps) expect(existsSync(d), `${relative(root, file)} imports ${relative(root, d)}`).toBe(true);
  });

  it('src/ has no import cycle, type-only imports included', () => {
    const cycle = findCycle(graph);
    expect(cycle?.map((f) => relative(src, f)).join(' -> ')).toBeUndefined();
  });

  it('finds a cycle when there is one (the checker itself works)', () => {
    expect(findCycle(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']]]))).toEqual(['a', 'b', 'c', 'a']);
    expect(findCycle(new Map([['a', ['b']], ['b', []]]))).toBeUndefined();
  });

  it('no source file is over 350 lines', () => {
    const long = files.map((f) => [relative(root, f), readFileSync(f, 'utf8').split('\n').length - 1] as const).filter(([, n]) => n > 350);
    expect(long).toEqual([]);
  });

  it('every file the README Architecture section names exists', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const section = /^## Architecture\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(readme)?.[1];
    expect(section).toBeDefined();
    const named = [...section!.matchAll(/\b((?:src|test|bench|examples)\/[\w./-]*[\w/])/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(10);
    for (const path of new Set(named)) expect(existsSync(join(root, path)), path).toBe(true);
  });
});
