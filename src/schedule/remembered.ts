/**
 * Planning's results kept by key: placing a wall time in a zone costs several Intl calls, and
 * planning asks for the same few again and again (`crier check` lists a schedule's next
 * occurrences, then its sends from them; a window's openings are the same few days). At most
 * `max` are kept, all forgotten at once when full, so a worker running for months stays flat.
 * What is kept is shared by every caller: DateTimes never change.
 */
export class Remembered<V> {
  private readonly kept = new Map<string, V>();
  constructor(private readonly max: number) {}

  get(key: string, work: () => V): V {
    let value = this.kept.get(key);
    if (value === undefined) {
      value = work();
      if (this.kept.size >= this.max) this.kept.clear();
      this.kept.set(key, value);
    }
    return value;
  }
}
