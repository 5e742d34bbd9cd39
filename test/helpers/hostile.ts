/** Hostile values for the injection tests of every engine: quotes, comments, dollar quotes, placeholders, NUL, Unicode. */
export const HOSTILE = [
  "'; DROP TABLE friend; --",
  "Robert'); DROP TABLE friend;--",
  "' OR '1'='1",
  '"; DROP TABLE friend; --',
  'back\\slash\\\' \\',
  "\\'; DROP TABLE friend; --",
  '\\',
  '$$; DROP TABLE friend; $$',
  '$tag$ DROP TABLE friend $tag$',
  '$1; DROP TABLE friend',
  '/* ; */ -- ;\n DROP TABLE friend',
  '/* comment */ --',
  "E'\\x27; DROP TABLE friend; --",
  'ünïcödé 🎉 日本語 \u202e',
  '🦆 ducks — ünïcödé ',
  'a\0b',
];

/** Hostile identifiers for `sql.ident`. */
export const HOSTILE_NAMES = ['x"; DROP TABLE friend; --', 'we"ird', "it's", 'sp ace', 'Mixed$Case;'];
