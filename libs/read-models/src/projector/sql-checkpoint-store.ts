import type { DataSource } from 'typeorm';
import type { CheckpointStore } from '@el/event-store';
import { readCheckpoint, writeCheckpoint } from './projector';
import { dialectOf } from './sql';

/**
 * Checkpoints of other subscriptions (the Kafka relay, in-process consumer
 * groups) kept in the read database's rm_checkpoints table, next to the
 * projector's.
 */
export class SqlCheckpointStore implements CheckpointStore {
  constructor(private readonly ds: DataSource) {}

  async load(subscriptionId: string): Promise<number> {
    const qr = this.ds.createQueryRunner();
    try {
      return await readCheckpoint(qr, dialectOf(this.ds), subscriptionId);
    } finally {
      await qr.release();
    }
  }

  async save(subscriptionId: string, position: number): Promise<void> {
    const qr = this.ds.createQueryRunner();
    try {
      await writeCheckpoint(qr, dialectOf(this.ds), subscriptionId, position);
    } finally {
      await qr.release();
    }
  }
}
