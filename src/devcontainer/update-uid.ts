/**
 * `updateRemoteUserUID` (Linux): the remote user's UID and GID in the image
 * become those of the workspace folder's owner, so that files are shared
 * without permission trouble. As in the reference, a small image is built
 * on top (through Berth's builder, so it is cached); nothing happens when the
 * owner is root, the user is root, or the UID is taken by another user.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ApiClient } from '../api/client';
import type { Logger } from '../common/log';
import type { ContextPacker } from './build-image';
import { runBuild } from './run-build';

/** Sets user $1 to UID $2 and GID $3 with awk only (busybox and Debian alike); says what it did. */
export const UPDATE_UID_SCRIPT = [
  'set -e',
  'u=$1; uid=$2; gid=$3',
  'line=$(awk -F: -v u="$u" \'$1==u\' /etc/passwd)',
  '[ -n "$line" ] || { echo "berth: no user $u in /etc/passwd; not changed"; exit 0; }',
  'cur=$(echo "$line" | cut -d: -f3); curg=$(echo "$line" | cut -d: -f4); home=$(echo "$line" | cut -d: -f6)',
  '[ "$cur" = "$uid" ] && [ "$curg" = "$gid" ] && { echo "berth: $u is $uid:$gid already"; exit 0; }',
  'if awk -F: -v u="$u" -v id="$uid" \'$3==id && $1!=u {f=1} END {exit !f}\' /etc/passwd; then echo "berth: UID $uid belongs to another user; $u not changed"; exit 0; fi',
  'awk -F: -v OFS=: -v u="$u" -v id="$uid" -v g="$gid" \'$1==u {$3=id; $4=g} 1\' /etc/passwd > /etc/passwd.berth && cat /etc/passwd.berth > /etc/passwd && rm /etc/passwd.berth',
  // The user's primary group takes the GID unless another group holds it (then the user joins that one).
  'if ! awk -F: -v id="$gid" \'$3==id {f=1} END {exit !f}\' /etc/group; then awk -F: -v OFS=: -v g="$curg" -v id="$gid" \'$3==g {$3=id} 1\' /etc/group > /etc/group.berth && cat /etc/group.berth > /etc/group && rm /etc/group.berth; fi',
  '[ -d "$home" ] && chown -R "$uid:$gid" "$home" || true',
  'echo "berth: $u is now $uid:$gid"',
].join('\n');

export interface UpdateUidOptions {
  readonly api: ApiClient;
  readonly image: string;
  /** The image's Config.User, restored after the change. */
  readonly imageUser: string;
  readonly user: string;
  readonly workspaceFolder: string;
  readonly pack: ContextPacker;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
}

/** The image to run: `image` itself, or one with the user's UID/GID changed to the workspace owner's. */
export async function updateRemoteUserUid(o: UpdateUidOptions): Promise<string> {
  const st = await stat(o.workspaceFolder).catch(() => undefined);
  if (!st || st.uid === 0 || o.user === 'root' || o.user === '0' || /^\d+(:\d+)?$/.test(o.user)) return o.image;
  const context = await mkdtemp(path.join(os.tmpdir(), 'berth-uid-'));
  try {
    await writeFile(path.join(context, 'update-uid.sh'), UPDATE_UID_SCRIPT + '\n');
    const dockerfile = [`FROM ${o.image}`, 'USER root', 'COPY update-uid.sh /tmp/berth-update-uid.sh', `RUN sh /tmp/berth-update-uid.sh ${JSON.stringify(o.user)} ${st.uid} ${st.gid} && rm /tmp/berth-update-uid.sh`, ...(o.imageUser ? [`USER ${o.imageUser}`] : [])].join('\n') + '\n';
    await writeFile(path.join(context, 'Dockerfile'), dockerfile);
    const tag = `berth-uid-${createHash('sha256').update(dockerfile).digest('hex').slice(0, 16)}`;
    o.logger.info(`updateRemoteUserUID: ${o.user} gets ${st.uid}:${st.gid}, the owner of ${o.workspaceFolder}`);
    const options = { dockerfile: 'Dockerfile', tags: [tag] };
    await runBuild(o.api, options, o.pack(context, ['Dockerfile']), {
      what: 'updateRemoteUserUID',
      onLine: (text) => {
        if (text.startsWith('berth:')) o.logger.info(text);
      },
      signal: o.signal,
    });
    return tag;
  } finally {
    await rm(context, { recursive: true, force: true });
  }
}
