/**
 * The network API of an engine whose networking could not start (no
 * iptables, no CAP_NET_ADMIN): every call says why. Containers then get a
 * network namespace of their own with loopback only, as before networking.
 */
import type { NetworkCreateRequest, NetworkRecord } from '../../api/types/networks';
import { BerthError } from '../../common/errors';
import type { NetworkService } from '../server/services';

export function unavailableNetworks(reason: string): NetworkService {
  const fail = (): Promise<never> => Promise.reject(new BerthError('failed_precondition', `networking is not available in this engine: ${reason}`));
  return {
    createNetwork: (_r: NetworkCreateRequest): Promise<NetworkRecord> => fail(),
    listNetworks: (): Promise<readonly NetworkRecord[]> => Promise.resolve([]),
    inspectNetwork: (): Promise<NetworkRecord> => fail(),
    removeNetwork: (): Promise<void> => fail(),
  };
}
