/**
 * Server-side copy of S3 objects too large for one CopyObject (S3 copies at most 5 GiB in one
 * request): a multipart upload whose parts are ranges of the source (UploadPartCopy), all pinned
 * to the version that was measured (CopySourceIfMatch). A failed copy is aborted before it settles.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  type CompletedPart,
  type CopyObjectCommandInput,
  CreateMultipartUploadCommand,
  type S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';

const MiB = 1024 * 1024;

/** When and how a copy goes part by part. Exported so tests can copy small objects this way. */
export const copyLimits = {
  /** Objects larger than this are copied with UploadPartCopy (S3's CopyObject limit). */
  singleCopyMax: 5 * 1024 * MiB,
  /** Bytes per copied part (S3: 5 MiB to 5 GiB, at most 10,000 parts). */
  partSize: 512 * MiB,
  /** Parts copied at once. */
  concurrency: 4,
};

/** `input` is the CopyObject request the small path would send (bucket, key, source, headers). */
export async function multipartCopy(client: S3Client, input: CopyObjectCommandInput, size: number, etag: string | undefined, signal?: AbortSignal): Promise<void> {
  const { Bucket, Key, CopySource } = input;
  const partSize = Math.max(copyLimits.partSize, Math.ceil(size / 10_000), 5 * MiB);
  const created = await client.send(new CreateMultipartUploadCommand({
    Bucket, Key,
    ContentType: input.ContentType, ContentDisposition: input.ContentDisposition, ContentEncoding: input.ContentEncoding,
    ContentLanguage: input.ContentLanguage, CacheControl: input.CacheControl, Expires: input.Expires, Metadata: input.Metadata,
  }), { abortSignal: signal });
  const UploadId = created.UploadId!;
  try {
    const parts: CompletedPart[] = [];
    let next = 0;
    const count = Math.ceil(size / partSize);
    const worker = async () => {
      while (next < count) {
        const i = next++;
        const start = i * partSize;
        const end = Math.min(start + partSize, size) - 1;
        const r = await client.send(new UploadPartCopyCommand({
          Bucket, Key, UploadId, PartNumber: i + 1, CopySource, CopySourceIfMatch: etag, CopySourceRange: `bytes=${start}-${end}`,
        }), { abortSignal: signal });
        parts.push({ PartNumber: i + 1, ETag: r.CopyPartResult?.ETag });
      }
    };
    const workers = Array.from({ length: Math.min(copyLimits.concurrency, count) }, worker);
    // Wait for every worker before aborting, so no part lands after the abort.
    const failed = (await Promise.allSettled(workers)).find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    parts.sort((a, b) => a.PartNumber! - b.PartNumber!);
    await client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: parts } }), { abortSignal: signal });
  } catch (e) {
    // Not under the caller's signal: the abort must go out even when that signal is what failed us.
    await client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch(() => undefined);
    throw e;
  }
}
