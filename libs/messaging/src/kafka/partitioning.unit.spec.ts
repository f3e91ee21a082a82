import fc from 'fast-check';
import { Partitioners } from 'kafkajs';
import { partitionOf, parsePartitionList } from '@el/contracts';

/** The partition kafkajs's DefaultPartitioner (the relay's producer) puts a keyed message in. */
function producerPartition(key: string, partitions: number): number {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 1, replicas: [1], isr: [1], partitionErrorCode: 0 }));
  return partitioner({ topic: 't', partitionMetadata, message: { key, value: null } });
}

describe('partitionOf (which shard holds a customer)', () => {
  it('agrees with the partition the relay\'s producer puts the customer\'s messages in (fast-check, any key, 1-64 partitions)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.uuid(), fc.constantFrom('acme', 'cust-0000001', 'ü', '')), fc.integer({ min: 1, max: 64 }), (key, partitions) => {
        expect(partitionOf(key, partitions)).toBe(producerPartition(key, partitions));
      }),
      { numRuns: 2_000 },
    );
  });

  it('spreads customers over the partitions', () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4_000; i++) counts[partitionOf(`cust-${i}`, 4)]! += 1;
    for (const c of counts) expect(c).toBeGreaterThan(800);
  });

  it('reads VIEW_PARTITIONS lists and says what is wrong with a bad one', () => {
    expect(parsePartitionList('0-3,6')).toEqual([0, 1, 2, 3, 6]);
    expect(parsePartitionList(' 5, 1 ,1')).toEqual([1, 5]);
    expect(() => parsePartitionList('3-1')).toThrow('ends before it starts');
    expect(() => parsePartitionList('a')).toThrow('"a" is not a partition');
    expect(() => parsePartitionList('1,')).toThrow('"" is not a partition');
    expect(() => partitionOf('x', 0)).toThrow(RangeError);
  });
});
