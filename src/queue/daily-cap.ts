import { DateTime } from 'luxon';
import type { Redis } from 'ioredis';
import type { SendGate } from '../delivery/send.ts';

/**
 * mail.dailyCap across every worker process: one Redis counter per local day, taken before a
 * delivery is claimed. What is over the cap waits for the next day (the deliveries queue is
 * rate-limited until local midnight, so the waiting jobs keep their order).
 */
export class DailyCap implements SendGate {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly max: number,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private key(zone: string): { key: string; day: DateTime } {
    const day = DateTime.fromJSDate(this.now(), { zone }).startOf('day');
    return { key: `${this.prefix}:daily-cap:${day.toISODate()}`, day };
  }

  async take(zone: string): Promise<number | null> {
    const { key, day } = this.key(zone);
    const [[, n]] = (await this.redis.multi().incr(key).expire(key, 3 * 86400).exec()) as [[Error | null, number]];
    if (n <= this.max) return null;
    await this.redis.decr(key);
    return Math.max(1000, day.plus({ days: 1 }).toMillis() - this.now().getTime());
  }

  async giveBack(zone: string): Promise<void> {
    await this.redis.decr(this.key(zone).key);
  }

  /** Sends counted today (the day in `zone`). */
  async used(zone: string): Promise<number> {
    return Number((await this.redis.get(this.key(zone).key)) ?? 0);
  }
}
