/** Slots per chunk: a column grows by one chunk at a time and never copies what it holds. */
const BITS = 16;
const SIZE = 1 << BITS;
const MASK = SIZE - 1;

type NumberChunk = Float64Array | Int32Array | Uint8Array;

/**
 * A column of numbers by slot, in chunks of 65,536. One contiguous typed array has to be copied
 * whole to grow: at 10M entitlements nine of them took 0.2–0.5 s at a time, holding the event loop.
 */
export class NumberColumn {
  private readonly chunks: NumberChunk[] = [];

  constructor(
    private readonly make: (length: number) => NumberChunk,
    private readonly initial = 0,
  ) {}

  get(slot: number): number {
    return this.chunks[slot >>> BITS]![slot & MASK]!;
  }

  set(slot: number, value: number): void {
    this.chunks[slot >>> BITS]![slot & MASK] = value;
  }

  /** Makes room for `slot` (a new chunk when it starts one). */
  ensure(slot: number): void {
    while (slot >>> BITS >= this.chunks.length) {
      const chunk = this.make(SIZE);
      if (this.initial !== 0) chunk.fill(this.initial);
      this.chunks.push(chunk);
    }
  }
}

/** A column of values by slot, in chunks of 65,536 (a JS array also copies itself whole to grow). */
export class ValueColumn<T> {
  private readonly chunks: (T | undefined)[][] = [];

  get(slot: number): T | undefined {
    return this.chunks[slot >>> BITS]![slot & MASK];
  }

  set(slot: number, value: T | undefined): void {
    this.chunks[slot >>> BITS]![slot & MASK] = value;
  }

  ensure(slot: number): void {
    while (slot >>> BITS >= this.chunks.length) this.chunks.push(new Array<T | undefined>(SIZE).fill(undefined));
  }
}
