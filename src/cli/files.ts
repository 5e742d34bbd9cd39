/** ls, cat, cp, mv, rm, stat, presign: files in the configured storages, and local paths. */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import {
  copyS3File, deleteS3File, formatS3Object, getPresignedS3PublicUrl, listS3Files, loadS3FileStream, MillraceError,
  moveS3File, parseS3Object, statS3File, writeS3File, type S3FileInfo, type S3ObjectRecord,
} from '../index.js';
import { confirm, formatOf, humanSize, note, parseDuration, printRows, toJson, UsageError } from './output.js';
import { progress } from './progress.js';

/** Where a path argument points: a stored object (or prefix), a local path, or stdin/stdout. */
type Location = { kind: 's3'; storage: string | undefined; key: string } | { kind: 'local'; path: string } | { kind: 'std' };

export function location(arg: string): Location {
  if (arg === '-') return { kind: 'std' };
  if (arg.startsWith('s3://')) {
    const m = /^s3:\/\/([^/]*)\/?(.*)$/s.exec(arg)!;
    return { kind: 's3', storage: m[1] || undefined, key: m[2]! };
  }
  return { kind: 'local', path: arg };
}

function record(l: { storage: string | undefined; key: string }): S3ObjectRecord {
  return parseS3Object(l.storage ? { s3: l.key, storage: l.storage } : { s3: l.key });
}

function uri(storage: string | undefined, key: string): string {
  return `s3://${storage ?? ''}/${key}`;
}

/** A file's object: an `s3://` URI with a key. */
function objectArg(arg: string): S3ObjectRecord {
  const l = location(arg);
  if (l.kind !== 's3') throw new UsageError(`expected an s3:// URI, got ${JSON.stringify(arg)}`);
  if (!l.key) throw new UsageError(`${arg} names no file (expected s3://<storage>/<key>)`);
  return record(l);
}

