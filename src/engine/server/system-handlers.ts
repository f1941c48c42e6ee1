import { API_VERSION, type InfoResponse, type PingResponse } from '../../api/routes';
import type { Handlers } from './router';

export interface SystemInfoSource {
  readonly version: string;
  readonly dataRoot: string;
  readonly runtime: string;
  readonly snapshotter: string;
  readonly startedAt: string;
  counts(): Promise<{ containers: { total: number; running: number }; images: number }>;
}

export function systemHandlers(source: SystemInfoSource): Handlers {
  const ping = (): PingResponse => ({ ok: true, version: source.version, apiVersion: API_VERSION, pid: process.pid });
  return {
    ping: () => Promise.resolve(ping()),
    info: async (): Promise<InfoResponse> => ({
      ...ping(),
      dataRoot: source.dataRoot,
      runtime: source.runtime,
      snapshotter: source.snapshotter,
      startedAt: source.startedAt,
      ...(await source.counts()),
    }),
  };
}
