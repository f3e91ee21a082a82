import type { EntitlementV1 } from '@el/contracts';
import type { CheckSubject, FeatureSet, Members } from '@el/domain';
import { NumberColumn } from './chunked-column';
import { ShardedMap, stringHash } from './sharded-map';
import { SlotsByKey } from './slots-by-key';
import { NO_REF, StringArena } from './string-arena';
import { StringIndex } from './string-index';
import { trimOldest } from '@el/platform';

type Status = EntitlementV1['status'];
type Device = EntitlementV1['devices'][number];
type AddOn = EntitlementV1['addOns'][number];

const STATUSES: readonly Status[] = ['active', 'suspended', 'expired', 'revoked'];
const STATUS_CODE: Readonly<Record<Status, number>> = { active: 0, suspended: 1, expired: 2, revoked: 3 };

/**
 * What many entitlements share: the plan they were granted from a catalog version, with its
 * merged features, add-ons and regions. Interned: a view of a million entitlements of three
 * plans holds three of these.
 */
export interface Profile {
  readonly productId: string;
  readonly planId: string;
  readonly planSku: string;
  readonly tier: number;
  readonly catalogVersion: number;
  readonly deviceLimit: number | null;
  readonly graceDays: number;
  readonly regions: readonly string[] | null;
  readonly features: FeatureSet;
  readonly addOns: readonly AddOn[];
}

interface InternedProfile extends Profile {
  readonly regionSet: ReadonlySet<string> | null;
}

/** A snapshot line that defines a profile: ["p", index, …Profile's fields in PROFILE_FIELDS order]. */
const PROFILE_FIELDS = ['productId', 'planId', 'planSku', 'tier', 'catalogVersion', 'deviceLimit', 'graceDays', 'regions', 'features', 'addOns'] as const;

/**
 * A snapshot line for one entitlement:
 * [entitlementId, customerId, profile, status (0 active … 3 revoked), statusReason, seats, revision,
 *  validFrom, validUntil, graceEndsAt, assignedUsers (0: none), devices (0: none)].
 * Instants are epoch milliseconds when the state carried them in toISOString's form (the ledger always
 * does), else the string as given; null stays null.
 */
export type EntitlementRow = readonly [string, string, number, number, string | null, number, number, number | string, number | string | null, number | string | null, readonly string[] | 0, readonly Device[] | 0];
export type ProfileRow = readonly ['p', number, ...unknown[]];

/** An entitlement's users are kept as one string, separated by NUL. */
const SEP = '\u0000';
/** In the users column: the users are kept aside as an array (one of them holds a NUL). */
const ASIDE = -0.5;
/** Above this many users, membership is a Set (kept while the entitlement is unchanged). */
const SET_ABOVE = 16;
/** Customers whose check subjects are kept built (the most recently checked or changed). */
const SUBJECT_CACHE = 8_192;
/** What few entitlements have: devices, instants not in toISOString's form ([validFrom, validUntil, graceEndsAt], undefined: in the column). */
interface Extra {
  readonly devices: readonly Device[];
  readonly odd: readonly [string | undefined, string | undefined, string | undefined] | null;
}

const NO_STRINGS: readonly string[] = [];
const NO_DEVICES: readonly Device[] = [];

/** Members of a short list, found by scanning it: no Set per entitlement. */
class ListMembers implements Members {
  constructor(private readonly list: readonly string[]) {}
  has(key: string): boolean {
    return this.list.includes(key);
  }
  get size(): number {
    return this.list.length;
  }
}

class DeviceMembers implements Members {
  constructor(private readonly list: readonly Device[]) {}
  has(key: string): boolean {
    for (const d of this.list) if (d.deviceId === key) return true;
    return false;
  }
  get size(): number {
    return this.list.length;
  }
}

const NOBODY: Members = new ListMembers(NO_STRINGS);

/** An instant as stored: epoch ms for toISOString's form, NaN for null, else the string kept aside. */
function instant(s: string | null): number | string {
  if (s === null) return NaN;
  const ms = Date.parse(s);
  return Number.isFinite(ms) && new Date(ms).toISOString() === s ? ms : s;
}

