/** The snapshotter contract against the plain-copy snapshotter (root: real bind mounts). */
import { snapshotterContract } from './contract';
import { NativeSnapshotter } from './native';

snapshotterContract('native', (root) => new NativeSnapshotter(root), { deepChain: 12 });
