/** Which folder Attach to Running Container opens. Pure, unit-tested. */
import type { ContainerRecord } from '../../../src/api/types/containers';

const LOCAL_FOLDER_LABEL = 'devcontainer.local_folder';

/** A dev container's workspace (the mount of its local folder), else its working directory, else "/". */
export function attachFolder(record: Pick<ContainerRecord, 'request' | 'mounts'>): string {
  const local = record.request.labels?.[LOCAL_FOLDER_LABEL];
  const workspace = local ? record.mounts?.find((m) => m.source === local)?.destination : undefined;
  return workspace || record.request.workingDir || '/';
}