const TYPES: Record<string, string> = {
  csv: 'text/csv', tsv: 'text/tab-separated-values', json: 'application/json', ndjson: 'application/x-ndjson',
  jsonl: 'application/x-ndjson', parquet: 'application/vnd.apache.parquet', txt: 'text/plain', md: 'text/markdown',
  html: 'text/html', sql: 'application/sql', png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', pdf: 'application/pdf',
  gz: 'application/gzip', zip: 'application/zip', xml: 'application/xml', yaml: 'application/yaml', yml: 'application/yaml',
};
export function contentTypeOf(name: string): string | undefined {
  const ext = /\.([A-Za-z0-9]+)$/.exec(name)?.[1]?.toLowerCase();
  return ext ? TYPES[ext] : undefined;
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

/** Copies one file between any two locations. A destination folder (`/` at the end, or an existing local folder) keeps the source's name. */
async function copyOne(src: Location, dst: Location, srcName: string): Promise<void> {
  if (src.kind === 's3' && !src.key) throw new UsageError(`${uri(src.storage, src.key)} names no file; use --recursive for a prefix`);
  if (dst.kind === 's3' && (dst.key === '' || dst.key.endsWith('/'))) dst = { ...dst, key: dst.key + basename(srcName) };
  if (dst.kind === 'local' && (await isDirectory(dst.path))) dst = { kind: 'local', path: join(dst.path, basename(srcName)) };
  if (src.kind === 's3' && dst.kind === 's3') {
    const info = await statS3File(record(src));
    const bar = await progress(info?.size, formatS3Object(record(dst)));
    await copyS3File(record(src), record(dst), { onProgress: bar.update }).finally(bar.stop);
    return;
  }
  if (dst.kind === 's3') {
    const size = src.kind === 'local' ? (await stat(src.path)).size : undefined;
    const body = src.kind === 'local' ? createReadStream(src.path) : process.stdin;
    const bar = await progress(size, uri(dst.storage, dst.key));
    await writeS3File(record(dst), body, { contentType: contentTypeOf(dst.key), onProgress: bar.update }).finally(bar.stop);
    return;
  }
  const source = src.kind === 's3' ? await openObject(src) : src.kind === 'local' ? { stream: createReadStream(src.path), size: (await stat(src.path)).size } : { stream: process.stdin, size: undefined };
  const bar = await progress(source.size, dst.kind === 'local' ? dst.path : 'stdout');
  let moved = 0;
  const counted = async function* (chunks: AsyncIterable<Uint8Array>) {
    for await (const c of chunks) {
      moved += c.byteLength;
      bar.update(moved);
      yield c;
    }
  };
  if (dst.kind === 'std') {
    await pipeline(source.stream, counted, stdoutSink()).finally(bar.stop);
  } else {
    await mkdir(dirname(dst.path), { recursive: true });
    // Written beside the target and renamed, so a failed copy leaves no half file.
    const tmp = `${dst.path}.millrace-${process.pid}.part`;
    try {
      await pipeline(source.stream, counted, createWriteStream(tmp));
      await rename(tmp, dst.path);
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      throw e;
    } finally {
      bar.stop();
    }
  }
}

async function openObject(l: { storage: string | undefined; key: string }): Promise<{ stream: Readable; size: number }> {
  const blob = await loadS3FileStream(record(l));
  return { stream: Readable.fromWeb(blob.stream() as import('node:stream/web').ReadableStream<Uint8Array>), size: blob.size };
}

/** process.stdout that ends quietly when the reader (`head`) goes away. */
function stdoutSink(): Writable {
  return new Writable({
    write(chunk, _enc, done) {
      if (process.stdout.destroyed) return done();
      process.stdout.write(chunk, (e) => done(e && (e as NodeJS.ErrnoException).code === 'EPIPE' ? null : e));
    },
  });
}

/** The files under a location, with their paths relative to it. */
async function* filesUnder(l: Location): AsyncIterable<{ at: Location; rel: string }> {
  if (l.kind === 's3') {
    const prefix = l.key && !l.key.endsWith('/') ? l.key + '/' : l.key;
    for await (const f of listS3Files({ storage: l.storage, prefix })) yield { at: { kind: 's3', storage: l.storage, key: f.s3 }, rel: f.s3.slice(prefix.length) };
  } else if (l.kind === 'local') {
    const entries = await readdir(l.path, { recursive: true, withFileTypes: true });
    for (const e of entries) {
      if (!e.isFile()) continue;
      const full = join(e.parentPath ?? (e as unknown as { path: string }).path, e.name);
      yield { at: { kind: 'local', path: full }, rel: relative(l.path, full).split(sep).join('/') };
    }
  } else throw new UsageError('--recursive does not apply to stdin/stdout');
}

function under(l: Location, rel: string): Location {
  if (l.kind === 's3') return { ...l, key: (l.key && !l.key.endsWith('/') ? l.key + '/' : l.key) + rel };
  if (l.kind === 'local') return { kind: 'local', path: join(l.path, ...rel.split('/')) };
  throw new UsageError('--recursive does not apply to stdin/stdout');
}

async function transfer(srcArg: string, dstArg: string, opts: { recursive?: boolean }, move: boolean): Promise<void> {
  const src = location(srcArg);
  const dst = location(dstArg);
  if (!opts.recursive) {
    if (move && src.kind === 's3' && dst.kind === 's3' && dst.key && !dst.key.endsWith('/')) {
      await moveS3File(objectArg(srcArg), record(dst));
      return;
    }
    await copyOne(src, dst, src.kind === 's3' ? src.key : src.kind === 'local' ? src.path : 'stdin');
    if (move) await remove(src);
    return;
  }
  let n = 0;
  for await (const f of filesUnder(src)) {
    await copyOne(f.at, under(dst, f.rel), f.rel);
    if (move) await remove(f.at);
    n++;
  }
  note(`${move ? 'moved' : 'copied'} ${n} file${n === 1 ? '' : 's'}`);
}

async function remove(l: Location): Promise<void> {
  if (l.kind === 's3') await deleteS3File(record(l));
  else if (l.kind === 'local') await unlink(l.path);
}

type LsOptions = { long?: boolean; recursive?: boolean; json?: boolean; limit?: string };

async function ls(arg: string | undefined, opts: LsOptions): Promise<void> {
  const l = location(arg ?? 's3:///');
  if (l.kind !== 's3') throw new UsageError(`ls takes an s3:// URI, got ${JSON.stringify(arg)}`);
  const limit = opts.limit === undefined ? undefined : Number(opts.limit);
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new UsageError('--limit must be a positive integer');
  // A prefix that is a folder lists its content; `s3:///logs/2026-` lists keys starting with it.
  const prefix = l.key;
  const rows: Record<string, unknown>[] = [];
  const folders = new Set<string>();
  for await (const f of listS3Files({ storage: l.storage, prefix, limit: opts.recursive ? limit : undefined })) {
    const rest = f.s3.slice(prefix.length);
    const slash = opts.recursive ? -1 : rest.indexOf('/');
    if (slash > -1) {
      const folder = prefix + rest.slice(0, slash + 1);
      if (folders.has(folder)) continue;
      folders.add(folder);
      rows.push({ s3: folder, storage: l.storage, folder: true });
    } else rows.push(entry(f));
    if (limit !== undefined && rows.length >= limit) break;
  }
  // S3 listings carry no content type: -l asks for it, a few HEAD requests at a time.
  if (opts.long) {
    const missing = rows.filter((r) => !r.folder && r.contentType === undefined);
    for (let i = 0; i < missing.length; i += 8) {
      await Promise.all(missing.slice(i, i + 8).map(async (r) => {
        r.contentType = (await statS3File(record({ storage: l.storage, key: r.s3 as string })))?.contentType;
      }));
    }
  }
  if (opts.json) {
    process.stdout.write(toJson(rows) + '\n');
    return;
  }
  for (const r of rows) {
    const name = uri(l.storage, r.s3 as string);
    if (!opts.long) process.stdout.write(name + '\n');
    else if (r.folder) process.stdout.write(`${'PRE'.padStart(10)}  ${''.padEnd(24)}  ${''.padEnd(28)}  ${name}\n`);
    else {
      const modified = r.lastModified instanceof Date ? r.lastModified.toISOString() : '';
      process.stdout.write(`${humanSize(r.size as number).padStart(10)}  ${modified.padEnd(24)}  ${String(r.contentType ?? '').padEnd(28)}  ${name}\n`);
    }
  }
}

function entry(f: S3FileInfo): Record<string, unknown> {
  return { s3: f.s3, storage: f.storage, size: f.size, lastModified: f.lastModified, contentType: f.contentType, etag: f.etag };
}

export function register(program: Command): void {
  program
    .command('ls')
    .description('list files under a prefix (the default storage when omitted)')
    .argument('[uri]', 's3://<storage>/<prefix>')
    .option('-l, --long', 'sizes, dates and content types')
    .option('-r, --recursive', 'every key under the prefix, not just the first level')
    .option('--limit <n>', 'at most n entries')
    .option('--json', 'JSON output')
    .addHelpText('after', '\nExamples:\n  millrace ls\n  millrace ls -l s3://archive/logs/\n  millrace ls --recursive --json s3:///inputs/')
    .action(ls);

  program
    .command('cat')
    .description('write a file to stdout')
    .argument('<uri>', 's3://<storage>/<key>')
    .addHelpText('after', '\nExamples:\n  millrace cat s3:///inputs/report.csv | head')
    .action(async (arg: string) => {
      const obj = objectArg(arg);
      const { stream } = await openObject({ storage: obj.storage, key: obj.s3 });
      await pipeline(stream, stdoutSink());
    });

  program
    .command('cp')
    .description('copy a file (or a folder with --recursive) between local paths, stdin/stdout (-) and storages')
    .argument('<src>', 'local path, - (stdin) or s3:// URI')
    .argument('<dst>', 'local path, - (stdout) or s3:// URI (ending in / for a folder)')
    .option('-r, --recursive', 'copy every file under a folder or prefix')
    .addHelpText('after', '\nExamples:\n  millrace cp report.csv s3:///inputs/report.csv\n  millrace cp s3:///inputs/report.csv s3://archive/2026/\n  echo hello | millrace cp - s3:///notes/hello.txt\n  millrace cp --recursive ./exports s3://archive/exports/')
    .action((src: string, dst: string, opts: { recursive?: boolean }) => transfer(src, dst, opts, false));

  program
    .command('mv')
    .description('move a file (or a folder with --recursive): copy, then delete the source')
    .argument('<src>', 'local path or s3:// URI')
    .argument('<dst>', 'local path or s3:// URI')
    .option('-r, --recursive', 'move every file under a folder or prefix')
    .addHelpText('after', '\nExamples:\n  millrace mv s3:///inbox/a.csv s3:///done/a.csv')
    .action((src: string, dst: string, opts: { recursive?: boolean }) => {
      if (src === '-' || dst === '-') throw new UsageError('mv does not take - ; use cp');
      return transfer(src, dst, opts, true);
    });

  program
    .command('rm')
    .description('delete a file, or every file under a prefix with --recursive')
    .argument('<uri>', 's3://<storage>/<key or prefix>')
    .option('-r, --recursive', 'delete every file under the prefix (asks first on a terminal)')
    .option('-y, --yes', 'do not ask')
    .addHelpText('after', '\nExamples:\n  millrace rm s3:///tmp/a.csv\n  millrace rm --recursive --yes s3:///tmp/')
    .action(async (arg: string, opts: { recursive?: boolean; yes?: boolean }) => {
      if (!opts.recursive) {
        const obj = objectArg(arg);
        if (!(await statS3File(obj))) throw new MillraceError('NotFound', `${formatS3Object(obj)} does not exist`);
        await deleteS3File(obj);
        return;
      }
      const l = location(arg);
      if (l.kind !== 's3') throw new UsageError(`rm takes an s3:// URI, got ${JSON.stringify(arg)}`);
      const files: Location[] = [];
      for await (const f of filesUnder(l)) files.push(f.at);
      if (!opts.yes) {
        if (!process.stdin.isTTY || !process.stderr.isTTY) throw new UsageError('rm --recursive needs --yes when not run on a terminal');
        if (!(await confirm(`Delete ${files.length} file${files.length === 1 ? '' : 's'} under ${arg}?`))) {
          note('nothing deleted');
          return;
        }
      }
      for (const f of files) await remove(f);
      note(`deleted ${files.length} file${files.length === 1 ? '' : 's'}`);
    });

  program
    .command('stat')
    .description("a file's size, etag, last modification and content type")
    .argument('<uri>', 's3://<storage>/<key>')
    .option('--json', 'JSON output')
    .addHelpText('after', '\nExamples:\n  millrace stat s3:///inputs/report.csv')
    .action(async (arg: string, opts: { json?: boolean }) => {
      const obj = objectArg(arg);
      const info = await statS3File(obj);
      if (!info) throw new MillraceError('NotFound', `${formatS3Object(obj)} does not exist`);
      const row = { uri: formatS3Object(obj), ...info };
      await printRows(opts.json ? [row] : Object.entries(row).map(([field, value]) => ({ field, value })), formatOf(opts));
    });

  program
    .command('presign')
    .description('a URL anyone can download the file from (presigned GET on S3, SAS on Azure)')
    .argument('<uri>', 's3://<storage>/<key>')
    .option('--expires <duration>', 'how long the URL works: 30m, 1h, 7d (60s..7d)', '12h')
    .addHelpText('after', '\nExamples:\n  millrace presign --expires 1h s3:///exports/report.csv')
    .action(async (arg: string, opts: { expires: string }) => {
      process.stdout.write((await getPresignedS3PublicUrl(objectArg(arg), { expirySecs: parseDuration(opts.expires) })) + '\n');
    });
}
