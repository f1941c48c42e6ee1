/**
 * The URL sources of an ADD, alone or together with local ones (the context
 * or --from), as Docker's classic builder takes them: every URL is
 * downloaded first; the sources keep the order they are written in (a
 * later one wins a name both give); downloads are never extracted while
 * local archives still are; the step's cache content covers the downloads'
 * names, digests and times as well as the local content.
 */
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { BerthError } from '../../common/errors';
import { matchSources, type Source, type SourceRoot } from './context';
import type { CopyPlan } from './copy-plan';
import { downloadAll, isUrl } from './remote-source';

export interface DownloadedSources {
  /** Where the files are. */
  readonly dir: string;
  /** One per URL, in order, marked remote. */
  readonly sources: readonly Source[];
  /** Their names, digests and Last-Modified times, for the cache key. */
  readonly content: string;
  readonly release: () => Promise<void>;
}

/** Downloads `urls` under `root` as sources (see downloadAll for the options). */
export async function downloadSources(root: string, urls: readonly string[], options: { checksum?: string; fallbackName?: string; signal?: AbortSignal }): Promise<DownloadedSources> {
  const downloads = await downloadAll(root, urls, options);
  try {
    const sources = await Promise.all(
      downloads.files.map(async (f): Promise<Source> => {
        const abs = path.join(downloads.dir, f.name);
        return { rel: f.name, abs, stat: await lstat(abs), remote: true };
      }),
    );
    const content = JSON.stringify(downloads.files.map((f) => [f.name, f.digest, f.mtime?.toISOString() ?? '']));
    return { dir: downloads.dir, sources, content, release: downloads.release };
  } catch (err) {
    await downloads.release();
    throw err;
  }
}

/** The sources `patterns` name, in their order: a URL's download (from `downloads`, in order), else what matches in `root`. */
export async function sourcesInOrder(root: SourceRoot, patterns: readonly string[], downloads: readonly Source[] = []): Promise<Source[]> {
  const out: Source[] = [];
  let next = 0;
  for (const p of patterns) {
    if (isUrl(p)) {
      const download = downloads[next++];
      if (!download) throw new BerthError('internal', `no download for ${p}`);
      out.push(download);
      continue;
    }
    const found = await matchSources(root, p);
    if (found.length === 0) throw new BerthError('not_found', `file not found in build context or excluded by .dockerignore: ${p}`);
    out.push(...found);
  }
  return out;
}

/** A plan of local sources with an ADD's downloads added: the cache content covers both; the release removes the downloads. */
export function withDownloads(plan: CopyPlan, downloads: DownloadedSources): CopyPlan {
  const release = async (): Promise<void> => {
    await plan.release?.();
    await downloads.release();
  };
  return { ...plan, content: JSON.stringify([downloads.content, plan.content]), downloads: downloads.sources, release };
}
