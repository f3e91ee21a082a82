import { LEDGER_SOURCE } from './topics';

/**
 * io.ledger.watermark.v1 — published by the relay on every partition of
 * ledger.entitlements.v1 after each batch: "every entitlement change up to
 * `position` has been published". A consumer that has read watermark W on
 * every partition has seen every change at or below W, so a view fed by the
 * topic can honour `minPosition` (read-your-writes) for any write, including
 * writes whose last event is not an entitlement change (an order's outcome).
 */
export interface WatermarkV1 {
  readonly specversion: '1.0';
  readonly id: string;
  readonly type: 'io.ledger.watermark.v1';
  readonly source: string;
  readonly subject: 'ledger';
  readonly time: string;
  readonly datacontenttype: 'application/json';
  readonly position: number;
  /**
   * `installation`: the installation whose log `position` is in (derived from the first event of
   * its event store). Views ignore watermarks, and changes, of another installation on the same
   * topic: its positions are not theirs. Absent from watermarks published before it existed.
   */
  readonly data: { readonly position: number; readonly partition: number; readonly partitions: number; readonly installation?: string };
}

export const WATERMARK_TYPE = 'io.ledger.watermark.v1';

export function watermarkV1(position: number, partition: number, partitions: number, time: string, installation?: string): WatermarkV1 {
  return {
    specversion: '1.0',
    id: `watermark:${position}:${partition}`,
    type: WATERMARK_TYPE,
    source: LEDGER_SOURCE,
    subject: 'ledger',
    time,
    datacontenttype: 'application/json',
    position,
    data: { position, partition, partitions, ...(installation ? { installation } : {}) },
  };
}

/**
 * Tracks the watermarks seen per partition: the safe position is the lowest
 * one, once every partition has reported.
 */
export class WatermarkTracker {
  private readonly byPartition = new Map<number, number>();
  private partitions = 0;

  /** `holds`: the partitions a view reads when it holds only some (VIEW_PARTITIONS); its position is theirs. */
  constructor(
    initial?: { partitions: number; watermarks: Record<number, number> },
    private readonly holds: readonly number[] | null = null,
  ) {
    if (initial) {
      this.partitions = initial.partitions;
      for (const [p, w] of Object.entries(initial.watermarks)) this.byPartition.set(Number(p), w);
    }
  }

  /** Returns the safe position after this watermark. */
  observe(w: WatermarkV1['data']): number {
    this.partitions = Math.max(this.partitions, w.partitions);
    if (w.position > (this.byPartition.get(w.partition) ?? 0)) this.byPartition.set(w.partition, w.position);
    return this.position();
  }

  position(): number {
    if (this.holds) {
      let min = Infinity;
      for (const p of this.holds) min = Math.min(min, this.byPartition.get(p) ?? 0);
      return this.holds.length === 0 ? 0 : min;
    }
    if (this.partitions === 0 || this.byPartition.size < this.partitions) return 0;
    let min = Infinity;
    for (const w of this.byPartition.values()) min = Math.min(min, w);
    return min;
  }

  snapshot(): { partitions: number; watermarks: Record<number, number> } {
    return { partitions: this.partitions, watermarks: Object.fromEntries(this.byPartition) };
  }
}
