/** A Map that forgets its oldest entries beyond `limit`. */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly limit: number) {
    super();
  }

  override set(key: K, value: V): this {
    this.delete(key);
    super.set(key, value);
    for (const k of this.keys()) {
      if (this.size <= this.limit) break;
      this.delete(k);
    }
    return this;
  }
}
