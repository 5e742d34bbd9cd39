/** Keeps a statement's bound values out of the engines' error messages. */
import type { BoundParam } from './engine.js';

/**
 * Replaces bound values in an engine's message with `***`, in the forms the engines print them
 * (text, `2026-11-21 00:00:00+00` for a Date, jsonb's `{"a": 1}`, array literals). A value of 4+
 * characters is replaced wherever it appears; a shorter one only where quoted (`"ab"`, `'ab'`) or after `value `,
 * so that `1` does not blank every digit of the message. Row and key tuples are hidden by the drivers.
 */
export function scrubParams(message: string, params: readonly BoundParam[]): string {
  let out = message;
  for (const p of params) {
    for (const text of printedForms(p.value)) {
      if (!text) continue;
      if (text.length >= 4) out = out.split(text).join('***');
      else {
        for (const q of ['"', "'"]) out = out.split(q + text + q).join(q + '***' + q);
        // DuckDB's `Type INT64 with value 300 can't be cast`.
        out = out.split(` value ${text} `).join(' value *** ');
      }
    }
  }
  return out;
}

function printedForms(v: unknown): string[] {
  if (v === null || v === undefined || v instanceof Uint8Array) return [];
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) return [];
    const iso = v.toISOString();
    const spaced = iso.replace('T', ' ').replace('Z', '+00');
    return [iso, spaced, spaced.replace('.000+', '+'), spaced.replace(/\.\d+\+00$/, '+00'), iso.slice(0, 10)];
  }
  if (Array.isArray(v)) {
    const elements = v.map((x) => (x === null || x === undefined ? 'NULL' : typeof x === 'object' && !(x instanceof Date) ? jsonText(x, false) : String(x)));
    const forms = v.flatMap(printedForms);
    forms.push(jsonText(v, false), jsonText(v, true), `{${elements.join(',')}}`, `[${elements.join(', ')}]`);
    // Longest first: a whole array goes before the elements inside it.
    return forms.sort((a, b) => b.length - a.length);
  }
  if (typeof v === 'object') return [jsonText(v, false), jsonText(v, true), jsonText(v, true, true)];
  if (typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v)) return [BigInt(v).toString(), String(v)];
  return [String(v)];
}

/** JSON text as JSON.stringify writes it, or as PostgreSQL prints jsonb (spaces after `,` and `:`, keys shortest first). */
function jsonText(v: unknown, spaced: boolean, sortKeys = false): string {
  try {
    if (!spaced) return JSON.stringify(v) ?? '';
    const write = (x: unknown): string => {
      if (x === null || typeof x !== 'object' || x instanceof Date) return JSON.stringify(x) ?? 'null';
      if (Array.isArray(x)) return `[${x.map(write).join(', ')}]`;
      let keys = Object.keys(x).filter((k) => (x as Record<string, unknown>)[k] !== undefined);
      if (sortKeys) keys = keys.sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
      return `{${keys.map((k) => `${JSON.stringify(k)}: ${write((x as Record<string, unknown>)[k])}`).join(', ')}}`;
    };
    return write(v);
  } catch {
    return '';
  }
}

