/**
 * The images of build steps that RUN containers start from: states of a
 * build that are not stored images. The container manager's image resolver
 * asks here first; names are upper case, so no image reference can clash.
 */
import { randomBytes } from 'node:crypto';
import type { ContainerImage } from '../containers/manager';

export class StepImages {
  private readonly images = new Map<string, ContainerImage>();

  /** Registers `image` under a new name until the returned function is called. */
  add(image: ContainerImage): { name: string; release: () => void } {
    const name = `BUILD-STEP-${randomBytes(8).toString('hex')}`;
    this.images.set(name, image);
    return { name, release: () => void this.images.delete(name) };
  }

  get(name: string): ContainerImage | undefined {
    return this.images.get(name);
  }
}
