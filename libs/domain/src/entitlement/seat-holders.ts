/**
 * The users holding seats on an entitlement, in the order they were assigned: a persistent set.
 *
 * Every version stays readable, and a version made from the newest costs O(1): one user added to
 * or removed from a Map that the versions share (Baker's trick for persistent arrays). The
 * version that owns the Map (the root) holds it; every other version holds the one change that
 * turns the next version towards the root into itself. Reading or changing an older version first
 * moves the root to it, undoing the changes between them: O(distance), and cheap in the way states
 * are used (a command works on the newest state; a snapshot written a moment later reads one
 * slightly older). A stream of 100,000 seat assignments no longer copies a 100,000-user array, nor
 * searches it, at every command.
 *
 * Versions share their Map only with versions of the same history: every entitlement starts from
 * its own `SeatHolders.from([])` (two histories branching from one shared version would move the
 * root back and forth between them).
 *
 * It serialises as the array of users (`toJSON`), so snapshots, API answers and integration events
 * are unchanged; `SeatHolders.from` reads that array back.
 */
export class SeatHolders implements Iterable<string> {
  /** How many users hold a seat in this version. */
  readonly size: number;
  #node: Root | Change;

  private constructor(node: Root | Change, size: number) {
    this.#node = node;
    this.size = size;
  }

  /** The users of `users`, in that order (a user listed twice holds one seat). */
  static from(users: Iterable<string>): SeatHolders {
    const root: Root = { kind: 'root', users: new Map(), displaced: new Set(), nextSeq: 0 };
    for (const user of users) if (!root.users.has(user)) root.users.set(user, root.nextSeq++);
    return new SeatHolders(root, root.users.size);
  }

  has(user: string): boolean {
    return this.reroot().users.has(user);
  }

  /** This set with `user` added last (this set itself when the user already holds a seat). */
  with(user: string): SeatHolders {
    const root = this.reroot();
    if (root.users.has(user)) return this;
    const seq = root.nextSeq++;
    root.users.set(user, seq);
    return this.handOver(root, { kind: 'change', op: 'delete', user, seq, towardsRoot: null! }, this.size + 1);
  }

  /** This set without `user` (this set itself when the user holds no seat). */
  without(user: string): SeatHolders {
    const root = this.reroot();
    const seq = root.users.get(user);
    if (seq === undefined) return this;
    root.users.delete(user);
    root.displaced.delete(user);
    return this.handOver(root, { kind: 'change', op: 'add', user, seq, towardsRoot: null! }, this.size - 1);
  }

  /** The users in the order their seats were assigned. */
  toArray(): string[] {
    return [...this.orderedRoot().users.keys()];
  }

  /** The first `count` users in the order their seats were assigned: O(count), however many hold a seat. */
  first(count: number): string[] {
    const out: string[] = [];
    if (count <= 0) return out;
    for (const user of this.orderedRoot().users.keys()) {
      out.push(user);
      if (out.length >= count) break;
    }
    return out;
  }

  [Symbol.iterator](): Iterator<string> {
    return this.toArray()[Symbol.iterator]();
  }

  toJSON(): string[] {
    return this.toArray();
  }

  private orderedRoot(): Root {
    const root = this.reroot();
    if (root.displaced.size > 0) {
      // A user put back by undoing a release went to the end of the Map: restore assignment order.
      root.users = new Map([...root.users].sort((a, b) => a[1] - b[1]));
      root.displaced.clear();
    }
    return root;
  }

  /** The new version owns the root; this one becomes the change that undoes it. */
  private handOver(root: Root, undo: Change, size: number): SeatHolders {
    const next = new SeatHolders(root, size);
    undo.towardsRoot = next;
    this.#node = undo;
    return next;
  }

  /** Makes this version the root (undoing the changes between it and the root) and returns it. */
  private reroot(): Root {
    const node = this.#node;
    if (node.kind === 'root') return node;
    // The path from this version to the root, then each change applied from the root's end back.
    const path: SeatHolders[] = [this];
    let towards = node.towardsRoot;
    while (towards.#node.kind === 'change') {
      path.push(towards);
      towards = towards.#node.towardsRoot;
    }
    const root = towards.#node;
    for (let i = path.length - 1; i >= 0; i--) {
      const version = path[i]!;
      const change = version.#node as Change;
      const newer = change.towardsRoot;
      if (change.op === 'add') {
        root.users.set(change.user, change.seq);
        if (change.seq < root.nextSeq - 1) root.displaced.add(change.user);
        newer.#node = { kind: 'change', op: 'delete', user: change.user, seq: change.seq, towardsRoot: version };
      } else {
        root.users.delete(change.user);
        root.displaced.delete(change.user);
        newer.#node = { kind: 'change', op: 'add', user: change.user, seq: change.seq, towardsRoot: version };
      }
      version.#node = root;
    }
    return root;
  }
}

/** The shared users: who holds a seat in the root version, each with the sequence number of their assignment. */
interface Root {
  readonly kind: 'root';
  users: Map<string, number>;
  /**
   * Users put back out of assignment order (by undoing a release) and still there: while there are
   * some, the Map's order may not be the users' order. Every other user was added last with the
   * highest number yet, so without them the Map is in order. A release undone and done again (the
   * state a command loaded, then the same events applied to it again) leaves none behind.
   */
  displaced: Set<string>;
  /** The next assignment's sequence number, shared by every version. */
  nextSeq: number;
}

/** A version that is not the root: the version `towardsRoot` with `user` added (with its `seq`) or deleted. */
interface Change {
  readonly kind: 'change';
  readonly op: 'add' | 'delete';
  readonly user: string;
  readonly seq: number;
  towardsRoot: SeatHolders;
}
