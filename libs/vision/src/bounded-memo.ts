/**
 * Returns `key`'s value from `cache`, creating it on a miss. Past `max`
 * entries the oldest is dropped first: these caches hold per-frame-size
 * layouts (a few sizes in practice), and a stream of odd sizes must not grow
 * them without bound.
 */
export function boundedMemo<K, V>(cache: Map<K, V>, key: K, max: number, create: () => V): V {
  const known = cache.get(key);
  if (known !== undefined) return known;
  const value = create();
  if (cache.size >= max) cache.delete(cache.keys().next().value as K);
  cache.set(key, value);
  return value;
}