function iso(ms: number): string | null {
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/**
 * Every entitlement's latest state, held by column: one slot per entitlement, numbers in typed
 * arrays, ids and users as UTF-8 bytes in StringArenas, the plan as an interned Profile, devices
 * only where there are some. About 200–300 bytes an entitlement instead of an object graph's
 * 1.6–2.5 KB (`npm run bench:scale`), nearly all of it outside the JS heap: the garbage collector
 * has almost nothing per entitlement to mark or move, so its pauses stay short at ten million.
 * States go in and come out as EntitlementV1, equal to what was put; check subjects are built
 * from the columns when asked, and the latest few thousand customers' kept.
 *
 * Slots are never freed: the ledger never deletes an entitlement (a revoked one stays, revoked).
 * Columns grow by chunks of 65,536 slots (nothing is copied), and the indexes are split 1,024 ways
 * (growing one rehashes a 1,024th of it): no growth holds the event loop long at any size, and the
 * table is not bound by a Map's 2^24 entries.
 */
export class EntitlementTable {
  private count = 0;
  /** Entitlement and customer ids, as bytes outside the heap (never freed: slots and customers never are). */
  private readonly names = new StringArena();
  /** By slot: the entitlement id's reference in `names`. */
  private readonly idRef = new NumberColumn((n) => new Float64Array(n));
  private readonly slotOf = new StringIndex((slot, id) => this.names.equals(this.idRef.get(slot), id));
  private readonly customerOfSlot = new NumberColumn((n) => new Int32Array(n));
  /** The next slot of the same customer (-1: last): a customer's entitlements as a list through the slots. */
  private readonly nextOfCustomer = new NumberColumn((n) => new Int32Array(n));
  private readonly profileOf = new NumberColumn((n) => new Int32Array(n));
  private readonly status = new NumberColumn((n) => new Uint8Array(n));
  private readonly seats = new NumberColumn((n) => new Float64Array(n));
  private readonly revisions = new NumberColumn((n) => new Float64Array(n));
  private readonly validFrom = new NumberColumn((n) => new Float64Array(n));
  private readonly validUntil = new NumberColumn((n) => new Float64Array(n));
  private readonly graceEnds = new NumberColumn((n) => new Float64Array(n));
  /** By slot: the users joined by NUL, their reference in `userBytes` (NO_REF: none; ASIDE: in `usersAside`). */
  private readonly usersRef = new NumberColumn((n) => new Float64Array(n), NO_REF);
  private readonly userBytes = new StringArena({ refOf: (slot) => this.usersRef.get(slot), moved: (slot, ref) => this.usersRef.set(slot, ref) });
  /** By slot: users of an entitlement where one user id holds a NUL (rare). */
  private readonly usersAside = new Map<number, readonly string[]>();
  /** By slot: the status reason's reference in `reasonBytes` (NO_REF: none). */
  private readonly reasonRef = new NumberColumn((n) => new Float64Array(n), NO_REF);
  private readonly reasonBytes = new StringArena({ refOf: (slot) => this.reasonRef.get(slot), moved: (slot, ref) => this.reasonRef.set(slot, ref) });
  /** By slot, for the few entitlements that have any: devices, instants in another form. */
  private readonly extras = new ShardedMap<Extra, number>();
  /** Every column by slot: each makes room for a new slot. */
  private readonly columns: readonly { ensure(slot: number): void }[] = [this.idRef, this.usersRef, this.reasonRef, this.customerOfSlot, this.nextOfCustomer, this.profileOf, this.status, this.seats, this.revisions, this.validFrom, this.validUntil, this.graceEnds];
  private readonly userSets = new Map<number, ReadonlySet<string>>();

  private customerCount = 0;
  /** By customer: its id's reference in `names`. */
  private readonly customerRef = new NumberColumn((n) => new Float64Array(n));
  private readonly customerIndex = new StringIndex((c, id) => this.names.equals(this.customerRef.get(c), id));
  private readonly firstOfCustomer = new NumberColumn((n) => new Int32Array(n), -1);

  private readonly profiles: InternedProfile[] = [];
  private readonly profileIndex = new Map<string, number>();

  /**
   * A user's entitlements, by a 30-bit hash of the user's id (`userKey`), in typed arrays: neither
   * the ids nor an entry per user are on the heap (at ten million entitlements, ids as Map keys were
   * twenty million strings, and collecting them held the loop up to 250 ms). Users whose keys collide
   * share a key's slots, and `ofUser` keeps only the slots that hold the user.
   */
  private readonly byUser = new SlotsByKey();
  /** A device's entitlements: the slot when there is one, a Set of slots when more. */
  private readonly byDevice = new ShardedMap<number | Set<number>>();
  private readonly subjectCache = new Map<number, readonly CheckSubject[]>();

  /** How much the table holds; `users` counts index keys (two user ids whose keys collide count once). */
  get size(): { entitlements: number; customers: number; users: number; devices: number; profiles: number } {
    return { entitlements: this.count, customers: this.customerCount, users: this.byUser.size, devices: this.byDevice.size, profiles: this.profiles.length };
  }

  revisionOf(entitlementId: string): number | undefined {
    const slot = this.slotOf.get(entitlementId);
    return slot === undefined ? undefined : this.revisions.get(slot);
  }

  /** Puts a state unless the table holds this revision of the entitlement or a later one; true when it was put. */
  putIfNewer(state: EntitlementV1): boolean {
    const slot = this.slotOf.get(state.entitlementId);
    if (slot !== undefined && this.revisions.get(slot) >= state.revision) return false;
    const status = STATUS_CODE[state.status];
    if (status === undefined) throw new TypeError(`entitlement ${state.entitlementId} has status ${JSON.stringify(state.status)}, not one of ${STATUSES.join(', ')}`);
    this.write(slot, state.entitlementId, state.customerId, this.intern(state), status, state.statusReason, state.seats, state.revision, state.validFrom, state.validUntil, state.graceEndsAt, state.assignedUsers, state.devices);
    return true;
  }

  get(entitlementId: string): EntitlementV1 | undefined {
    const slot = this.slotOf.get(entitlementId);
    return slot === undefined ? undefined : this.stateAt(slot);
  }

  ofCustomer(customerId: string): EntitlementV1[] {
    const out: EntitlementV1[] = [];
    const c = this.customerIndex.get(customerId);
    if (c === undefined) return out;
    for (let s = this.firstOfCustomer.get(c); s >= 0; s = this.nextOfCustomer.get(s)) out.push(this.stateAt(s));
    return out.reverse();
  }

  ofUser(userId: string): EntitlementV1[] {
    return this.byUser
      .get(userKey(userId))
      .sort((a, b) => a - b)
      .filter((s) => this.usersAt(s).includes(userId))
      .map((s) => this.stateAt(s));
  }

  ofDevice(deviceId: string): EntitlementV1[] {
    return slotsIn(this.byDevice.get(deviceId)).map((s) => this.stateAt(s));
  }

  /** The customer's check subjects, oldest entitlement first (built from the columns, kept for the latest customers). */
  subjectsOf(customerId: string): readonly CheckSubject[] | undefined {
    const c = this.customerIndex.get(customerId);
    if (c === undefined) return undefined;
    let subjects = this.subjectCache.get(c);
    if (subjects) return subjects;
    const built: CheckSubject[] = [];
    for (let s = this.firstOfCustomer.get(c); s >= 0; s = this.nextOfCustomer.get(s)) built.push(this.subjectAt(s));
    subjects = built.reverse();
    this.subjectCache.set(c, subjects);
    trimOldest(this.subjectCache, SUBJECT_CACHE);
    return subjects;
  }

  /** Every state, a slot at a time; slots added meanwhile are included. */
  *states(): IterableIterator<EntitlementV1> {
    for (let s = 0; s < this.count; s++) yield this.stateAt(s);
  }

  /**
   * The table as snapshot lines (JSON text, one per line): each profile before the first entitlement
   * that uses it, then the entitlement. Read while the table goes on changing: a slot is read when
   * reached, slots added meanwhile are included, and profiles are only ever appended.
   */
  *lines(): IterableIterator<string> {
    const written = new Set<number>();
    for (let s = 0; s < this.count; s++) {
      const p = this.profileOf.get(s);
      if (!written.has(p)) {
        written.add(p);
        const profile = this.profiles[p]!;
        yield JSON.stringify(['p', p, ...PROFILE_FIELDS.map((f) => profile[f])]);
      }
      yield JSON.stringify(this.rowAt(s));
    }
  }

  /**
   * Takes one snapshot line (parsed), mapping the file's profile numbers to this table's through
   * `profiles`. Throws for a line that is neither a profile nor an entitlement row.
   */
  restoreLine(line: unknown, profiles: Map<number, number>): void {
    if (!Array.isArray(line)) throw new TypeError('a snapshot line is not an array');
    if (line[0] === 'p') {
      const [, n, productId, planId, planSku, tier, catalogVersion, deviceLimit, graceDays, regions, features, addOns] = line as unknown[];
      if (typeof n !== 'number' || typeof productId !== 'string' || typeof planId !== 'string' || typeof features !== 'object' || features === null || !Array.isArray(addOns)) {
        throw new TypeError('a snapshot profile line is malformed');
      }
      profiles.set(n, this.internProfile({ productId, planId, planSku, tier, catalogVersion, deviceLimit, graceDays, regions, features, addOns } as Profile));
      return;
    }
    const [id, customerId, p, status, reason, seats, revision, vf, vu, ge, users, devices] = line as unknown as EntitlementRow;
    const profile = profiles.get(p);
    if (typeof id !== 'string' || typeof customerId !== 'string' || profile === undefined || typeof revision !== 'number' || STATUSES[status] === undefined || vf === null) {
      throw new TypeError(`a snapshot entitlement line is malformed (${String(id).slice(0, 64)})`);
    }
    const slot = this.slotOf.get(id);
    if (slot !== undefined && this.revisions.get(slot) >= revision) return;
    this.write(slot, id, customerId, profile, status, reason, seats, revision, vf, vu, ge, users || NO_STRINGS, devices || NO_DEVICES);
  }

  private intern(state: EntitlementV1): number {
    return this.internProfile({
      productId: state.productId,
      planId: state.planId,
      planSku: state.planSku,
      tier: state.tier,
      catalogVersion: state.catalogVersion,
      deviceLimit: state.deviceLimit,
      graceDays: state.graceDays,
      regions: state.regions,
      features: state.features,
      addOns: state.addOns,
    });
  }

  private internProfile(p: Profile): number {
    const key = JSON.stringify(PROFILE_FIELDS.map((f) => p[f]));
    let n = this.profileIndex.get(key);
    if (n === undefined) {
      n = this.profiles.length;
      this.profiles.push({ ...p, regionSet: p.regions ? new Set(p.regions) : null });
      this.profileIndex.set(key, n);
    }
    return n;
  }

  private write(
    existing: number | undefined,
    id: string,
    customerId: string,
    profile: number,
    status: number,
    reason: string | null,
    seats: number,
    revision: number,
    validFrom: number | string,
    validUntil: number | string | null,
    graceEndsAt: number | string | null,
    users: readonly string[],
    devices: readonly Device[],
  ): void {
    let slot = existing;
    if (slot === undefined) {
      slot = this.count;
      this.grow(slot);
      this.count += 1;
      this.idRef.set(slot, this.names.add(id));
      this.slotOf.add(id, slot);
      const c = this.customerSlot(customerId);
      this.customerOfSlot.set(slot, c);
      this.nextOfCustomer.set(slot, this.firstOfCustomer.get(c));
      this.firstOfCustomer.set(c, slot);
    } else this.userSets.delete(slot);
    this.subjectCache.delete(this.customerOfSlot.get(slot));
    this.profileOf.set(slot, profile);
    this.status.set(slot, status);
    this.seats.set(slot, seats);
    this.revisions.set(slot, revision);
    const vf = typeof validFrom === 'number' ? validFrom : instant(validFrom);
    const vu = typeof validUntil === 'number' ? validUntil : instant(validUntil);
    const ge = typeof graceEndsAt === 'number' ? graceEndsAt : instant(graceEndsAt);
    this.validFrom.set(slot, typeof vf === 'number' ? vf : NaN);
    this.validUntil.set(slot, typeof vu === 'number' ? vu : NaN);
    this.graceEnds.set(slot, typeof ge === 'number' ? ge : NaN);
    const odd = typeof vf === 'string' || typeof vu === 'string' || typeof ge === 'string' ? ([typeof vf === 'string' ? vf : undefined, typeof vu === 'string' ? vu : undefined, typeof ge === 'string' ? ge : undefined] as const) : null;

    const usersBefore = existing === undefined ? NO_STRINGS : this.usersAt(slot);
    if (this.putUsers(slot, users)) reindexUsers(this.byUser, slot, usersBefore, users);

    replaceString(this.reasonBytes, this.reasonRef, slot, reason);
    const devicesBefore = this.extras.get(slot)?.devices ?? NO_DEVICES;
    if (devices.length === 0 && odd === null) this.extras.delete(slot);
    else this.extras.set(slot, { devices: devices.length === 0 ? NO_DEVICES : devices.map((d) => ({ deviceId: d.deviceId, userId: d.userId })), odd });
    if (devicesBefore.length > 0 || devices.length > 0) {
      reindex(
        this.byDevice,
        slot,
        devicesBefore.map((d) => d.deviceId),
        devices.map((d) => d.deviceId),
      );
    }
  }

  private customerSlot(customerId: string): number {
    let c = this.customerIndex.get(customerId);
    if (c === undefined) {
      c = this.customerCount++;
      this.customerRef.ensure(c);
      this.firstOfCustomer.ensure(c); // a new chunk starts at -1: no entitlement yet
      this.customerRef.set(c, this.names.add(customerId));
      this.customerIndex.add(customerId, c);
    }
    return c;
  }

  /** Makes room in every column for `slot` (a new chunk when it starts one: nothing is copied). */
  private grow(slot: number): void {
    for (const column of this.columns) column.ensure(slot);
  }

  private usersAt(slot: number): readonly string[] {
    const ref = this.usersRef.get(slot);
    return ref === NO_REF ? NO_STRINGS : ref === ASIDE ? this.usersAside.get(slot)! : this.userBytes.get(ref).split(SEP);
  }

  /** Keeps `users` as the slot's, freeing what it held unless unchanged; false when unchanged (the users' index stands). */
  private putUsers(slot: number, users: readonly string[]): boolean {
    const aside = this.usersRef.get(slot) === ASIDE;
    if (aside) {
      this.usersAside.delete(slot);
      this.usersRef.set(slot, NO_REF);
    }
    if (!users.some((u) => u.includes(SEP))) return replaceString(this.userBytes, this.usersRef, slot, users.length === 0 ? null : users.join(SEP)) || aside;
    replaceString(this.userBytes, this.usersRef, slot, null);
    this.usersAside.set(slot, [...users]);
    this.usersRef.set(slot, ASIDE);
    return true;
  }

  private reasonAt(slot: number): string | null {
    const ref = this.reasonRef.get(slot);
    return ref === NO_REF ? null : this.reasonBytes.get(ref);
  }

  private idAt(slot: number): string {
    return this.names.get(this.idRef.get(slot));
  }

  private customerAt(slot: number): string {
    return this.names.get(this.customerRef.get(this.customerOfSlot.get(slot)));
  }

  private instantsAt(slot: number): [string, string | null, string | null] {
    const odd = this.extras.get(slot)?.odd;
    return [odd?.[0] ?? iso(this.validFrom.get(slot))!, odd?.[1] ?? iso(this.validUntil.get(slot)), odd?.[2] ?? iso(this.graceEnds.get(slot))];
  }

  private stateAt(slot: number): EntitlementV1 {
    const p = this.profiles[this.profileOf.get(slot)]!;
    const [validFrom, validUntil, graceEndsAt] = this.instantsAt(slot);
    return {
      entitlementId: this.idAt(slot),
      customerId: this.customerAt(slot),
      productId: p.productId,
      planId: p.planId,
      planSku: p.planSku,
      tier: p.tier,
      catalogVersion: p.catalogVersion,
      status: STATUSES[this.status.get(slot)]!,
      statusReason: this.reasonAt(slot),
      seats: this.seats.get(slot),
      assignedUsers: [...this.usersAt(slot)],
      devices: (this.extras.get(slot)?.devices ?? NO_DEVICES).map((d) => ({ deviceId: d.deviceId, userId: d.userId })),
      deviceLimit: p.deviceLimit,
      validFrom,
      validUntil,
      graceDays: p.graceDays,
      graceEndsAt,
      regions: p.regions ? [...p.regions] : null,
      features: p.features,
      addOns: p.addOns.map((a) => ({ sku: a.sku, quantity: a.quantity })),
      revision: this.revisions.get(slot),
    };
  }

  private rowAt(slot: number): EntitlementRow {
    const extra = this.extras.get(slot);
    const odd = extra?.odd;
    const n = (ms: number) => (Number.isNaN(ms) ? null : ms);
    const users = this.usersAt(slot);
    const devices = extra?.devices;
    return [
      this.idAt(slot),
      this.customerAt(slot),
      this.profileOf.get(slot),
      this.status.get(slot),
      this.reasonAt(slot),
      this.seats.get(slot),
      this.revisions.get(slot),
      odd?.[0] ?? this.validFrom.get(slot),
      odd?.[1] ?? n(this.validUntil.get(slot)),
      odd?.[2] ?? n(this.graceEnds.get(slot)),
      users.length > 0 ? users : 0,
      devices && devices.length > 0 ? devices : 0,
    ];
  }

  private subjectAt(slot: number): CheckSubject {
    const p = this.profiles[this.profileOf.get(slot)]!;
    const [validFrom, validUntil, graceEndsAt] = this.instantsAt(slot);
    const extra = this.extras.get(slot);
    const devices = extra?.devices;
    return {
      entitlementId: this.idAt(slot),
      customerId: this.customerAt(slot),
      productId: p.productId,
      planId: p.planId,
      tier: p.tier,
      status: STATUSES[this.status.get(slot)]!,
      statusReason: this.reasonAt(slot),
      // The columns hold the instants as epoch ms already, unless the state gave them in another form.
      validFromMs: extra?.odd?.[0] !== undefined ? Date.parse(validFrom) : this.validFrom.get(slot),
      validFrom,
      validUntilMs: validUntil === null ? null : extra?.odd?.[1] !== undefined ? Date.parse(validUntil) : this.validUntil.get(slot),
      validUntil,
      graceEndsMs: graceEndsAt === null ? null : extra?.odd?.[2] !== undefined ? Date.parse(graceEndsAt) : this.graceEnds.get(slot),
      graceEndsAt,
      regions: p.regionSet,
      features: p.features,
      seats: this.seats.get(slot),
      seatHolders: this.seatHoldersAt(slot),
      devices: devices && devices.length > 0 ? new DeviceMembers(devices) : NOBODY,
    };
  }

  private seatHoldersAt(slot: number): Members {
    const users = this.usersAt(slot);
    if (users.length === 0) return NOBODY;
    if (users.length <= SET_ABOVE) return new ListMembers(users);
    let set = this.userSets.get(slot);
    if (!set) this.userSets.set(slot, (set = new Set(users)));
    return set;
  }
}

/**
 * Makes `s` (null: none) the string `column` names for `slot` in `arena`, freeing the one it named
 * unless it is the same; false when it was the same.
 */
function replaceString(arena: StringArena, column: NumberColumn, slot: number, s: string | null): boolean {
  const before = column.get(slot);
  if (before === NO_REF ? s === null : s !== null && arena.equals(before, s)) return false;
  // The slot names nothing before its bytes are freed: freeing may move the chunk's other strings.
  column.set(slot, NO_REF);
  if (before !== NO_REF) arena.free(before);
  if (s !== null) column.set(slot, arena.add(s, slot));
  return true;
}

function slotsIn(entry: number | Set<number> | undefined): number[] {
  return entry === undefined ? [] : typeof entry === 'number' ? [entry] : [...entry];
}

/** A user's key in the by-user index: a 30-bit hash of the id (a small integer, not a string on the heap). */
export function userKey(userId: string): number {
  return stringHash(userId) >>> 2;
}

/** Moves the slot's entries in the users' index from the users it had to those it has. */
function reindexUsers(index: SlotsByKey, slot: number, before: readonly string[], after: readonly string[]): void {
  const was = new Set(before.map(userKey));
  const now = new Set(after.map(userKey));
  for (const key of was) if (!now.has(key)) index.delete(key, slot);
  for (const key of now) if (!was.has(key)) index.add(key, slot);
}

function reindex(index: ShardedMap<number | Set<number>>, slot: number, before: readonly string[], after: readonly string[]): void {
  if (before.length === 0 && after.length === 0) return;
  const now = new Set(after);
  for (const key of before) {
    if (now.has(key)) continue;
    const entry = index.get(key);
    if (entry === slot) index.delete(key);
    else if (typeof entry === 'object') {
      entry.delete(slot);
      if (entry.size === 1) index.set(key, entry.values().next().value!);
    }
  }
  for (const key of now) {
    const entry = index.get(key);
    if (entry === undefined) index.set(key, slot);
    else if (typeof entry === 'number') {
      if (entry !== slot) index.set(key, new Set([entry, slot]));
    } else entry.add(slot);
  }
}
