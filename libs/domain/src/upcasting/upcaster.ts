/**
 * A stored event's shape never changes. When an event type needs a new shape,
 * its `schemaVersion` goes up and an upcaster turns the old stored data into the
 * new one. Upcasting is applied in exactly one place: the EventStore every
 * process reads through (`UpcastingEventStore` in @el/event-store, built with
 * `upcastEvent` by the store's module), never by a reader or a consumer.
 */
export interface StoredShape {
  readonly type: string;
  readonly data: unknown;
  readonly metadata: { readonly schemaVersion?: number } & Record<string, unknown>;
}

/** `table[type][fromVersion]` turns data of `fromVersion` into data of `fromVersion + 1`. */
export type UpcasterTable = Readonly<Record<string, Readonly<Record<number, (data: any) => unknown>>>>;

export function createUpcaster(table: UpcasterTable) {
  return function upcast<E extends StoredShape>(event: E): E {
    const steps = table[event.type];
    if (!steps) return event;
    let version = event.metadata.schemaVersion ?? 1;
    let data = event.data;
    while (steps[version]) {
      data = steps[version]!(data);
      version += 1;
    }
    if (data === event.data) return event;
    return { ...event, data, metadata: { ...event.metadata, schemaVersion: version } };
  };
}

/**
 * The upcasters in force. Empty while every event type is at version 1; add a
 * step here (with a test) the day a stored shape has to change.
 */
export const UPCASTERS: UpcasterTable = {};

export const upcastEvent = createUpcaster(UPCASTERS);

/** Which upcasters a table holds (each event type with its steps), as a short stable string: part of a fold's version. */
export function upcastersVersion(table: UpcasterTable): string {
  const steps = Object.keys(table)
    .sort()
    .map((type) => `${type}:${Object.keys(table[type]!).sort((a, b) => Number(a) - Number(b)).join('.')}`);
  return steps.length === 0 ? 'v1' : steps.join(',');
}
